"""Order Details: the order's status, holds, and the banner link to its Smart Account assignment."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from pages.assignments import SmartAccountAssignmentPage
from pages.base import (
    FoundBy,
    all_showing,
    evaluate_once,
    read_stably,
    text_after,
    wait_for_landmark,
    which_show,
)
from pages.controls import Action, field_matcher, field_name
from pages.labels import Labels, label_pattern, name_matcher, normalize, same_text

_DIGITS = re.compile(r"(?<![0-9])[0-9]{6,12}(?![0-9])")

# The screen's text, and every short text followed by a next element (a label and its value:
# "Status" then "Booked", in table cells, <dt>/<dd>, or <div>s), in one call: a field is read
# after its label with or without a colon, in the same element or the next.
_FIELDS = """
body => {
  const pairs = [];
  for (const el of body.querySelectorAll('*')) {
    const next = el.nextElementSibling;
    if (!next || el.children.length > 3) continue;
    const label = el.innerText || '';
    if (!label.trim() || label.length > 60) continue;
    const value = next.innerText || '';
    if (value.trim() && value.length <= 300) pairs.push([label, value]);
  }
  return [body.innerText || '', pairs];
}
"""


class OrderDetailsPage:
    """The Order Details screen of one sales order."""

    def __init__(self, page: Page, labels: Labels) -> None:
        self.page = page
        self.labels = labels
        self.heading = page.get_by_role("heading", name=name_matcher(labels.order_details_heading))
        # "Status:", or "Status" alone in the element before its value.
        self.status = page.get_by_text(
            re.compile(rf"(?<!\w){label_pattern(field_name(labels.status_prefix))}(?!\w)", re.I)
        )
        self.assignments_action = Action(page, "link", labels.view_assignments, whole=False)
        self.assignments_link = self.assignments_action.shown
        # The whole screen's text (CSS "body": there is no role for it): "Status:" and "Holds:"
        # are read as label/value pairs from it, whatever elements the portal wraps them in.
        self._screen = page.locator("body")
        self.found_by: FoundBy | None = None
        # The screen's text and label/value pairs, read once per wait: the facts are read
        # together from one screen.
        self._read: tuple[str, list[list[str]]] | None = None

    async def wait(self) -> OrderDetailsPage:
        """Wait for the heading and the status line (what was read of the screen is read anew)."""
        self._read = None
        await wait_for_landmark(self.page, self.labels, self.complete)
        return self

    @property
    def complete(self) -> Locator:
        """The screen once its heading and its status line both show (one landmark)."""
        return all_showing(self._screen, self.heading, self.status)

    async def sales_order(self) -> str | None:
        """The order number the heading names ("Order Details: 110000001"), else the number the
        screen gives after "Sales Order" ("Sales Order: 110000001", "Sales Order Number ...")."""
        heading = await read_stably(self.heading, self._heading_text, found=bool, never_waits=True)
        found = _DIGITS.search(heading)
        return found.group(0) if found else await self._number_after(self.labels.sales_order)

    async def _heading_text(self) -> str:
        """The first heading's words, read as they are (one call, no wait): "" when none."""
        texts = await self.heading.evaluate_all("(all) => all.slice(0, 1).map((e) => e.innerText)")
        return str(texts[0]) if texts else ""

    async def web_order(self) -> str | None:
        """The number the screen gives after "Web Order" (with or without a colon or "Number")."""
        return await self._number_after(self.labels.web_order)

    async def _number_after(self, label: str) -> str | None:
        # The label, then at most a few words or punctuation ("Number", "#", ":"), then the digits.
        body = name_matcher(label).pattern
        found = re.search(
            rf"{body}[^\d\n]{{0,24}}\n?[^\d\n]{{0,8}}(\d{{6,12}})(?!\d)",
            await self._text(),
            re.IGNORECASE,
        )
        return found.group(1) if found else None

    async def order_status(self) -> str:
        """The text after "Status:" (or "Status" alone in the element before it)."""
        return await self._field(self.labels.status_prefix) or ""

    async def holds(self) -> tuple[str, ...]:
        """The holds listed after "Holds:" ("None" is no hold)."""
        listed = await self._field(self.labels.holds_prefix)
        if not listed or same_text(listed, self.labels.no_holds):
            return ()
        return tuple(part.strip() for part in listed.split(",") if part.strip())

    async def _field(self, label: str) -> str | None:
        """A field's value: after its label and colon on the screen's text; else the element
        after the element that holds the label alone (no colon, an icon's words tolerated)."""
        text, pairs = await self._fields()
        found = text_after(text, label)
        if found:
            return found
        alone = field_matcher(label)
        return next((normalize(value) for name, value in pairs if alone.match(name)), None)

    async def _text(self) -> str:
        return (await self._fields())[0]

    async def _fields(self) -> tuple[str, list[list[str]]]:
        async def read() -> tuple[str, list[list[str]]]:
            text, pairs = await evaluate_once(self._screen, _FIELDS)
            return str(text), pairs

        if self._read is None:
            # The screen's text is read by CSS, which a pop-up does not hide from.
            self._read = await read_stably(
                self.heading, read, found=lambda read: bool(read[0]), never_waits=True
            )
        return self._read

    async def open_smart_account_assignments(self) -> SmartAccountAssignmentPage:
        """Click "View or change Smart Account Assignments" in the alert banner.

        Safe to call again after a failure: when the assignment screen already shows, nothing
        is clicked.
        """
        screen = SmartAccountAssignmentPage(self.page, self.labels)
        there, _linked = await which_show(
            self.page, self.labels, screen.heading, self.assignments_link
        )
        if not there:
            link, self.found_by = await self.assignments_action.find()
            await link.click()
        return await screen.wait()
