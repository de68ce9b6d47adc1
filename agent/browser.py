"""Finding a Chromium and opening the run's one browser: launched over a pipe, or remote.

One Playwright (one Node.js driver) and one browser serve every worker of a run: each worker is
a browser context driven by an asyncio task. A local Chromium is launched by Playwright and
talks to it over a pipe (`--remote-debugging-pipe`), so no port is open that another local user
could reach. A remote browser (`CCW_BROWSER_ENDPOINT`) is a Playwright server (`ws://`, `wss://`)
or a Chromium DevTools endpoint (`http://`, `https://`).

Ctrl-C reaches the whole foreground process group, the driver included: the browser is launched
with Playwright's own signal handling off, so that the agent alone decides (it drains its rows
first). A killed agent closes the driver's stdin, and the driver then closes its browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import structlog
from playwright.async_api import Browser, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from agent.settings import Settings
from pages.errors import BrowserNotFound

log = structlog.get_logger(__name__)

# Flags measured as needed on machines without a GPU and with a closed network; Playwright's
# launch adds its own defaults (no first run, no background networking, no component updates...).
CHROMIUM_ARGS = ("--disable-gpu", "--disable-quic")
PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Chromium's headless shell (Playwright's own choice for headless runs): the same engine without
# the window code, measured on the bundled mock at about a tenth less CPU per order and a third of
# the start-up time. Used for headless runs when installed (Debian: chromium-headless-shell).
HEADLESS_SHELL_CANDIDATES = ("chromium-headless-shell", "chrome-headless-shell")
INSTALL_HINT = (
    "no Chromium found. Install one with `python -m playwright install chromium`, or on "
    "Debian/Ubuntu `apt-get install -y chromium`, or set CCW_BROWSER_EXECUTABLE to its path."
)
NO_DISPLAY = "Missing X server or $DISPLAY"  # Chromium's words when headed without a display
# Chromium's words when it cannot build its sandbox (no user namespaces, no setuid helper).
NO_SANDBOX = ("No usable sandbox", "Failed to move to new namespace")
ERROR_LINE = re.compile(r"^\w*Error: (.+)")
# Chromium's own lines in a launch error: under "Browser logs", or in the call log ("- [pid=...").
CHROMIUM_LINE = re.compile(r"^(?:- )?\[pid=\d+\]\[err\] (.+)")
CONNECT_TIMEOUT_MS = 30_000.0


def _browsers_root() -> Path:
    return Path(
        os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright"
    )


def _newest(builds: list[Path]) -> Path | None:
    """The build with the highest revision (the number after the folder's last "-")."""
    return max(
        builds, key=lambda p: int(p.parent.parent.name.rpartition("-")[2] or 0), default=None
    )


def managed_chromium() -> Path | None:
    """Playwright's own Chromium if `playwright install chromium` has run (newest build first).

    Looked up on disk rather than through Playwright, so it can be asked without starting one.
    """
    return _newest(list(_browsers_root().glob("chromium-*/chrome-linux*/chrome")))


def managed_headless_shell() -> Path | None:
    """Playwright's own headless shell, which `playwright install chromium` installs beside it."""
    root = _browsers_root()
    return _newest(
        [
            *root.glob("chromium_headless_shell-*/*/headless_shell"),
            *root.glob("chromium_headless_shell-*/*/chrome-headless-shell"),
        ]
    )


def is_headless_shell(executable: Path) -> bool:
    """Whether `executable` is a headless shell (it never shows a window, whatever it is asked)."""
    return "headless" in executable.name.lower()


def resolve_executable(configured: str | Path | None = None, *, headless: bool = False) -> Path:
    """The Chromium to launch.

    Order: the configured path (CCW_BROWSER_EXECUTABLE); for a headless run, a headless shell
    (Playwright's, then one on PATH); then Playwright's managed Chromium, then `chromium`,
    `chromium-browser`, `google-chrome` on PATH. A configured headless shell for a visible
    browser is refused: it would run unseen while a person waits for a window.
    """
    configured = configured or os.environ.get("CCW_BROWSER_EXECUTABLE") or None
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise BrowserNotFound(f"CCW_BROWSER_EXECUTABLE={configured} does not exist")
        if not headless and is_headless_shell(path):
            raise BrowserNotFound(
                f"a visible browser (--headed, --interactive) needs a full Chromium, and "
                f"CCW_BROWSER_EXECUTABLE={configured} is a headless shell: set it to a Chromium "
                "or Chrome, or leave it unset"
            )
        return path
    if headless:
        shell = managed_headless_shell() or _on_path(HEADLESS_SHELL_CANDIDATES)
        if shell is not None:
            return shell
    found = managed_chromium() or _on_path(PATH_CANDIDATES)
    if found is None:
        raise BrowserNotFound(INSTALL_HINT)
    return found


def _on_path(names: tuple[str, ...]) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def chromium_sandbox() -> bool:
    """Whether Chromium keeps its sandbox: always, except as root, where Chromium refuses it.

    Where the sandbox cannot be built (no user namespaces and no setuid helper), the local
    browser is started again without it, with a warning; see `open_browser`.
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


@asynccontextmanager
async def open_browser(
    *,
    endpoint: str | None = None,
    executable: str | Path | None = None,
    headless: bool = True,
    slow_mo_ms: int = 0,
) -> AsyncIterator[Browser]:
    """The run's one Playwright and one browser: the remote endpoint given, or a local Chromium.

    It closes with the block (a remote browser only drops this run's contexts).
    """
    async with async_playwright() as pw:
        if endpoint:  # its scheme is checked with the settings (CCW_BROWSER_ENDPOINT)
            browser = await connect(
                pw, endpoint, slow_mo_ms=slow_mo_ms, headless=headless, executable=executable
            )
        else:
            browser = await launch(pw, executable, headless=headless, slow_mo_ms=slow_mo_ms)
        try:
            yield browser
        finally:
            with suppress(PlaywrightError):
                await browser.close()


def configured_browser(settings: Settings) -> AbstractAsyncContextManager[Browser]:
    """`open_browser` as the settings ask: CCW_BROWSER_ENDPOINT or CCW_BROWSER_EXECUTABLE,
    headless or not, and slow motion."""
    return open_browser(
        endpoint=settings.browser_endpoint,
        executable=settings.browser_executable,
        headless=settings.headless,
        slow_mo_ms=settings.slow_mo_ms,
    )


async def launch(
    pw: Playwright, executable: str | Path | None, *, headless: bool, slow_mo_ms: int = 0
) -> Browser:
    """A local Chromium over a pipe; unsandboxed, with a warning, where no sandbox can be built."""
    path = resolve_executable(executable, headless=headless)
    sandbox = chromium_sandbox()
    while True:
        options = launch_args(path, headless=headless, slow_mo_ms=slow_mo_ms, sandbox=sandbox)
        try:
            return await pw.chromium.launch(
                **options,
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
                # The browser needs none of our settings, and some of them are secrets.
                env={k: v for k, v in os.environ.items() if not k.startswith("CCW_")},
            )
        except PlaywrightError as exc:
            failure = start_failure(path, str(exc))
        if isinstance(failure, _SandboxUnavailable) and sandbox:
            log.warning(
                "chromium_sandbox_unavailable",
                detail=str(failure),
                advice="enable unprivileged user namespaces to run Chromium sandboxed",
            )
            sandbox = False
            continue
        raise failure


class _SandboxUnavailable(BrowserNotFound):
    """Chromium could not build its sandbox on this machine."""


def start_failure(executable: Path, message: str) -> BrowserNotFound:
    """Why Chromium did not start, in words a person can act on, from Playwright's launch error."""
    lines = [line.strip() for line in message.splitlines()]
    if any(NO_DISPLAY in line for line in lines):
        return BrowserNotFound(
            "a visible browser (--headed, --interactive) needs a display: run the command "
            "on a desktop, or under `xvfb-run` on a server"
        )
    chromium = list(dict.fromkeys(m.group(1) for m in map(CHROMIUM_LINE.match, lines) if m))
    sandbox_lines = [line for line in chromium if any(words in line for words in NO_SANDBOX)]
    if sandbox_lines:
        return _SandboxUnavailable(sandbox_lines[0])
    errors = [m.group(1) for m in map(ERROR_LINE.match, lines) if m]
    detail = " | ".join([*errors[:1], *chromium[-3:]]) or " | ".join(lines[:1])
    return BrowserNotFound(f"{executable} did not start: {detail or 'no output'}")


def remote_launch_options(*, headless: bool, executable: str | Path | None) -> dict[str, Any]:
    """What a Playwright server is asked to launch, in its JavaScript spelling.

    `executablePath` only when a Chromium is configured (`executable`, else
    CCW_BROWSER_EXECUTABLE): a path on the server's machine, not checked here. No
    `chromiumSandbox`: whether a sandbox can be built is known only where the browser runs (a
    server in a container often runs as root, where Chromium refuses it), so the server decides.
    """
    configured = executable or os.environ.get("CCW_BROWSER_EXECUTABLE") or None
    options: dict[str, Any] = {"headless": headless, "args": list(CHROMIUM_ARGS)}
    if configured:
        options["executablePath"] = str(configured)
    return options


async def connect(
    pw: Playwright,
    endpoint: str,
    *,
    slow_mo_ms: int = 0,
    headless: bool = True,
    executable: str | Path | None = None,
) -> Browser:
    """A connection to a remote browser: a Playwright server, or a Chromium DevTools endpoint.

    A Playwright server (`ws://`, `wss://`: `playwright run-server`, a grid) launches one browser
    for each connection, with the options sent in the `x-playwright-launch-options` header of the
    websocket request (`remote_launch_options`). The server uses `headless` always, but the
    Chromium flags and `executablePath` only when it was started with `--unsafe`; otherwise it
    launches its own Playwright build of Chromium, which must be installed on its machine. A
    DevTools endpoint (`http://`, `https://`, or a `ws://.../devtools/browser/...` address) is a
    Chromium that already runs: nothing is launched, and `headless` and `executable` do not apply.
    """
    slow_mo = slow_mo_ms or None
    try:
        if endpoint.startswith(("ws://", "wss://")) and "/devtools/browser/" not in endpoint:
            options = remote_launch_options(headless=headless, executable=executable)
            return await pw.chromium.connect(
                endpoint,
                slow_mo=slow_mo,
                timeout=CONNECT_TIMEOUT_MS,
                headers={"x-playwright-launch-options": json.dumps(options)},
            )
        return await pw.chromium.connect_over_cdp(
            endpoint, slow_mo=slow_mo, timeout=CONNECT_TIMEOUT_MS
        )
    except PlaywrightError as exc:
        lines = str(exc).strip().splitlines()
        raise BrowserNotFound(
            f"cannot connect to the browser at {endpoint}: {lines[0] if lines else exc}"
        ) from exc
