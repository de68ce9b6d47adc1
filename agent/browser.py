"""Finding a Chromium and sharing one browser between workers (local or remote endpoint).

Playwright's sync API binds its objects to one thread, so N workers cannot share one `Browser`
object. Instead one Chromium is started with a loopback DevTools endpoint and every worker thread
connects to it over CDP with its own Playwright: one browser process, one context per worker. A
remote browser (`CCW_BROWSER_ENDPOINT`) is shared the same way.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog
from playwright.sync_api import Browser, Playwright

from agent.errors import BrowserNotFound

log = structlog.get_logger(__name__)

# Flags measured as needed on machines without a GPU and with a closed network; Playwright's own
# launch already passes the others listed in SUBPROCESS_ARGS.
CHROMIUM_ARGS = ("--disable-gpu", "--disable-quic")
SUBPROCESS_ARGS = (
    "--no-sandbox",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    *CHROMIUM_ARGS,
)
PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "no Chromium found. Install one with `python -m playwright install chromium`, or on "
    "Debian/Ubuntu `apt-get install -y chromium`, or set CCW_BROWSER_EXECUTABLE to its path."
)
DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")
START_TIMEOUT_S = 30.0
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
NO_DISPLAY = "Missing X server or $DISPLAY"  # Chromium's words when headed without a display


def managed_chromium() -> Path | None:
    """Playwright's own Chromium if `playwright install chromium` has run (newest build first).

    Looked up on disk rather than through Playwright, so it can be asked while a sync Playwright
    is already running in this thread (as under pytest-playwright).
    """
    root = Path(
        os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright"
    )
    builds = sorted(
        root.glob("chromium-*/chrome-linux*/chrome"),
        key=lambda p: int(p.parent.parent.name.rpartition("-")[2] or 0),
        reverse=True,
    )
    return builds[0] if builds else None


def resolve_executable(configured: str | Path | None = None) -> Path:
    """The Chromium to launch.

    Order: the configured path (CCW_BROWSER_EXECUTABLE), Playwright's managed Chromium, then
    `chromium`, `chromium-browser`, `google-chrome` on PATH.
    """
    configured = configured or os.environ.get("CCW_BROWSER_EXECUTABLE") or None
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise BrowserNotFound(f"CCW_BROWSER_EXECUTABLE={configured} does not exist")
        return path
    managed = managed_chromium()
    if managed is not None:
        return managed
    for name in PATH_CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserNotFound(INSTALL_HINT)


def launch_args(executable: Path, *, headless: bool = True, slow_mo_ms: int = 0) -> dict[str, Any]:
    """Keyword arguments for `BrowserType.launch` (the test fixtures use them too)."""
    args: dict[str, Any] = {
        "headless": headless,
        "args": list(CHROMIUM_ARGS),
        "executable_path": str(executable),
    }
    if slow_mo_ms:
        args["slow_mo"] = slow_mo_ms
    return args


@contextmanager
def shared_browser(
    *, endpoint: str | None = None, executable: str | Path | None = None, headless: bool = True
) -> Iterator[str]:
    """An endpoint every worker can connect to: the remote one given, or a local Chromium's."""
    if endpoint:  # its scheme is checked with the settings (CCW_BROWSER_ENDPOINT)
        yield endpoint
        return
    path = resolve_executable(executable)
    # Chromium's helper processes may still be writing the profile as it is removed.
    with tempfile.TemporaryDirectory(
        prefix="ccw-agent-chromium-", ignore_cleanup_errors=True
    ) as profile:
        command = [
            str(path),
            *SUBPROCESS_ARGS,
            *(("--headless",) if headless else ()),
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own process group, so all its helpers stop with it
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise BrowserNotFound(f"cannot start {path}: {exc}") from exc
        reader: threading.Thread | None = None
        try:
            endpoint, reader = _devtools_endpoint(proc, path)
            yield endpoint
        finally:
            _stop_group(proc)
            if reader is not None:
                reader.join(timeout=5)  # it closes the stderr pipe once Chromium is gone


def _die_with_parent() -> None:
    """In the child before exec: Linux ends Chromium if the agent is killed (SIGKILL, OOM).

    Otherwise a killed agent leaves a browser running for ever, since it has its own session.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """Stop Chromium and every helper process it started."""
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue


def _devtools_endpoint(proc: subprocess.Popen[str], path: Path) -> tuple[str, threading.Thread]:
    """Read Chromium's DevTools URL from its stderr, then keep draining stderr in the background.

    Returns the URL and the thread that drains the pipe (and closes it at end of file).
    """
    assert proc.stderr is not None
    found: list[str] = []
    seen: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        with proc.stderr as stream:
            for line in stream:
                if not found:
                    match = DEVTOOLS_LINE.search(line)
                    if match:
                        found.append(match.group(1))
                        ready.set()
                    else:
                        seen.append(line.strip())
        ready.set()

    reader = threading.Thread(target=read, name="chromium-stderr", daemon=True)
    reader.start()
    if not ready.wait(START_TIMEOUT_S) or not found:
        proc.kill()
        tail = " | ".join(seen[-5:])
        if any(NO_DISPLAY in line for line in seen):
            raise BrowserNotFound(
                "a visible browser (--headed, --interactive) needs a display: run the command "
                "on a desktop, or under `xvfb-run` on a server"
            )
        raise BrowserNotFound(f"{path} did not start a DevTools endpoint: {tail}")
    log.debug("browser_started", executable=str(path), endpoint=found[0])
    return found[0], reader


def connect(pw: Playwright, endpoint: str, *, slow_mo_ms: int = 0) -> Browser:
    """This thread's connection to the shared browser."""
    slow_mo = slow_mo_ms or None
    if endpoint.startswith(("ws://", "wss://")) and "/devtools/browser/" not in endpoint:
        return pw.chromium.connect(endpoint, slow_mo=slow_mo)
    return pw.chromium.connect_over_cdp(endpoint, slow_mo=slow_mo)
