"""The Assign Smart Account dialog (steps 6 to 9) and the confirmation that follows it (step 10)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from playwright.async_api import Locator, Page, Response

from pages.base import (
    READ_MS,
    SEEN_ATTRIBUTE,
    FoundBy,
    at_once,
    mark_messages_seen,
    read_stably,
    unseen,
    wait_for_answer,
    wait_for_landmark,
    wait_promptly,
)
from pages.controls import Action, tick
from pages.errors import IncompleteList, PageError
from pages.guard import check_submission
from pages.labels import Labels, any_of, name_matcher, normalize, same_text
from pages.lists import MAX_PAGES, list_count, next_control
from pages.widgets import DropDown, column_index

# A Domain Identifier as written in an entry: dot-separated labels, not part of an email address.
_DOMAIN = re.compile(
    r"(?<![\w@.-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"\.[a-z]{2,63}(?![\w@-])",
    re.IGNORECASE,
)

# For each radio: its accessible name (aria-label, aria-labelledby or its <label>), the text of
# the largest element around it that holds no other radio (its row, list item or card) and, in a
# table, its row's cells and the table's column headers (a radio hidden behind an empty styled
# label has no name: the row's words name it). An element walk, because no role locator
# expresses "the entry this radio belongs to".
_RADIO_ENTRIES = """
radios => radios.map(radio => {
  const byIds = (radio.getAttribute('aria-labelledby') || '').split(/\\s+/)
    .map(id => document.getElementById(id)).filter(Boolean).map(el => el.innerText).join(' ');
  const label = radio.labels && radio.labels.length ? radio.labels[0].innerText : '';
  const name = radio.getAttribute('aria-label') || byIds || label || '';
  let box = radio;
  while (box.parentElement
         && !box.parentElement.matches('[role=dialog], dialog, body')
         && !radios.some(other => other !== radio && box.parentElement.contains(other))) {
    box = box.parentElement;
  }
  const row = radio.closest('tr');
  const table = row && row.closest('table');
  const head = table && [...table.rows].find(r => r.cells.length
    && [...r.cells].every(c => c.tagName === 'TH'));
  return [name, box.innerText || '', row ? [...row.cells].map(c => c.innerText) : [],
          head ? [...head.cells].map(c => c.innerText) : []];
})
"""


# Marks the accounts on screen before "Next page" (our own attribute, as for messages), so that
# the next page's accounts are told from them.
_MARK_SHOWN = f"els => els.forEach(el => el.setAttribute('{SEEN_ATTRIBUTE}', ''))"


class SearchBy(StrEnum):
    """The search parameters of the "Select an Existing Account" drop-down (step 6)."""

    DOMAIN = "domain"
    ACCOUNT_NAME = "account_name"
    EMAIL = "email"


def _is_data_answer(response: Response) -> bool:
    """A script's request (fetch or XHR), which is how the dialog asks for accounts: not a
    document, image or style sheet the page happens to load meanwhile."""
    return response.request.resource_type in ("fetch", "xhr")


@dataclass(frozen=True)
class AccountRow:
    """One Smart Account the dialog's search returned."""

    account_name: str
    domain: str
    status: str


