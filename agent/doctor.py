"""`ccw-agent doctor`: walk steps 1-8 without changing anything and say which names the labels miss.

On the day the portal renames a control, the agent times out at some step. The doctor walks the
same steps read-only (sign in, global search, open the order, its assignments, the Assign Smart
Account dialog, its search parameters and Virtual Account control, then Cancel) and checks, for
every label a step needs, that a control of that role carries that name. For a missing one it
lists the names the screen offers for that role (from Playwright's accessibility snapshot),
closest first, and goes on with the closest when it clearly fits, so that one rename does not hide
the next. It never clicks Assign, Submit or Yes. The names it found can be written as a label file
(CCW_LABELS_FILE) that makes the agent work on that portal.

Unlike the flows, the doctor cannot wait for a control by its catalogue name (that is what it
checks), so it looks controls up by role here and waits for screens by role-only landmarks. For
the same reason it signs in with the sign-on page object itself rather than through
flows.signin: the flows know the portal is open by the Global Search box's name, one of the names
checked here.

Waits for a screen use the page's default timeout (the session's `timeout_ms`); a control that
should be on a screen already drawn is given GRACE_MS.

Given a capture bundle (agent.capture), the walk also captures each screen it visits, right after
checking it, and registers every value it read there (order numbers, accounts, domains, Virtual
Accounts, the signed-in user) so that the bundle holds none of them.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from pydantic import BaseModel, computed_field
from rich.console import Console
from rich.table import Table

from agent.capture import CaptureBundle, Kind, capture_screen, read_screen, register_accounts
from agent.files import write_private
from flows.session import PortalSession
from flows.signin import ensure_signed_in
from pages.assign_dialog import AssignDialog, SearchBy
from pages.assignments import AssignmentRow, SmartAccountAssignmentPage
from pages.base import FoundBy, follow_click, wait_for_landmark
from pages.controls import Action
from pages.errors import PageError, PortalServerError, StepFailed, first_line
from pages.labels import (
    Labels,
    any_of,
    name_matcher,
    normalize,
    read_label_file,
    same_text,
    wordings,
)
from pages.orders import any_spelling
from pages.search_results import SearchResultsPage
from pages.widgets import DropDown

# not_checked: a label the doctor never looks at (shown only after Assign); not_reached: the
# walk stopped before the screen that shows it.
Status = Literal["found", "substituted", "missing", "not_checked", "not_reached"]

# A screen's controls render with it; once its landmark shows, a name absent this long is absent.
# (It was 1.5 s: in the parallel test suite, two workers and their browsers on 2 cores, doctor
# runs of the mock then ended with a label reported missing now and then.)
GRACE_MS = 3_000.0
# A substitute is taken when it is this close, and this far ahead of the next closest...
CLEAR_SCORE = 0.6
CLEAR_LEAD = 0.1
# ...or when it is the only control of that role on the screen and shares at least a word.
ONLY_ONE_SCORE = 0.3
CANDIDATES_SHOWN = 3

_SNAPSHOT_ITEM = re.compile(r"^\s*- (?P<item>.+)$")
_ROLE_AND_NAME = re.compile(r'^(?P<role>[a-z]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?')


class Candidate(BaseModel):
    """A control the screen offers for a role, and how close its name is to the label's."""

    name: str
    score: float


class LabelCheck(BaseModel):
    """One label the procedure uses: what the catalogue says and what the screen showed."""

    step: int
    key: str
    role: str
    label: str
    needed: bool
    status: Status
    # The name the screen showed: the label's own match, or the substitute the walk went on with.
    shown: str | None = None
    candidates: list[Candidate] = []
    note: str = ""
    # How it was found, in the agent's order of trust: role, label, visible words.
    how: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("found", "not_checked") or not self.needed


class DoctorReport(BaseModel):
    """What the doctor found on one portal, for one order."""

    portal: str
    order: str
    checks: list[LabelCheck]
    notes: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """Every label the procedure needs was found under its own name."""
        return all(check.ok for check in self.checks)

    def missing(self) -> list[LabelCheck]:
        return [c for c in self.checks if c.status in ("substituted", "missing")]

    def overrides(self) -> dict[str, str]:
        """Label file entries for the missing labels whose substitute the walk went on with."""
        return {c.key: c.shown for c in self.checks if c.status == "substituted" and c.shown}


