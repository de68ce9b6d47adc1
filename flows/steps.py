"""Running one numbered step: its log event, and turning browser failures into PortalErrors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import structlog
from playwright.async_api import Error as PlaywrightError
from structlog.contextvars import bound_contextvars

from flows.session import PortalSession
from pages.base import raise_if_server_error, recover_screen, sign_on_showing
from pages.errors import LoginRequired, PageError, PortalError, SignOnShown, StepFailed, first_line

T = TypeVar("T")

SESSION_EXPIRED = "session expired; run `ccw-agent login`"

log = structlog.get_logger()


@asynccontextmanager
async def step(
    session: PortalSession,
    number: int,
    name: str,
    order: str,
    *,
    after_submit: bool = False,
    logged: bool = True,
) -> AsyncIterator[None]:
    """Run the body as step `number`: one "step" log event, failures turned into PortalErrors.

    The sign-on page showing instead of the expected screen raises SignOnShown (the caller signs
    in again and starts over), except `after_submit`, where starting over could hide whether the
    submission went through: that is a StepFailed, and the next attempt re-reads the order.
    """
    started = time.perf_counter()
    status = "ok"
    with bound_contextvars(step=number):
        try:
            try:
                yield
            except (PlaywrightError, AssertionError, PageError) as exc:
                raise await _diagnose(session, number, name, exc) from exc
        except SignOnShown as exc:
            status = "session_expired"
            if after_submit:
                status = "failed"
                raise StepFailed(
                    number,
                    name,
                    "the session expired before the portal confirmed the submission; "
                    "a new attempt re-reads the order before acting",
                ) from exc
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            if logged:
                log.info(
                    "step",
                    step=number,
                    name=name,
                    order=order,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                )
    if logged and session.hooks.on_step is not None:
        session.hooks.on_step(number, name)


async def read_step(
    session: PortalSession,
    number: int,
    name: str,
    order: str,
    action: Callable[[], Awaitable[T]],
    *,
    reload: bool = True,
    logged: bool = True,
) -> T:
    """Run a read-only step; when the portal fails it, recover in place and run it again.

    A server error or a timeout is recovered the smallest way (the portal's "Try again", else a
    reload of the screen when `reload`, else waiting for a toast to go) and the step runs again,
    up to `session.step_attempts` runs while the order's time budget lasts; then the last error
    goes up and the caller's attempt fails. `action` must be safe to run again from whatever
    screen the recovery left (it looks where it is before it clicks). Sign-on pages are not
    recovered here: SignOnShown goes up to `with_resignin`.
    """
    for run in range(1, session.step_attempts + 1):
        try:
            async with step(session, number, name, order, logged=logged):
                return await action()
        except PortalError as exc:
            if exc.final or run == session.step_attempts or session.order.out_of_time():
                raise
            log.warning(
                "step_retry", step=number, name=name, order=order, run=run, error=first_line(exc)
            )
            try:
                how = await recover_screen(
                    session.page,
                    session.labels,
                    reload=reload,
                    try_again=session.order.try_again_allowed,
                )
            except (PlaywrightError, AssertionError) as failed:
                how = f"failed: {first_line(failed)}"
            log.info("step_recovered", step=number, name=name, order=order, how=how)
    raise AssertionError("unreachable: the loop returns or raises")


async def settle(session: PortalSession, wait: int) -> None:
    """Give a portal that shows a change late a moment before the next look (1 s, 2 s, 4 s...).

    Only between re-reads after a submission whose result is not on screen yet, never on the
    happy path: there the agent waits on what the portal shows, not on a clock.
    """
    # A clock on purpose: the portal gives no signal that a change it took is now readable,
    # and looking again at once only reads the same stale answer.
    await asyncio.sleep(2 ** (wait - 1))


async def with_resignin(session: PortalSession, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run `attempt`; when the session expires, run it again (it starts by signing in)."""
    for _ in range(session.max_resignins):
        try:
            return await attempt()
        except SignOnShown:
            if session.credentials is None:
                raise LoginRequired(SESSION_EXPIRED) from None
            log.warning("session_expired", action="signing in again and starting over")
    try:
        return await attempt()
    except SignOnShown:
        raise StepFailed(1, "sign_in", "the session expired again after signing in") from None


async def _diagnose(
    session: PortalSession, number: int, name: str, exc: BaseException
) -> BaseException:
    """A timeout is often only the symptom: name what the page shows instead, when it can."""
    try:
        if await sign_on_showing(session.page, session.labels):
            return SignOnShown()
        await raise_if_server_error(session.page, session.labels)
    except PortalError as server_error:
        return server_error
    except PlaywrightError:
        pass  # the page itself is gone (closed, crashed): the original failure says enough
    final = isinstance(exc, PageError) and exc.final
    return StepFailed(number, name, first_line(exc), final=final)
