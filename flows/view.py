"""Steps 1 to 4: find an order and read which Smart Account and virtual account its lines carry."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from structlog.contextvars import bound_contextvars

from agent.errors import StepFailed
from flows.models import LineAssignment, OrderView, ViewResult
from flows.session import PortalSession
from flows.signin import ensure_signed_in
from flows.steps import step, with_resignin
from pages.assignments import SmartAccountAssignmentPage
from pages.header import Header
from pages.order_details import OrderDetailsPage


@dataclass(frozen=True)
class Opened:
    """The order's assignment screen, and what it showed when it was opened."""

    screen: SmartAccountAssignmentPage
    view: OrderView


@dataclass(frozen=True)
class NotFound:
    """The global search did not lead to the order; `detail` says what it showed."""

    detail: str


def view_assignment(session: PortalSession, order_number: str) -> ViewResult:
    """Steps 1-4 for one order: its status, holds and per-line assignment, or "not found"."""
    started = time.perf_counter()
    with bound_contextvars(order=order_number):
        found = with_resignin(session, lambda: _view_once(session, order_number))
    elapsed = time.perf_counter() - started
    if isinstance(found, NotFound):
        return ViewResult(order_number=order_number, detail=found.detail, duration_s=elapsed)
    return ViewResult(order_number=order_number, view=found.view, duration_s=elapsed)


def _view_once(session: PortalSession, order_number: str) -> Opened | NotFound:
    with step(session, 1, "sign_in", order_number):
        ensure_signed_in(session)
    return open_assignments(session, order_number)


def open_assignments(
    session: PortalSession, order_number: str, *, log_steps: bool = True
) -> Opened | NotFound:
    """Steps 2-4: global search, open the order, open its assignments and read them.

    Without `log_steps` the caller's own step covers them (the re-read that verifies a submit).
    """

    def stage(number: int, name: str) -> AbstractContextManager[None]:
        return step(session, number, name, order_number) if log_steps else nullcontext()

    with stage(2, "global_search"):
        header = Header(session.page, session.labels, session.timeout_ms).wait()
        found = header.search_order(order_number)
        if isinstance(found, OrderDetailsPage):
            # The portal opened the single match itself: make sure it is this order.
            shown = [n for n in (found.sales_order(), found.web_order()) if n]
            if order_number not in shown:
                raise StepFailed(
                    2,
                    "global_search",
                    f"searching {order_number} opened Order Details of {', '.join(shown) or '?'}",
                )
        else:
            numbers = [match.number for match in found.matches()]
            if order_number not in numbers:
                return NotFound(_not_found_detail(order_number, numbers))
    with stage(3, "open_order"):
        details = found if isinstance(found, OrderDetailsPage) else found.open_order(order_number)
        facts = _read_details(details)
    with stage(4, "open_assignments"):
        screen = details.open_smart_account_assignments()
        view = read_view(screen, order_number, *facts)
    return Opened(screen, view)


def read_view(
    screen: SmartAccountAssignmentPage,
    order_number: str,
    sales_order: str | None,
    status: str,
    holds: tuple[str, ...],
) -> OrderView:
    """The OrderView of an open assignment screen and the Order Details facts read before it."""
    lines = tuple(
        LineAssignment(
            line=row.line,
            product=row.product,
            smart_account=row.smart_account,
            virtual_account=row.virtual_account,
            eligible=screen.line_is_eligible(row),
            domain=row.domain,
            eligibility=row.eligibility,
        )
        for row in screen.lines()
    )
    return OrderView(
        order_number=order_number,
        sales_order=sales_order,
        status=status,
        holds=holds,
        lines=lines,
        assign_disabled_reason=screen.assign_disabled_reason(),
    )


def _read_details(details: OrderDetailsPage) -> tuple[str | None, str, tuple[str, ...]]:
    return details.sales_order(), details.order_status(), details.holds()


def _not_found_detail(order_number: str, others: list[str]) -> str:
    if others:
        return (
            f"The global search for {order_number} listed only {', '.join(others)}, not this order."
        )
    return f"The global search for {order_number} found no order this user can see."
