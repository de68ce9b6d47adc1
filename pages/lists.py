"""Lists read to their end: the control that shows more of a list, and what a list says of its
own length ("Page 1 of 2", "7 results"), from the catalogue's words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from playwright.async_api import Locator

from pages.labels import Labels, any_of

# A list is read to its end or not at all: past this many pages, the answer is a failure, never
# a "no" built on the pages read.
MAX_PAGES = 25


def next_control(scope: Locator, labels: Labels, pages_read: int) -> Locator:
    """The enabled, visible control that shows more of the list: one named by a "next" word
    ("Next page", "Show more"), else the page numbered after the pages read."""
    words = any_of(labels.next_page)
    numbered = re.compile(rf"^\s*(?:page\s+)?{pages_read + 1}\s*$", re.IGNORECASE)
    by_words = scope.get_by_role("button", name=words, disabled=False).or_(
        scope.get_by_role("link", name=words, disabled=False)
    )
    by_number = scope.get_by_role("button", name=numbered, disabled=False).or_(
        scope.get_by_role("link", name=numbered, disabled=False)
    )
    return by_words.or_(by_number).filter(visible=True)


@dataclass(frozen=True)
class ListCount:
    """What a list says of its length: pages in all, items in all (None: not said)."""

    pages: int | None = None
    total: int | None = None


def list_count(text: str, labels: Labels) -> ListCount:
    """The page count and item count a screen's text gives, by the catalogue's wordings."""
    pages: int | None = None
    total: int | None = None
    for pattern in _patterns(labels.list_counts):
        found = pattern.search(text)
        if not found:
            continue
        given = found.groupdict()
        if given.get("pages") and pages is None:
            pages = int(given["pages"])
        if given.get("total") and total is None:
            total = int(given["total"])
    return ListCount(pages=pages, total=total)


@cache
def _patterns(wordings: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Each wording as a pattern: its words apart by any white space, each {name} a number."""
    built = []
    for wording in wordings:
        tokens = [
            rf"(?P<{token[1:-1]}>[0-9]+)"
            if token in ("{page}", "{pages}", "{total}")
            else re.escape(token)
            for token in wording.split()
        ]
        body = r"\s+".join(tokens)
        built.append(re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE))
    return tuple(built)
