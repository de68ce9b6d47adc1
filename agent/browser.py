"""Finding a Chromium and sharing one browser between workers (local or remote endpoint).

Playwright's sync API binds its objects to one thread, so N workers cannot share one `Browser`
object. Instead one Chromium runs behind a Playwright browser server and every worker thread
connects to it with its own Playwright: one browser process, one context per worker. A remote
browser (`CCW_BROWSER_ENDPOINT`) is shared the same way.

The local server listens on a unix socket in a fresh folder only this user may enter (mode 0700),
never on a TCP port: every local user can reach a loopback port, and whoever connects drives the
browser and reads its cookies. Chromium's DevTools port has no authentication, and the secret path
of Playwright's own TCP server is no protection either, since the server tells it to anyone who
asks `GET /json`. Chromium talks to the server over a pipe (`--remote-debugging-pipe`).
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

# The driver's own Node.js and CLI: `python -m playwright` would put a Python process between the
# agent and the server, which passes on neither our signals nor the parent-death signal.
from playwright._impl._driver import compute_driver_executable, get_driver_env
from playwright.sync_api import Browser, Playwright

from pages.errors import BrowserNotFound

log = structlog.get_logger(__name__)

# Flags measured as needed on machines without a GPU and with a closed network; Playwright's
# launch adds its own defaults (no first run, no background networking, no component updates...).
CHROMIUM_ARGS = ("--disable-gpu", "--disable-quic")
PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "no Chromium found. Install one with `python -m playwright install chromium`, or on "
    "Debian/Ubuntu `apt-get install -y chromium`, or set CCW_BROWSER_EXECUTABLE to its path."
)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
NO_DISPLAY = "Missing X server or $DISPLAY"  # Chromium's words when headed without a display
# Chromium's words when it cannot build its sandbox (no user namespaces, no setuid helper).
NO_SANDBOX = ("No usable sandbox", "Failed to move to new namespace")
SOCKET_NAME = "browser.sock"
FOLDER_PREFIX = "ccw-agent-browser-"
OWNER_LOCK = "owner.lock"
ABANDONED_AFTER_S = 60.0
# sun_path holds 108 bytes with the final NUL; the endpoint URL must not need escaping.
SOCKET_PATH_MAX = 107
PLAIN_PATH = re.compile(r"^[A-Za-z0-9._/-]+\Z")
ERROR_LINE = re.compile(r"^\w*Error: (.+)")
CHROMIUM_LINE = re.compile(r"^\[pid=\d+\]\[err\] (.+)")


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


def chromium_sandbox() -> bool:
    """Whether Chromium keeps its sandbox: always, except as root, where Chromium refuses it.

    Where the sandbox cannot be built (no user namespaces and no setuid helper), the local
    browser is started again without it, with a warning; see `shared_browser`.
    """
    return os.geteuid() != 0


def launch_args(
    executable: Path, *, headless: bool = True, slow_mo_ms: int = 0, sandbox: bool | None = None
) -> dict[str, Any]:
    """Keyword arguments for `BrowserType.launch` (the test fixtures use them too).

    Playwright passes `--no-sandbox` unless `chromium_sandbox` is true, so it is given always.
    """
    args: dict[str, Any] = {
        "headless": headless,
        "args": list(CHROMIUM_ARGS),
        "executable_path": str(executable),
        "chromium_sandbox": chromium_sandbox() if sandbox is None else sandbox,
    }
    if slow_mo_ms:
        args["slow_mo"] = slow_mo_ms
    return args


def server_options(
    executable: Path, *, headless: bool, sandbox: bool, socket: Path, path: str
) -> dict[str, Any]:
    """The options of Playwright's `launchServer` (in its JavaScript spelling) for one Chromium."""
    launch = launch_args(executable, headless=headless, sandbox=sandbox)
    return {
        "executablePath": launch["executable_path"],
        "headless": launch["headless"],
        "args": launch["args"],
        "chromiumSandbox": launch["chromium_sandbox"],
        # A path, not a number: Node's server then listens on a unix socket, and no TCP port.
        "port": str(socket),
        "wsPath": path,
        "timeout": START_TIMEOUT_S * 1000,
    }


