"""A cap on submissions per minute, shared by every worker of a bulk run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agent.bulk.signals import wait_for_event


class SubmitLimiter:
    """Spaces submissions at least 60/R seconds apart across all workers (no bursts).

    Each caller reserves the next free slot at once, then waits for it, so workers queue in
    arrival order and a waiting worker never delays another one's reservation.
    """

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("the submit rate must be positive")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._next: float | None = None

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait until it."""
        now = self._clock()
        slot = now if self._next is None else max(now, self._next)
        self._next = slot + self.interval
        return slot - now

    async def wait(self, cancel: asyncio.Event) -> bool:
        """Wait for a slot; False when `cancel` was set meanwhile (the caller must not submit)."""
        delay = self.reserve()
        if delay > 0:
            await wait_for_event(cancel, delay)
        return not cancel.is_set()
