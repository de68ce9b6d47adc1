"""The single sign-on page: email, password, and a one-time code when multi-factor is enrolled."""

from __future__ import annotations

from enum import Enum

from playwright.sync_api import Page, expect

from pages.base import DEFAULT_TIMEOUT_MS, raise_if_server_error, server_error
from pages.labels import Labels, name_matcher, normalize


class AfterVerify(Enum):
    """What the sign-on page shows after a Verify click."""

    SIGNED_IN = "signed_in"
    CODE_REQUESTED = "code_requested"
    REJECTED = "rejected"


class SignOnPage:
    """Cisco's sign-on page (another host than the portal)."""

    def __init__(self, page: Page, labels: Labels, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.labels = labels
        self.timeout_ms = timeout_ms
        self.email = page.get_by_role("textbox", name=name_matcher(labels.email, whole=True))
        self.next_button = page.get_by_role("button", name=name_matcher(labels.next, whole=True))
        self.password = page.get_by_role("textbox", name=name_matcher(labels.password, whole=True))
        self.code = page.get_by_role("textbox", name=name_matcher(labels.one_time_code))
        self.verify_button = page.get_by_role(
            "button", name=name_matcher(labels.verify, whole=True)
        )
        # Server errors are alerts too; they are a portal failure, not a refusal.
        self.error = (
            page.get_by_role("alert")
            .filter(has_not_text=name_matcher(labels.server_error))
            .filter(visible=True)
        )
        self.signed_in = page.get_by_role(
            "searchbox", name=name_matcher(labels.global_search)
        ).filter(visible=True)

    def wait(self) -> SignOnPage:
        """Wait until the page asks for the email or (email remembered) the password."""
        expect(self.email.or_(self.password).first).to_be_visible(timeout=self.timeout_ms)
        return self

    def asks_for_email(self) -> bool:
        return self.email.is_visible()

    def submit_email(self, email: str) -> SignOnPage:
        """Type the email, click Next and wait for the password field (or a refusal)."""
        self.email.fill(email, timeout=self.timeout_ms)
        self.next_button.click(timeout=self.timeout_ms)
        expect(self.password.or_(self.error).first).to_be_visible(timeout=self.timeout_ms)
        return self

    def submit_password(self, password: str) -> AfterVerify:
        """Type the password, click Verify and report what the page shows next."""
        self.password.fill(password, timeout=self.timeout_ms)
        self.verify_button.click(timeout=self.timeout_ms)
        return self._after_verify(code_possible=True)

    def submit_code(self, code: str) -> AfterVerify:
        """Type the one-time code, click Verify and report what the page shows next."""
        self.code.fill(code, timeout=self.timeout_ms)
        self.verify_button.click(timeout=self.timeout_ms)
        return self._after_verify(code_possible=False)

    def error_text(self) -> str:
        return normalize(self.error.first.inner_text()) if self.error.count() else ""

    def _after_verify(self, *, code_possible: bool) -> AfterVerify:
        either = self.signed_in.or_(self.error).or_(server_error(self.page, self.labels))
        if code_possible:
            either = either.or_(self.code)
        expect(either.first).to_be_visible(timeout=self.timeout_ms)
        raise_if_server_error(self.page, self.labels)
        if self.signed_in.count():
            return AfterVerify.SIGNED_IN
        if self.error.count():
            return AfterVerify.REJECTED
        return AfterVerify.CODE_REQUESTED
