"""Shared fixtures: one mock portal per session, reset before each test; Chromium resolved once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent.browser import launch_args, resolve_executable
from mock_site.server import MockServer


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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Keep the plugin's headless/--headed choice; add only the executable and the flags.
    extra = launch_args(resolve_executable())
    extra.pop("headless")
    return {**browser_type_launch_args, **extra}


@pytest.fixture(scope="session")
def base_url(mock_server: MockServer) -> str:
    return mock_server.home_url


# pytest-playwright's fixtures that start Chromium: a test using one is a browser test, so that
# `pytest -m "not browser"` is a lane without any browser.
_BROWSER_FIXTURES = {"browser", "context", "page", "new_context", "launch_browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