# --- similarity -----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def similarity(label: str, name: str) -> float:
    """How close a name on screen is to a label: difflib's ratio on the casefolded words, and
    the share of the shorter one's words the other has too, averaged (0 to 1)."""
    a, b = _words(label), _words(name)
    if not a or not b:
        return 0.0
    ratio = difflib.SequenceMatcher(None, " ".join(a), " ".join(b)).ratio()
    overlap = len(set(a) & set(b)) / min(len(set(a)), len(set(b)))
    return round((ratio + overlap) / 2, 3)


def ranked(label: str, names: list[str]) -> list[Candidate]:
    """The distinct names, closest to the label first."""
    unique = dict.fromkeys(normalize(n) for n in names if n.strip())
    found = [
        Candidate(name=n, score=max(similarity(w, n) for w in wordings(label))) for n in unique
    ]
    return sorted(found, key=lambda c: -c.score)


CLICKED_ROLES = frozenset({"button", "link"})
# Words of a control that changes or confirms something, when the label itself does not have them.
_CHANGING = re.compile(
    r"^(?:un\w+|de\w*assign\w*|re\w*assign\w*|remove|delete|revoke|release|transfer|move|"
    r"submit|confirm|yes|apply|save|clear|reset)$"
)


def changes_something(label: str, name: str) -> bool:
    """Whether `name` carries a word that removes, moves or confirms, which `label` does not."""
    own = set(_words(label))
    return any(_CHANGING.match(word) and word not in own for word in _words(name))


def clear_fit(candidates: list[Candidate]) -> Candidate | None:
    """The closest candidate when it clearly fits, else None (a guess is not made)."""
    if not candidates:
        return None
    best = candidates[0]
    if len(candidates) == 1:
        return best if best.score >= ONLY_ONE_SCORE else None
    if best.score >= CLEAR_SCORE and best.score - candidates[1].score >= CLEAR_LEAD:
        return best
    return None


async def snapshot_names(scope: Page | Locator, role: str) -> list[str]:
    """The accessible names of the visible controls of a role, from the accessibility snapshot."""
    root = scope.locator("body") if isinstance(scope, Page) else scope
    try:
        text = await root.first.aria_snapshot(timeout=GRACE_MS)
    except PlaywrightError:
        return []
    found = (role_and_name(line) for line in text.splitlines())
    return [name for kind, name in filter(None, found) if kind == role and name]


def role_and_name(line: str) -> tuple[str, str | None] | None:
    """The role and accessible name of one line of an accessibility snapshot:
    `- button "Search"`, or YAML-quoted when the name holds a colon:
    `- 'heading "Order Details: 110000001" [level=1]'`."""
    found = _SNAPSHOT_ITEM.match(line)
    if not found:
        return None
    item = found["item"]
    if item.startswith("'") and item.rstrip(":").endswith("'"):
        item = item.rstrip(":")[1:-1].replace("''", "'")
    parts = _ROLE_AND_NAME.match(item)
    if not parts:
        return None
    name = parts["name"]
    return parts["role"], None if name is None else json.loads(f'"{name}"')


async def shown_name(control: Locator) -> str | None:
    """A control's accessible name, as the accessibility snapshot gives it."""
    try:
        first = (await control.first.aria_snapshot(timeout=GRACE_MS)).splitlines()[0]
    except (PlaywrightError, IndexError):
        return None
    found = role_and_name(first)
    return found[1] if found else None


async def _shows(
    control: Locator,
    wait_ms: float | None,
    state: Literal["attached", "visible"] = "visible",
) -> bool:
    """Whether `control` shows within `wait_ms` (None: the page's default timeout)."""
    try:
        await control.first.wait_for(timeout=wait_ms, state=state)
    except PlaywrightTimeoutError:
        return False
    return True


# --- the walk -------------------------------------------------------------------------------


class _Stop(Exception):
    """The walk cannot go on (a needed control missing without a clear substitute)."""


# The controls that act: found by their exact words only, never substituted by a guess.
ACTING = frozenset({"assign", "submit", "yes"})


