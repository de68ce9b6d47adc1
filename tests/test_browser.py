"""The run's browser: sandboxed unless root, no TCP port, named when it fails, dies with us."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.request import urlopen

import pytest
from helpers import DEMO, MakeSettings
from playwright._impl._driver import compute_driver_executable, get_driver_env
from playwright.async_api import Browser, Playwright
from structlog.testing import capture_logs

from agent import browser as browser_module
from agent.browser import (
    CHROMIUM_ARGS,
    chromium_sandbox,
    connect,
    launch_args,
    open_browser,
    start_failure,
)
from agent.runner import Target, Worker
from agent.settings import Settings
from flows.models import ViewResult
from flows.session import PortalSession
from flows.view import view_assignment
from mock_site.server import MockServer
from pages.errors import BrowserNotFound

ROOT = Path(__file__).resolve().parent.parent
DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")
SERVER_LINE = re.compile(r"Listening on (ws://\S+)")  # what `playwright run-server` prints
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp
ORDER = "110000003"  # its lines carry the virtual account "DC West"
# A child Python that opens the browser as the agent does, shows that it works, and waits.
AGENT = """
import asyncio

from agent.browser import open_browser


async def main() -> None:
    async with open_browser() as browser:
        page = await browser.new_page()
        await page.set_content("<h1>reached</h1>")
        print("ready", await page.inner_text("h1"), flush=True)
        await asyncio.Event().wait()


asyncio.run(main())
"""


# --- helpers: processes and sockets ------------------------------------------------------------


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) of every process we may read."""
    table: dict[int, tuple[int, str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        table[int(entry.name)] = (int(ppid), state, cmdline)
    return table


def descendants(root: int) -> dict[int, str]:
    """pid -> command line of every process below `root`."""
    table = process_table()
    tree = {root}
    grew = True
    while grew:
        children = {pid for pid, (ppid, _, _) in table.items() if ppid in tree} - tree
        tree |= children
        grew = bool(children)
    return {pid: table[pid][2] for pid in tree - {root} if pid in table}


def main_chromium(tree: dict[int, str]) -> str:
    """The browser process's command line; its helpers carry a --type.

    A launcher (Debian's /usr/bin/chromium is a shell script that execs the binary) can show
    the same arguments for a moment; the browser is the one Playwright talks to over its pipe.
    """
    browsers = [cmd for cmd in tree.values() if "--user-data-dir=" in cmd and "--type=" not in cmd]
    piped = [cmd for cmd in browsers if "--remote-debugging-pipe" in cmd] or browsers
    assert piped, tree
    return piped[-1]


def alive(pids: set[int]) -> set[int]:
    table = process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def listening_tcp_inodes() -> set[str]:
    inodes: set[str] = set()
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == TCP_LISTEN:
                inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return inodes
    for link in links:
        match = re.fullmatch(r"socket:\[(\d+)\]", link)
        if match:
            inodes.add(match.group(1))
    return inodes


def environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def wait_until_gone(pids: set[int], timeout_s: float = 30) -> set[int]:
    """The processes still alive after waiting up to `timeout_s` for them to end."""
    deadline = time.monotonic() + timeout_s
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


@dataclass(frozen=True)
class Agent:
    process: subprocess.Popen[str]
    tree: dict[int, str]  # its processes once the browser works: the driver and Chromium


@contextmanager
def agent_with_browser(tmp_path: Path, chromium: Path, **env: str) -> Iterator[Agent]:
    """A child Python holding a local browser (`chromium`) that works; killed (SIGKILL) at the
    end."""
    errors = tmp_path / "agent.stderr"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", AGENT],
            cwd=ROOT,
            env=os.environ | {"CCW_BROWSER_EXECUTABLE": str(chromium)} | env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "ready reached", errors.read_text()
        yield Agent(process, descendants(process.pid))
    finally:
        process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@dataclass(frozen=True)
class Started:
    pid: int
    address: str


@asynccontextmanager
async def started(
    command: list[str],
    pattern: re.Pattern[str],
    stream: str,
    *,
    env: dict[str, str] | None = None,
    stop: signal.Signals = signal.SIGTERM,
) -> AsyncIterator[Started]:
    """A process of the test's own, and the address it prints (on stdout or stderr).

    It is stopped with `stop` sent to its process group, and killed if that does not end it.
    """
    pipe, devnull = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=devnull,
        stdout=pipe if stream == "stdout" else devnull,
        stderr=pipe if stream == "stderr" else devnull,
        env=env,
        start_new_session=True,
    )
    output = process.stdout if stream == "stdout" else process.stderr
    assert output is not None
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def drain() -> None:  # to the end, so that a full pipe never blocks the process
        async for raw in output:
            match = pattern.search(raw.decode(errors="replace"))
            if match and not found.done():
                found.set_result(match.group(1))
        if not found.done():
            found.set_exception(AssertionError(f"{command[0]} ended without an address"))

    reader = asyncio.create_task(drain())
    try:
        address = await asyncio.wait_for(found, 60)
        yield Started(process.pid, address)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, stop)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise AssertionError(f"{command[0]} did not stop on {stop.name}") from None
        finally:
            await asyncio.wait_for(reader, 10)


