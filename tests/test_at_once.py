"""pages.base.at_once: reads of one screen made together, failing as one read would."""

from __future__ import annotations

import asyncio

import pytest

from pages.base import at_once
from pages.errors import PageError


async def _after(seconds: float, value: str, log: list[str]) -> str:
    await asyncio.sleep(seconds)
    log.append(value)
    return value


async def test_the_reads_overlap_and_their_answers_keep_their_order() -> None:
    log: list[str] = []
    slow, fast = await at_once(_after(0.02, "table", log), _after(0, "button", log))
    assert (slow, fast) == ("table", "button")
    assert log == ["button", "table"]  # the second did not wait for the first


async def test_a_failing_read_is_raised_as_it_is_and_the_others_are_stopped() -> None:
    log: list[str] = []

    async def refused() -> str:
        raise PageError("the table has no header")

    with pytest.raises(PageError, match="no header"):
        await at_once(_after(0.05, "button", log), refused(), _after(0.05, "words", log))
    await asyncio.sleep(0.1)
    assert log == []  # nothing went on reading behind the caller's back


async def test_a_cancelled_caller_cancels_every_read() -> None:
    log: list[str] = []
    task = asyncio.ensure_future(at_once(_after(0.05, "a", log), _after(0.05, "b", log)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert log == []