@contextmanager
def shared_browser(
    *, endpoint: str | None = None, executable: str | Path | None = None, headless: bool = True
) -> Iterator[str]:
    """An endpoint every worker can connect to: the remote one given, or a local browser's.

    The local one is `ws+unix://<socket>:<path>`: a Playwright server on a unix socket in a
    private folder, with one Chromium. It stops with the block; a killed agent takes it along.
    """
    if endpoint:  # its scheme is checked with the settings (CCW_BROWSER_ENDPOINT)
        yield endpoint
        return
    path = resolve_executable(executable)
    _remove_abandoned(Path(tempfile.gettempdir()))
    # mkdtemp: a new folder of a random name, mode 0700, so only this user reaches the socket.
    # Chromium's helper processes may still be writing the profile in it as it is removed.
    with (
        tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX, ignore_cleanup_errors=True) as folder,
        _owned(Path(folder)),
    ):
        private = Path(folder)
        sandbox = chromium_sandbox()
        try:
            server = _BrowserServer.start(path, private, headless=headless, sandbox=sandbox)
        except _SandboxUnavailable as exc:
            log.warning(
                "chromium_sandbox_unavailable",
                detail=str(exc),
                advice="enable unprivileged user namespaces to run Chromium sandboxed",
            )
            server = _BrowserServer.start(path, private, headless=headless, sandbox=False)
        try:
            yield server.endpoint
        finally:
            server.stop()


