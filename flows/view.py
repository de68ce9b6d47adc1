"""Steps 1 to 4: find an order and read which Smart Account and virtual account its lines carry."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

from structlog.contextvars import bound_contextvars

from flows.models import LineAssignment, OrderView, ViewResult
from flows.session import PortalSession
from flows.signin import ensure_signed_in
from flows.steps import read_step, step, with_resignin
from pages.assignments import SmartAccountAssignmentPage
from pages.base import at_once
from pages.errors import IncompleteList, StepFailed
from pages.header import Header
from pages.lists import MAX_PAGES
from pages.order_details import OrderDetailsPage
from pages.orders import same_order
from pages.search_results import SearchResultsPage


@dataclass(frozen=True)
class Opened:
    """The order's assignment screen, and what it showed when it was opened."""

    screen: SmartAccountAssignmentPage
    view: OrderView


@dataclass(frozen=True)
class NotFound:
    """The global search did not lead to the order; `detail` says what it showed."""

    detail: str


async def view_assignment(session: PortalSession, order_number: str) -> ViewResult:
    """Steps 1-4 for one order: its status, holds and per-line assignment, or "not found"."""
    started = time.perf_counter()
    with bound_contextvars(order=order_number):
        found = await with_resignin(session, lambda: _view_once(session, order_number))
    session.screen_reusable = True
    elapsed = time.perf_counter() - started
    if isinstance(found, NotFound):
        return ViewResult(order_number=order_number, detail=found.detail, duration_s=elapsed)
    return ViewResult(order_number=order_number, view=found.view, duration_s=elapsed)


async def _view_once(session: PortalSession, order_number: str) -> Opened | NotFound:
    async with step(session, 1, "sign_in", order_number):
        await ensure_signed_in(session)
    return await open_assignments(session, order_number)


async def open_assignments(
    session: PortalSession, order_number: str, *, log_steps: bool = True
) -> Opened | NotFound:
    """Steps 2-4: global search, open the order, open its assignments and read them.

    Each step is read-only and is recovered in place when the portal fails it (`read_step`).
    "Not found" needs the portal's own answer: "No results found", or a list of matches that
    does not hold this order; a results screen that shows neither is a failure, not a "no".
    Without `log_steps` the caller's own step covers them.
    """
    found = await read_step(
        session, 2, "global_search", order_number, lambda: _search(session, order_number),
        logged=log_steps,
    )  # fmt: skip
    if isinstance(found, NotFound):
        return found
    details, facts = await read_step(
        session, 3, "open_order", order_number,
        lambda: _open_details(session, found, order_number),
        logged=log_steps,
    )  # fmt: skip

    async def assignments() -> Opened:
        screen = await details.open_smart_account_assignments()
        return Opened(screen, await read_view(screen, order_number, facts))

    return await read_step(
        session, 4, "open_assignments", order_number, assignments, logged=log_steps
    )


async def _search(
    session: PortalSession, order_number: str
) -> SearchResultsPage | OrderDetailsPage | NotFound:
    # The box, and the order links already on screen (a breadcrumb, the last order's page),
    # which are not an answer, in one round trip.
    header, (shown, words) = await at_once(
        Header(session.page, session.labels).wait(),
        SearchResultsPage(session.page, session.labels).before_search(),
    )
    earlier = set(shown)
    found = await header.search_order(order_number, shown_before=earlier, words_before=words)
    if isinstance(found, OrderDetailsPage):
        return found  # the portal opened the single match itself; step 3 checks it is this order
    matches = await found.matches()
    pages = 1
    # "Not in the list" stands only on the whole list: every further page is read first.
    while not any(match.holds(order_number) for match in matches):
        if not await found.next_page(pages):
            break
        if pages >= MAX_PAGES:
            raise IncompleteList(f"more results than the agent reads (over {MAX_PAGES} pages)")
        pages += 1
        matches += await found.matches()
    if any(match.holds(order_number) for match in matches):
        return found
    unread = await found.says_more_than(pages, len({match.number for match in matches}))
    if unread is not None:
        raise IncompleteList(unread)
    shown = [match.number for match in matches]
    numbers = [number for number in shown if number not in earlier]
    if shown and not numbers:
        raise StepFailed(
            2,
            "global_search",
            f"the screen still shows only the order links it showed before the search "
            f"({', '.join(shown)})",
        )
    if numbers:
        return NotFound(
            f"The global search for {order_number} listed only {', '.join(numbers)}, "
            "not this order."
        )
    if await found.says_no_results():
        return NotFound(
            f"The global search for {order_number} said "
            f'"{session.labels.no_results}": no order this user can see.'
        )
    raise StepFailed(
        2,
        "global_search",
        "the results screen shows neither a link named by an order number nor "
        f'"{session.labels.no_results}"',
    )


class OrderFacts(NamedTuple):
    """What Order Details shows of an order, read before its assignment screen."""

    sales_order: str | None
    web_order: str | None
    status: str
    holds: tuple[str, ...]

    @classmethod
    def of(cls, view: OrderView) -> OrderFacts:
        return cls(view.sales_order, view.web_order, view.status, view.holds)


async def _open_details(
    session: PortalSession, found: SearchResultsPage | OrderDetailsPage, order_number: str
) -> tuple[OrderDetailsPage, OrderFacts]:
    details = await (
        found.wait() if isinstance(found, OrderDetailsPage) else found.open_order(order_number)
    )
    # Order Details may have opened in a new tab: the order's next steps are taken there.
    await session.follow(details.page)
    sales_order, web_order = await at_once(details.sales_order(), details.web_order())
    shown = [number for number in (sales_order, web_order) if number]
    if not any(same_order(number, order_number) for number in shown):
        raise StepFailed(
            3,
            "open_order",
            f"Order Details shows order {', '.join(shown) or '(no number readable)'}, "
            f"not {order_number}",
        )
    return details, OrderFacts(
        sales_order, web_order, await details.order_status(), await details.holds()
    )


async def read_view(
    screen: SmartAccountAssignmentPage, order_number: str, facts: OrderFacts
) -> OrderView:
    """The OrderView of an open assignment screen and the Order Details facts read before it."""
    # The table and the Assign button's state are read in one round trip.
    rows, disabled_reason = await at_once(screen.lines(), screen.assign_disabled_reason())
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
        for row in rows
    )
    return OrderView(
        order_number=order_number,
        sales_order=facts.sales_order,
        web_order=facts.web_order,
        status=facts.status,
        holds=facts.holds,
        lines=lines,
        assign_disabled_reason=disabled_reason,
    )
