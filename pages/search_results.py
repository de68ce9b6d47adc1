"""The global search's results: one link per matching order, or "No results found"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Page

from pages.base import DEFAULT_TIMEOUT_MS, READ_MS, read_stably, wait_for_landmark
from pages.labels import Labels, name_matcher
from pages.order_details import OrderDetailsPage

_NUMBER = re.compile(r"^\s*\d{6,12}\s*$")


@dataclass(frozen=True)
class SearchMatch:
    """One result row: the order number its link carries and whether it is a Sales or Web Order."""

    number: str
    kind: str


class SearchResultsPage:
    """The search results screen."""

    def __init__(self, page: Page, labels: Labels, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.labels = labels
        self.timeout_ms = timeout_ms
        self.heading = page.get_by_role("heading", name=name_matcher(labels.search_results_heading))
        self.no_results = page.get_by_text(name_matcher(labels.no_results))
        self.order_links = page.get_by_role("link", name=_NUMBER)
        self._sales = name_matcher(labels.sales_order)
        self._web = name_matcher(labels.web_order)
        self.landmark = self.order_links.or_(self.no_results)

    def wait(self) -> SearchResultsPage:
        """Wait until matches or the "No results found" text show."""
        wait_for_landmark(self.page, self.labels, self.landmark, self.timeout_ms)
        return self

    def matches(self) -> list[SearchMatch]:
        """Every order the search found, with its kind as the row says it."""
        return read_stably(self.landmark, self._read_matches, self.timeout_ms)

    def _read_matches(self) -> list[SearchMatch]:
        found: list[SearchMatch] = []
        for row in self.page.get_by_role("row").filter(has=self.order_links).all():
            text = row.inner_text(timeout=READ_MS)
            number = row.get_by_role("link", name=_NUMBER).first.inner_text(timeout=READ_MS)
            kind = (
                self.labels.web_order
                if self._web.search(text)
                else self.labels.sales_order
                if self._sales.search(text)
                else ""
            )
            found.append(SearchMatch(number=number.strip(), kind=kind))
        return found

    def open_order(self, number: str) -> OrderDetailsPage:
        """Click the link named by the order number and wait for Order Details."""
        link = self.page.get_by_role("link", name=re.compile(rf"^\s*{re.escape(number)}\s*$"))
        link.first.click(timeout=self.timeout_ms)
        return OrderDetailsPage(self.page, self.labels, self.timeout_ms).wait()
