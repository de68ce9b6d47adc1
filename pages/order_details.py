"""Order Details: the order's status, holds, and the banner link to its Smart Account assignment."""

from __future__ import annotations

import re

from playwright.async_api import Page

from pages.assignments import SmartAccountAssignmentPage
from pages.base import READ_MS, read_stably, text_after, wait_for_landmark
from pages.labels import Labels, name_matcher, same_text

_DIGITS = re.compile(r"(?<!\d)\d{6,12}(?!\d)")


class OrderDetailsPage:
    """The Order Details screen of one sales order."""

    def __init__(self, page: Page, labels: Labels) -> None:
        self.page = page
        self.labels = labels
        self.heading = page.get_by_role("heading", name=name_matcher(labels.order_details_heading))
        self.status = page.get_by_text(name_matcher(labels.status_prefix))
        self.assignments_link = page.get_by_role("link", name=name_matcher(labels.view_assignments))
        # The whole screen's text (CSS "body": there is no role for it): "Status:" and "Holds:"
        # are read as label/value pairs from it, whatever elements the portal wraps them in.
        self._screen = page.locator("body")

    async def wait(self) -> OrderDetailsPage:
        """Wait for the heading and the status line."""
        await wait_for_landmark(self.page, self.labels, self.heading)
        await wait_for_landmark(self.page, self.labels, self.status)
        return self

    async def sales_order(self) -> str | None:
        """The order number the heading names ("Order Details: 110000001"), else the number the
        screen gives after "Sales Order" ("Sales Order: 110000001", "Sales Order Number ...")."""
        heading = await read_stably(
            self.heading, lambda: self.heading.first.inner_text(timeout=READ_MS)
        )
        found = _DIGITS.search(heading)
        return found.group(0) if found else await self._number_after(self.labels.sales_order)

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
        """The text after "Status:"."""
        return text_after(await self._text(), self.labels.status_prefix) or ""

    async def holds(self) -> tuple[str, ...]:
        """The holds listed after "Holds:" ("None" is no hold)."""
        listed = text_after(await self._text(), self.labels.holds_prefix)
        if not listed or same_text(listed, self.labels.no_holds):
            return ()
        return tuple(part.strip() for part in listed.split(",") if part.strip())

    async def _text(self) -> str:
        return await read_stably(self.heading, lambda: self._screen.inner_text(timeout=READ_MS))

    async def open_smart_account_assignments(self) -> SmartAccountAssignmentPage:
        """Click "View or change Smart Account Assignments" in the alert banner.

        Safe to call again after a failure: when the assignment screen already shows, nothing
        is clicked.
        """
        screen = SmartAccountAssignmentPage(self.page, self.labels)
        link = self.assignments_link
        await wait_for_landmark(self.page, self.labels, link.or_(screen.heading))
        if not await screen.heading.filter(visible=True).count():
            await link.first.click()
        return await screen.wait()
