"""The global search's results: a link per matching order, wherever it sits, or "No results"."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from playwright.async_api import Locator, Page

from pages.base import READ_MS, follow_click, read_stably, wait_for_landmark, which_show
from pages.labels import Labels, name_matcher
from pages.lists import list_count, next_control
from pages.order_details import OrderDetailsPage
from pages.orders import any_spelling, same_order

# A link whose accessible name holds an order number (6 to 12 digits), alone or among words
# ("110000001", "Order 110000001"); a "Download" or "Help" link never matches.
_HAS_NUMBER = re.compile(r"(?<![0-9])[0-9]{6,12}(?![0-9])")

# For each order link, the text of the largest element around it that holds no other order link:
# the row, list entry or card that describes this match, whatever the portal's markup. The walk
# stops at the page's main region so a single match does not take the whole header's words.
_ENTRY_TEXTS = """
links => links.map(link => {
  let box = link;
  while (box.parentElement
         && !box.parentElement.matches('main, [role=main], body')
         && !links.some(other => other !== link && box.parentElement.contains(other))) {
    box = box.parentElement;
  }
  return [link.getAttribute('aria-label') || link.innerText || '', box.innerText || ''];
})
"""


@dataclass(frozen=True)
class SearchMatch:
    """One match: the order number its link carries, Sales or Web Order as its entry says, and
    the other order numbers its entry shows (a portal may name the link by the Sales Order and
    show the Web Order searched beside it)."""

    number: str
    kind: str
    also: tuple[str, ...] = ()

    def holds(self, number: str) -> bool:
        """Whether this entry is the order `number`, by its link or by its entry's words."""
        return any(same_order(shown, number) for shown in (self.number, *self.also))


# The words an order link is named by.
_LINK_NAME = "l => l.getAttribute('aria-label') || l.innerText || ''"


def _numbers(names: list[str]) -> list[str]:
    return [found.group(0) for name in names if (found := _HAS_NUMBER.search(name))]


class SearchResultsPage:
    """The search results screen: matches as table rows, list entries or cards alike."""

    def __init__(self, page: Page, labels: Labels) -> None:
        self.page = page
        self.labels = labels
        self.heading = page.get_by_role("heading", name=name_matcher(labels.search_results_heading))
        self.no_results = page.get_by_text(name_matcher(labels.no_results))
        self.order_links = page.get_by_role("link", name=_HAS_NUMBER)
        self._sales = name_matcher(labels.sales_order)
        self._web = name_matcher(labels.web_order)
        self.landmark = self.order_links.or_(self.no_results)

    async def wait(self) -> SearchResultsPage:
        """Wait until matches or the "No results found" text show."""
        await wait_for_landmark(self.page, self.labels, self.landmark)
        return self

    async def says_no_results(self) -> bool:
        """Whether the portal's own "No results found" is on screen (and no match is)."""
        if not await self.no_results.filter(visible=True).count():
            return False
        return not await self._links().count()

    async def matches(self) -> list[SearchMatch]:
        """Every order the search shows, with its kind as its entry says it."""
        return await read_stably(self.landmark, self._read_matches, found=bool, never_waits=True)

    def links_other_than(self, numbers: Collection[str]) -> Locator:
        """The order links that name an order other than `numbers` (all of them when empty)."""
        if not numbers:
            return self.order_links
        others = "|".join(any_spelling(n) for n in numbers)
        name = re.compile(rf"(?<!\d)(?!(?:{others})(?!\d))\d{{6,12}}(?!\d)")
        return self.page.get_by_role("link", name=name)

    async def shown_numbers(self) -> list[str]:
        """The order numbers of the order links visible right now (checked, not waited)."""
        names: list[str] = await self._links().evaluate_all(f"links => links.map({_LINK_NAME})")
        return _numbers(names)

    async def before_search(self) -> tuple[list[str], str]:
        """`shown_numbers` and the screen's words (the body's inner text), in one browser call:
        what a search is later told apart from."""
        names, words = await self._links().evaluate_all(
            f"links => [links.map({_LINK_NAME}), document.body.innerText]"
        )
        return _numbers(names), str(words)

    async def next_page(self, pages_read: int) -> bool:
        """Show the next page of matches, when the screen offers one ("Next page", "Show more",
        the next page number); whether it did. Waits until a match not shown before arrives."""
        main = self.page.get_by_role("main")
        scope = main.first if await main.count() == 1 else self.page.locator("body")
        more = next_control(scope, self.labels, pages_read)
        if not await more.count():
            return False
        shown = await self.shown_numbers()
        await more.first.click()
        await wait_for_landmark(self.page, self.labels, self.links_other_than(shown))
        return True

    async def says_more_than(self, pages_read: int, matches: int) -> str | None:
        """What the screen says of the list's length when it is more than was read, else None."""
        text = await self.page.locator("body").inner_text(timeout=READ_MS)
        said = list_count(text, self.labels)
        if said.pages is not None and said.pages > pages_read:
            return f"the results say {said.pages} pages; {pages_read} could be read"
        if said.total is not None and said.total > matches:
            return f"the results say {said.total} matches; {matches} could be read"
        return None

    def _links(self) -> Locator:
        return self.order_links.filter(visible=True)

    async def _read_matches(self) -> list[SearchMatch]:
        found: list[SearchMatch] = []
        pairs: list[list[str]] = await self._links().evaluate_all(_ENTRY_TEXTS)
        for name, entry in pairs:
            number = _HAS_NUMBER.search(name)
            if number is None:
                continue
            kind = (
                self.labels.web_order
                if self._web.search(entry)
                else self.labels.sales_order
                if self._sales.search(entry)
                else ""
            )
            others = tuple(
                dict.fromkeys(n for n in _HAS_NUMBER.findall(entry) if n != number.group(0))
            )
            found.append(SearchMatch(number=number.group(0), kind=kind, also=others))
        return found

    async def open_order(self, number: str) -> OrderDetailsPage:
        """Click the link named by the order number and wait for Order Details, in this page or
        in the tab the click opened (the page object returned is bound to that tab).

        Safe to call again after a failure: when Order Details already shows (a reload or the
        portal's "Try again" brought it), nothing is clicked.
        """
        details = OrderDetailsPage(self.page, self.labels)
        link = self.link_to(number)
        # The results, or Order Details (a re-run after the portal's "Try again" on it): whichever
        # the screen settles on, never a wait for one while the other shows.
        opened, linked = await which_show(
            self.page, self.labels, details.heading, link, also=self.landmark
        )
        if opened:
            return await details.wait()
        if not linked:
            # No link named by this number: the link of the entry that shows it.
            entry = next((m for m in await self.matches() if m.holds(number)), None)
            link = self.link_to(entry.number) if entry is not None else link
        shown = await follow_click(link.first, details.complete, self.labels)
        if shown is self.page:
            return details  # the whole screen was waited for here
        return await OrderDetailsPage(shown, self.labels).wait()

    def link_to(self, number: str) -> Locator:
        """The visible links whose name holds this order number as a whole number."""
        name = re.compile(rf"(?<![0-9]){any_spelling(number)}(?![0-9])")
        return self.page.get_by_role("link", name=name).filter(visible=True)
