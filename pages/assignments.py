"""Smart Account Assignment: the per-line table and the Assign Smart Account button."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from pages.assign_dialog import AssignDialog
from pages.base import DEFAULT_TIMEOUT_MS, READ_MS, PageError, read_stably, wait_for_landmark
from pages.labels import Labels, name_matcher, normalize, same_text
from pages.widgets import data_rows, data_table, read_table, rows_by_header

# After the table has loaded, the reason text next to a disabled button is part of the same
# render; this bounds the wait for it before the button's own description is used instead.
_REASON_MS = 2_000.0


class SubmissionRefused(PageError):
    """The portal answered the submission with a message other than success."""


@dataclass(frozen=True)
class AssignmentRow:
    """One line of the table as shown; None where the portal shows no assignment or no column."""

    line: str
    product: str
    smart_account: str | None
    virtual_account: str | None
    domain: str | None
    eligibility: str | None


class SmartAccountAssignmentPage:
    """The screen reached from Order Details' "View or change Smart Account Assignments"."""

    def __init__(self, page: Page, labels: Labels, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.labels = labels
        self.timeout_ms = timeout_ms
        self.heading = page.get_by_role("heading", name=name_matcher(labels.assignment_heading))
        self.table = data_table(page, labels.column_line, labels.column_virtual_account)
        self.data_rows = data_rows(self.table)
        self.assign_button = page.get_by_role(
            "button", name=name_matcher(labels.assign_smart_account, whole=True)
        )
        self.unavailable = page.get_by_text(name_matcher(labels.assignment_unavailable))
        self.success = (
            page.get_by_role("status")
            .or_(page.get_by_role("alert"))
            .filter(has_text=name_matcher(labels.submitted_successfully))
        )

    def wait(self) -> SmartAccountAssignmentPage:
        """Wait for the heading, the table's rows and the Assign Smart Account button."""
        wait_for_landmark(self.page, self.labels, self.heading, self.timeout_ms)
        wait_for_landmark(self.page, self.labels, self.data_rows, self.timeout_ms)
        wait_for_landmark(self.page, self.labels, self.assign_button, self.timeout_ms)
        return self

    def lines(self) -> list[AssignmentRow]:
        """The table's rows, read by column header names."""
        headers, rows = read_stably(
            self.data_rows, lambda: read_table(self.table.first), self.timeout_ms
        )
        lab = self.labels
        columns = {
            "line": lab.column_line,
            "product": lab.column_product,
            "smart_account": lab.column_smart_account,
            "virtual_account": lab.column_virtual_account,
            "domain": lab.column_domain,
            "eligibility": lab.column_eligibility,
        }
        return [
            AssignmentRow(
                line=row["line"] or "",
                product=row["product"] or "",
                smart_account=self._assigned(row["smart_account"]),
                virtual_account=self._assigned(row["virtual_account"]),
                domain=self._assigned(row["domain"]),
                eligibility=row["eligibility"],
            )
            for row in rows_by_header(headers, rows, columns)
        ]

    def line_is_eligible(self, row: AssignmentRow) -> bool:
        """A line without an Eligibility column is taken as eligible; the button decides then."""
        return row.eligibility is None or same_text(row.eligibility, self.labels.eligible)

    def assign_disabled_reason(self) -> str | None:
        """None when Assign Smart Account is enabled, else the reason the screen gives."""
        button = self.assign_button.first
        # A portal may render the button disabled while it loads: wait (briefly) for a verdict,
        # the button enabled or the reason shown, before judging it.
        enabled = self.assign_button.and_(self.page.get_by_role("button", disabled=False))
        with suppress(AssertionError):
            expect(enabled.or_(self.unavailable).first).to_be_visible(timeout=_REASON_MS)
        if read_stably(button, lambda: button.is_enabled(timeout=READ_MS), self.timeout_ms):
            return None
        try:
            expect(self.unavailable.first).to_be_visible(timeout=_REASON_MS)
            return normalize(self.unavailable.first.inner_text(timeout=READ_MS))
        except AssertionError:
            described = self._described_by()
            return described or f"the {self.labels.assign_smart_account} button is disabled"

    def open_assign_dialog(self) -> AssignDialog:
        """Click Assign Smart Account and wait for its dialog."""
        self.assign_button.first.click(timeout=self.timeout_ms)
        return AssignDialog(self.page, self.labels, self.timeout_ms).wait()

    def wait_for_success(self) -> str:
        """Wait for the "submitted successfully" message and return it.

        Raises PortalServerError on the generic error, SubmissionRefused on any other alert.
        """
        refusal = self.page.get_by_role("alert").filter(visible=True)
        wait_for_landmark(self.page, self.labels, self.success.or_(refusal), self.timeout_ms)
        if self.success.count():
            return normalize(self.success.first.inner_text(timeout=READ_MS))
        raise SubmissionRefused(normalize(refusal.first.inner_text(timeout=READ_MS)))

    def _assigned(self, cell: str | None) -> str | None:
        if cell is None or any(same_text(cell, mark) for mark in self.labels.not_assigned):
            return None
        return cell or None

    def _described_by(self) -> str:
        ids = self.assign_button.first.get_attribute("aria-describedby", timeout=READ_MS)
        if not ids:
            return ""
        texts = [self.page.locator(f"id={one}").inner_text(timeout=READ_MS) for one in ids.split()]
        return normalize(" ".join(texts))
