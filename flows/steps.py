"""Running one numbered step: its log event, and turning browser failures into PortalErrors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import structlog
from playwright.sync_api import Error as PlaywrightError
from structlog.contextvars import bound_contextvars

from agent.errors import LoginRequired, PortalError, StepFailed, first_line
from flows.session import PortalSession
from pages.base import PageError, SignOnShown, raise_if_server_error, sign_on_showing

T = TypeVar("T")

SESSION_EXPIRED = "session expired; run `ccw-agent login`"

log = structlog.get_logger()


@contextmanager
def step(
    session: PortalSession, number: int, name: str, order: str, *, after_submit: bool = False
) -> Iterator[None]:
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
                raise _diagnose(session, number, name, exc) from exc
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
            log.info(
                "step",
                step=number,
                name=name,
                order=order,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000),
            )
    if session.on_step is not None:
        session.on_step(number, name)


def with_resignin(session: PortalSession, attempt: Callable[[], T]) -> T:
    """Run `attempt`; when the session expires, run it again (it starts by signing in)."""
    for _ in range(session.max_resignins):
        try:
            return attempt()
        except SignOnShown:
            if session.credentials is None:
                raise LoginRequired(SESSION_EXPIRED) from None
            log.warning("session_expired", action="signing in again and starting over")
    try:
        return attempt()
    except SignOnShown:
        raise StepFailed(1, "sign_in", "the session expired again after signing in") from None


def _diagnose(session: PortalSession, number: int, name: str, exc: BaseException) -> BaseException:
    """A timeout is often only the symptom: name what the page shows instead, when it can."""
    try:
        if sign_on_showing(session.page, session.labels):
            return SignOnShown()
        raise_if_server_error(session.page, session.labels)
    except PortalError as server_error:
        return server_error
    except PlaywrightError:
        pass  # the page itself is gone (closed, crashed): the original failure says enough
    return StepFailed(number, name, first_line(exc))
