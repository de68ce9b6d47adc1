"""What a flow needs to drive the portal: the page, where the portal is, and how to sign in."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext, suppress
from dataclasses import dataclass, field, replace

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from flows.hosts import CredentialHosts
from pages.base import DEFAULT_TIMEOUT_MS
from pages.labels import Labels, labels
from pages.popups import install_popup_handlers
from pages.secrets import register, register_totp_secret


class Credentials(BaseModel):
    """A Cisco.com sign-in; the TOTP secret only for users enrolled in one-time codes.

    The password and the TOTP secret are registered as secrets (pages.secrets), so that no log
    line, error message or trace shows them.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    username: str
    password: SecretStr
    totp_secret: SecretStr | None = None

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr) -> SecretStr:
        register(value.get_secret_value())
        return value

    @field_validator("totp_secret")
    @classmethod
    def _totp(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(register_totp_secret(value.get_secret_value()))


def _no_secret_section() -> AbstractAsyncContextManager[None]:
    return nullcontext()


@dataclass
class SessionHooks:
    """What the caller of the flows is told or asked along the way; every hook may be None.

    `on_signed_in` runs after every (re-)sign-in (the agent saves the storage state there);
    `secret_section` wraps every sign-in so that tracing can be paused while secrets are typed;
    `on_step(step, name)` runs after each step that completed (progress, or tests injecting faults);
    `adopt_session()` runs inside `secret_section` when the portal asks for a sign-in: True means
    a fresher saved session (another worker's sign-in) was put into this page's context, so the
    flow reloads instead of signing in again;
    `claim_order(sales_order, asked)` is awaited by the assign flow once the order is read (Sales
    Order shown, number asked): None to go on, or a sentence why this order must not be worked
    (order_conflict). It may raise, and may wait for another worker's lock on the order;
    `before_submit()` is awaited immediately before the irreversible Yes (it may wait for a
    submission slot); if it raises, nothing is clicked.
    """

    on_signed_in: Callable[[], Awaitable[None]] | None = None
    secret_section: Callable[[], AbstractAsyncContextManager[None]] = _no_secret_section
    on_step: Callable[[int, str], None] | None = None
    adopt_session: Callable[[], Awaitable[bool]] | None = None
    claim_order: Callable[[str | None, str], Awaitable[str | None]] | None = None
    before_submit: Callable[[], Awaitable[None]] | None = None


@dataclass
class OrderState:
    """What holds for the order being worked, and only for it: the caller sets a fresh one for
    each order (or attempt), and the assign flow keeps it as it goes."""

    # The order's time budget ends here (time.monotonic(); None: no deadline): read-only steps
    # are not run again past it, and no look waits beyond it.
    deadline: float | None = None
    # Set once Yes was clicked for this order: recoveries then never press the portal's
    # "Try again" (it might send the change again), and a sign-on page ends the attempt.
    yes_clicked: bool = False
    # Whether a recovery may press the portal's "Try again": not while an answer to Yes could be
    # on screen (cleared again once a reload has shown the submission was not taken).
    try_again_allowed: bool = True

    def out_of_time(self) -> bool:
        """Whether the order has spent its time budget."""
        return self.deadline is not None and time.monotonic() >= self.deadline


@dataclass
class PortalSession:
    """One browser page signed in (or to be signed in) to the portal: how to drive it, the
    caller's hooks, what the page itself is known to show, and the current order's state.

    - How to drive it, fixed for the session: where the portal is, its labels, the sign-in,
      `timeout_ms` (every wait's limit: the page's default timeout, set when the session is made;
      `dataclasses.replace` with another `timeout_ms` sets it again, for the page both share),
      `credential_hosts` (where the email, password and code may be typed; None: the portal's
      host and Cisco's sign-on hosts, see flows.hosts), `max_resignins` (how often an expired
      session is signed in again within one flow call), `step_attempts` and `resubmits`.
    - `hooks`: SessionHooks (`with_hooks` makes a session with some of them changed).
    - The page's state: `signed_in_email` (who the portal said is signed in; None: not read yet,
      so that a portal which never shows it costs its wait once per sign-in, not once per order)
      and `screen_reusable`.
    - `order`: OrderState, the one part that belongs to the current order; never copied by
      `dataclasses.replace` (a replaced session starts with no order).
    """

    page: Page
    base_url: str
    labels: Labels = field(default_factory=labels)
    credentials: Credentials | None = None
    timeout_ms: float = DEFAULT_TIMEOUT_MS
    credential_hosts: CredentialHosts | None = None
    max_resignins: int = 2
    # A read-only step that fails is recovered in place and run again up to this many times in
    # all, while the order's deadline has not passed.
    step_attempts: int = 4
    # How often Yes may be clicked again after a submission the portal answered with an error
    # and, over every look of the settle window, still showed the order exactly as before.
    resubmits: int = 1
    hooks: SessionHooks = field(default_factory=SessionHooks)
    signed_in_email: str | None = None
    # Set when the last flow call on this page ended normally: the next one starts from the
    # screen it left (the header's search is on every screen) instead of loading the home page.
    screen_reusable: bool = False
    order: OrderState = field(default_factory=OrderState, init=False)

    def __post_init__(self) -> None:
        # One place sets the limit of every wait; page objects take no timeouts of their own.
        self.page.set_default_timeout(self.timeout_ms)
        # The page the session was made with, while `page` is a tab the portal opened.
        self._home: Page | None = None

    async def follow(self, page: Page) -> None:
        """Go on in `page`, a tab or window the portal opened (Order Details in a new tab):
        the same limits and pop-up handling as the session's own page. Closed again by
        `close_followed`, when the order is done."""
        if page is self.page:
            return
        page.set_default_timeout(self.timeout_ms)
        await install_popup_handlers(page, self.labels)
        if self._home is None:
            self._home = self.page
        self.page = page

    async def close_followed(self) -> None:
        """Close the tabs the portal opened for the last order and go back to the session's
        own page."""
        if self._home is None:
            return
        home, self._home = self._home, None
        for page in home.context.pages:
            if page is not home and not page.is_closed():
                with suppress(PlaywrightError):
                    await page.close()
        self.page = home
        self.screen_reusable = False

    def with_hooks(self, **changes: object) -> PortalSession:
        """This session (its page and settings) with some hooks changed, and no order."""
        return replace(self, hooks=replace(self.hooks, **changes))  # type: ignore[arg-type]

    @property
    def sign_on_hosts(self) -> CredentialHosts:
        return self.credential_hosts or CredentialHosts.for_portal(self.base_url)
