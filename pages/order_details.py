"""Order Details: the order's status, holds, and the banner link to its Smart Account assignment."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from pages.assignments import SmartAccountAssignmentPage
from pages.base import DEFAULT_TIMEOUT_MS, READ_MS, read_stably, text_after, wait_for_landmark
from pages.labels import Labels, name_matcher, same_text

_DIGITS = re.compile(r"\d{6,12}")


class OrderDetailsPage:
    """The Order Details screen of one sales order."""

    def __init__(self, page: Page, labels: Labels, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.labels = labels
        self.timeout_ms = timeout_ms
        self.heading = page.get_by_role("heading", name=name_matcher(labels.order_details_heading))
        self.status = page.get_by_text(name_matcher(labels.status_prefix))
        self.assignments_link = page.get_by_role("link", name=name_matcher(labels.view_assignments))
        # The whole screen's text (CSS "body": there is no role for it): "Status:" and "Holds:"
        # are read as label/value pairs from it, whatever elements the portal wraps them in.
        self._screen = page.locator("body")

    def wait(self) -> OrderDetailsPage:
        """Wait for the heading and the status line."""
        wait_for_landmark(self.page, self.labels, self.heading, self.timeout_ms)
        wait_for_landmark(self.page, self.labels, self.status, self.timeout_ms)
        return self

    def sales_order(self) -> str | None:
        """The order number the heading names ("Order Details: 110000001")."""
        heading = read_stably(
            self.heading, lambda: self.heading.first.inner_text(timeout=READ_MS), self.timeout_ms
        )
        found = _DIGITS.search(heading)
        return found.group(0) if found else None

    def web_order(self) -> str | None:
        """The number after "Web Order:", when the screen shows one."""
        found = _DIGITS.search(text_after(self._text(), self.labels.web_order_prefix) or "")
        return found.group(0) if found else None

    def order_status(self) -> str:
        """The text after "Status:"."""
        return text_after(self._text(), self.labels.status_prefix) or ""

    def holds(self) -> tuple[str, ...]:
        """The holds listed after "Holds:" ("None" is no hold)."""
        listed = text_after(self._text(), self.labels.holds_prefix)
        if not listed or same_text(listed, self.labels.no_holds):
            return ()
        return tuple(part.strip() for part in listed.split(",") if part.strip())

    def _text(self) -> str:
        return read_stably(
            self.heading, lambda: self._screen.inner_text(timeout=READ_MS), self.timeout_ms
        )

    def open_smart_account_assignments(self) -> SmartAccountAssignmentPage:
        """Click "View or change Smart Account Assignments" in the alert banner."""
        self.assignments_link.first.click(timeout=self.timeout_ms)
        return SmartAccountAssignmentPage(self.page, self.labels, self.timeout_ms).wait()
