"""Step 1: signing in to the portal (password, one-time code) and noticing when that is needed."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from flows.session import PortalSession
from flows.steps import SESSION_EXPIRED
from pages.base import sign_on_showing
from pages.errors import LoginFailed, LoginRequired, PageError, SignOnShown, StepFailed, first_line
from pages.header import Header
from pages.popups import install_popup_handlers
from pages.secrets import one_time_code
from pages.signon import AfterVerify, SignOnPage


async def ensure_signed_in(session: PortalSession, *, any_search_box: bool = False) -> str:
    """Open the portal's home; sign in when the sign-on page shows. Returns the user's email.

    When the previous flow call ended normally on a portal screen that shows the header's search
    and no dialog, that screen is used as it is: no page load per order. An expired session is
    then noticed by the next step, which signs in again (flows.steps.with_resignin).
    `any_search_box`: any visible search box shows the portal is open, whatever its name (for
    `doctor`, which checks that name).
    Raises LoginRequired when the portal wants a sign-in and there are no credentials.
    """
    await session.close_followed()  # the tabs the last order opened
    await install_popup_handlers(session.page, session.labels)
    reusable, session.screen_reusable = session.screen_reusable, False
    if reusable and session.signed_in_email is not None and await _still_open(session):
        return session.signed_in_email
    try:
        await session.page.goto(session.base_url)
        header = await _header(session, any_search_box).wait()
    except SignOnShown:
        if session.credentials is None:
            raise LoginRequired(SESSION_EXPIRED) from None
        return await sign_in(session, any_search_box=any_search_box)
    except (PlaywrightError, AssertionError) as exc:
        raise StepFailed(1, "sign_in", f"the portal did not open: {first_line(exc)}") from exc
    return await _email(session, header)


async def sign_in(session: PortalSession, *, any_search_box: bool = False) -> str:
    """Sign in with the session's credentials (TOTP code when asked). Returns the user's email.

    Every value is typed only on a page of `session.sign_on_hosts` (else CredentialHostRefused,
    nothing typed). A sign-in that fails empties the fields it typed into before the secret
    section ends, so that no screenshot or trace taken afterwards holds them, and its error names
    the step and the control only: Playwright's call log quotes the typed values, so it is never
    kept, not even as the cause.

    Raises LoginRequired without credentials, LoginFailed when the sign-on page refuses them.
    """
    credentials = session.credentials
    if credentials is None:
        raise LoginRequired("no credentials to sign in with; run `ccw-agent login`")
    await install_popup_handlers(session.page, session.labels)
    signon = SignOnPage(session.page, session.labels, before_typing=session.sign_on_hosts.check)
    signon.signed_in = _header(session, any_search_box).search_box.filter(visible=True)
    failure: str | None = None
    async with session.hooks.secret_section():
        try:
            adopt = session.hooks.adopt_session
            adopted = adopt is not None and await adopt()
            if adopted or not await sign_on_showing(session.page, session.labels):
                await session.page.goto(session.base_url)
                try:
                    header = await _header(session, any_search_box).wait()
                    return await _email(session, header)
                except SignOnShown:
                    pass  # the expected case: the portal asks for a sign-in
            await signon.wait()
            if await signon.asks_for_email():
                await signon.submit_email(credentials.username)
            after = await signon.submit_password(credentials.password.get_secret_value())
            if after is AfterVerify.CODE_REQUESTED:
                if credentials.totp_secret is None:
                    raise LoginFailed(
                        "the sign-on page asks for a one-time code and no TOTP secret is configured"
                    )
                code = one_time_code(credentials.totp_secret.get_secret_value())
                after = await signon.submit_code(code)
            if after is AfterVerify.REJECTED:
                raise LoginFailed(
                    await signon.error_text() or "the sign-on page refused the sign-in"
                )
            header = await _header(session, any_search_box).wait()
            # Inside the section: saving reads the new session cookies (storage state).
            session.signed_in_email = None  # a new sign-in: read it again
            if session.hooks.on_signed_in is not None:
                await session.hooks.on_signed_in()
        except (PlaywrightError, AssertionError, SignOnShown, PageError) as exc:
            await signon.forget_typed()
            failure = _why(exc)
        except BaseException:
            await signon.forget_typed()
            raise
    if failure is not None:
        raise StepFailed(1, "sign_in", f"signing in did not complete: {failure}")
    return await _email(session, header)


def _why(exc: BaseException) -> str:
    """What stopped a sign-in, without Playwright's call log (it quotes typed values)."""
    if isinstance(exc, SignOnShown):
        return "the sign-on page showed again"
    if isinstance(exc, PageError):
        return str(exc)
    return first_line(exc)


async def wait_for_interactive_sign_in(session: PortalSession, timeout_s: float) -> str:
    """Open the portal and wait while a person signs in in the (headed) browser. Returns the email.

    Raises LoginRequired when nobody has signed in within `timeout_s`.
    """
    await install_popup_handlers(session.page, session.labels)
    header = _header(session)
    async with session.hooks.secret_section():
        try:
            await session.page.goto(session.base_url)
            # A person's pace, not the portal's: this wait has its own limit.
            await expect(header.search_box).to_be_visible(timeout=timeout_s * 1000)
        except AssertionError as exc:
            raise LoginRequired(f"nobody signed in within {timeout_s:g} s") from exc
        except PlaywrightError as exc:
            raise StepFailed(1, "sign_in", f"the portal did not open: {first_line(exc)}") from exc
        # Inside the section: saving reads the new session cookies (storage state).
        if session.hooks.on_signed_in is not None:
            await session.hooks.on_signed_in()
    return await _email(session, header)


async def _still_open(session: PortalSession) -> bool:
    """Whether the page is on the portal, ready for a search with nothing of the last order's
    answer left on screen (Header.ready_for_search; checked, not waited)."""
    here, portal = urlsplit(session.page.url), urlsplit(session.base_url)
    if (here.scheme, here.netloc) != (portal.scheme, portal.netloc):
        return False
    return await _header(session).ready_for_search()


def _header(session: PortalSession, any_search_box: bool = False) -> Header:
    return Header(session.page, session.labels, any_search_box=any_search_box)


async def _email(session: PortalSession, header: Header) -> str:
    """Who is signed in: the header's word, else the configured username, else "" (unknown)."""
    if session.signed_in_email is None:
        shown = await header.signed_in_email()
        fallback = session.credentials.username if session.credentials else ""
        session.signed_in_email = shown or fallback
    return session.signed_in_email
