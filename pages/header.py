"""The portal header present on every CCW screen: global search and the signed-in user."""

from __future__ import annotations

import re
from collections.abc import Collection

from playwright.sync_api import Locator, Page, expect

from pages.base import DEFAULT_TIMEOUT_MS, READ_MS, read_stably, wait_for_landmark
from pages.labels import Labels, name_matcher
from pages.order_details import OrderDetailsPage
from pages.search_results import SearchResultsPage

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


class Header:
    """The header: the Global Search box and its Search button, and "Signed in as ..."."""

    def __init__(self, page: Page, labels: Labels, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.labels = labels
        self.timeout_ms = timeout_ms
        self.search_box = page.get_by_role("searchbox", name=name_matcher(labels.global_search))
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

    def wait(self) -> Header:
        """Wait until the header's Global Search box shows (the signed-in landmark)."""
        wait_for_landmark(self.page, self.labels, self.search_box, self.timeout_ms)
        return self

    def search_order(
        self, number: str, *, shown_before: Collection[str] = ()
    ) -> SearchResultsPage | OrderDetailsPage:
        """Type the order number and click Search (Enter alone does not run the real search).

        The results screen, or Order Details when the portal opens a single match directly.
        Links to the orders in `shown_before` (on screen before the search, such as a
        breadcrumb) do not count as results having arrived, except the order searched.
        """
        self.search_box.fill(number, timeout=self.timeout_ms)
        self._button().click(timeout=self.timeout_ms)
        results = SearchResultsPage(self.page, self.labels, self.timeout_ms)
        details = OrderDetailsPage(self.page, self.labels, self.timeout_ms)
        stale = [n for n in shown_before if n.lstrip("0") != number.lstrip("0")]
        arrived = results.links_other_than(stale).or_(results.no_results)
        wait_for_landmark(self.page, self.labels, arrived.or_(details.heading), self.timeout_ms)
        if details.heading.filter(visible=True).count():
            return details.wait()
        return results.wait()

    def signed_in_email(self) -> str | None:
        """The email after "Signed in as", when the header shows one (it may arrive late)."""
        try:
            expect(self.signed_in_as.first).to_be_visible(timeout=READ_MS)
        except AssertionError:
            return None
        found = _EMAIL.search(
            read_stably(
                self.signed_in_as,
                lambda: self.signed_in_as.first.inner_text(timeout=READ_MS),
                self.timeout_ms,
            )
        )
        return found.group(0) if found else None

    def _button(self) -> Locator:
        # A portal without search/banner landmarks: fall back to the page's one Search button.
        return self.search_button if self._holder.count() else self._page_search_button
