"""Steps 1 to 10: assign one order's eligible lines to a Smart Account and virtual account."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from structlog.contextvars import bound_contextvars

from flows.matching import (
    AccountChoice,
    choose_account,
    choose_virtual_account,
    describe,
    lines_on_target,
)
from flows.models import (
    AssignRequest,
    AssignResult,
    LineAssignment,
    OrderView,
    Outcome,
    SearchBy,
    SmartAccountCandidate,
)
from flows.session import OrderState, PortalSession
from flows.signin import ensure_signed_in
from flows.steps import read_step, settle, step, with_resignin
from flows.view import NotFound, Opened, OrderFacts, open_assignments, read_view
from pages.assign_dialog import AccountRow, AssignDialog
from pages.assignments import SmartAccountAssignmentPage
from pages.base import at_once, sign_on_showing
from pages.errors import (
    PageError,
    PortalError,
    PortalServerError,
    SignOnShown,
    StepFailed,
    first_line,
)
from pages.labels import same_text

INTERNAL_DOMAIN = "@cisco.com"
# Step 9 ends with Submit opening the confirmation; step 10's Yes is the one irreversible click.
SUBMIT_STEP = 9
# Looks at the assignment after a submission whose outcome is uncertain, at the least: the screen
# as the submission left it, then reloaded twice (see _verify).
MIN_LOOKS = 3

T = TypeVar("T")
log = structlog.get_logger()


async def assign_smart_account(session: PortalSession, request: AssignRequest) -> AssignResult:
    """Run steps 1-10 for one order and return what happened, with the evidence read.

    Business outcomes are results; system failures raise PortalError (StepFailed,
    PortalServerError), LoginRequired or LoginFailed. Every attempt re-reads the order before
    acting, so calling this again after a failure never submits twice.
    """
    started = time.perf_counter()
    attempt = _Attempt(session, request)
    # This order's state from its start (no Yes yet); the caller's deadline stays.
    session.order = OrderState(deadline=session.order.deadline)
    with bound_contextvars(order=request.order_number):
        result = await with_resignin(session, attempt.run)
    session.screen_reusable = True
    return result.model_copy(update={"duration_s": time.perf_counter() - started})


class NotTaken(StepFailed):
    """After an unconfirmed submission, every look showed the order exactly as before it."""

    def __init__(self, detail: str, view: OrderView) -> None:
        super().__init__(10, "verify", detail)
        self.view = view


class _Attempt:
    """One pass through the steps, from signing in to the verified result."""

    def __init__(self, session: PortalSession, request: AssignRequest) -> None:
        self.session = session
        self.request = request
        self.before: OrderView | None = None
        self.candidates: tuple[SmartAccountCandidate, ...] = ()
        self.offered: tuple[str, ...] = ()
        self.resubmits_left = session.resubmits
        self.not_taken: list[str] = []

    async def run(self) -> AssignResult:
        request = self.request
        if self.session.order.yes_clicked:
            # The session expired after a Yes: starting over could submit again. Only looks now.
            raise StepFailed(
                10,
                "confirm",
                "the session expired after Yes was clicked for this order; a new attempt only "
                "looks at the order",
            )
        async with self._step(1, "sign_in"):
            email = await ensure_signed_in(self.session)
        opened = await open_assignments(self.session, request.order_number)
        if isinstance(opened, NotFound):
            return self._result(Outcome.ORDER_NOT_FOUND, opened.detail)
        self.before = opened.view
        claim_order = self.session.hooks.claim_order
        if claim_order is not None:
            conflict = await claim_order(opened.view.sales_order, request.order_number)
            if conflict is not None:
                return self._result(Outcome.ORDER_CONFLICT, conflict)
        if not request.allow_internal and not request.dry_run:
            if not email:
                # The rule cannot be checked, so it is not assumed to pass.
                return self._result(
                    Outcome.REFUSED_INTERNAL_USER,
                    "The portal does not show who is signed in and no CCW_USERNAME is set, so "
                    "the agent cannot tell whether this is a Cisco-internal account; set "
                    "CCW_USERNAME to the signed-in email. Nothing was clicked.",
                )
            if _is_internal(email):
                return self._result(
                    Outcome.REFUSED_INTERNAL_USER,
                    f"Signed in as {email}, a Cisco-internal account: internal users open a "
                    "case instead of assigning customers' orders; nothing was clicked.",
                )
        if opened.view.assign_disabled_reason is not None:
            return self._result(Outcome.NOT_ELIGIBLE, opened.view.assign_disabled_reason)
        eligible = [line for line in opened.view.lines if line.eligible]
        if not eligible:
            reasons = "; ".join(f"{line.line}: {line.eligibility}" for line in opened.view.lines)
            return self._result(Outcome.NOT_ELIGIBLE, f"No line is eligible ({reasons}).")
        if self._known_on_target(eligible):
            return self._already(eligible)
        return await self._assign(opened, eligible)

    async def _assign(self, opened: Opened, eligible: list[LineAssignment]) -> AssignResult:
        request = self.request
        screen = opened.screen
        dialog = await read_step(
            self.session, 5, "open_assign_dialog", request.order_number, screen.open_assign_dialog
        )
        # Each step's first attempt goes on in the dialog the step before left open; a re-run
        # asks the screen for it (a recovery may have closed it, and it is opened again).
        searches = 0

        async def find() -> tuple[list[AccountRow], AccountChoice, bool]:
            nonlocal searches
            searches += 1
            return await self._find_account(screen, eligible, dialog if searches == 1 else None)

        rows, choice, already = await self._read_step(6, "search_smart_account", find)
        self.candidates = tuple(
            SmartAccountCandidate(account_name=r.account_name, domain=r.domain, status=r.status)
            for r in rows
        )
        account = choice.account
        if account is None:
            return await self._give_up(screen, 6, choice.outcome or Outcome.FAILED, choice.detail)
        if not same_text(account.status, self.session.labels.status_active):
            if not request.allow_pending:
                # Pending, "Pending Activation" or any other word would leave the order on
                # Smart Account Hold, or may: refuse rather than guess.
                return await self._give_up(
                    screen,
                    6,
                    Outcome.SMART_ACCOUNT_PENDING,
                    f"{describe([account])} is {account.status}, not Active: assigning it would "
                    "leave the order on Smart Account Hold.",
                )
        if already:
            await self._cancel(screen, 6)
            return self._already(eligible)
        reruns = 0

        async def select() -> tuple[str, ...]:
            # A re-run starts from a fresh search: the failed load may have left the radio
            # ticked with no list behind it, and ticking it again would load nothing.
            nonlocal reruns
            reruns += 1
            current = dialog if reruns == 1 else await screen.open_assign_dialog()
            if reruns > 1:
                await self._search(screen)
            await current.select_account(account)
            # Left open for step 8's choice (a give-up cancels the dialog, which closes it).
            return tuple(await current.virtual_accounts(keep_open=True))

        self.offered = await self._read_step(7, "select_smart_account", select)
        if not self.offered:
            raise StepFailed(
                8,
                "choose_virtual_account",
                f"the {self.session.labels.virtual_account_name} list offers nothing to read",
            )
        virtual_account = choose_virtual_account(self.offered, request.virtual_account)
        alike = [va for va in self.offered if same_text(va, request.virtual_account)]
        if virtual_account is None and len(alike) > 1:
            return await self._give_up(
                screen,
                8,
                Outcome.FAILED,
                f"{account.account_name} offers {len(alike)} virtual accounts named like "
                f"{request.virtual_account!r} ({', '.join(alike)}); give the name in its exact "
                "case to pick one. Nothing was submitted.",
            )
        if virtual_account is None:
            return await self._give_up(
                screen,
                8,
                Outcome.VIRTUAL_ACCOUNT_NOT_FOUND,
                f"{account.account_name} offers no virtual account {request.virtual_account!r}; "
                f"it offers: {', '.join(self.offered)}.",
            )
        chosen, choices = virtual_account, 0

        async def choose() -> None:
            # A re-run selects the account again first: the failure may have reset the dialog.
            nonlocal choices
            choices += 1
            current = dialog if choices == 1 else await screen.open_assign_dialog()
            if choices > 1:
                await select()
            await current.choose_virtual_account(chosen)
            await current.wait_assign_enabled()

        await self._read_step(8, "choose_virtual_account", choose)
        target = f"{account.account_name} ({account.domain}) / {virtual_account}"
        if request.dry_run:
            await self._cancel(screen, 8)
            return self._result(
                Outcome.WOULD_ASSIGN,
                f"Lines {_numbers(eligible)} would move to {target}; Assign was enabled and the "
                "dialog was cancelled.",
            )
        async with self._step(8, "assign"):
            await dialog.assign()
        async with self._step(9, "accept_terms_and_submit"):
            confirmation = await dialog.accept_terms_and_submit()
        message: str | None = None
        error = ""
        timed_out = False
        async with self._step(10, "confirm", after_submit=True):

            async def at_yes() -> None:
                before_submit = self.session.hooks.before_submit
                if before_submit is not None:
                    await before_submit()  # if it raises, Yes is never clicked
                self.session.order.yes_clicked = True
                self.session.order.try_again_allowed = False

            await confirmation.confirm(at_yes)
            try:
                message = await screen.wait_for_success()
            except PortalServerError as exc:
                # The portal answered with its error: the submission may still have gone
                # through. From here on the agent only looks.
                error = first_line(exc)
                log.warning("submit_unconfirmed", error=error)
            except SignOnShown:
                # The sign-on page instead of an answer: the session expired around the Yes, and
                # the submission may or may not have reached the portal. As for an error: the
                # looks sign in again, and only the same proof lets Yes be clicked once more.
                error = "the sign-on page showed instead of the portal's answer"
                log.warning("submit_unconfirmed", error=error, signed_out=True)
            except (AssertionError, PlaywrightTimeoutError) as exc:
                # No answer in time is not an answer: a slow portal may still apply it, so this
                # never leads to a second Yes.
                error, timed_out = first_line(exc), True
                log.warning("submit_unconfirmed", error=error, timed_out=True)
        try:
            after = await with_resignin(
                self.session,
                lambda: self._verify(
                    screen, account, virtual_account, eligible, message, timed_out=timed_out
                ),
            )
        except NotTaken as refused:
            if self.resubmits_left <= 0 or timed_out or self.session.order.out_of_time():
                raise
            # Proven not taken: every look over the settle window showed the order exactly as
            # before. This is the one case where Yes is clicked again, a bounded number of times.
            self.resubmits_left -= 1
            self.not_taken.append(error or "no confirmation")
            # The last look reloaded the screen: an error offering "Try again" from here on
            # belongs to this pass's own reads, not to the submission.
            self.session.order.try_again_allowed = True
            log.warning("resubmitting", reason=str(refused))
            return await self._assign(Opened(screen, refused.view), eligible)
        if message:
            said = f"the portal said: {message}"
        elif timed_out:
            said = f"no answer came in time ({error}), and the re-read shows it went through"
        else:
            said = (
                f"the portal answered the submission with an error ({error}), and the re-read "
                "shows it went through"
            )
        if self.not_taken:
            said += (
                f" (submitted {len(self.not_taken) + 1} times: the earlier submission was "
                f"answered with an error ({'; '.join(self.not_taken)}) and the order still showed "
                "its earlier assignment after the settle window)"
            )
        return self._result(
            Outcome.ASSIGNED,
            f"Lines {_numbers(eligible)} now carry {target}; {said}",
            after=after,
        )

    async def _find_account(
        self,
        screen: SmartAccountAssignmentPage,
        eligible: list[LineAssignment],
        dialog: AssignDialog | None = None,
    ) -> tuple[list[AccountRow], AccountChoice, bool]:
        """Search, pick the one account the request names, and tell whether the lines carry it.
        `dialog`: the dialog known to be open (None: asked of the screen)."""
        rows = await self._search(screen, dialog)
        choice = choose_account(self.request, rows)
        if choice.outcome is Outcome.SMART_ACCOUNT_NOT_FOUND:
            await self._insist_on_words(screen, rows)
        account = choice.account
        if account is not None and not account.status:
            raise PageError(
                f"the results show {account.account_name} ({account.domain}) with no status "
                "the agent can read, so whether it is Active is unknown"
            )
        already = account is not None and await self._chosen_on_target(
            screen, rows, account, eligible
        )
        return rows, choice, already

    async def _insist_on_words(
        self, screen: SmartAccountAssignmentPage, rows: list[AccountRow]
    ) -> None:
        """A "not found" stands only on the portal's words: "No Smart Accounts found", or a
        list of accounts whose Domain Identifiers were all read. Else this is a failed read."""
        if not rows:
            if not await (await screen.open_assign_dialog()).says_no_accounts():
                raise PageError(
                    "the search shows no account and not "
                    f'"{self.session.labels.no_smart_accounts}" either'
                )
            return
        unread = [row.account_name for row in rows if not row.domain]
        if unread:
            raise PageError(
                f"the results list {', '.join(unread)} without a Domain Identifier the agent "
                "can read, so it cannot tell whether the account asked for is among them"
            )

    async def _search(
        self, screen: SmartAccountAssignmentPage, dialog: AssignDialog | None = None
    ) -> list[AccountRow]:
        """Step 6's search in the open dialog (`dialog`, known to be open; else asked of the
        screen, and opened again if a recovery closed it)."""
        if dialog is None:
            dialog = await screen.open_assign_dialog()
        return await dialog.search_accounts(self.request.search_by, self.request.smart_account)

    async def _verify(
        self,
        screen: SmartAccountAssignmentPage,
        account: AccountRow,
        virtual_account: str,
        eligible: list[LineAssignment],
        message: str | None,
        *,
        timed_out: bool = False,
    ) -> OrderView:
        """After Yes, only look: read the assignment table until it shows the target.

        When the portal said the submission succeeded (`message`), the table it refreshed is
        read where it is, and when it does not show the change yet the same screen is reloaded
        at once: the first read that shows the target ends the step, without a wait on a clock.
        When the outcome is uncertain (an error or no answer after Yes, nothing readable, or a
        success those two reads do not show), the settle window follows: the screen reloaded and
        read again after 1 s, 2 s, 4 s... (MIN_LOOKS looks at the least, the screen as left
        included), and a new global search only when the screen cannot be reloaded into the
        assignment screen. Never clicks anything that could send the change again.
        `timed_out`: no answer came after Yes (the details say so, not "an error").
        """
        order = self.request.order_number
        wanted = {line.line for line in eligible}
        if message:
            said = f"the portal said {message!r}"
        elif timed_out:
            said = "no answer came in time after Yes"
        else:
            said = "the portal answered with an error"
        shown = "nothing readable"
        unreadable = ""
        unchanged: list[bool] = []
        last: OrderView | None = None
        # After a success message, one look more than the settle window: the reload at once.
        eager = 1 if message is not None else 0
        looks = max(self.session.step_attempts, MIN_LOOKS) + eager
        for look in range(1, looks + 1):
            async with self._step(10, "verify", logged=look == 1):
                if await sign_on_showing(self.session.page, self.session.labels):
                    await ensure_signed_in(self.session)
                view, unreadable = await self._read_after_submit(screen, order, first=look == 1)
                if view is not None:
                    lines = [line for line in view.lines if line.line in wanted]
                    if len(lines) == len(wanted) and lines_on_target(
                        lines,
                        name=account.account_name,
                        domain=account.domain,
                        virtual_account=virtual_account,
                    ):
                        return view
                    shown = "; ".join(
                        f"{line.line}: {line.smart_account} / {line.virtual_account}"
                        for line in view.lines
                    )
                    if look > 1:
                        # Only a reloaded read counts as evidence: the screen as the submission
                        # left it may simply not have been redrawn.
                        unchanged.append(self._as_before(lines, eligible))
                    last = view
            if look == looks or self.session.order.out_of_time():
                break
            # After the portal's success message its table is reloaded at once (the second look);
            # only an outcome still uncertain after that waits between looks.
            if look > eager:
                await settle(self.session, look - eager)
        if last is None:
            raise StepFailed(
                10,
                "verify",
                f"{said}, but the assignment table could not be read after it: {unreadable}",
            )
        detail = (
            f"{said}, but {len(unchanged) + 1} reads of the assignment table do not show "
            f"the target on every eligible line ({shown})"
        )
        if message is None and last is not None and len(unchanged) >= 2 and all(unchanged):
            raise NotTaken(detail, last)
        raise StepFailed(10, "verify", detail)

    @staticmethod
    def _as_before(lines: list[LineAssignment], eligible: list[LineAssignment]) -> bool:
        """Whether these lines carry exactly what the eligible lines carried before Submit."""
        before = {line.line: line for line in eligible}

        def same(a: str | None, b: str | None) -> bool:
            return (a is None and b is None) or same_text(a, b)

        return len(lines) == len(before) and all(
            same(line.smart_account, before[line.line].smart_account)
            and same(line.virtual_account, before[line.line].virtual_account)
            for line in lines
        )

    async def _read_after_submit(
        self, screen: SmartAccountAssignmentPage, order: str, *, first: bool
    ) -> tuple[OrderView | None, str]:
        """One look: the assignment table as shown now, reloaded until readable (a few times).

        The first look reads the screen as the submission left it; the others reload it.
        Returns the view (None when no read succeeded) and the last error's text.
        """
        error = ""
        for read in range(1, self.session.step_attempts + 1):
            try:
                return await self._look(screen, order, reload=not (first and read == 1)), ""
            except (PortalError, PlaywrightError, AssertionError, PageError) as exc:
                error = first_line(exc)
                log.warning("look_failed", read=read, error=error)
                if self.session.order.out_of_time():
                    break
        return None, error

    async def _look(
        self, screen: SmartAccountAssignmentPage, order: str, *, reload: bool
    ) -> OrderView:
        """The order as the assignment screen shows it now (reloaded first when `reload`)."""
        before = self.before
        if reload:
            # Reloaded in place: the screen is waited for (the sign-on page ends the wait).
            await screen.reload()
            here = await screen.showing()
            if here:
                await screen.wait()
        else:
            # As left: the screen the submission answered on, or the portal's home after a
            # sign-in; whichever it is, it has been drawn, so it is looked at, not waited for
            # (the whole screen, and its heading, in one round trip).
            whole, here = await at_once(screen.complete_now(), screen.shows_now())
            if here and not whole:
                await screen.wait()
        if here:
            assert before is not None
            return await read_view(screen, order, OrderFacts.of(before))
        found = await open_assignments(self.session, order, log_steps=False)
        if isinstance(found, NotFound):
            raise StepFailed(10, "verify", f"the order could not be re-read: {found.detail}")
        return found.view

    def _known_on_target(self, eligible: list[LineAssignment]) -> bool:
        """Before step 5: does the table alone prove every eligible line is on the target?

        Only a Domain Identifier identifies an account: names can be shared, so a table without
        domains, or a request that names no domain, proves nothing here and the dialog's search
        decides (where two accounts of one name are `smart_account_ambiguous`).
        """
        request = self.request
        domain = request.smart_account if request.search_by is SearchBy.DOMAIN else None
        if domain and request.expect_domain and not same_text(domain, request.expect_domain):
            return False
        domain = domain or request.expect_domain
        name = request.smart_account if request.search_by is SearchBy.ACCOUNT_NAME else None
        return (
            bool(domain)
            and all(line.domain for line in eligible)
            and lines_on_target(
                eligible, name=name, domain=domain, virtual_account=request.virtual_account
            )
        )

    async def _chosen_on_target(
        self,
        screen: SmartAccountAssignmentPage,
        rows: list[AccountRow],
        account: AccountRow,
        eligible: list[LineAssignment],
    ) -> bool:
        """After the search: do the lines carry the account just identified, and its VA?

        Without domains in the table only the name can be compared, which proves nothing when
        another account bears the same name: an Account Name search settles that.
        """
        if not lines_on_target(
            eligible,
            name=account.account_name,
            domain=account.domain,
            virtual_account=self.request.virtual_account,
        ):
            return False
        if all(line.domain for line in eligible):
            return True
        if self.request.search_by is not SearchBy.ACCOUNT_NAME:
            dialog = await screen.open_assign_dialog()
            rows = await dialog.search_accounts(SearchBy.ACCOUNT_NAME, account.account_name)
        return sum(same_text(row.account_name, account.account_name) for row in rows) == 1

    def _already(self, eligible: list[LineAssignment]) -> AssignResult:
        first = eligible[0]
        return self._result(
            Outcome.ALREADY_ASSIGNED,
            f"Lines {_numbers(eligible)} already carry {first.smart_account} / "
            f"{first.virtual_account}; nothing was submitted.",
        )

    async def _give_up(
        self, screen: SmartAccountAssignmentPage, number: int, outcome: Outcome, detail: str
    ) -> AssignResult:
        await self._cancel(screen, number)
        return self._result(outcome, detail)

    async def _cancel(self, screen: SmartAccountAssignmentPage, number: int) -> None:
        """Close the dialog without changing anything (a reload does it when Cancel fails)."""
        await read_step(
            self.session, number, "cancel", self.request.order_number, screen.close_assign_dialog
        )

    async def _read_step(self, number: int, name: str, action: Callable[[], Awaitable[T]]) -> T:
        """A read-only step inside the dialog: recovered in place, never by a reload."""
        return await read_step(
            self.session, number, name, self.request.order_number, action, reload=False
        )

    def _step(
        self, number: int, name: str, *, after_submit: bool = False, logged: bool = True
    ) -> AbstractAsyncContextManager[None]:
        return step(
            self.session,
            number,
            name,
            self.request.order_number,
            after_submit=after_submit,
            logged=logged,
        )

    def _result(self, outcome: Outcome, detail: str, **extra: Any) -> AssignResult:
        return AssignResult(
            order_number=self.request.order_number,
            outcome=outcome,
            detail=detail,
            before=self.before,
            candidates=self.candidates,
            virtual_accounts_offered=self.offered,
            **extra,
        )


def _is_internal(email: str) -> bool:
    return email.strip().lower().endswith(INTERNAL_DOMAIN)


def _numbers(lines: list[LineAssignment]) -> str:
    return ", ".join(line.line for line in lines)
