"""What every screen shares: the sign-on and server-error detectors and waiting for a landmark."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from agent.errors import PortalServerError
from pages.labels import Labels, name_matcher, normalize

DEFAULT_TIMEOUT_MS = 15_000.0
# Reads that wait for an element (inner_text, get_attribute) get this long; a pop-up that covers
# the screen makes them wait in vain, and read_stably then dismisses it and reads again.
READ_MS = 2_000.0
_READ_ATTEMPTS = 3

T = TypeVar("T")


class PageError(Exception):
    """A screen did not behave as its page object expects (an option missing, a refusal)."""


class SignOnShown(Exception):
    """The sign-on page replaced the screen a step expected: the session has expired."""


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

    Raises SignOnShown, PortalServerError, or Playwright's TimeoutError when nothing shows in time.
    """
    visible = landmark.filter(visible=True)
    either = visible.or_(sign_on_marker(page, labels)).or_(server_error(page, labels))
    expect(either.first).to_be_visible(timeout=timeout_ms)
    raise_if_server_error(page, labels)
    if visible.count() == 0 and sign_on_showing(page, labels):
        raise SignOnShown


def text_after(text: str, prefix: str) -> str | None:
    """The rest of the line that follows `prefix` in `text` (e.g. the value after "Status:")."""
    found = re.search(rf"{re.escape(prefix)}[ \t]*\n?[ \t]*([^\n]+)", text, re.IGNORECASE)
    return normalize(found.group(1)) if found else None


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
