"""The shared browser: reachable by this user only, sandboxed unless root, gone with the agent."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright._impl._driver import compute_driver_executable, get_driver_env
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from structlog.testing import capture_logs

from agent import browser as browser_module
from agent.browser import (
    chromium_sandbox,
    connect,
    launch_args,
    resolve_executable,
    server_options,
    shared_browser,
)
from mock_site.server import MockServer
from pages.errors import BrowserNotFound

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp


# --- helpers: processes, sockets, another user -------------------------------------------------


def private_folder(endpoint: str) -> Path:
    match = re.fullmatch(r"ws\+unix://(/[^:]+):/[A-Za-z0-9_-]+", endpoint)
    assert match, endpoint
    return Path(match.group(1)).parent


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


def server_tree(folder: Path) -> dict[int, str]:
    """The browser server started for this private folder, and all its descendants."""
    table = process_table()
    config = f"{folder}/launch-server.json"
    roots = {pid for pid, (_, _, cmd) in table.items() if "launch-server" in cmd and config in cmd}
    assert len(roots) == 1, f"expected one browser server for {folder}"
    tree = set(roots)
    grew = True
    while grew:
        children = {pid for pid, (ppid, _, _) in table.items() if ppid in tree} - tree
        tree |= children
        grew = bool(children)
    return {pid: table[pid][2] for pid in tree}


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
    fds = Path(f"/proc/{pid}/fd")
    try:
        links = [os.readlink(fd) for fd in fds.iterdir()]
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


def in_thread(work: Callable[[], T]) -> T:
    """Run Playwright's sync API in a thread of its own, as a bulk worker does."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as exc:  # noqa: B036 - handed back to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    if errors:
        raise errors[0]
    return results[0]


def page_text(endpoint: str) -> str:
    with sync_playwright() as pw:
        browser = connect(pw, endpoint)
        try:
            page = browser.new_page()
            page.set_content("<h1>reached</h1>")
            return page.inner_text("h1")
        finally:
            browser.close()


def other_user() -> list[str]:
    """A command prefix that runs as `nobody`, or a skip where that cannot be done."""
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if os.geteuid() != 0 or runuser is None:
        pytest.skip("needs root and runuser to act as another local user")
    return [runuser, "-u", "nobody", "--"]