class AssignDialog:
    """The dialog named "Assign Smart Account"; every control is looked up inside it."""

    def __init__(self, page: Page, labels: Labels) -> None:
        self.page = page
        self.labels = labels
        self.dialog = page.get_by_role("dialog", name=name_matcher(labels.assign_dialog))
        d = self.dialog
        self.search_parameter = DropDown(d, labels.select_existing_account)
        self.search_value = d.get_by_role("textbox", name=name_matcher(labels.search_value))
        self.search_action = Action(d, "button", labels.search)
        # Radios hidden behind styled labels count: a person ticks them through the label.
        self.radios = d.get_by_role("radio", include_hidden=True)
        self.no_accounts = d.get_by_text(name_matcher(labels.no_smart_accounts)).filter(
            visible=True
        )
        self.results_landmark = self.radios.or_(self.no_accounts)
        self.virtual_account = DropDown(d, labels.virtual_account_name)
        # The controls that act: by role and exact name, else by their exact words only.
        self.assign_action = Action(d, "button", labels.assign, acts=True)
        self.terms = d.get_by_role(
            "checkbox", name=name_matcher(labels.accept_terms), include_hidden=True
        )
        self.submit_action = Action(d, "button", labels.submit, acts=True)
        # Cancel, or Close where a release names it so: both leave without changing anything.
        self.cancel_button = d.get_by_role("button", name=any_of((labels.cancel, labels.close)))

    async def wait(self) -> AssignDialog:
        """Wait for the dialog and its search-parameter drop-down."""
        await wait_for_landmark(self.page, self.labels, self.dialog)
        await self.search_parameter.find()
        return self

    async def search_accounts(self, by: SearchBy, value: str) -> list[AccountRow]:
        """Choose the search parameter that searches `by` (its wording from the catalogue),
        search the value, and return the accounts found."""
        parameter = {
            SearchBy.DOMAIN: self.labels.by_domain,
            SearchBy.ACCOUNT_NAME: self.labels.by_account_name,
            SearchBy.EMAIL: self.labels.by_email,
        }[by]
        await self.search_parameter.choose(name_matcher(parameter, whole=True))
        await self.search_value.fill(value)
        return await self.run_search()

    async def run_search(self) -> list[AccountRow]:
        """Click the dialog's Search (again) and return every account found, on every page.

        Waits for the answer to the request the click starts before it looks: the accounts of an
        earlier search may still show until then, and would be read as this search's. An answer
        in words the agent does not know ends the search at once (UnknownAnswer).
        """
        await self._search_again()
        return await self.accounts()

    async def _search_again(self) -> None:
        """Click Search and wait for its first page of results (or the portal's "none")."""
        before = await self.dialog.inner_text(timeout=READ_MS)
        async with self.page.expect_response(_is_data_answer):
            await self.search_action.click()
        await wait_for_answer(
            self.page, self.labels, self.results_landmark, self.dialog, before, hidden_ok=True
        )

    async def says_no_accounts(self) -> bool:
        """Whether the portal's own "No Smart Accounts found" shows (and no account does)."""
        if not await self.no_accounts.count():
            return False
        return not await self.radios.count()

    async def accounts(self) -> list[AccountRow]:
        """Every account found, as a table of radios or a list of entries alike ([] when none),
        read to the end of the list: each next page (or "Show more") is followed.

        Each account is a radio named by the account name; its Domain Identifier and status are
        read from the words of its own entry (the row, list item or card that holds no other
        radio). A domain or status that cannot be read is "" (never guessed).
        Raises IncompleteList past MAX_PAGES pages, or when the list's own count ("Page 1 of 3",
        "7 Smart Accounts") disagrees with what was read: an answer rests on the whole list.
        """
        # The first page, whether it offers more, and the dialog's words (the list's own count)
        # are read in one round trip; the words are read again when more pages were shown.
        found, more, words = await at_once(
            self._page_accounts(),
            self._more_offered(1),
            self.dialog.inner_text(timeout=READ_MS),
        )
        pages = 1
        while more:
            if pages >= MAX_PAGES:
                raise IncompleteList(
                    f"more results than the agent reads (over {MAX_PAGES} pages); search by "
                    "Domain Identifier to narrow them"
                )
            await self._show_more(pages)
            found += await self._page_accounts()
            pages += 1
            more = await self._more_offered(pages)
        if pages > 1:
            words = await self.dialog.inner_text(timeout=READ_MS)
        unique = list({(row.account_name.casefold(), row.domain): row for row in found}.values())
        said = list_count(words, self.labels)
        if said.pages is not None and said.pages > pages:
            raise IncompleteList(f"the results say {said.pages} pages; {pages} could be read")
        if said.total is not None and found and said.total != len(unique):
            raise IncompleteList(
                f"the results say {said.total} accounts; {len(unique)} could be read"
            )
        return unique

    async def _page_accounts(self) -> list[AccountRow]:
        return await read_stably(
            self.results_landmark,
            self._read_accounts,
            hidden_ok=True,
            found=bool,
            never_waits=True,
        )

    async def _next_page(self, pages_read: int) -> bool:
        """Show more of the results (next page, "Show more"), when the screen offers it; whether
        it did."""
        if not await self._more_offered(pages_read):
            return False
        await self._show_more(pages_read)
        return True

    async def _more_offered(self, pages_read: int) -> bool:
        """Whether the screen offers more of the results (checked, not waited)."""
        return bool(await next_control(self.dialog, self.labels, pages_read).count())

    async def _show_more(self, pages_read: int) -> None:
        """Click the control that shows more, and wait for the new accounts. The accounts shown
        so far are marked first, so that only new ones count as arrived."""
        await self.radios.evaluate_all(_MARK_SHOWN)
        await next_control(self.dialog, self.labels, pages_read).first.click()
        arrived = unseen(self.radios).or_(self.no_accounts)
        await wait_for_landmark(self.page, self.labels, arrived, hidden_ok=True)

    async def _read_accounts(self) -> list[AccountRow]:
        entries: list[list[Any]] = await self.radios.evaluate_all(_RADIO_ENTRIES)
        return [
            self._row(normalize(name), normalize(text), [normalize(c) for c in cells], headers)
            for name, text, cells, headers in entries
        ]

    def _row(self, name: str, text: str, cells: list[str], headers: list[str]) -> AccountRow:
        if not name:
            # A radio without a name of its own: the row's Account Name cell names it.
            where = column_index([normalize(h) for h in headers], self.labels.column_account_name)
            name = cells[where] if where is not None and where < len(cells) else ""
        rest = text.replace(name, " ", 1) if name else text
        domains = {m.group(0).lower() for m in _DOMAIN.finditer(rest)}
        statuses = [
            found.group(0)
            for word in self.labels.account_statuses
            if (found := name_matcher(word).search(rest))
        ]
        status = max(statuses, key=len) if statuses else ""
        return AccountRow(
            account_name=name,
            domain=domains.pop() if len(domains) == 1 else "",
            status=normalize(status),
        )

    async def select_account(self, account: AccountRow) -> None:
        """Tick the radio of the one entry with this account name AND this domain; when it is
        on another page of the results, from the first page on, page by page."""

        async def entries() -> list[int]:
            rows = await self._read_accounts()
            return [
                i
                for i, row in enumerate(rows)
                if same_text(row.account_name, account.account_name)
                and same_text(row.domain, account.domain)
            ]

        where = await entries()
        if not where:
            # Not on the page showing: search again and go through the pages from the first.
            await self._search_again()
            pages = 1
            while not (where := await entries()) and pages < MAX_PAGES:
                if not await self._next_page(pages):
                    break
                pages += 1
        if len(where) != 1:
            raise PageError(
                f"{account.account_name} ({account.domain}) is not exactly one entry of the "
                f"results any more ({len(where)} found)"
            )
        await tick(self.radios.nth(where[0]), self.labels)

    async def virtual_accounts(self, *, keep_open: bool = False) -> list[str]:
        """The virtual accounts the selected Smart Account offers.

        Waits for the list to be filled, or for the sign-on page or a server error to show
        instead (the request that fills it is the first to meet an expired session or a failing
        server after an account is ticked): those end the wait at once, not at the timeout.
        With `keep_open`, a list opened to read it is left open for `choose_virtual_account`
        (one opening instead of two); `cancel` closes it when no choice follows.
        """
        await wait_for_landmark(self.page, self.labels, self.virtual_account.ready, hidden_ok=True)
        return await self.virtual_account.options(keep_open=keep_open)

    async def choose_virtual_account(self, name: str) -> str:
        """Choose the virtual account whose option text is exactly `name`."""
        return await self.virtual_account.choose(name)

    async def wait_assign_enabled(self) -> None:
        """Wait until Assign is enabled (an SA and a VA are chosen)."""
        await self.assign_action.wait_enabled()

    async def assign(self) -> FoundBy:
        """Click Assign (its exact words, and only one such control) and wait for the terms of
        use; how Assign was found."""
        how = await self.assign_action.click()
        await wait_for_landmark(self.page, self.labels, self.terms, hidden_ok=True)
        return how

    async def accept_terms_and_submit(self) -> ConfirmationDialog:
        """Tick the terms of use, click Submit and wait for the confirmation."""
        await tick(self.terms, self.labels)
        await self.submit_action.click()  # once enabled, however the portal greys it out
        return await ConfirmationDialog(self.page, self.labels).wait()

    async def cancel(self) -> None:
        """Click Cancel and wait until the dialog is gone (nothing is changed)."""
        await self.virtual_account.close_list()
        await self.cancel_button.first.click()
        await wait_promptly(self.dialog, state="hidden")

    async def is_open(self) -> bool:
        """Whether the dialog shows right now (checked, not waited)."""
        return await self.dialog.is_visible()