@contextmanager
def _owned(folder: Path) -> Iterator[None]:
    """Hold a lock in the folder while it is in use: a killed agent's lock is free again."""
    descriptor = os.open(folder / OWNER_LOCK, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _remove_abandoned(parent: Path) -> None:
    """Remove the private folders of agents that were killed (SIGKILL, OOM, power cut).

    A killed agent cannot remove its folder: the browser profile's leftovers and the server's
    artifacts stay in it. Only this user's folders whose lock is free, and older than a minute
    (so that an agent between making its folder and locking it is left alone), are removed.
    """
    for folder in parent.glob(f"{FOLDER_PREFIX}*"):
        lock = folder / OWNER_LOCK
        try:
            found = folder.lstat()
            if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid():
                continue
            if time.time() - lock.lstat().st_mtime < ABANDONED_AFTER_S:
                continue
            descriptor = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or no lock file: not ours to judge
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # in use
        finally:
            os.close(descriptor)
        shutil.rmtree(folder, ignore_errors=True)
        log.debug("browser_folder_removed", folder=str(folder))


class _SandboxUnavailable(Exception):
    """Chromium could not build its sandbox on this machine."""


@dataclass
class _BrowserServer:
    """Playwright's browser server (Node.js) and the threads draining its output."""

    process: subprocess.Popen[str]
    endpoint: str = ""
    output: deque[str] = field(default_factory=lambda: deque(maxlen=500))
    readers: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(
        cls, executable: Path, private: Path, *, headless: bool, sandbox: bool
    ) -> _BrowserServer:
        socket = private / SOCKET_NAME
        if len(os.fsencode(socket)) > SOCKET_PATH_MAX or not PLAIN_PATH.match(str(socket)):
            raise BrowserNotFound(
                f"cannot make the browser's private socket under {private.parent}: set TMPDIR "
                "to a short folder name of letters, digits, '.', '_' and '-'"
            )
        path = "/" + secrets.token_urlsafe(32)
        options = private / "launch-server.json"
        options.write_text(
            json.dumps(
                server_options(
                    executable, headless=headless, sandbox=sandbox, socket=socket, path=path
                )
            ),
            encoding="utf-8",
        )
        node, cli = compute_driver_executable()
        # Playwright puts the browser profile under TMPDIR: in the private folder, it is removed
        # with it even when the server could not clean up. The browser needs none of our settings.
        env = {key: value for key, value in get_driver_env().items() if not key.startswith("CCW_")}
        env["TMPDIR"] = str(private)
        command = [node, cli, "launch-server", "--browser", "chromium", "--config", str(options)]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                start_new_session=True,  # Ctrl-C reaches the agent only, which stops it in order
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise BrowserNotFound(f"cannot start the Playwright browser server: {exc}") from exc
        server = cls(process)
        printed = server._wait_for_endpoint()
        if printed != f"{socket}{path}" or not _is_private_socket(socket):
            server.stop()
            if not printed:
                server._raise_start_failure(executable)
            # Never fall back to a server that another user could reach.
            raise BrowserNotFound(
                "the Playwright browser server did not listen on the private socket "
                f"{socket}; this Playwright version is not supported"
            )
        server.endpoint = f"ws+unix://{socket}:{path}"
        log.debug(
            "browser_started",
            executable=str(executable),
            socket=str(socket),
            sandbox=sandbox,
            server_pid=process.pid,
        )
        return server

    def _wait_for_endpoint(self) -> str:
        """The line the server prints once it listens; empty if it ended or timed out first."""
        printed: list[str] = []
        ready = threading.Event()

        def read_stdout() -> None:
            assert self.process.stdout is not None
            with self.process.stdout as stream:
                for line in stream:
                    if not printed:
                        printed.append(line.strip())
                        ready.set()
            ready.set()

        def read_stderr() -> None:
            assert self.process.stderr is not None
            with self.process.stderr as stream:
                for line in stream:
                    self.output.append(line.rstrip())

        for name, target in (("stdout", read_stdout), ("stderr", read_stderr)):
            reader = threading.Thread(target=target, name=f"browser-server-{name}", daemon=True)
            reader.start()
            self.readers.append(reader)
        ready.wait(START_TIMEOUT_S + 5)
        return printed[0] if printed else ""

    def _raise_start_failure(self, executable: Path) -> None:
        lines = list(self.output)
        if any(NO_DISPLAY in line for line in lines):
            raise BrowserNotFound(
                "a visible browser (--headed, --interactive) needs a display: run the command "
                "on a desktop, or under `xvfb-run` on a server"
            )
        chromium = [m.group(1) for m in map(CHROMIUM_LINE.match, lines) if m]
        sandbox_lines = [line for line in chromium if any(words in line for words in NO_SANDBOX)]
        if sandbox_lines:
            raise _SandboxUnavailable(sandbox_lines[0])
        errors = [m.group(1) for m in map(ERROR_LINE.match, lines) if m]
        detail = " | ".join([*errors[:1], *chromium[-3:]]) or " | ".join(lines[-5:])
        raise BrowserNotFound(f"{executable} did not start: {detail or 'no output'}")

    def stop(self) -> None:
        """Stop the server, which closes Chromium; then let the readers finish."""
        _stop_group(self.process)
        for reader in self.readers:
            reader.join(timeout=5)  # each closes its pipe at end of file


def _is_private_socket(socket: Path) -> bool:
    """A socket of ours in a folder of ours that nobody else may enter."""
    try:
        found, folder = socket.lstat(), socket.parent.lstat()
    except OSError:
        return False
    uid = os.geteuid()
    return (
        stat.S_ISSOCK(found.st_mode)
        and found.st_uid == uid
        and folder.st_uid == uid
        and folder.st_mode & 0o077 == 0
    )


def _die_with_parent() -> None:
    """In the child before exec: Linux ends the server if the agent is killed (SIGKILL, OOM).

    Otherwise a killed agent leaves a browser running for ever, since it has its own session. The
    server closes Chromium on SIGTERM; if the server itself is killed, Chromium ends when its pipe
    to the server closes.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """Stop a process and every helper it started in its process group."""
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def connect(pw: Playwright, endpoint: str, *, slow_mo_ms: int = 0) -> Browser:
    """This thread's connection to the shared browser."""
    slow_mo = slow_mo_ms or None
    playwright_server = endpoint.startswith(("ws://", "wss://", "ws+unix:"))
    if playwright_server and "/devtools/browser/" not in endpoint:
        return pw.chromium.connect(endpoint, slow_mo=slow_mo)
    return pw.chromium.connect_over_cdp(endpoint, slow_mo=slow_mo)
