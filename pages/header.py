"""The portal header present on every CCW screen: global search and the signed-in user."""

from __future__ import annotations

import re
from collections.abc import Collection

from playwright.async_api import Locator, Page, expect

from pages.base import (
    READ_MS,
    act_watching,
    click_watching,
    read_stably,
    server_error,
    settled_document,
    sign_on_marker,
    wait_for_answer,
    wait_for_landmark,
)
from pages.labels import Labels, name_matcher
from pages.order_details import OrderDetailsPage
from pages.orders import same_order
from pages.search_results import SearchResultsPage

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


class Header:
    """The header: the Global Search box and its Search button, and "Signed in as ..."."""

    def __init__(self, page: Page, labels: Labels, *, any_search_box: bool = False) -> None:
        """`any_search_box`: any search box counts as the header's (for `doctor`, which checks
        the box's name and so cannot wait for it)."""
        self.page = page
        self.labels = labels
        name = None if any_search_box else name_matcher(labels.global_search)
        self.search_box = page.get_by_role("searchbox", name=name)
        # The header's own Search button: inside the search landmark or the banner that holds the
        # box, so a "Search" button elsewhere on the page (or in a dialog) is never clicked.
        holder = (
            page.get_by_role("search").or_(page.get_by_role("banner")).filter(has=self.search_box)
        )
        self._holder = holder
        self.search_button = holder.get_by_role(
            "button", name=name_matcher(labels.search, whole=True)
        )
        self._page_search_button = page.get_by_role(
            "button", name=name_matcher(labels.search, whole=True)
        )
        self.signed_in_as = page.get_by_text(name_matcher(labels.signed_in_as))

    async def wait(self) -> Header:
        """Wait until the header's Global Search box shows (the signed-in landmark)."""
        await wait_for_landmark(self.page, self.labels, self.search_box)
        return self

    async def search_order(
        self, number: str, *, shown_before: Collection[str] = (), words_before: str | None = None
    ) -> SearchResultsPage | OrderDetailsPage:
        """Type the order number and click Search (Enter alone does not run the real search).

        The results screen, or Order Details when the portal opens a single match directly.
        Links to the orders in `shown_before` (on screen before the search, such as a
        breadcrumb) do not count as results having arrived, except the order searched.
        `words_before`: the screen's words read before the search (None: read here).
        """
        # The screen that showed the box may still be loading its own data: a session that ran
        # out meanwhile sends the browser to the sign-on page, which ends these at once.
        await act_watching(
            self.page, self.labels, lambda limit: self.search_box.fill(number, timeout=limit)
        )
        # The screen's words before the search: what it shows after that was not there is the
        # portal's answer, when it is in words the agent does not know (UnknownAnswer).
        screen = self.page.locator("body")
        before = words_before
        if before is None:
            before = await screen.inner_text(timeout=READ_MS)
        await self._click_search()
        results = SearchResultsPage(self.page, self.labels)
        details = OrderDetailsPage(self.page, self.labels)
        stale = [n for n in shown_before if not same_order(n, number)]
        arrived = results.links_other_than(stale).or_(results.no_results)
        await wait_for_answer(self.page, self.labels, arrived.or_(details.heading), screen, before)
        if await details.heading.filter(visible=True).count():
            return await details.wait()
        # What was waited for is the results' own landmark (an order link or "No results").
        return results

    async def ready_for_search(self) -> bool:
        """Whether the search box shows and nothing of an earlier answer is left that a search
        could take for its own (checked, not waited): no dialog, no "No results found", no server
        error (whose "Try again" would re-run the earlier action), no sign-on page."""
        page = self.page
        leftover = (
            page.get_by_role("dialog")
            .or_(page.get_by_role("alertdialog"))
            .filter(visible=True)
            .or_(SearchResultsPage(page, self.labels).no_results.filter(visible=True))
            .or_(server_error(page, self.labels))
            .or_(sign_on_marker(page, self.labels))
        )
        # One count: the page with the box showing and none of the leftovers.
        ready = (
            page.locator(":root")
            .filter(has=self.search_box.filter(visible=True))
            .filter(has_not=leftover)
        )
        return bool(await ready.count())

    async def signed_in_email(self) -> str | None:
        """The email after "Signed in as", when the header shows one within READ_MS (it may
        arrive late, or never on a portal that does not show it)."""
        try:
            await expect(self.signed_in_as.first).to_be_visible(timeout=READ_MS)
        except AssertionError:
            return None
        found = _EMAIL.search(
            await read_stably(
                self.signed_in_as,
                lambda: self.signed_in_as.first.inner_text(timeout=READ_MS),
                found=bool,
            )
        )
        return found.group(0) if found else None

    async def _click_search(self) -> None:
        # The header's own button showing already (the box was just typed into) is clicked at
        # once: one count instead of one for its holder and one for the wait.
        if await self.search_button.filter(visible=True).count():
            await settled_document(self.page)
            await self.search_button.click(no_wait_after=True)
        else:
            await click_watching(self.page, self.labels, await self._button())

    async def _button(self) -> Locator:
        # A portal without search/banner landmarks: fall back to the page's one Search button.
        return self.search_button if await self._holder.count() else self._page_search_button
