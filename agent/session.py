"""The saved sign-in (Playwright storage state): private file, atomic writes, shared by workers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext

from agent.files import write_private
from pages.secrets import register_cookies


class SessionStore:
    """One portal's saved session, read by every worker and rewritten after each sign-in.

    The generation counter lets a worker that meets the sign-on page tell whether another worker
    has signed in since its context was filled, so a run signs in once rather than once per worker.
    Every cookie value read or saved here is registered as a secret (pages.secrets).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # One sign-in at a time among this run's workers (asyncio tasks of one loop).
        self.lock = asyncio.Lock()
        self.generation = 0

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, Any] | None:
        """The saved storage state, or None when there is none or it cannot be read."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict):
            return None
        register_cookies(state.get("cookies") or ())
        return state

    async def save(self, context: BrowserContext) -> None:
        """Write the context's cookies and storage: mode 0600 in a 0700 folder, atomically."""
        state = await context.storage_state()
        register_cookies(state.get("cookies") or ())
        write_private(self.path, json.dumps(state).encode("utf-8"))
        self.generation += 1

    async def restore_into(self, context: BrowserContext) -> bool:
        """Put the saved cookies into a context that lost its session; False if nothing saved."""
        state = self.load()
        if not state or not state.get("cookies"):
            return False
        await context.add_cookies(state["cookies"])
        return True

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
