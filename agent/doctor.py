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
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from pydantic import BaseModel, computed_field
from rich.console import Console
from rich.table import Table

from agent.files import write_private
from flows.session import PortalSession
from pages.assign_dialog import AssignDialog, SearchBy
from pages.assignments import SmartAccountAssignmentPage
from pages.base import wait_for_landmark
from pages.errors import (
    LoginFailed,
    LoginRequired,
    PageError,
    PortalServerError,
    SignOnShown,
    StepFailed,
    first_line,
)
from pages.labels import Labels, any_of, name_matcher, normalize, read_label_file, wordings
from pages.popups import install_popup_handlers
from pages.secrets import one_time_code
from pages.signon import AfterVerify, SignOnPage
from pages.widgets import read_options

# not_checked: a label the doctor never looks at (shown only after Assign); not_reached: the
# walk stopped before the screen that shows it.
Status = Literal["found", "substituted", "missing", "not_checked", "not_reached"]

# A screen's controls render with it; once its landmark shows, a name absent this long is absent.
GRACE_MS = 1_500.0
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


async def _shows(control: Locator, wait_ms: float | None) -> bool:
    """Whether `control` shows within `wait_ms` (None: the page's default timeout)."""
    try:
        await control.first.wait_for(timeout=wait_ms)
    except PlaywrightTimeoutError:
        return False
    return True


# --- the walk -------------------------------------------------------------------------------


class _Stop(Exception):
    """The walk cannot go on (a needed control missing without a clear substitute)."""


