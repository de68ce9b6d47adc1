"""Smart Account Assignment: the per-line table and the Assign Smart Account button."""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from pages.assign_dialog import AssignDialog
from pages.base import (
    READ_MS,
    REASON_MS,
    all_showing,
    read_stably,
    reload_screen,
    server_error,
    sign_on_marker,
    unseen,
    wait_for_landmark,
    wait_promptly,
    which_show,
)
from pages.errors import PageError, PortalServerError, SignOnShown, SubmissionRefused
from pages.labels import Labels, name_matcher, normalize, same_text
from pages.widgets import column_index, data_rows, data_table, read_table, rows_by_header

# A Domain Identifier as a whole token: dot-separated labels, not part of an email address.
_DOMAIN = re.compile(
    r"(?<![\w@.-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"\.[a-z]{2,63}(?![\w@-])",
    re.IGNORECASE,
)
# What may stand between an account's name and its domain in one cell: "(…)", "/", "-", "|".
_SEPARATORS = " \t\n()[]/|-\u2013\u2014\u00b7,:;"

# The words around a control inside its own container (no other control in it); an element walk
# in the page because no role locator expresses "the text next to this button".
_NOTE_BESIDE = """
b => {
  const box = b.parentElement;
  const controls = 'button, a, input, select, [role=button], [role=link]';
  if (!box || box.querySelectorAll(controls).length > 1) return '';
  return box.innerText.replace(b.innerText, '');
}
"""


@dataclass(frozen=True)
class AssignmentRow:
    """One line of the table as shown; None where the portal shows no assignment or no column."""

    line: str
    product: str
    smart_account: str | None
    virtual_account: str | None
    domain: str | None
    eligibility: str | None


def split_account(cell: str | None) -> tuple[str | None, str | None]:
    """An account cell as (name, domain), however the portal writes the two together:
    "Initech (initech.example)", "Initech / initech.example", "Initech - initech.example", on
    two lines, or domain first ("initech.example (Initech)"); or a name alone (domain None).

    The domain is a whole domain-shaped token; a cell with two of them is not split (name as
    written, domain None), since which one is the account's cannot be told.
    """
    if cell is None:
        return None, None
    domains = list(_DOMAIN.finditer(cell))
    if len(domains) != 1:
        return normalize(cell), None
    found = domains[0]
    rest = (cell[: found.start()] + " " + cell[found.end() :]).strip(_SEPARATORS)
    return normalize(rest) or None, found.group(0).lower()


def domain_in(cell: str | None) -> str | None:
    """The one Domain Identifier a cell shows as a whole token (None: none, or several)."""
    if cell is None:
        return None
    domains = {m.group(0).lower() for m in _DOMAIN.finditer(cell)}
    return domains.pop() if len(domains) == 1 else None