def python_for(prefix: list[str]) -> str:
    """A Python the other user may run (ours may live in a folder they cannot enter)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        check = subprocess.run([*prefix, candidate, "-c", "pass"], capture_output=True, timeout=30)
        if check.returncode == 0:
            return candidate
    pytest.skip("no Python that the other user may run")


# --- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("euid", "sandboxed"), [(1000, True), (0, False)])
def test_chromium_keeps_its_sandbox_unless_root(
    monkeypatch: pytest.MonkeyPatch, euid: int, sandboxed: bool
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    executable = Path("/opt/chromium/chrome")

    args = launch_args(executable)
    options = server_options(
        executable, headless=True, sandbox=chromium_sandbox(), socket=Path("/s"), path="/p"
    )

    assert chromium_sandbox() is sandboxed
    # Playwright adds --no-sandbox unless chromium_sandbox is true: it must always be said.
    assert args["chromium_sandbox"] is sandboxed
    assert options["chromiumSandbox"] is sandboxed
    assert "--no-sandbox" not in args["args"] and "--no-sandbox" not in options["args"]
    assert args["executable_path"] == options["executablePath"] == str(executable)


def test_the_server_listens_on_a_socket_path_and_never_on_a_host() -> None:
    options = server_options(
        Path("/c"), headless=False, sandbox=True, socket=Path("/d/browser.sock"), path="/tok"
    )

    assert options["port"] == "/d/browser.sock"
    assert "host" not in options
    assert options["wsPath"] == "/tok"
    assert options["headless"] is False


def test_slow_motion_is_passed_only_when_asked() -> None:
    assert "slow_mo" not in launch_args(Path("/c"))
    assert launch_args(Path("/c"), slow_mo_ms=250)["slow_mo"] == 250


# --- the local browser -------------------------------------------------------------------------


@pytest.mark.browser
def test_the_local_browser_has_no_tcp_port_and_its_socket_is_private(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCW_PASSWORD", "not-for-the-browser")
    with shared_browser() as endpoint:
        folder = private_folder(endpoint)
        tree = server_tree(folder)
        listening = listening_tcp_inodes()

        assert endpoint.startswith("ws+unix://")
        assert (folder.stat().st_mode & 0o777) == 0o700
        assert (folder / "browser.sock").is_socket()
        # The browser process itself; its helpers carry a --type.
        (chromium,) = [
            cmd for cmd in tree.values() if "--user-data-dir=" in cmd and "--type=" not in cmd
        ]
        assert "--remote-debugging-pipe" in chromium
        # The old design's DevTools port (/json/version, /json/list) and any TCP port at all:
        assert not any("--remote-debugging-port" in cmd for cmd in tree.values())
        assert all(not socket_inodes(pid) & listening for pid in tree)
        assert all(b"not-for-the-browser" not in environ(pid) for pid in tree)
        assert in_thread(lambda: page_text(endpoint)) == "reached"
    assert not folder.exists()


@pytest.mark.browser
def test_the_server_answers_nothing_without_the_token() -> None:
    with shared_browser() as endpoint:
        wrong = endpoint.rsplit(":", 1)[0] + ":/not-the-token"

        with pytest.raises(PlaywrightError, match="400 Bad Request"):
            in_thread(lambda: page_text(wrong))
        assert in_thread(lambda: page_text(endpoint)) == "reached"


@pytest.mark.browser
def test_another_local_user_cannot_reach_the_browser() -> None:
    """Playwright's server tells its path to anyone who asks GET /json: only the folder guards."""
    prefix = other_user()
    python = python_for(prefix)
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__); sys.exit(3)\n"
        "s.sendall(b'GET /json HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n')\n"
        "print(s.recv(4096).decode(errors='replace'))\n"
    )
    with shared_browser() as endpoint:
        sock = str(private_folder(endpoint) / "browser.sock")

        as_owner = subprocess.run(
            [sys.executable, "-c", probe, sock], capture_output=True, text=True, timeout=30
        )
        as_nobody = subprocess.run(
            [*prefix, python, "-c", probe, sock], capture_output=True, text=True, timeout=30
        )

    token = endpoint.rsplit(":", 1)[1]
    assert as_owner.returncode == 0 and token in as_owner.stdout  # the probe can reach it
    assert as_nobody.returncode == 3, as_nobody.stdout + as_nobody.stderr
    assert as_nobody.stdout.strip() == "PermissionError"
    assert token not in as_nobody.stdout + as_nobody.stderr


