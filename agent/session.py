"""The saved sign-in (Playwright storage state): private file, atomic writes, shared by workers."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext


class SessionStore:
    """One portal's saved session, read by every worker and rewritten after each sign-in.

    The generation counter lets a worker that meets the sign-on page tell whether another worker
    has signed in since its context was filled, so a run signs in once rather than once per worker.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.generation = 0

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, Any] | None:
        """The saved storage state, or None when there is none or it cannot be read."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def save(self, context: BrowserContext) -> None:
        """Write the context's cookies and storage, readable by the owner only (mode 0600)."""
        state = context.storage_state()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self.generation += 1

    def restore_into(self, context: BrowserContext) -> bool:
        """Put the saved cookies into a context that lost its session; False if nothing saved."""
        state = self.load()
        if not state or not state.get("cookies"):
            return False
        context.add_cookies(state["cookies"])
        return True

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
