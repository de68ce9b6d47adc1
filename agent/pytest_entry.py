"""Entry point of the `ccw_agent` pytest plugin: it loads only where its async stack is installed.

Installing ccw-agent registers the plugin with every pytest of the environment. Its fixtures need
pytest-asyncio and pytest-playwright-asyncio (the `qa` extra); without them the plugin stays out
of the way, so an unrelated test suite in the same environment still runs.
"""

from __future__ import annotations

try:
    import pytest_asyncio  # noqa: F401
    import pytest_playwright_asyncio  # noqa: F401
except ImportError:
    pytest_plugins: list[str] = []
else:
    pytest_plugins = ["agent.pytest_plugin"]
