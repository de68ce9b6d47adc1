"""The mock portal's server-side state and business rules: sign-in, sessions, orders, assignment."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pyotp

from mock_site import data
from mock_site.data import SA_HOLD, Order, SmartAccount, User

SignIn = Literal["ok", "mfa", "fail"]
SearchBy = Literal["domain", "name", "email"]
# Each line's (Smart Account domain, Virtual Account), by line number.
LineTargets = dict[str, tuple[str | None, str | None]]


class _Totp(pyotp.TOTP):
    """TOTP that accepts the 80-bit secrets identity providers issue (pyotp asks for 112)."""

    min_secret_length_bits = 80


class PortalError(Exception):
    """A request the portal refuses, with the HTTP status and message the API answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Session:
    """A signed-in browser session."""

    email: str
    created: float


def account_json(sa: SmartAccount) -> dict[str, str]:
    return {"name": sa.name, "domain": sa.domain, "status": sa.status}


class Portal:
    """All business state, guarded by one lock; every public method is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._users = {u.email.lower(): u for u in data.USERS}
        self._accounts = {sa.domain: sa for sa in data.SMART_ACCOUNTS}
        self._sessions: dict[str, Session] = {}
        self._pending_mfa: dict[str, tuple[str, float]] = {}
        self.reset()

    def reset(self) -> None:
        """Orders, history and counters back to the initial data (sessions are kept)."""
        with self._lock:
            self._orders = data.initial_orders()
            self._by_number: dict[str, Order] = {}
            for order in self._orders:
                self._by_number[order.sales_order] = order
                self._by_number[order.web_order] = order
            # Per sales order, the line targets after each submission and when (monotonic), the
            # first entry being the state before any: what a portal that shows changes late shows.
            self._history: dict[str, list[tuple[float, LineTargets]]] = {}
            self._logins: dict[str, int] = {}
            self._submissions = 0
            self._pending_mfa.clear()

    # --- sign-in and sessions -------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> tuple[SignIn, str | None]:
        """Check a password: ("ok", session), ("mfa", transaction) or ("fail", None)."""
        user = self._users.get(email.strip().lower())
        if user is None or not secrets.compare_digest(user.password, password):
            return "fail", None
        if user.totp_secret:
            transaction = secrets.token_urlsafe(16)
            with self._lock:
                self._pending_mfa[transaction] = (user.email, time.monotonic())
            return "mfa", transaction
        return "ok", self._open_session(user)

    def verify_code(self, transaction: str, code: str) -> str | None:
        """Check the one-time code of a pending sign-in; the new session token or None."""
        with self._lock:
            pending = self._pending_mfa.get(transaction)
        if pending is None or time.monotonic() - pending[1] > 600:
            return None
        user = self._users[pending[0].lower()]
        assert user.totp_secret is not None
        if not _Totp(user.totp_secret).verify(code.strip(), valid_window=1):
            return None
        with self._lock:
            self._pending_mfa.pop(transaction, None)
        return self._open_session(user)

    def _open_session(self, user: User) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[token] = Session(user.email, time.monotonic())
            self._logins[user.email] = self._logins.get(user.email, 0) + 1
        return token

    def session_user(self, token: str | None, ttl_s: float | None) -> str | None:
        """The email signed in with this token, or None when missing or expired."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if ttl_s is not None and time.monotonic() - session.created > ttl_s:
                del self._sessions[token]
                return None
            return session.email

    def sign_out(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def expire_all_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    # --- access and look-ups -------------------------------------------------------------

    def _user(self, email: str) -> User:
        return self._users[email.lower()]

    def _visible(self, user: User, order: Order) -> bool:
        if user.kind == "internal":
            return True
        if user.kind == "partner":
            return order.partner == user.organisation
        names = {self._accounts[ln.smart_account].name for ln in order.lines if ln.smart_account}
        return user.organisation == order.end_customer or user.organisation in names

    def _find(self, email: str, number: str) -> Order:
        """The order by SO or WO; one the user may not see is exactly as missing as no order."""
        order = self._by_number.get(number.strip())
        if order is None or not self._visible(self._user(email), order):
            raise PortalError(404, "Order not found")
        return order

    def search(self, email: str, query: str) -> list[dict[str, str]]:
        """Global search: an exact Sales Order or Web Order number."""
        q = query.strip()
        with self._lock:
            try:
                order = self._find(email, q)
            except PortalError:
                return []
            kind = "Sales Order" if q == order.sales_order else "Web Order"
            return [
                {
                    "number": q,
                    "type": kind,
                    "sales_order": order.sales_order,
                    "status": order.status,
                    "end_customer": order.end_customer,
                }
            ]

    def order_details(self, email: str, number: str) -> dict[str, Any]:
        with self._lock:
            order = self._find(email, number)
            return {
                "sales_order": order.sales_order,
                "web_order": order.web_order,
                "status": order.status,
                "holds": list(order.holds),
                "partner": order.partner,
                "end_customer": order.end_customer,
                "line_count": len(order.lines),
            }

    @staticmethod
    def blocked_reason(order: Order) -> str | None:
        """Why assignment is not available on this order, or None when it is."""
        if order.status != "Booked":
            return f"the order status is {order.status}."
        if all(line.entitled for line in order.lines):
            return "every line has an active entitlement."
        return None

    @staticmethod
    def _targets(order: Order) -> LineTargets:
        return {ln.line: (ln.smart_account, ln.virtual_account) for ln in order.lines}

    def _shown_targets(self, order: Order, late_by_s: float) -> LineTargets:
        """The line targets as they were `late_by_s` seconds ago."""
        history = self._history.get(order.sales_order)
        if late_by_s <= 0 or not history:
            return self._targets(order)
        cutoff = time.monotonic() - late_by_s
        return [targets for at, targets in history if at <= cutoff][-1]

    def assignments(self, email: str, number: str, late_by_s: float = 0.0) -> dict[str, Any]:
        """The assignment screen's data; the lines' targets as they were `late_by_s` ago."""
        with self._lock:
            order = self._find(email, number)
            reason = self.blocked_reason(order)
            shown = self._shown_targets(order, late_by_s)
            lines = []
            for ln in order.lines:
                domain, virtual_account = shown[ln.line]
                sa = self._accounts.get(domain or "")
                if ln.entitled:
                    eligibility = "Active entitlement"
                elif order.status != "Booked":
                    eligibility = f"Order status is {order.status}"
                else:
                    eligibility = "Eligible"
                lines.append(
                    {
                        "line": ln.line,
                        "product": ln.product,
                        "smart_account": sa.name if sa else None,
                        "domain": sa.domain if sa else None,
                        "virtual_account": virtual_account,
                        "eligibility": eligibility,
                    }
                )
            return {
                "sales_order": order.sales_order,
                "web_order": order.web_order,
                "status": order.status,
                "holds": list(order.holds),
                "lines": lines,
                "can_assign": reason is None,
                "reason": None
                if reason is None
                else f"Smart Account assignment is not available: {reason}",
            }

    def search_accounts(self, by: str, value: str) -> list[dict[str, str]]:
        """Smart Account search: domain exact, name substring, email membership (all case-blind)."""
        v = value.strip().lower()
        if not v:
            return []
        if by == "domain":
            found = [sa for sa in data.SMART_ACCOUNTS if sa.domain.lower() == v]
        elif by == "name":
            found = [sa for sa in data.SMART_ACCOUNTS if v in sa.name.lower()]
        elif by == "email":
            found = [sa for sa in data.SMART_ACCOUNTS if v in (e.lower() for e in sa.emails)]
        else:
            raise PortalError(400, "Unknown search parameter")
        return [account_json(sa) for sa in found]

    def virtual_accounts(self, domain: str) -> list[str]:
        sa = self._accounts.get(domain.strip().lower())
        if sa is None:
            raise PortalError(404, "Smart Account not found")
        return list(sa.virtual_accounts)

    # --- the change ------------------------------------------------------------------------

    def assign(
        self, email: str, number: str, domain: str, virtual_account: str, terms_accepted: bool
    ) -> dict[str, Any]:
        """Assign every eligible line to the SA/VA and record the submission."""
        if not terms_accepted:
            raise PortalError(400, "The Terms of Use must be accepted")
        sa = self._accounts.get(domain.strip().lower())
        if sa is None:
            raise PortalError(400, "Smart Account not found")
        if virtual_account not in sa.virtual_accounts:
            raise PortalError(400, "Virtual Account not found")
        with self._lock:
            order = self._find(email, number)
            reason = self.blocked_reason(order)
            if reason is not None:
                raise PortalError(409, f"Smart Account assignment is not available: {reason}")
            history = self._history.setdefault(
                order.sales_order, [(float("-inf"), self._targets(order))]
            )
            changed = []
            for ln in order.lines:
                if not ln.entitled:
                    ln.smart_account, ln.virtual_account = sa.domain, virtual_account
                    changed.append(ln.line)
            if sa.status == "Active":
                order.holds = [h for h in order.holds if h != SA_HOLD]
            elif SA_HOLD not in order.holds:
                order.holds.append(SA_HOLD)
            order.submissions.append(
                {
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "user": email,
                    "smart_account": sa.name,
                    "domain": sa.domain,
                    "virtual_account": virtual_account,
                    "lines": changed,
                }
            )
            history.append((time.monotonic(), self._targets(order)))
            self._submissions += 1
            return {"sales_order": order.sales_order, "lines": changed, "holds": list(order.holds)}

    # --- control API -------------------------------------------------------------------------

    def snapshot(self, number: str) -> dict[str, Any] | None:
        """An order as the control API shows it (regardless of access), or None."""
        with self._lock:
            order = self._by_number.get(number.strip())
            if order is None:
                return None
            return {
                "sales_order": order.sales_order,
                "web_order": order.web_order,
                "status": order.status,
                "holds": list(order.holds),
                "partner": order.partner,
                "end_customer": order.end_customer,
                "lines": [
                    {
                        "line": ln.line,
                        "product": ln.product,
                        "smart_account": self._accounts[ln.smart_account].name
                        if ln.smart_account
                        else None,
                        "domain": ln.smart_account,
                        "virtual_account": ln.virtual_account,
                        "entitled": ln.entitled,
                    }
                    for ln in order.lines
                ],
                "submissions": copy.deepcopy(order.submissions),
            }

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "logins": sum(self._logins.values()),
                "logins_by_user": dict(self._logins),
                "submissions": self._submissions,
            }