class ConfirmationDialog:
    """The alert dialog asking to confirm the change (Yes / No)."""

    def __init__(self, page: Page, labels: Labels) -> None:
        self.page = page
        self.labels = labels
        yes = name_matcher(labels.yes, whole=True)
        # An alert dialog, or a plain dialog (as jQuery UI draws one) that offers Yes.
        self.dialog: Locator = page.get_by_role("alertdialog").or_(
            page.get_by_role("dialog").filter(has=page.get_by_role("button", name=yes))
        )
        self.yes = Action(self.dialog, "button", labels.yes, acts=True)

    async def wait(self) -> ConfirmationDialog:
        """Wait for the Yes button."""
        await wait_for_landmark(self.page, self.labels, self.yes.shown)
        return self

    async def confirm(self, before_click: Callable[[], Awaitable[None]] | None = None) -> None:
        """Click Yes (this submits the change).

        Messages already on screen are marked first, so that an earlier order's toast is never
        read as this submission's answer (see SmartAccountAssignmentPage.wait_for_success).
        `before_click` runs last, right before the click (a submit-rate slot is taken as close
        to it as it can be); if it raises, Yes is not clicked.
        """
        check_submission(self.page)
        # Independent: found and marked in one round trip.
        (yes, _how), _ = await at_once(self.yes.find(), mark_messages_seen(self.page))
        if before_click is not None:
            await before_click()
        await yes.click()
