"""Steps 1 to 10: assign one order's eligible lines to a Smart Account and virtual account."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from typing import Any

from structlog.contextvars import bound_contextvars

from agent.errors import StepFailed
from flows.matching import choose_account, choose_virtual_account, describe, lines_on_target
from flows.models import (
    AssignRequest,
    AssignResult,
    LineAssignment,
    OrderView,
    Outcome,
    SearchBy,
    SmartAccountCandidate,
)
from flows.session import PortalSession
from flows.signin import ensure_signed_in
from flows.steps import step, with_resignin
from flows.view import NotFound, Opened, open_assignments
from pages.assign_dialog import AccountRow, AssignDialog
from pages.base import sign_on_showing
from pages.labels import same_text

INTERNAL_DOMAIN = "@cisco.com"
# Step 9 ends with Submit opening the confirmation; step 10's Yes is the one irreversible click.
SUBMIT_STEP = 9


def assign_smart_account(session: PortalSession, request: AssignRequest) -> AssignResult:
    """Run steps 1-10 for one order and return what happened, with the evidence read.

    Business outcomes are results; system failures raise PortalError (StepFailed,
    PortalServerError), LoginRequired or LoginFailed. Every attempt re-reads the order before
    acting, so calling this again after a failure never submits twice.
    """
    started = time.perf_counter()
    with bound_contextvars(order=request.order_number):
        result = with_resignin(session, lambda: _Attempt(session, request).run())
    return result.model_copy(update={"duration_s": time.perf_counter() - started})


class _Attempt:
    """One pass through the steps, from signing in to the verified result."""

    def __init__(self, session: PortalSession, request: AssignRequest) -> None:
        self.session = session
        self.request = request
        self.before: OrderView | None = None
        self.candidates: tuple[SmartAccountCandidate, ...] = ()
        self.offered: tuple[str, ...] = ()

    def run(self) -> AssignResult:
        request = self.request
        with self._step(1, "sign_in"):
            email = ensure_signed_in(self.session)
        opened = open_assignments(self.session, request.order_number)
        if isinstance(opened, NotFound):
            return self._result(Outcome.ORDER_NOT_FOUND, opened.detail)
        self.before = opened.view
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
        return self._assign(opened, eligible)

    def _assign(self, opened: Opened, eligible: list[LineAssignment]) -> AssignResult:
        request, labels = self.request, self.session.labels
        with self._step(5, "open_assign_dialog"):
            dialog = opened.screen.open_assign_dialog()
        with self._step(6, "search_smart_account"):
            rows = dialog.search_accounts(self._parameter(), request.smart_account)
            self.candidates = tuple(
                SmartAccountCandidate(account_name=r.account_name, domain=r.domain, status=r.status)
                for r in rows
            )
            choice = choose_account(request, rows)
            account = choice.account
            already = account is not None and self._chosen_on_target(
                dialog, rows, account, eligible
            )
        if account is None:
            return self._give_up(dialog, 6, choice.outcome or Outcome.FAILED, choice.detail)
        if not same_text(account.status, labels.status_active) and not request.allow_pending:
            # Anything but Active (Pending, "Pending Activation", no status shown) would leave
            # the order on Smart Account Hold, or may: refuse rather than guess.
            return self._give_up(
                dialog,
                6,
                Outcome.SMART_ACCOUNT_PENDING,
                f"{describe([account])} is {account.status or 'of unknown status'}, not Active: "
                "assigning it would leave the order on Smart Account Hold.",
            )
        if already:
            self._cancel(dialog, 6)
            return self._already(eligible)
        with self._step(7, "select_smart_account"):
            dialog.select_account(account)
        with self._step(8, "choose_virtual_account"):
            self.offered = tuple(dialog.virtual_accounts())
            virtual_account = choose_virtual_account(self.offered, request.virtual_account)
            if virtual_account is not None:
                dialog.choose_virtual_account(virtual_account)
                dialog.wait_assign_enabled()
        if virtual_account is None:
            return self._give_up(
                dialog,
                8,
                Outcome.VIRTUAL_ACCOUNT_NOT_FOUND,
                f"{account.account_name} offers no virtual account {request.virtual_account!r}; "
                f"it offers: {', '.join(self.offered) or 'none'}.",
            )
        target = f"{account.account_name} ({account.domain}) / {virtual_account}"
        if request.dry_run:
            self._cancel(dialog, 8)
            return self._result(
                Outcome.WOULD_ASSIGN,
                f"Lines {_numbers(eligible)} would move to {target}; Assign was enabled and the "
                "dialog was cancelled.",
            )
        with self._step(8, "assign"):
            dialog.assign()
        with self._step(9, "accept_terms_and_submit"):
            confirmation = dialog.accept_terms_and_submit()
        with self._step(10, "confirm", after_submit=True):
            confirmation.confirm()
            message = opened.screen.wait_for_success()
        after = with_resignin(
            self.session, lambda: self._verify(account, virtual_account, eligible)
        )
        return self._result(
            Outcome.ASSIGNED,
            f"Lines {_numbers(eligible)} now carry {target}; the portal said: {message}",
            after=after,
        )

    def _verify(
        self, account: AccountRow, virtual_account: str, eligible: list[LineAssignment]
    ) -> OrderView:
        """Re-read the order from the search on and insist every eligible line shows the target."""
        order = self.request.order_number
        with self._step(10, "verify"):
            if sign_on_showing(self.session.page, self.session.labels):
                ensure_signed_in(self.session)
            found = open_assignments(self.session, order, log_steps=False)
        if isinstance(found, NotFound):
            raise StepFailed(10, "verify", f"the order could not be re-read: {found.detail}")
        wanted = {line.line for line in eligible}
        lines = [line for line in found.view.lines if line.line in wanted]
        if len(lines) != len(wanted) or not lines_on_target(
            lines, name=account.account_name, domain=account.domain, virtual_account=virtual_account
        ):
            shown = "; ".join(
                f"{line.line}: {line.smart_account} / {line.virtual_account}"
                for line in found.view.lines
            )
            raise StepFailed(
                10,
                "verify",
                "the portal reported success but the assignment table does not show the target "
                f"on every eligible line ({shown})",
            )
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

    def _chosen_on_target(
        self,
        dialog: AssignDialog,
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
            rows = dialog.search_accounts(self.session.labels.by_account_name, account.account_name)
        return sum(same_text(row.account_name, account.account_name) for row in rows) == 1

    def _already(self, eligible: list[LineAssignment]) -> AssignResult:
        first = eligible[0]
        return self._result(
            Outcome.ALREADY_ASSIGNED,
            f"Lines {_numbers(eligible)} already carry {first.smart_account} / "
            f"{first.virtual_account}; nothing was submitted.",
        )

    def _give_up(
        self, dialog: AssignDialog, number: int, outcome: Outcome, detail: str
    ) -> AssignResult:
        self._cancel(dialog, number)
        return self._result(outcome, detail)

    def _cancel(self, dialog: AssignDialog, number: int) -> None:
        with self._step(number, "cancel"):
            dialog.cancel()

    def _parameter(self) -> str:
        labels = self.session.labels
        return {
            SearchBy.DOMAIN: labels.by_domain,
            SearchBy.ACCOUNT_NAME: labels.by_account_name,
            SearchBy.EMAIL: labels.by_email,
        }[self.request.search_by]

    def _step(
        self, number: int, name: str, *, after_submit: bool = False
    ) -> AbstractContextManager[None]:
        return step(
            self.session, number, name, self.request.order_number, after_submit=after_submit
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
