"""A read-only walk through steps 2-7 with the flows' page objects, capturing each screen.

It makes the bundled examples and the tests' fresh bundles; it reads as the agent reads, and
registers every value it read before the bundle is written. It never clicks Assign, Submit or
Yes: the dialog is left by Cancel (or Close).
"""

from __future__ import annotations

from agent.capture.bundle import CaptureBundle, capture_screen, register_accounts
from agent.capture.fixtures import read_screen
from agent.capture.redact import Kind
from flows.session import PortalSession
from flows.signin import ensure_signed_in
from pages.assign_dialog import AssignDialog, SearchBy
from pages.header import Header
from pages.order_details import OrderDetailsPage
from pages.search_results import SearchResultsPage

# How the page objects find the controls of each screen: by role and accessible name.
_FOUND: dict[str, dict[str, str]] = {
    "search_results": {"global_search": "role", "search": "role"},
    "order_details": {"order_details_heading": "role", "view_assignments": "role"},
    "assignments": {
        "assignment_heading": "role",
        "column_line": "role",
        "column_smart_account": "role",
        "column_virtual_account": "role",
        "assign_smart_account": "role",
    },
    "assign_dialog": {"assign_dialog": "role", "select_existing_account": "role"},
    "account_results": {"search_value": "role", "search": "role"},
    "account_selected": {"virtual_account_name": "role", "assign": "role"},
}


async def capture_walk(
    session: PortalSession, bundle: CaptureBundle, order: str, *, search_domain: str | None = None
) -> None:
    """Sign in (not captured), then capture the search results, Order Details, the assignment
    screen and, when Assign Smart Account is enabled, the dialog: empty, after searching
    `search_domain` (default: the first Domain Identifier the lines show), and with the first
    account of that domain selected. Ends with the dialog cancelled."""
    page, words, redactor = session.page, session.labels, bundle.redactor
    redactor.add(Kind.ORDER, order)
    redactor.add(Kind.EMAIL, await ensure_signed_in(session))

    async def capture(step: int, name: str, *, read: bool = False) -> None:
        seen = await read_screen(name, page, words) if read else None
        await capture_screen(bundle, page, step, name, found=_FOUND[name], read=seen)

    found = await Header(page, words).search_order(order)
    if isinstance(found, SearchResultsPage):
        for match in await found.matches():
            redactor.add_all(Kind.ORDER, (match.number, *match.also))
        await capture(2, "search_results")
        details: OrderDetailsPage = await found.open_order(order)
        # Order Details may have opened in a new tab: the walk goes on there.
        await session.follow(details.page)
        page = session.page
    else:
        details = found
    shown = await read_screen("order_details", page, words)
    redactor.add_all(Kind.ORDER, (shown["sales_order"], shown["web_order"]))
    await capture(3, "order_details", read=True)

    screen = await details.open_smart_account_assignments()
    lines = await screen.lines()
    for row in lines:
        redactor.add(Kind.DOMAIN, row.domain)
        redactor.add(Kind.ACCOUNT, row.smart_account)
        redactor.add(Kind.VA, row.virtual_account)
    await capture(4, "assignments", read=True)
    if await screen.assign_disabled_reason() is not None:
        bundle.note("Assign Smart Account is disabled for this order: the dialog was not opened.")
        return

    dialog: AssignDialog = await screen.open_assign_dialog()
    try:
        await capture(5, "assign_dialog")
        domain = search_domain or next((row.domain for row in lines if row.domain), None)
        if domain is None:
            bundle.note("No Domain Identifier to search: the dialog's results were not captured.")
            return
        redactor.add(Kind.DOMAIN, domain)
        accounts = await dialog.search_accounts(SearchBy.DOMAIN, domain)
        register_accounts(redactor, accounts)
        await capture(6, "account_results", read=True)
        chosen = next((a for a in accounts if a.domain == domain), None)
        if chosen is None:
            return
        await dialog.select_account(chosen)
        redactor.add_all(Kind.VA, await dialog.virtual_accounts())
        await capture(7, "account_selected")
    finally:
        await screen.close_assign_dialog()
