"""The single sign-on page: email, password, and a one-time code when multi-factor is enrolled."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from pages.base import raise_if_server_error, server_error, settled_document, wait_promptly
from pages.errors import PageError
from pages.labels import Labels, name_matcher, normalize


class AfterVerify(Enum):
    """What the sign-on page shows after a Verify click."""

    SIGNED_IN = "signed_in"
    CODE_REQUESTED = "code_requested"
    REJECTED = "rejected"


class SignOnPage:
    """Cisco's sign-on page (another host than the portal).

    `before_typing(url)` runs with the page's current URL immediately before each value is
    typed, once its field is ready; it raises to stop the typing (nothing is typed then).
    Failures are PageErrors that name the field only: Playwright's own messages quote the typed
    value in their call log, so they are never passed on, not even as a cause or context.
    """

    def __init__(
        self,
        page: Page,
        labels: Labels,
        *,
        before_typing: Callable[[str], None] | None = None,
    ) -> None:
        self.page = page
        self.labels = labels
        self.before_typing = before_typing
        self.email = page.get_by_role("textbox", name=name_matcher(labels.email, whole=True))
        self.next_button = page.get_by_role("button", name=name_matcher(labels.next, whole=True))
        self.password = page.get_by_role("textbox", name=name_matcher(labels.password, whole=True))
        # Any enabled text box: `field.and_(...)` is the field once it can be typed into.
        self._enabled_textbox = page.get_by_role("textbox", disabled=False)
        self.code = page.get_by_role("textbox", name=name_matcher(labels.one_time_code))
        # The same fields when hidden too: a step the page has moved past keeps what was typed.
        self.typed_secrets = page.get_by_role(
            "textbox", name=name_matcher(labels.password, whole=True), include_hidden=True
        ).or_(
            page.get_by_role(
                "textbox", name=name_matcher(labels.one_time_code), include_hidden=True
            )
        )
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

    async def wait(self) -> SignOnPage:
        """Wait until the page asks for the email or (email remembered) the password."""
        await wait_promptly(self.email.or_(self.password).first)
        await settled_document(self.page)
        return self

    async def asks_for_email(self) -> bool:
        """Whether the email field shows right now (checked, not waited)."""
        return await self.email.is_visible()

    async def submit_email(self, email: str) -> SignOnPage:
        """Type the email, click Next and wait for the password field (or a refusal)."""
        await self._type(self.email, self.labels.email, email)
        await self._click(self.next_button, self.labels.next)
        await wait_promptly(self.password.or_(self.error).first)
        return self

    async def submit_password(self, password: str) -> AfterVerify:
        """Type the password, click Verify and report what the page shows next."""
        await self._type(self.password, self.labels.password, password)
        await self._click(self.verify_button, self.labels.verify)
        return await self._after_verify(code_possible=True)

    async def submit_code(self, code: str) -> AfterVerify:
        """Type the one-time code, click Verify and report what the page shows next."""
        await self._type(self.code, self.labels.one_time_code, code)
        await self._click(self.verify_button, self.labels.verify)
        return await self._after_verify(code_possible=False)

    async def error_text(self) -> str:
        """The refusal the page shows right now ("" when none)."""
        if not await self.error.count():
            return ""
        return normalize(await self.error.first.inner_text())

    async def forget_typed(self) -> None:
        """Empty the password and code fields, shown or hidden; a page that is gone holds nothing.

        No screenshot or trace snapshot taken afterwards then holds what was typed.
        """
        try:
            # A script, not fill(""): fill waits for a visible, enabled field, and a hidden or
            # disabled one keeps its value just the same.
            await self.typed_secrets.evaluate_all("fields => fields.forEach(f => { f.value = '' })")
        except PlaywrightError:
            pass

    # The errors below are raised outside the `except` blocks on purpose: not even as a hidden
    # context may Playwright's error, whose call log quotes the typed value, travel with them.
    async def _type(self, field: Locator, name: str, value: str) -> None:
        if not await self._editable(field):
            raise PageError(f"the {name} field did not become editable in time")
        if self.before_typing is not None:
            self.before_typing(self.page.url)
        try:
            await field.fill(value)
            return
        except PlaywrightError:
            pass
        raise PageError(f"typing into the {name} field failed")

    async def _editable(self, field: Locator) -> bool:
        """Whether the field becomes visible and enabled within the page's default timeout, and
        is then not read-only."""
        try:
            await wait_promptly(field.and_(self._enabled_textbox))
            return await field.is_editable()
        except PlaywrightError:
            return False

    async def _click(self, button: Locator, name: str) -> None:
        try:
            await button.click()
            return
        except PlaywrightError:
            pass
        raise PageError(f"the {name} button could not be clicked")

    async def _after_verify(self, *, code_possible: bool) -> AfterVerify:
        either = self.signed_in.or_(self.error).or_(server_error(self.page, self.labels))
        if code_possible:
            either = either.or_(self.code)
        await wait_promptly(either.first)
        await raise_if_server_error(self.page, self.labels)
        if await self.signed_in.count():
            return AfterVerify.SIGNED_IN
        if await self.error.count():
            return AfterVerify.REJECTED
        return AfterVerify.CODE_REQUESTED