class SmartAccountAssignmentPage:
    """The screen reached from Order Details' "View or change Smart Account Assignments"."""

    def __init__(self, page: Page, labels: Labels) -> None:
        self.page = page
        self.labels = labels
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

    async def wait(self) -> SmartAccountAssignmentPage:
        """Wait for the heading, the table's rows and the Assign Smart Account button, all three
        showing at once: one wait (the page's body holding each of them), not three."""
        await wait_for_landmark(self.page, self.labels, self._complete())
        return self

    def _complete(self) -> Locator:
        body = self.page.locator("body")
        return all_showing(body, self.heading, self.data_rows, self.assign_button)

    async def complete_now(self) -> bool:
        """Whether the heading, the table's rows and the button all show right now (checked,
        not waited): what `wait` waits for."""
        return bool(await self._complete().count())

    async def lines(self) -> list[AssignmentRow]:
        """The table's rows, read by column header names, whatever the columns' order.

        The Smart Account is a name and a Domain Identifier in two columns or in one cell
        ("Initech (initech.example)"), or a name alone (domain None). Without an Eligibility
        column a line is ineligible when its row says so in words ("Active entitlement").
        Raises PageError when a column the reference pins (Line, Smart Account, Virtual Account)
        cannot be found: a table that cannot be read is never taken for an unassigned one.
        """
        headers, rows = await read_stably(
            self.data_rows,
            lambda: read_table(self.table.first),
            found=lambda read: bool(read[1]),
            never_waits=True,
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
        missing = [
            columns[key]
            for key in ("line", "smart_account", "virtual_account")
            if column_index(headers, columns[key]) is None
        ]
        if missing:
            raise PageError(
                f"the assignment table has no {' or '.join(missing)} column "
                f"(its headers: {', '.join(headers) or 'none'})"
            )
        has_eligibility = column_index(headers, lab.column_eligibility) is not None
        read: list[AssignmentRow] = []
        for cells, row in zip(rows, rows_by_header(headers, rows, columns), strict=True):
            name, domain = split_account(self._assigned(row["smart_account"]))
            read.append(
                AssignmentRow(
                    line=row["line"] or "",
                    product=row["product"] or "",
                    smart_account=name,
                    virtual_account=self._assigned(row["virtual_account"]),
                    domain=domain_in(self._assigned(row["domain"])) or domain,
                    eligibility=row["eligibility"]
                    if has_eligibility
                    else self._ineligible_words(cells),
                )
            )
        return read

    def line_is_eligible(self, row: AssignmentRow) -> bool:
        """Whether a line may be assigned, from its Eligibility (or, without that column, its
        row's words); a line that says nothing is eligible, and the Assign Smart Account button
        decides for the whole order.

        Raises PageError for words that are neither "Eligible" nor a known refusal (a blank cell,
        an icon without text): a line is never taken as not eligible on a guess.
        """
        said = row.eligibility
        if said is None:
            return True
        if self._ineligible_words([said]) is not None:
            return False
        if name_matcher(self.labels.eligible).search(said):
            return True
        raise PageError(
            f"line {row.line} shows {said!r} as its eligibility, which the agent cannot read as "
            "eligible or not"
        )

    def _ineligible_words(self, cells: list[str]) -> str | None:
        text = " ".join(cells)
        for marker in self.labels.ineligible_markers:
            found = name_matcher(marker).search(text)
            if found:
                return found.group(0)
        return None

    async def assign_disabled_reason(self) -> str | None:
        """None when Assign Smart Account is enabled, else the reason the screen gives."""
        button = self.assign_button.first
        # A portal may render the button disabled while it loads: wait (briefly) for a verdict,
        # the button enabled or the reason shown, before judging it.
        enabled = self.assign_button.and_(self.page.get_by_role("button", disabled=False))
        # The enabled button showing is the whole answer (a pop-up could only hide it), at once
        # or once the wait is over; else the button is read as it is, pop-ups dismissed.
        if await enabled.filter(visible=True).count():
            return None
        with suppress(AssertionError):
            await expect(enabled.or_(self.unavailable).first).to_be_visible(timeout=REASON_MS)
        if await enabled.filter(visible=True).count():
            return None
        if await read_stably(button, lambda: button.is_enabled(timeout=READ_MS)):
            return None
        try:
            await expect(self.unavailable.first).to_be_visible(timeout=REASON_MS)
            return normalize(await self.unavailable.first.inner_text(timeout=READ_MS))
        except AssertionError:
            pass
        # The button's own description is the portal's explicit reason; the note beside the
        # button is only the fallback.
        reason = ""
        for read in (self._described_by, self._words_beside_button):
            text = await read()
            if self._reads_as_refusal(text):
                reason = text
                break
        if not reason:
            # A disabled button alone is no evidence: it may be a render in progress, a
            # permission glitch or a layout this reader does not know. Never "not eligible" then.
            raise PageError(
                f"{self.labels.assign_smart_account} is disabled and the screen gives no reason "
                "for it in words"
            )
        return reason

    def _reads_as_refusal(self, text: str) -> bool:
        """Words that say assignment is refused (the "not available" wording or a known reason);
        any other note beside the button ("2 lines") is not a reason."""
        return bool(text) and (
            name_matcher(self.labels.assignment_unavailable).search(text) is not None
            or self._ineligible_words([text]) is not None
        )

    async def open_assign_dialog(self) -> AssignDialog:
        """Click Assign Smart Account and wait for its dialog (already open: nothing clicked,
        nothing waited for again: it was when it opened, and a re-run of a later step asks
        here, the recovery before it having perhaps closed it)."""
        dialog = AssignDialog(self.page, self.labels)
        # The button or the open dialog, whichever shows.
        opened, _shown = await which_show(self.page, self.labels, dialog.dialog, self.assign_button)
        if opened:
            return dialog
        await self.assign_button.first.click()
        return await dialog.wait()

    async def close_assign_dialog(self) -> None:
        """Cancel the dialog when it is open (nothing is changed), and wait for it to go."""
        dialog = AssignDialog(self.page, self.labels)
        if await dialog.is_open():
            await dialog.cancel()

    async def showing(self) -> bool:
        """Whether this screen (its heading) shows now or within the page's default timeout."""
        with suppress(PlaywrightTimeoutError):
            await wait_for_landmark(self.page, self.labels, self.heading)
            return True
        return False

    async def shows_now(self) -> bool:
        """Whether this screen (its heading) shows right now (checked, not waited)."""
        return bool(await self.heading.filter(visible=True).count())

    async def reload(self) -> None:
        """Load this screen again: the portal reads the assignments afresh."""
        await reload_screen(self.page)

    async def wait_for_success(self) -> str:
        """Wait for the "submitted successfully" message and return it.

        Only messages that came after Yes count (ConfirmationDialog.confirm marks the earlier
        ones). Raises PortalServerError on the generic error, SubmissionRefused on any other
        alert.
        """
        success = unseen(self.success).filter(visible=True)
        refusal = unseen(self.page.get_by_role("alert")).filter(visible=True)
        signon = sign_on_marker(self.page, self.labels)
        await wait_promptly(success.or_(refusal).or_(signon).first, likely=success.first)
        shown = await success.all_inner_texts()  # the count and the words in one call
        if shown:
            return normalize(shown[0])
        if await signon.count():
            raise SignOnShown
        error = unseen(server_error(self.page, self.labels))
        if await error.count():
            said = normalize(await error.first.inner_text(timeout=READ_MS))
            raise PortalServerError(f"the portal said: {said}")
        raise SubmissionRefused(normalize(await refusal.first.inner_text(timeout=READ_MS)))

    def _assigned(self, cell: str | None) -> str | None:
        if cell is None or any(same_text(cell, mark) for mark in self.labels.not_assigned):
            return None
        return cell or None

    async def _words_beside_button(self) -> str:
        """The text of the button's own container, less the button's name: the note beside it.

        Only a container that holds no other control counts, so no neighbour's label is taken
        for a reason.
        """
        text = await self.assign_button.first.evaluate(_NOTE_BESIDE, timeout=READ_MS)
        return normalize(str(text))

    async def _described_by(self) -> str:
        ids = await self.assign_button.first.get_attribute("aria-describedby", timeout=READ_MS)
        if not ids:
            return ""
        # The ids come from the button's own aria-describedby at run time, not from a known page.
        texts = [
            await self.page.locator(f"id={one}").inner_text(timeout=READ_MS) for one in ids.split()
        ]
        return normalize(" ".join(texts))
