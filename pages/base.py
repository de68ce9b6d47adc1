"""What every screen shares: the sign-on and server-error detectors and waiting for a landmark."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from pages.errors import PageError, PortalServerError, SignOnShown
from pages.labels import Labels, any_of, label_pattern, name_matcher, normalize

DEFAULT_TIMEOUT_MS = 15_000.0
# Reads that wait for an element (inner_text, get_attribute) get this long; a pop-up that covers
# the screen makes them wait in vain, and read_stably then dismisses it and reads again.
READ_MS = 2_000.0
_READ_ATTEMPTS = 3

T = TypeVar("T")


def sign_on_marker(page: Page, labels: Labels) -> Locator:
    """Any field of the sign-on page (email, password or one-time code)."""
    return (
        page.get_by_role("textbox", name=name_matcher(labels.email, whole=True))
        .or_(page.get_by_role("textbox", name=name_matcher(labels.password, whole=True)))
        .or_(page.get_by_role("textbox", name=name_matcher(labels.one_time_code)))
        .filter(visible=True)
    )


def server_error(page: Page, labels: Labels) -> Locator:
    """The portal's generic "Something went wrong" message."""
    return (
        page.get_by_role("alert")
        .or_(page.get_by_role("alertdialog"))
        .filter(has_text=name_matcher(labels.server_error))
        .filter(visible=True)
    )


def raise_if_server_error(page: Page, labels: Labels) -> None:
    """Raise PortalServerError when the generic error message is showing (checked, not waited)."""
    error = server_error(page, labels)
    if error.count():
        raise PortalServerError(f"the portal said: {normalize(error.first.inner_text())}")


def sign_on_showing(page: Page, labels: Labels) -> bool:
    """Whether the sign-on page is showing right now (checked, not waited)."""
    return sign_on_marker(page, labels).count() > 0


def wait_for_landmark(page: Page, labels: Labels, landmark: Locator, timeout_ms: float) -> None:
    """Wait until `landmark` shows; fail fast when the sign-on page or a server error shows instead.

    The landmark wins when both show (a toast of an earlier failure may linger beside a screen
    that has since loaded).
    Raises SignOnShown, PortalServerError, or Playwright's TimeoutError when nothing shows in time.
    """
    visible = landmark.filter(visible=True)
    either = visible.or_(sign_on_marker(page, labels)).or_(server_error(page, labels))
    expect(either.first).to_be_visible(timeout=timeout_ms)
    if visible.count():
        return
    raise_if_server_error(page, labels)
    if sign_on_showing(page, labels):
        raise SignOnShown


# How long a toast error is given to go away by itself before the screen is reloaded instead.
_TOAST_MS = 8_000.0


def recover_screen(
    page: Page, labels: Labels, *, reload: bool, try_again: bool = True, timeout_ms: float
) -> str:
    """Undo a read-only failure in place, the smallest way; returns what was done.

    The portal's own "Try again" when its error offers one (it re-runs the failed load); else,
    when `reload`, a reload of the screen (it reloads the current screen's data and clears any
    message); else wait until a toast error has gone. Without `try_again` (after the
    irreversible click) the portal's button is never pressed: it might send the change again.
    """
    error = server_error(page, labels)
    retry = error.get_by_role("button", name=any_of(labels.try_again))
    if try_again and retry.count():
        retry.first.click(timeout=timeout_ms)
        return "try_again"
    if reload:
        reload_screen(page, timeout_ms)
        return "reload"
    with suppress(AssertionError):
        expect(error).to_have_count(0, timeout=_TOAST_MS)
    return "waited"


def pause(page: Page, ms: float) -> None:
    """Let the portal be for a moment (only between looks at a change it shows late)."""
    page.wait_for_timeout(ms)


def reload_screen(page: Page, timeout_ms: float) -> None:
    """Load the current address again (the portal's screens re-read their data)."""
    page.reload(wait_until="domcontentloaded", timeout=timeout_ms)


def text_after(text: str, prefix: str) -> str | None:
    """The rest of the line that follows `prefix` in `text` (e.g. the value after "Status:"); a
    label's fallback wording counts too, and its words may be apart by any white space."""
    found = re.search(rf"{label_pattern(prefix)}[ \t]*\n?[ \t]*([^\n]+)", text, re.IGNORECASE)
    if not found:
        return None
    # Several fields may share one line ("Booked · Holds: None · Lines 2"): the value ends at a
    # separator or where the next "Label:" starts.
    value = _FIELD_SEPARATOR.split(found.group(1))[0]
    value = _NEXT_LABEL.split(value)[0]
    return normalize(value)


_FIELD_SEPARATOR = re.compile(r"\s+[·•|]\s+|\t")
_NEXT_LABEL = re.compile(r"\s+(?=[^\W\d][\w'’ -]{0,30}?\s?:(?:\s|$))")


def read_stably(landmark: Locator, read: Callable[[], T], timeout_ms: float) -> T:
    """Read while `landmark` shows, and again if a pop-up covered the screen during the read.

    Reads (counts, texts) do not trigger Playwright's pop-up handlers, and a modal pop-up hides
    the screen from role locators, so a read could see an empty table. The web-first assertion
    before each read dismisses pop-ups; the check after it rejects a read a pop-up interrupted.
    """
    for attempt in range(1, _READ_ATTEMPTS + 1):
        expect(landmark.first).to_be_visible(timeout=timeout_ms)
        try:
            value = read()
        except PlaywrightTimeoutError:
            if attempt == _READ_ATTEMPTS:
                raise
            continue
        if landmark.first.is_visible():
            return value
    raise PageError("a pop-up kept covering the screen while it was read")
