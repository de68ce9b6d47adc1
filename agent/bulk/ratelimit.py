"""A cap on submissions per minute, shared by every worker thread of a bulk run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SubmitLimiter:
    """Spaces submissions at least 60/R seconds apart across all threads (no bursts).

    Each caller reserves the next free slot under a lock, then waits outside it, so threads queue
    in arrival order and a waiting thread never blocks another one's reservation.
    """

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("the submit rate must be positive")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._next: float | None = None

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait until it."""
        with self._lock:
            now = self._clock()
            slot = now if self._next is None else max(now, self._next)
            self._next = slot + self.interval
            return slot - now

    def wait(self, cancel: threading.Event) -> bool:
        """Wait for a slot; False when `cancel` was set meanwhile (the caller must not submit)."""
        delay = self.reserve()
        if delay <= 0:
            return not cancel.is_set()
        return not cancel.wait(delay)