@pytest.mark.browser
def test_a_killed_agent_leaves_no_browser(tmp_path: Path) -> None:
    agent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import threading\n"
            "from agent.browser import shared_browser\n"
            "with shared_browser() as endpoint:\n"
            "    print('endpoint', endpoint, flush=True)\n"
            "    threading.Event().wait()\n",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert agent.stdout is not None
        endpoint = next(line for line in agent.stdout if line.startswith("endpoint "))
        endpoint = endpoint.split()[1]
        folder = private_folder(endpoint)
        pids = set(server_tree(folder))
        assert len(pids) > 1, "the server and its Chromium"
    finally:
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=30)
        if agent.stdout is not None:
            agent.stdout.close()

    deadline = time.monotonic() + 30
    while alive(pids) and time.monotonic() < deadline:
        threading.Event().wait(0.2)
    assert not alive(pids), process_table().get(min(alive(pids) or {0}))
    # The next agent's start removes the folder once it is a minute old: its lock is free.
    lock = os.open(folder / "owner.lock", os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(lock)
    shutil.rmtree(folder, ignore_errors=True)


def abandoned(parent: Path, name: str, *, age_s: float) -> Path:
    folder = parent / f"ccw-agent-browser-{name}"
    (folder / "profile").mkdir(parents=True)
    lock = folder / "owner.lock"
    lock.touch()
    then = time.time() - age_s
    os.utime(lock, (then, then))
    return folder


def test_folders_of_killed_agents_are_removed_and_no_other(tmp_path: Path) -> None:
    killed = abandoned(tmp_path, "killed", age_s=120)
    running = abandoned(tmp_path, "running", age_s=120)
    starting = abandoned(tmp_path, "starting", age_s=1)
    unknown = tmp_path / "ccw-agent-browser-nolock"
    unknown.mkdir()
    held = os.open(running / "owner.lock", os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        browser_module._remove_abandoned(tmp_path)
    finally:
        os.close(held)

    assert not killed.exists()
    assert running.exists() and starting.exists() and unknown.exists()


def fake_chromium(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "chromium"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.mark.browser
def test_without_a_usable_sandbox_it_runs_unsandboxed_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = resolve_executable()
    # Chromium's own words on a machine without user namespaces nor a setuid helper.
    executable = fake_chromium(
        tmp_path,
        'case " $* " in *" --no-sandbox "*) exec ' + str(real) + ' "$@";; esac\n'
        'echo "[1:1:FATAL:zygote_host_impl_linux.cc(128)] No usable sandbox!" >&2\n'
        "exit 1",
    )
    monkeypatch.setattr(browser_module, "chromium_sandbox", lambda: True)

    with capture_logs() as logs, shared_browser(executable=executable) as endpoint:
        assert in_thread(lambda: page_text(endpoint)) == "reached"

    (warning,) = [entry for entry in logs if entry["event"] == "chromium_sandbox_unavailable"]
    assert warning["log_level"] == "warning"
    assert "No usable sandbox" in warning["detail"]


@pytest.mark.browser
def test_a_browser_that_does_not_start_is_named_with_its_words(tmp_path: Path) -> None:
    executable = fake_chromium(
        tmp_path, 'echo "cannot open shared object libnss3.so" >&2\nexit 127'
    )

    with pytest.raises(BrowserNotFound) as caught, shared_browser(executable=executable):
        pass

    assert str(executable) in str(caught.value)
    assert "libnss3.so" in str(caught.value)


# --- remote endpoints --------------------------------------------------------------------------


def cli(mock: MockServer, state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CCW_")}
    environ |= {
        "CCW_BASE_URL": mock.home_url,
        "CCW_STATE_DIR": str(state),
        "CCW_USERNAME": "demo.partner@northwind.example",
        "CCW_PASSWORD": "Northwind-Demo-1",
        "CCW_LOG_FORMAT": "json",
        "CCW_LOG_LEVEL": "DEBUG",  # a local start would log "browser_started"
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        env=environ,
        cwd=state.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def started(command: list[str], pattern: re.Pattern[str], stream: str) -> Iterator[str]:
    """A browser process of the test's own, and the endpoint it prints (on stdout or stderr)."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
        stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env=get_driver_env(),
    )
    output = process.stdout if stream == "stdout" else process.stderr
    assert output is not None
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:  # to the end, so that a full pipe never blocks the browser
        with output:
            for line in output:
                match = pattern.search(line)
                if match and not found:
                    found.append(match.group(1))
                    ready.set()
        ready.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        ready.wait(60)
        assert found, f"{command[0]} printed no endpoint"
        yield found[0]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        reader.join(timeout=10)


@pytest.mark.browser
def test_a_remote_browser_over_cdp_is_used_instead_of_a_local_one(
    mock: MockServer, tmp_path: Path
) -> None:
    """CCW_BROWSER_ENDPOINT=http://host:port, as for a Chromium with --remote-debugging-port."""
    profile = tempfile.mkdtemp(dir=tmp_path)
    command = [
        str(resolve_executable()),
        "--headless",
        *(() if chromium_sandbox() else ("--no-sandbox",)),
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    with started(command, DEVTOOLS_LINE, "stderr") as devtools:
        port = devtools.split(":")[2].split("/")[0]
        done = cli(
            mock,
            tmp_path / "state",
            "show",
            "110000003",
            **{"CCW_BROWSER_ENDPOINT": f"http://127.0.0.1:{port}"},
        )
    assert done.returncode == 0, done.stderr
    assert "DC West" in done.stdout
    assert "browser_started" not in done.stderr, "no local browser was started"


@pytest.mark.browser
def test_a_remote_playwright_server_over_ws_is_used_instead_of_a_local_one(
    mock: MockServer, tmp_path: Path
) -> None:
    """CCW_BROWSER_ENDPOINT=ws://host:port/path, as for `playwright run-server` or a grid."""
    options: dict[str, Any] = server_options(
        resolve_executable(), headless=True, sandbox=chromium_sandbox(), socket=Path(), path="/pw"
    )
    options |= {"port": 0, "host": "127.0.0.1"}
    config = tmp_path / "server.json"
    config.write_text(json.dumps(options), encoding="utf-8")
    node, driver = compute_driver_executable()
    command = [node, driver, "launch-server", "--browser", "chromium", "--config", str(config)]

    with started(command, re.compile(r"^(ws://\S+)"), "stdout") as endpoint:
        done = cli(mock, tmp_path / "state", "show", "110000003", CCW_BROWSER_ENDPOINT=endpoint)
    assert done.returncode == 0, done.stderr
    assert "DC West" in done.stdout
    assert "browser_started" not in done.stderr, "no local browser was started"