class Doctor:
    """One read-only walk through steps 1-8 on a signed-in (or to be signed-in) page."""

    def __init__(
        self,
        session: PortalSession,
        order: str,
        search: tuple[SearchBy, str] | None = None,
        capture: CaptureBundle | None = None,
    ) -> None:
        self.session = session
        self.page = session.page
        self.labels = session.labels
        self.order = order
        self.search_for = search
        self.checks: list[LabelCheck] = []
        self.notes: list[str] = []
        # The labels with every substitute taken so far, for the page objects the walk reuses.
        self.effective: Labels = session.labels
        self.current: AssignmentRow | None = None
        self.capture = capture
        self._captured = 0  # the checks already reported with a captured screen

    # recording

    def _record(
        self, step: int, key: str, role: str, needed: bool, status: Status, **more: object
    ) -> LabelCheck:
        check = LabelCheck(
            step=step,
            key=key,
            role=role,
            label=str(getattr(self.labels, key)),
            needed=needed,
            status=status,
            **more,
        )
        self.checks.append(check)
        return check

    def unchecked(self, step: int, keys: list[tuple[str, str]], status: Status, note: str) -> None:
        done = {c.key for c in self.checks}
        for key, role in keys:
            if key not in done:
                self._record(step, key, role, True, status, note=note)

    def claimed(self, key: str, name: str) -> bool:
        """Whether `name` is what another catalogue entry of the same kind of control names (its
        own words or the substitute the walk took for it): never a substitute for `key`.
        Entries the catalogue names with the same words as `key` name one thing, and do not
        count."""
        own = getattr(self.labels, key)
        for field in fields(Labels):
            other = getattr(self.labels, field.name)
            if field.name == key or KINDS.get(field.name) != KINDS.get(key):
                continue
            if isinstance(other, str) and same_text(other, own):
                continue
            for words in (getattr(self.labels, field.name), getattr(self.effective, field.name)):
                texts = words if isinstance(words, tuple) else wordings(words)
                if any(same_text(name, text) for text in texts):
                    return True
        return False

    async def _find(
        self, key: str, role: str, scope: Page | Locator, whole: bool, wait_ms: float | None
    ) -> tuple[Locator, FoundBy] | None:
        """The control named by the label, in the agent's own order of trust (role and name,
        label, visible words), once it shows within `wait_ms`; None when it does not."""
        label = getattr(self.effective, key)
        if role in CLICKED_ROLES:
            action = Action(scope, role, label, acts=key in ACTING, whole=whole)
            if not await _shows(action.shown, wait_ms):
                return None
            try:
                return await action.find()
            except PageError as exc:
                self.notes.append(f'"{label}": {exc}')
                return None
        if role == "combobox" and isinstance(scope, Locator):
            drop = DropDown(scope, label)
            if not await _shows(drop.attached, wait_ms, state="attached"):
                return None
            return await drop.find()
        control = scope.get_by_role(role, name=name_matcher(label, whole=whole))  # type: ignore[arg-type]
        if await _shows(control.filter(visible=True), wait_ms):
            return control.filter(visible=True).first, FoundBy.ROLE
        if role in ("textbox", "searchbox"):
            labelled = scope.get_by_label(name_matcher(label, whole=whole)).filter(visible=True)
            if await labelled.count():
                return labelled.first, FoundBy.LABEL
        return None

    async def probe(
        self,
        step: int,
        key: str,
        role: str,
        scope: Page | Locator,
        *,
        whole: bool = False,
        needed: bool = True,
        wait_ms: float | None = GRACE_MS,
    ) -> Locator | None:
        """The control of `role` named by the label `key`; else the clear substitute; else None.

        It is found as the agent finds it (role and name, then label, then visible words) and
        the check says which way. It is given `wait_ms` to show (None: the page's default
        timeout, for a control that is the landmark of a screen still loading). A substitute is
        a control of the same role only, never one whose name another catalogue entry holds, and
        never for Assign, Submit or Yes. A control that is missing with no clear substitute ends
        the walk (`_Stop`) when it is needed.
        """
        label = str(getattr(self.labels, key))
        found = await self._find(key, role, scope, whole, wait_ms)
        if found is not None:
            control, how = found
            shown = await shown_name(control) if how is FoundBy.ROLE else None
            self._record(step, key, role, needed, "found", shown=shown or label, how=how)
            return control
        names = await snapshot_names(scope, role)
        candidates = [c for c in ranked(getattr(self.labels, key), names)
                      if not self.claimed(key, c.name)]  # fmt: skip
        fit = None if key in ACTING else clear_fit(candidates)
        if fit is not None and role in CLICKED_ROLES and changes_something(label, fit.name):
            # The walk clicks what it goes on with: never a control whose name says it removes,
            # transfers or confirms something ("Unassign Smart Account" for "Assign ...").
            fit = None
        closest = candidates[:CANDIDATES_SHOWN]
        if fit is None:
            note = "no control of this role" if not candidates else "no clear substitute"
            self._record(step, key, role, needed, "missing", candidates=closest, note=note)
            if needed:
                await self._capture(step, f"{key}_missing")
                raise _Stop(f'"{label}" ({role}) is not on the screen: {note}')
            return None
        only = f" (the only {role} there)" if len(candidates) == 1 else ""
        self._record(
            step, key, role, needed, "substituted", shown=fit.name, candidates=closest,
            note=f'went on with "{fit.name}"{only}', how=FoundBy.ROLE,
        )  # fmt: skip
        self.effective = _with(self.effective, key, fit.name)
        exact = re.compile(rf"^\s*{re.escape(fit.name)}\s*$", re.IGNORECASE)
        return scope.get_by_role(role, name=exact).filter(visible=True).first  # type: ignore[arg-type]

    async def landmark(self, step: int, role: str, scope: Page | Locator | None = None) -> Locator:
        """Wait until a control of `role` shows (a screen drawn), failing fast on a sign-on page
        (SignOnShown) or a server error."""
        where = scope or self.page
        shown = where.get_by_role(role).filter(visible=True)  # type: ignore[arg-type]
        try:
            await wait_for_landmark(self.page, self.labels, shown)
        except PlaywrightTimeoutError as exc:
            raise StepFailed(step, "doctor", f"no {role} showed within the timeout") from exc
        except PortalServerError as exc:
            raise StepFailed(step, "doctor", str(exc)) from exc
        return shown

    # capturing

    def _register(self, kind: Kind, *values: str | None) -> None:
        if self.capture is not None:
            self.capture.redactor.add_all(kind, values)

    async def _read(self, name: str) -> dict[str, Any] | None:
        """What the agent's reader returns on this screen, for the capture (None: not read)."""
        if self.capture is None:
            return None
        try:
            return await read_screen(name, self.page, self.effective)
        except (PageError, PlaywrightError, AssertionError) as exc:
            self.capture.note(f"The {name} reader failed: {first_line(exc)}")
            return None

    async def _capture(self, step: int, name: str, read: dict[str, object] | None = None) -> None:
        """Capture the screen as the walk checked it, with how each check since the last capture
        found its control. A screen that cannot be captured is a note, never the walk's end."""
        if self.capture is None:
            return
        checks, self._captured = self.checks[self._captured :], len(self.checks)
        found = {
            c.key: c.status if c.status in ("substituted", "missing") else str(c.how or c.status)
            for c in checks
        }
        try:
            await capture_screen(self.capture, self.page, step, name, found=found, read=read)
        except PlaywrightError as exc:
            self.capture.note(f"Step {step} ({name}) not captured: {first_line(exc)}")

    # steps

    async def walk(self) -> None:
        self._register(Kind.ORDER, self.order)
        if self.search_for is not None:
            self._register(SEARCHED_KIND[self.search_for[0]], self.search_for[1])
        try:
            await self.sign_in()
            await self.search()
            await self.open_order()
            assign = await self.assignments()
            if assign is not None:
                await self.dialog(assign)
        except _Stop as stop:
            self.notes.append(f"Stopped: {stop}")
        self.unchecked(2, HEADER_KEYS, "not_reached", "the walk stopped before")
        self.unchecked(3, [("view_assignments", "link")], "not_reached", "the walk stopped before")
        self.unchecked(4, ASSIGNMENT_KEYS, "not_reached", "the walk stopped before")
        self.unchecked(5, DIALOG_KEYS, "not_reached", "the walk stopped before")
        self.unchecked(
            9,
            AFTER_ASSIGN_KEYS,
            "not_checked",
            "shown only after Assign, which the doctor never clicks",
        )

    async def sign_in(self) -> None:
        """Step 1 as the flows sign in (flows.signin), except that any visible search box shows
        the portal is open: its name is one of those checked."""
        self._register(Kind.EMAIL, await ensure_signed_in(self.session, any_search_box=True))
        await self._signed_in_as()

    async def _signed_in_as(self) -> None:
        """The "Signed in as ..." text: not a control, and the agent does without it."""
        label = self.labels.signed_in_as
        text = self.page.get_by_text(name_matcher(label)).filter(visible=True)
        if not await _shows(text, GRACE_MS):
            self._record(1, "signed_in_as", "text", False, "missing", note="not shown")
            return
        shown = normalize(await text.first.inner_text())
        self._record(1, "signed_in_as", "text", False, "found", shown=shown, how=FoundBy.WORDS)
        who = re.sub(rf"^\s*{re.escape(label)}\s*:?\s*", "", shown, flags=re.IGNORECASE)
        self._register(Kind.EMAIL if "@" in who else Kind.PERSON, who)

    async def search(self) -> None:
        """Step 2: the header's search box and Search button; search the order."""
        box = await self.probe(2, "global_search", "searchbox", self.page)
        holder = self.page.get_by_role("search").filter(visible=True)
        scope: Page | Locator = holder.first if await holder.count() == 1 else self.page
        button = await self.probe(2, "search", "button", scope, whole=True)
        assert box is not None and button is not None
        await box.fill(self.order)
        await button.click()

    async def open_order(self) -> None:
        """Step 3: the results (or the order itself), Order Details and its assignments link."""
        lab = self.labels
        results = self.page.get_by_role("heading", name=name_matcher(lab.search_results_heading))
        details = self.page.get_by_role("heading", name=name_matcher(lab.order_details_heading))
        nothing = self.page.get_by_text(name_matcher(lab.no_results))
        # Whichever shows first; none in time is judged by the probes below.
        await _shows(results.or_(details).or_(nothing).filter(visible=True), None)
        if await nothing.filter(visible=True).count():
            raise _Stop(
                f'the global search for {self.order} said "{lab.no_results}": give an order '
                "this user can see"
            )
        if await details.filter(visible=True).count():
            self._record(2, "search_results_heading", "heading", False, "not_checked",
                         note="the portal opened the single match directly")  # fmt: skip
        else:
            await self.probe(2, "search_results_heading", "heading", self.page)
            if self.capture is not None:
                await self._register_matches()
                await self._capture(2, "search_results")
            number = re.compile(rf"(?<![0-9]){any_spelling(self.order)}(?![0-9])")
            match = self.page.get_by_role("link", name=number)
            try:
                # Order Details may open in a new tab: the walk goes on there, as the flow does.
                shown = await follow_click(match.filter(visible=True).first, details, self.labels)
            except PlaywrightError as exc:
                raise _Stop(f"the results list no link named {self.order}") from exc
            await self.session.follow(shown)
            self.page = self.session.page
        await self.probe(3, "order_details_heading", "heading", self.page, wait_ms=None)
        link = await self.probe(3, "view_assignments", "link", self.page)
        assert link is not None
        if self.capture is not None:
            read = await self._read("order_details")
            if read is not None:
                self._register(
                    Kind.ORDER, str(read["sales_order"] or ""), str(read["web_order"] or "")
                )
            await self._capture(3, "order_details", read)
        await link.click()

    async def _register_matches(self) -> None:
        """The order numbers the search results list (for the capture)."""
        try:
            matches = await SearchResultsPage(self.page, self.effective).matches()
        except (PageError, PlaywrightError, AssertionError) as exc:
            if self.capture is not None:
                self.capture.note(f"The search results were not read: {first_line(exc)}")
            return
        for match in matches:
            self._register(Kind.ORDER, match.number, *match.also)

    async def assignments(self) -> Locator | None:
        """Step 4: the assignment screen, its columns and Assign Smart Account (None: disabled)."""
        await self.probe(4, "assignment_heading", "heading", self.page, wait_ms=None)
        await self.landmark(4, "columnheader")
        for key in ("column_line", "column_smart_account", "column_virtual_account"):
            await self.probe(4, key, "columnheader", self.page)
        await self.probe(4, "column_product", "columnheader", self.page, needed=False)
        button = await self.probe(4, "assign_smart_account", "button", self.page, whole=True)
        assert button is not None
        self.current = await self._current_account()
        if self.capture is not None:
            read = await self._read("assignments")
            for line in read["lines"] if read is not None else []:
                self._register(Kind.DOMAIN, line["domain"])
                self._register(Kind.ACCOUNT, line["smart_account"])
                self._register(Kind.VA, line["virtual_account"])
            await self._capture(4, "assignments", read)
        if await button.is_disabled() or await button.get_attribute("aria-disabled") == "true":
            why = self.page.get_by_text(name_matcher(self.labels.assignment_unavailable))
            shown = await why.count()
            reason = normalize(await why.first.inner_text()) if shown else "no reason shown"
            self.notes.append(
                f"Assign Smart Account is disabled for order {self.order} ({reason}); the dialog "
                "was not checked: run the doctor on an order that can be assigned."
            )
            self.unchecked(5, DIALOG_KEYS, "not_checked", "Assign Smart Account is disabled")
            return None
        return button

    async def _current_account(self) -> AssignmentRow | None:
        """The Smart Account a line of the order shows now, when the screen shows one."""
        screen = SmartAccountAssignmentPage(self.page, self.effective)
        try:
            rows = await screen.lines()
        except (PageError, PlaywrightError, AssertionError) as exc:
            self.notes.append(f"The order's lines could not be read: {first_line(exc)}")
            return None
        named = [row for row in rows if row.domain] or [row for row in rows if row.smart_account]
        return named[0] if named else None

    async def dialog(self, assign: Locator) -> None:
        """Steps 5-8: open the dialog, check its controls, search and pick an account, check the
        Virtual Account drop-down and Assign, then Cancel."""
        await assign.click()
        await self.landmark(5, "dialog")
        dialog = await self.probe(5, "assign_dialog", "dialog", self.page)
        assert dialog is not None
        try:
            await self._dialog_controls(dialog)
        finally:
            await self._cancel(dialog)

    async def _dialog_controls(self, dialog: Locator) -> None:
        await self.probe(6, "select_existing_account", "combobox", dialog)
        offered = await DropDown(dialog, self.effective.select_existing_account).options()
        for key in ("by_domain", "by_account_name", "by_email"):
            self._option(6, key, offered)
        await self.probe(6, "search_value", "textbox", dialog)
        await self.probe(6, "search", "button", dialog, whole=True)
        await self._capture(6, "assign_dialog")
        if await self._pick_account():
            await self.probe(7, "virtual_account_name", "combobox", dialog, wait_ms=None)
            await self._virtual_accounts(dialog)
            await self.probe(8, "assign", "button", dialog, whole=True)
            await self._capture(7, "account_selected")
        else:
            self.unchecked(
                7,
                [("virtual_account_name", "combobox"), ("assign", "button")],
                "not_checked",
                "shown once an account is picked, and none was",
            )

    def _target(self) -> tuple[SearchBy, str] | None:
        """What to search: the account asked for, else the order's current one."""
        if self.search_for is not None:
            return self.search_for
        if self.current is None:
            return None
        if self.current.domain:
            return SearchBy.DOMAIN, self.current.domain
        return SearchBy.ACCOUNT_NAME, self.current.smart_account or ""

    async def _pick_account(self) -> bool:
        """Search the account (by the option the walk found) and pick it, as the flow does;
        whether one account was picked."""
        target = self._target()
        if target is None or not target[1]:
            self.notes.append(
                "No account searched: give --domain, --account-name or --email, or an order "
                "whose lines show their Smart Account."
            )
            return False
        by, value = target
        dialog = AssignDialog(self.page, self.effective)
        try:
            accounts = await dialog.search_accounts(by, value)
        except (PageError, PlaywrightError, AssertionError) as exc:
            self.notes.append(f"The search for {value} did not complete: {first_line(exc)}")
            return False
        if self.capture is not None:
            register_accounts(self.capture.redactor, accounts)
            await self._capture(6, "account_results", await self._read("account_results"))
        if by is SearchBy.DOMAIN:
            exact = [a for a in accounts if same_text(a.domain, value)]
        elif by is SearchBy.ACCOUNT_NAME:
            exact = [a for a in accounts if same_text(a.account_name, value)]
        else:
            exact = accounts
        if len(exact) != 1:
            self.notes.append(
                f"The search for {value} found {len(exact)} matching accounts "
                f"({', '.join(a.account_name for a in accounts) or 'none'}); none was picked."
            )
            return False
        try:
            await dialog.select_account(exact[0])
        except (PageError, PlaywrightError, AssertionError) as exc:
            self.notes.append(f"{exact[0].account_name} could not be picked: {first_line(exc)}")
            return False
        self.notes.append(f"Picked {exact[0].account_name} ({exact[0].domain}) to go on.")
        return True

    def _option(self, step: int, key: str, offered: list[str]) -> None:
        label = getattr(self.labels, key)
        if any(name_matcher(label, whole=True).match(text) for text in offered):
            match = next(t for t in offered if name_matcher(label, whole=True).match(t))
            self._record(step, key, "option", True, "found", shown=match, how=FoundBy.WORDS)
            return
        candidates = [c for c in ranked(label, offered) if not self.claimed(key, c.name)]
        fit = clear_fit(candidates)
        if fit is None:
            self._record(step, key, "option", True, "missing", candidates=candidates[:3],
                         note="no clear substitute")  # fmt: skip
            return
        self._record(step, key, "option", True, "substituted", shown=fit.name,
                     candidates=candidates[:3], note=f'went on with "{fit.name}"')  # fmt: skip
        self.effective = _with(self.effective, key, fit.name)

    async def _virtual_accounts(self, dialog: Locator) -> None:
        """List the Virtual Accounts the picked account offers."""
        try:
            names = await DropDown(dialog, self.effective.virtual_account_name).options()
        except (PageError, PlaywrightError, AssertionError) as exc:
            self.notes.append(f"Virtual Accounts not listed: {first_line(exc)}")
            return
        self._register(Kind.VA, *names)
        self.notes.append(f"It offers the Virtual Accounts {', '.join(names) or '(none)'}.")

    async def _cancel(self, dialog: Locator) -> None:
        """Step 8: leave the dialog by Cancel (or Close), changing nothing."""
        lab = self.labels
        button = dialog.get_by_role("button", name=any_of((lab.cancel, lab.close)))
        if await button.filter(visible=True).count():
            name = await shown_name(button) or lab.cancel
            key = "close" if name_matcher(lab.close, whole=True).match(name) else "cancel"
            self._record(8, key, "button", True, "found", shown=name, how=FoundBy.ROLE)
            await button.filter(visible=True).first.click()
        else:
            found = await self.probe(8, "cancel", "button", dialog, whole=True)
            assert found is not None
            await found.click()
        await dialog.wait_for(state="hidden")