class Doctor:
    """One read-only walk through steps 1-8 on a signed-in (or to be signed-in) page."""

    def __init__(self, session: PortalSession, order: str) -> None:
        self.session = session
        self.page = session.page
        self.labels = session.labels
        self.order = order
        self.checks: list[LabelCheck] = []
        self.notes: list[str] = []
        # The labels with every substitute taken so far, for the page objects the walk reuses.
        self.effective: Labels = session.labels
        self.domain: str | None = None

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

        It is given `wait_ms` to show (None: the page's default timeout, for a control that is
        the landmark of a screen still loading). Records the check either way. A control that is
        missing with no clear substitute ends the walk (`_Stop`) when it is needed.
        """
        label = str(getattr(self.labels, key))
        name = name_matcher(getattr(self.labels, key), whole=whole)
        control = scope.get_by_role(role, name=name).filter(visible=True)  # type: ignore[arg-type]
        if await _shows(control, wait_ms):
            shown = await shown_name(control) or label
            self._record(step, key, role, needed, "found", shown=shown)
            return control.first
        candidates = ranked(getattr(self.labels, key), await snapshot_names(scope, role))
        fit = clear_fit(candidates)
        if fit is not None and role in CLICKED_ROLES and changes_something(label, fit.name):
            # The walk clicks what it goes on with: never a control whose name says it removes,
            # transfers or confirms something ("Unassign Smart Account" for "Assign ...").
            fit = None
        closest = candidates[:CANDIDATES_SHOWN]
        if fit is None:
            note = "no control of this role" if not candidates else "no clear substitute"
            self._record(step, key, role, needed, "missing", candidates=closest, note=note)
            if needed:
                raise _Stop(f'"{label}" ({role}) is not on the screen: {note}')
            return None
        only = f" (the only {role} there)" if len(candidates) == 1 else ""
        self._record(
            step, key, role, needed, "substituted", shown=fit.name, candidates=closest,
            note=f'went on with "{fit.name}"{only}',
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

    # steps

    async def walk(self) -> None:
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
        """Step 1: open the portal; sign in on the sign-on page when it shows."""
        await install_popup_handlers(self.page, self.labels)
        await self.page.goto(self.session.base_url)
        try:
            await self.landmark(1, "searchbox")
        except SignOnShown:
            await self._sign_on()
        await self._signed_in_as()

    async def _signed_in_as(self) -> None:
        """The "Signed in as ..." text: not a control, and the agent does without it."""
        label = self.labels.signed_in_as
        text = self.page.get_by_text(name_matcher(label)).filter(visible=True)
        if not await _shows(text, GRACE_MS):
            self._record(1, "signed_in_as", "text", False, "missing", note="not shown")
            return
        shown = normalize(await text.first.inner_text())
        self._record(1, "signed_in_as", "text", False, "found", shown=shown)

    async def _sign_on(self) -> None:
        """flows.signin's sign-in, except that "signed in" is any search box (its name is one
        of those checked, so the flows' named landmark cannot be waited for here)."""
        credentials = self.session.credentials
        if credentials is None:
            raise LoginRequired("the portal asks for a sign-in and no credentials are configured")
        signon = SignOnPage(self.page, self.labels, before_typing=self.session.sign_on_hosts.check)
        signon.signed_in = self.page.get_by_role("searchbox").filter(visible=True)
        failure: str | None = None
        async with self.session.secret_section():
            try:
                await signon.wait()
                if await signon.asks_for_email():
                    await signon.submit_email(credentials.username)
                after = await signon.submit_password(credentials.password.get_secret_value())
                if after is AfterVerify.CODE_REQUESTED:
                    if credentials.totp_secret is None:
                        raise LoginFailed(
                            "the sign-on page asks for a one-time code and no TOTP secret is set"
                        )
                    code = one_time_code(credentials.totp_secret.get_secret_value())
                    after = await signon.submit_code(code)
                if after is AfterVerify.REJECTED:
                    refusal = await signon.error_text()
                    raise LoginFailed(refusal or "the sign-on page refused the sign-in")
                await self.landmark(1, "searchbox")
                if self.session.on_signed_in is not None:
                    await self.session.on_signed_in()
            except (PlaywrightError, AssertionError, SignOnShown, PageError) as exc:
                await signon.forget_typed()
                failure = str(exc) if isinstance(exc, PageError) else first_line(exc)
            except BaseException:
                await signon.forget_typed()
                raise
        if failure is not None:
            raise StepFailed(1, "sign_in", f"signing in did not complete: {failure}")

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
            digits = self.order.lstrip("0")
            match = self.page.get_by_role("link", name=re.compile(rf"(?<!\d)0*{digits}(?!\d)"))
            try:
                await match.filter(visible=True).first.click()
            except PlaywrightError as exc:
                raise _Stop(f"the results list no link named {self.order}") from exc
        await self.probe(3, "order_details_heading", "heading", self.page, wait_ms=None)
        link = await self.probe(3, "view_assignments", "link", self.page)
        assert link is not None
        await link.click()

    async def assignments(self) -> Locator | None:
        """Step 4: the assignment screen, its columns and Assign Smart Account (None: disabled)."""
        await self.probe(4, "assignment_heading", "heading", self.page, wait_ms=None)
        await self.landmark(4, "columnheader")
        for key in ("column_line", "column_smart_account", "column_virtual_account"):
            await self.probe(4, key, "columnheader", self.page)
        await self.probe(4, "column_product", "columnheader", self.page, needed=False)
        button = await self.probe(4, "assign_smart_account", "button", self.page, whole=True)
        assert button is not None
        self.domain = await self._current_domain()
        if await button.is_disabled() or await button.get_attribute("aria-disabled") == "true":
            why = self.page.get_by_text(name_matcher(self.labels.assignment_unavailable))
            shown = await why.count()
            reason = normalize(await why.first.inner_text()) if shown else "no reason shown"
            self.notes.append(
                f"Assign Smart Account is disabled for order {self.order} ({reason}); the dialog "
                "was not checked: run the doctor on an order that can be assigned."
            )
            return None
        return button

    async def _current_domain(self) -> str | None:
        """The Domain Identifier a line of the order shows, when the screen shows one."""
        screen = SmartAccountAssignmentPage(self.page, self.effective)
        try:
            rows = await screen.lines()
        except (PageError, PlaywrightError, AssertionError) as exc:
            self.notes.append(f"The order's lines could not be read: {first_line(exc)}")
            return None
        return next((row.domain for row in rows if row.domain), None)

    async def dialog(self, assign: Locator) -> None:
        """Steps 5-8: open the dialog, check its controls and options, then Cancel."""
        await assign.click()
        await self.landmark(5, "dialog")
        dialog = await self.probe(5, "assign_dialog", "dialog", self.page)
        assert dialog is not None
        try:
            await self._dialog_controls(dialog)
        finally:
            await self._cancel(dialog)

    async def _dialog_controls(self, dialog: Locator) -> None:
        parameter = await self.probe(6, "select_existing_account", "combobox", dialog)
        assert parameter is not None
        offered = await read_options(parameter)
        for key in ("by_domain", "by_account_name", "by_email"):
            self._option(6, key, offered)
        await self.probe(6, "search_value", "textbox", dialog)
        await self.probe(6, "search", "button", dialog, whole=True)
        await self.probe(7, "virtual_account_name", "combobox", dialog)
        await self.probe(7, "assign", "button", dialog, whole=True)
        await self._virtual_accounts()

    def _option(self, step: int, key: str, offered: list[str]) -> None:
        label = getattr(self.labels, key)
        if any(name_matcher(label, whole=True).match(text) for text in offered):
            match = next(t for t in offered if name_matcher(label, whole=True).match(t))
            self._record(step, key, "option", True, "found", shown=match)
            return
        candidates = ranked(label, offered)
        fit = clear_fit(candidates)
        if fit is None:
            self._record(step, key, "option", True, "missing", candidates=candidates[:3],
                         note="no clear substitute")  # fmt: skip
            return
        self._record(step, key, "option", True, "substituted", shown=fit.name,
                     candidates=candidates[:3], note=f'went on with "{fit.name}"')  # fmt: skip
        self.effective = _with(self.effective, key, fit.name)

    async def _virtual_accounts(self) -> None:
        """Search the order's own Smart Account by domain and list its Virtual Accounts."""
        if self.domain is None:
            self.notes.append(
                "Virtual Accounts not listed: the order's lines show no Domain Identifier to "
                "search for."
            )
            return
        # The labels with the substitutes taken: the dialog finds the search option by them.
        dialog = AssignDialog(self.page, self.effective)
        try:
            accounts = await dialog.search_accounts(SearchBy.DOMAIN, self.domain)
            account = next((a for a in accounts if a.domain == self.domain), None)
            if account is None:
                self.notes.append(f"The search for {self.domain} found no account of that domain.")
                return
            await dialog.select_account(account)
            names = await dialog.virtual_accounts()
        except (PageError, PlaywrightError, AssertionError) as exc:
            self.notes.append(f"Virtual Accounts not listed: {first_line(exc)}")
            return
        self.notes.append(
            f"{account.account_name} ({self.domain}) offers the Virtual Accounts "
            f"{', '.join(names) or '(none)'}."
        )

    async def _cancel(self, dialog: Locator) -> None:
        """Step 8: leave the dialog by Cancel (or Close), changing nothing."""
        lab = self.labels
        button = dialog.get_by_role("button", name=any_of((lab.cancel, lab.close)))
        if await button.filter(visible=True).count():
            name = await shown_name(button) or lab.cancel
            key = "close" if name_matcher(lab.close, whole=True).match(name) else "cancel"
            self._record(8, key, "button", True, "found", shown=name)
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
AFTER_ASSIGN_KEYS = [("accept_terms", "checkbox"), ("submit", "button")]


async def diagnose(session: PortalSession, order: str) -> DoctorReport:
    """Steps 1-8 read-only on ORDER: every label the procedure needs, found or not."""
    doctor = Doctor(session, order)
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
    for column in ("Step", "Label", "Role", "Catalogue name", "Result", "On screen"):
        table.add_column(column)
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
