"""Stopping a run: the first SIGINT/SIGTERM drains (rows in progress finish), the second aborts;
waiting on a stop event with a time limit."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class StopRequest:
    """The two ways to stop a run: drain (finish the rows in progress) and abort (at once).

    Its events belong to the run's event loop; `request()` may be called from that loop's
    signal handlers or its tasks (tests call it from an observer).
    """

    def __init__(self) -> None:
        self.drain = asyncio.Event()
        self.abort = asyncio.Event()
        self.signals = 0

    def request(self) -> None:
        self.signals += 1
        self.drain.set()
        if self.signals > 1:
            self.abort.set()

    @contextmanager
    def handling_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the run while inside (only in the main thread's event loop)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            loop.add_signal_handler(sig, self.request)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                with suppress(ValueError, RuntimeError):  # the loop may be closing
                    loop.remove_signal_handler(sig)
                # remove_signal_handler leaves Python's default; the caller's comes back (None:
                # one not installed from Python, which cannot be put back from here).
                if handler is not None:
                    signal.signal(sig, handler)


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; whether it is set."""
    if seconds > 0 and not event.is_set():
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
    return event.is_set()