async def no_local_launch(*args: object, **kwargs: object) -> Browser:
    raise AssertionError("a local browser was launched")


@asynccontextmanager
async def worker_of(browser: Browser, settings: Settings) -> AsyncIterator[Worker]:
    """A worker of the given browser, closed with the block."""
    worker = Worker(browser, Target.from_settings(settings))
    try:
        yield worker
    finally:
        await worker.close()


def view(session: PortalSession) -> Awaitable[ViewResult]:
    return view_assignment(session, ORDER)


def page_urls(cdp_endpoint: str) -> list[str]:
    """The addresses of the pages the Chromium behind a DevTools endpoint shows."""
    with urlopen(f"{cdp_endpoint}/json/list", timeout=10) as answer:
        return [target["url"] for target in json.load(answer)]


def virtual_accounts(result: ViewResult) -> set[str | None]:
    assert result.view is not None, result.detail
    return {line.virtual_account for line in result.view.lines}


def fake_chromium(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "chromium"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


class FakeChromiumType:
    """Records how `connect` calls Playwright, and answers with a stand-in browser."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def connect(self, endpoint: str, **kwargs: Any) -> Browser:
        self.calls.append(("connect", endpoint, kwargs))
        return cast(Browser, object())

    async def connect_over_cdp(self, endpoint: str, **kwargs: Any) -> Browser:
        self.calls.append(("connect_over_cdp", endpoint, kwargs))
        return cast(Browser, object())


@dataclass
class FakePlaywright:
    chromium: FakeChromiumType


async def connected(endpoint: str, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
    """How `connect` called Playwright for this endpoint."""
    fake = FakePlaywright(FakeChromiumType())
    await connect(cast(Playwright, fake), endpoint, **kwargs)
    (call,) = fake.chromium.calls
    return call


# --- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("euid", "sandboxed"), [(1000, True), (0, False)])
def test_chromium_keeps_its_sandbox_unless_root(
    monkeypatch: pytest.MonkeyPatch, euid: int, sandboxed: bool
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    executable = Path("/opt/chromium/chrome")

    args = launch_args(executable)

    assert chromium_sandbox() is sandboxed
    # Playwright adds --no-sandbox unless chromium_sandbox is true: it must always be said.
    assert args["chromium_sandbox"] is sandboxed
    assert "--no-sandbox" not in args["args"]
    assert args["executable_path"] == str(executable)


async def test_slow_motion_is_passed_only_when_asked() -> None:
    assert "slow_mo" not in launch_args(Path("/c"))
    assert launch_args(Path("/c"), slow_mo_ms=250)["slow_mo"] == 250
    for endpoint in ("ws://grid.example:3000/", "http://127.0.0.1:9222"):
        assert (await connected(endpoint))[2]["slow_mo"] is None
        assert (await connected(endpoint, slow_mo_ms=250))[2]["slow_mo"] == 250


@pytest.mark.parametrize(
    ("endpoint", "method"),
    [
        ("ws://grid.example:3000/", "connect"),
        ("wss://grid.example/playwright?token=t", "connect"),
        ("http://127.0.0.1:9222", "connect_over_cdp"),
        ("https://cdp.example", "connect_over_cdp"),
        ("ws://127.0.0.1:9222/devtools/browser/0f1e", "connect_over_cdp"),
    ],
)
async def test_each_endpoint_is_reached_its_own_way(endpoint: str, method: str) -> None:
    called, reached, _ = await connected(endpoint)
    assert (called, reached) == (method, endpoint)


async def test_a_playwright_server_is_asked_for_our_flags_and_only_a_configured_chromium(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CCW_BROWSER_EXECUTABLE", raising=False)
    endpoint = "ws://grid.example:3000/"

    default = (await connected(endpoint))[2]["headers"]
    configured = (await connected(endpoint, headless=False, executable="/srv/chrome"))[2]
    monkeypatch.setenv("CCW_BROWSER_EXECUTABLE", "/opt/chromium/chrome")
    from_environment = (await connected(endpoint))[2]["headers"]

    assert json.loads(default["x-playwright-launch-options"]) == {
        "headless": True,
        "args": list(CHROMIUM_ARGS),
    }
    asked = json.loads(configured["headers"]["x-playwright-launch-options"])
    assert asked["headless"] is False
    assert asked["executablePath"] == "/srv/chrome"
    assert "chromiumSandbox" not in asked, "the server's machine decides its sandbox"
    assert json.loads(from_environment["x-playwright-launch-options"])["executablePath"] == (
        "/opt/chromium/chrome"
    )
    # A DevTools endpoint is a browser that already runs: nothing to ask for.
    assert "headers" not in (await connected("http://127.0.0.1:9222"))[2]


def test_a_browser_that_needs_a_display_says_so() -> None:
    message = (
        "BrowserType.launch: Target page, context or browser has been closed\n"
        "Call log:\n"
        "  - [pid=7][err] [7:7:ERROR:ui/ozone/platform/x11/ozone_platform_x11.cc:257] "
        "Missing X server or $DISPLAY\n"
    )

    failure = start_failure(Path("/usr/bin/chromium"), message)

    assert "needs a display" in str(failure)
    assert "xvfb-run" in str(failure)


async def test_an_endpoint_that_does_not_answer_is_named() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"ws://127.0.0.1:{port}/"

    with pytest.raises(BrowserNotFound, match=f"cannot connect to the browser at {endpoint}"):
        async with open_browser(endpoint=endpoint):
            pass


# --- the local browser -------------------------------------------------------------------------


def test_the_local_browser_opens_no_tcp_port(tmp_path: Path, chromium_executable: Path) -> None:
    with agent_with_browser(tmp_path, chromium_executable) as agent:
        listening = listening_tcp_inodes()
        chromium = main_chromium(agent.tree)

        assert len(agent.tree) > 2, "the driver, Chromium and its helpers"
        assert "--remote-debugging-pipe" in chromium
        # The old design's DevTools port (/json/version, /json/list), and any TCP port at all:
        assert not [cmd for cmd in agent.tree.values() if "--remote-debugging-port" in cmd]
        assert not [pid for pid in agent.tree if socket_inodes(pid) & listening]


def test_the_agents_settings_do_not_reach_the_browser(
    tmp_path: Path, chromium_executable: Path
) -> None:
    with agent_with_browser(
        tmp_path, chromium_executable, CCW_PASSWORD="not-for-the-browser"
    ) as agent:
        chromium = {pid for pid, cmd in agent.tree.items() if "chromium" in cmd or "chrome" in cmd}

        assert chromium
        assert not [pid for pid in chromium if b"not-for-the-browser" in environ(pid)]


def test_a_killed_agent_leaves_no_browser(tmp_path: Path, chromium_executable: Path) -> None:
    with agent_with_browser(tmp_path, chromium_executable) as agent:
        pids = set(agent.tree)
        assert main_chromium(agent.tree)
        # Leaving the block kills the agent with SIGKILL: it cannot clean up anything itself.

    left = wait_until_gone(pids)
    assert not left, {pid: agent.tree[pid] for pid in left}


async def test_without_a_usable_sandbox_it_runs_unsandboxed_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chromium_executable: Path
) -> None:
    real = chromium_executable
    # Chromium's own words on a machine without user namespaces nor a setuid helper.
    executable = fake_chromium(
        tmp_path,
        'case " $* " in *" --no-sandbox "*) exec ' + str(real) + ' "$@";; esac\n'
        'echo "[1:1:FATAL:zygote_host_impl_linux.cc(128)] No usable sandbox!" >&2\n'
        "exit 1",
    )
    monkeypatch.setattr(browser_module, "chromium_sandbox", lambda: True)

    with capture_logs() as logs:
        async with open_browser(executable=executable) as browser:
            page = await browser.new_page()
            await page.set_content("<h1>reached</h1>")
            assert await page.inner_text("h1") == "reached"

    (warning,) = [entry for entry in logs if entry["event"] == "chromium_sandbox_unavailable"]
    assert warning["log_level"] == "warning"
    assert "No usable sandbox" in warning["detail"]


async def test_a_browser_that_does_not_start_is_named_with_its_words(tmp_path: Path) -> None:
    executable = fake_chromium(
        tmp_path, 'echo "cannot open shared object libnss3.so" >&2\nexit 127'
    )

    with pytest.raises(BrowserNotFound) as caught:
        async with open_browser(executable=executable):
            pass

    assert str(executable) in str(caught.value)
    assert "libnss3.so" in str(caught.value)


async def test_a_visible_browser_without_a_display_is_told_to_use_one(
    monkeypatch: pytest.MonkeyPatch, full_chromium: Path
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(BrowserNotFound, match="needs a display") as caught:
        async with open_browser(executable=full_chromium, headless=False):
            pass

    assert "xvfb-run" in str(caught.value)


# --- remote endpoints --------------------------------------------------------------------------


async def test_a_remote_browser_over_cdp_is_used_instead_of_a_local_one(
    mock: MockServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chromium_executable: Path,
    agent_settings: MakeSettings,
) -> None:
    """CCW_BROWSER_ENDPOINT=http://host:port, as for a Chromium with --remote-debugging-port."""
    monkeypatch.setattr(browser_module, "launch", no_local_launch)
    command = [
        str(chromium_executable),
        "--headless",
        *(() if chromium_sandbox() else ("--no-sandbox",)),
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        f"--user-data-dir={tmp_path / 'profile'}",
        "about:blank",
    ]
    async with started(command, DEVTOOLS_LINE, "stderr") as remote:
        port = remote.address.split(":")[2].split("/")[0]
        endpoint = f"http://127.0.0.1:{port}"
        async with (
            open_browser(endpoint=endpoint) as browser,
            worker_of(browser, agent_settings(user=DEMO)) as worker,
        ):
            result = await worker.call(ORDER, view)
            seen = await asyncio.to_thread(page_urls, endpoint)

    assert virtual_accounts(result) == {"DC West"}
    assert [url for url in seen if url.startswith(mock.url)], seen


async def test_a_remote_playwright_server_over_ws_is_used_instead_of_a_local_one(
    monkeypatch: pytest.MonkeyPatch,
    chromium_executable: Path,
    agent_settings: MakeSettings,
) -> None:
    """CCW_BROWSER_ENDPOINT=ws://host:port/, as for `playwright run-server` or a grid.

    The server takes the Chromium to launch and its flags from the client only with --unsafe;
    without it, it launches its own Playwright build of Chromium (not installed here).
    """
    monkeypatch.setattr(browser_module, "launch", no_local_launch)
    monkeypatch.setenv("CCW_BROWSER_EXECUTABLE", str(chromium_executable))
    # The driver's own Node.js, as `python -m playwright run-server` runs it but without a
    # Python in between, which would kill the server (SIGKILL) a moment after a Ctrl-C.
    node, cli = compute_driver_executable()
    command = [node, cli, "run-server", "--host", "127.0.0.1", "--port", "0", "--unsafe"]

    # SIGINT: once it has launched a browser, the server closes it on SIGTERM but keeps running.
    async with started(
        command, SERVER_LINE, "stdout", env=get_driver_env(), stop=signal.SIGINT
    ) as server:
        async with (
            open_browser(endpoint=server.address) as browser,
            worker_of(browser, agent_settings(user=DEMO)) as worker,
        ):
            launched = main_chromium(descendants(server.pid))
            result = await worker.call(ORDER, view)

    assert virtual_accounts(result) == {"DC West"}
    # The server launched the Chromium asked for, with the agent's flags, over a pipe.
    assert "--headless" in launched
    assert all(flag in launched for flag in CHROMIUM_ARGS)
    assert "--remote-debugging-pipe" in launched
