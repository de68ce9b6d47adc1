"""The Assign Smart Account dialog (steps 6 to 9) and the confirmation that follows it (step 10)."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

from pages.base import DEFAULT_TIMEOUT_MS, read_stably, wait_for_landmark
from pages.labels import Labels, name_matcher
from pages.widgets import (
    choose_option,
    data_rows,
    data_table,
    read_options,
    read_table,
    rows_by_header,
)


@dataclass(frozen=True)
class AccountRow:
    """One Smart Account the dialog's search returned."""

    account_name: str
    domain: str
    status: str


class AssignDialog:
    """The dialog named "Assign Smart Account"; every control is looked up inside it."""

    def __init__(self, page: Page, labels: Labels, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.labels = labels
        self.timeout_ms = timeout_ms
        self.dialog = page.get_by_role("dialog", name=name_matcher(labels.assign_dialog))
        d = self.dialog
        self.search_parameter = d.get_by_role(
            "combobox", name=name_matcher(labels.select_existing_account)
        )
        self.search_value = d.get_by_role("textbox", name=name_matcher(labels.search_value))
        self.search_button = d.get_by_role("button", name=name_matcher(labels.search, whole=True))
        self.results = data_table(d, labels.column_domain_identifier)
        self.result_rows = data_rows(self.results)
        self.no_accounts = d.get_by_text(name_matcher(labels.no_smart_accounts))
        self.virtual_account = d.get_by_role(
            "combobox", name=name_matcher(labels.virtual_account_name)
        )
        self.assign_button = d.get_by_role("button", name=name_matcher(labels.assign, whole=True))
        self.terms = d.get_by_role("checkbox", name=name_matcher(labels.accept_terms))
        self.submit_button = d.get_by_role("button", name=name_matcher(labels.submit, whole=True))
        self.cancel_button = d.get_by_role("button", name=name_matcher(labels.cancel, whole=True))

    def wait(self) -> AssignDialog:
        """Wait for the dialog's search-parameter drop-down."""
        wait_for_landmark(self.page, self.labels, self.search_parameter, self.timeout_ms)
        return self

    def search_accounts(self, parameter: str, value: str) -> list[AccountRow]:
        """Choose the search parameter, search the value, and return the accounts found."""
        choose_option(
            self.search_parameter, name_matcher(parameter, whole=True), timeout_ms=self.timeout_ms
        )
        self.search_value.fill(value, timeout=self.timeout_ms)
        self.search_button.click(timeout=self.timeout_ms)
        wait_for_landmark(
            self.page, self.labels, self.result_rows.or_(self.no_accounts), self.timeout_ms
        )
        return self.accounts()

    def accounts(self) -> list[AccountRow]:
        """The search results, read by column header names ([] when none were found)."""
        headers, rows = read_stably(
            self.result_rows.or_(self.no_accounts), self._read_results, self.timeout_ms
        )
        lab = self.labels
        columns = {
            "name": lab.column_account_name,
            "domain": lab.column_domain_identifier,
            "status": lab.column_status,
        }
        return [
            AccountRow(
                account_name=row["name"] or "",
                domain=row["domain"] or "",
                status=row["status"] or "",
            )
            for row in rows_by_header(headers, rows, columns)
        ]

    def _read_results(self) -> tuple[list[str], list[list[str]]]:
        if not self.result_rows.count():
            return [], []
        return read_table(self.results.first)

    def select_account(self, account: AccountRow) -> None:
        """Tick the radio of the one row with this account name AND this domain."""
        domain = name_matcher(account.domain, whole=True)
        name = name_matcher(account.account_name, whole=True)
        row = self.result_rows.filter(
            has=self.page.get_by_role("cell", name=domain).or_(
                self.page.get_by_role("gridcell", name=domain)
            )
        ).filter(has=self.page.get_by_role("radio", name=name))
        expect(row).to_have_count(1, timeout=self.timeout_ms)
        radio = row.get_by_role("radio")
        radio.check(timeout=self.timeout_ms)
        expect(radio).to_be_checked(timeout=self.timeout_ms)

    def virtual_accounts(self) -> list[str]:
        """The virtual accounts the selected Smart Account offers."""
        return read_options(self.virtual_account, timeout_ms=self.timeout_ms)

    def choose_virtual_account(self, name: str) -> str:
        """Choose the virtual account whose option text is exactly `name`."""
        return choose_option(self.virtual_account, name, timeout_ms=self.timeout_ms)

    def wait_assign_enabled(self) -> None:
        """Wait until Assign is enabled (an SA and a VA are chosen)."""
        expect(self.assign_button).to_be_enabled(timeout=self.timeout_ms)

    def assign(self) -> None:
        """Click Assign and wait for the terms of use."""
        self.assign_button.click(timeout=self.timeout_ms)
        wait_for_landmark(self.page, self.labels, self.terms, self.timeout_ms)

    def accept_terms_and_submit(self) -> ConfirmationDialog:
        """Tick the terms of use, click Submit and wait for the confirmation."""
        self.terms.check(timeout=self.timeout_ms)
        self.submit_button.click(timeout=self.timeout_ms)
        return ConfirmationDialog(self.page, self.labels, self.timeout_ms).wait()

    def cancel(self) -> None:
        """Click Cancel and wait until the dialog is gone (nothing is changed)."""
        self.cancel_button.click(timeout=self.timeout_ms)
        expect(self.dialog).to_be_hidden(timeout=self.timeout_ms)

    def is_open(self) -> bool:
        return self.dialog.is_visible()


class ConfirmationDialog:
    """The alert dialog asking to confirm the change (Yes / No)."""

    def __init__(self, page: Page, labels: Labels, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.labels = labels
        self.timeout_ms = timeout_ms
        self.dialog: Locator = page.get_by_role("alertdialog")
        self.yes_button = self.dialog.get_by_role(
            "button", name=name_matcher(labels.yes, whole=True)
        )
        self.no_button = self.dialog.get_by_role("button", name=name_matcher(labels.no, whole=True))

    def wait(self) -> ConfirmationDialog:
        wait_for_landmark(self.page, self.labels, self.yes_button, self.timeout_ms)
        return self

    def confirm(self) -> None:
        """Click Yes (this submits the change)."""
        self.yes_button.click(timeout=self.timeout_ms)

    def decline(self) -> None:
        """Click No and wait until the confirmation is gone."""
        self.no_button.click(timeout=self.timeout_ms)
        expect(self.dialog).to_be_hidden(timeout=self.timeout_ms)