def _with(words: Labels, key: str, name: str) -> Labels:
    """The labels with one string label replaced (the substitutes are string labels)."""
    return replace(words, **{key: name})  # type: ignore[arg-type]


HEADER_KEYS = [("global_search", "searchbox"), ("search", "button")]
ASSIGNMENT_KEYS = [
    ("assignment_heading", "heading"),
    ("column_line", "columnheader"),
    ("column_smart_account", "columnheader"),
    ("column_virtual_account", "columnheader"),
    ("assign_smart_account", "button"),
]
DIALOG_KEYS = [
    ("assign_dialog", "dialog"),
    ("select_existing_account", "combobox"),
    ("by_domain", "option"),
    ("by_account_name", "option"),
    ("by_email", "option"),
    ("search_value", "textbox"),
    ("virtual_account_name", "combobox"),
    ("assign", "button"),
]
# What a value searched in the dialog is, for the capture's placeholders.
SEARCHED_KIND = {SearchBy.DOMAIN: Kind.DOMAIN, SearchBy.ACCOUNT_NAME: Kind.ACCOUNT,
                 SearchBy.EMAIL: Kind.EMAIL}  # fmt: skip
AFTER_ASSIGN_KEYS = [("accept_terms", "checkbox"), ("submit", "button")]
# The kind of control each catalogue entry names: a substitute is never a name another entry of
# the same kind holds (a combobox "Select an Existing Account" is not the Virtual Account's).
KINDS: dict[str, str] = dict(
    (
        *HEADER_KEYS,
        *ASSIGNMENT_KEYS,
        *DIALOG_KEYS,
        *AFTER_ASSIGN_KEYS,
        ("column_product", "columnheader"),
        ("search_results_heading", "heading"),
        ("order_details_heading", "heading"),
        ("view_assignments", "link"),
        ("cancel", "button"),
        ("close", "button"),
        ("yes", "button"),
        ("no", "button"),
    )
)


