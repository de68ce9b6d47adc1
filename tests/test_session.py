"""PortalSession's parts: the caller's hooks, and the order's state that no copy carries along."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, cast

from playwright.async_api import Page

from flows.session import OrderState, PortalSession, SessionHooks


class _Page:
    """Only what a session asks of its page when it is made."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def set_default_timeout(self, timeout: float) -> None:
        self.timeouts.append(timeout)


def session(**changes: Any) -> PortalSession:
    return PortalSession(page=cast(Page, _Page()), base_url="https://portal.example", **changes)


def test_with_hooks_changes_the_named_hooks_and_keeps_the_others() -> None:
    def first(number: int, name: str) -> None: ...
    def second(number: int, name: str) -> None: ...

    async def saved() -> None: ...

    original = session(hooks=SessionHooks(on_step=first, on_signed_in=saved), step_attempts=2)

    changed = original.with_hooks(on_step=second)

    assert changed.hooks.on_step is second
    assert changed.hooks.on_signed_in is saved
    assert changed.step_attempts == 2
    # The original's hooks are untouched: the two sessions do not share one SessionHooks.
    assert original.hooks.on_step is first


def test_a_copied_session_starts_with_no_order_of_its_own() -> None:
    original = session()
    original.order = OrderState(deadline=time.monotonic() - 1, yes_clicked=True)

    copies = [dataclasses.replace(original, timeout_ms=2_000), original.with_hooks(on_step=None)]

    for copy in copies:
        assert copy.order == OrderState()
        assert not copy.order.out_of_time()
    assert original.order.yes_clicked and original.order.out_of_time()


def test_a_copy_with_another_timeout_sets_it_on_the_page_both_share() -> None:
    original = session(timeout_ms=5_000)

    dataclasses.replace(original, timeout_ms=2_000)

    assert cast(_Page, original.page).timeouts == [5_000, 2_000]
