"""Shared fixtures: one mock portal per session, reset before each test; Chromium resolved once.

Browser tests are `async def` and take pytest-playwright-asyncio's fixtures (`page`, `context`,
`new_context`, `browser`); every async test and fixture runs on the test process's one event
loop (pyproject: asyncio_mode auto, session loop scope). Tests without a browser stay sync.
Plain helpers shared by the modules (users, CSV files, the mock's HTTP client...) are in
tests/helpers.py.

The `browser` marker, so that `pytest -m "not browser"` is a lane without any Chromium: a test
is marked when it uses, directly or through its fixtures, one of the fixtures that start one:

- the plugin's `browser`, `context`, `page`, `new_context`, `launch_browser`, `browser_type`;
- `chromium_executable`, for a test where the agent starts Chromium itself: its command line
  in a subprocess, or `run_bulk` in-process. Such a test takes the fixtures built on it,
  `agent_cli` (runs `python -m agent` with CCW_BROWSER_EXECUTABLE) or `agent_settings` (the
  settings' `browser_executable`), or takes `chromium_executable` and hands it to the agent
  itself (`agent.browser.open_browser(executable=...)`, or CCW_BROWSER_EXECUTABLE of a process
  it starts).
  So the Chromium the agent launches is also the one that marks the test.

A command that starts no browser (bad options, `report export`, a file refused before any
row) runs through a `helpers.AgentCli` made in the test, without `chromium`: it stays
unmarked. `@pytest.mark.browser` by hand is left for a test that starts Chromium some other way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fake_signon import FakeSignOn
from helpers import AgentCli, MakeSettings, MockClient, credentials_of

from agent.browser import launch_args, resolve_executable
from agent.pytest_plugin import MOCK_TIMEOUT_MS
from agent.settings import Settings
from mock_site.data import User
from mock_site.server import MockServer

# The fixtures that start Chromium, or hand its path to an agent that does (see above).
BROWSER_FIXTURES = frozenset(
    {
        "browser",
        "context",
        "page",
        "new_context",
        "launch_browser",
        "browser_type",
        "chromium_executable",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    server = MockServer(host="127.0.0.1", port=0, seed=1234, control=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mock(mock_server: MockServer) -> MockServer:
    """The session's mock portal, reset to its initial data and no faults."""
    mock_server.reset()
    return mock_server


@pytest.fixture
def client(mock: MockServer) -> MockClient:
    """An HTTP client of the mock's API, signed in as the demo user."""
    return MockClient(mock).sign_in()


@pytest.fixture(scope="session")
def chromium_executable(pytestconfig: pytest.Config) -> Path:
    """The Chromium every browser of the session runs, as the agent picks it (a headless shell
    where one is installed, unless --headed); asking for it marks a test `browser`."""
    return resolve_executable(headless=not pytestconfig.getoption("headed", False))


@pytest.fixture(scope="session")
def full_chromium() -> Path:
    """A Chromium that can show a window (never a headless shell)."""
    return resolve_executable(headless=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium_executable: Path
) -> dict[str, Any]:
    # Keep the plugin's headless/--headed choice; add only the executable and the flags.
    extra = launch_args(chromium_executable)
    extra.pop("headless")
    return {**browser_type_launch_args, **extra}


@pytest.fixture(scope="session")
def base_url(mock_server: MockServer) -> str:
    return mock_server.home_url


@pytest.fixture
def agent_settings(mock: MockServer, tmp_path: Path, chromium_executable: Path) -> MakeSettings:
    """Settings for the agent on the mock: state in tmp_path/state, no retry backoff, every wait
    10 s, the session's Chromium; `user` adds its email and password; `changes` win."""

    def make(*, user: User | None = None, **changes: Any) -> Settings:
        fields: dict[str, Any] = {
            "base_url": mock.home_url,
            "state_dir": tmp_path / "state",
            "browser_executable": chromium_executable,
            "retry_backoff_s": 0,
            "timeout_ms": MOCK_TIMEOUT_MS,
        }
        if user is not None:
            fields |= credentials_of(user).model_dump()
        return Settings(_env_file=None, **(fields | changes))

    return make


@pytest.fixture
def agent_cli(mock: MockServer, tmp_path: Path, chromium_executable: Path) -> AgentCli:
    """The agent's command line in tmp_path, on the mock, as the demo user, with the session's
    Chromium: `agent_cli("show", "110000001", user=None, CCW_TIMEOUT_MS="5000")`."""
    return AgentCli(tmp_path, base_url=mock.home_url, chromium=chromium_executable)


@pytest.fixture
def fake_signon() -> Iterator[Callable[..., FakeSignOn]]:
    """Start a `FakeSignOn(host, password_disabled=..., home_redirect=...)`, stopped after the
    test: `signon = fake_signon(password_disabled=True)`."""
    with ExitStack() as started:

        def start(*args: Any, **kwargs: Any) -> FakeSignOn:
            return started.enter_context(FakeSignOn(*args, **kwargs))

        yield start