async def diagnose(
    session: PortalSession,
    order: str,
    search: tuple[SearchBy, str] | None = None,
    capture: CaptureBundle | None = None,
) -> DoctorReport:
    """Steps 1-8 read-only on ORDER: every label the procedure needs, found or not, and how.

    `search`: the account to search and pick in the dialog (by, value); by default the order's
    current Smart Account, as its lines show it. `capture`: a bundle that gets each screen the
    walk visits after sign-on, with what was read there registered (written by its owner).
    """
    doctor = Doctor(session, order, search, capture)
    await doctor.walk()
    return DoctorReport(
        portal=session.base_url, order=order, checks=doctor.checks, notes=doctor.notes
    )


# --- output ---------------------------------------------------------------------------------

_STYLE = {
    "found": "green",
    "substituted": "yellow",
    "missing": "red",
    "not_checked": "dim",
    "not_reached": "red",
}


def print_report(console: Console, report: DoctorReport) -> None:
    """The report as a table a person can read, then its notes and what to do."""
    table = Table(title=f"ccw-agent doctor: order {report.order} on {report.portal}")
    # A label's key is what a label file names, so it is never cut; on a narrow terminal the
    # other cells wrap (long words broken) rather than end in "…".
    table.add_column("Step", justify="right", no_wrap=True)
    table.add_column(
        "Label", no_wrap=True, min_width=max((len(c.key) for c in report.checks), default=5)
    )
    for column in ("Role", "Catalogue name", "Result", "On screen"):
        table.add_column(column, overflow="fold")
    for c in report.checks:
        result = c.status.replace("_", " ") + ("" if c.needed else " (optional)")
        if c.status in ("missing", "substituted"):
            screen = "; ".join(f"{x.name} ({x.score:.2f})" for x in c.candidates) or c.note
            if c.status == "substituted":
                screen = f"{c.note}; closest: {screen}"
        elif c.status in ("not_checked", "not_reached"):
            screen = c.note
        else:
            screen = c.shown or ""
        table.add_row(
            str(c.step), c.key, c.role, c.label, f"[{_STYLE[c.status]}]{result}[/]", screen
        )
    console.print(table)
    for note in report.notes:
        console.print(note, highlight=False)
    missing = [c for c in report.missing() if c.needed]
    if report.ok:
        console.print("[green]Every label the procedure needs is on the screen.[/]")
    elif missing:
        console.print(
            f"[red]{len(missing)} label(s) missing.[/] --write-overrides PATH writes a label file "
            "for CCW_LABELS_FILE with the names found on screen."
        )
    else:
        console.print("[red]The walk did not reach every screen the procedure needs.[/]")


def overrides_toml(report: DoctorReport) -> str:
    """The label file that makes the agent use the names this portal shows."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Labels for {report.portal}, from `ccw-agent doctor {report.order}` on {stamp}.",
        "# Use it with CCW_LABELS_FILE; each entry replaces one name of the catalogue.",
    ]
    for c in report.checks:
        if c.status == "substituted" and c.shown:
            lines += ["", f'# replaces "{c.label}" ({c.role}, step {c.step})']
            lines.append(f"{c.key} = {json.dumps(c.shown, ensure_ascii=False)}")
        elif c.status == "missing" and c.needed:
            lines += [
                "",
                f'# "{c.label}" ({c.role}, step {c.step}) is missing; no clear substitute',
            ]
            for x in c.candidates:
                lines.append(f"# {c.key} = {json.dumps(x.name, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def write_overrides(report: DoctorReport, path: Path) -> int:
    """Write the label file (0600) and check it with the loader CCW_LABELS_FILE uses; the
    number of labels it sets."""
    write_private(path, overrides_toml(report).encode())
    return len(read_label_file(path))
