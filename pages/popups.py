"""Pop-ups that may cover any screen (cookie banner, feedback survey), dismissed automatically."""

from __future__ import annotations

from weakref import WeakSet

from playwright.async_api import Locator, Page

from pages.labels import Labels, name_matcher

_INSTALLED: WeakSet[Page] = WeakSet()


def cookie_banner(page: Page, labels: Labels) -> Locator:
    """The cookie-consent banner (a region or a dialog)."""
    name = name_matcher(labels.cookie_preferences)
    return page.get_by_role("region", name=name).or_(page.get_by_role("dialog", name=name))


def feedback_dialog(page: Page, labels: Labels) -> Locator:
    """The feedback survey that appears at random."""
    return page.get_by_role("dialog", name=name_matcher(labels.feedback, whole=True))


async def install_popup_handlers(page: Page, labels: Labels) -> None:
    """Let Playwright dismiss the pop-ups before any action, locator wait or web-first assertion
    (idempotent).

    Playwright checks these locators before every actionable action, every `wait_for` retry and
    every `expect` retry, so neither flows nor page objects need to know the pop-ups exist.
    """
    if page in _INSTALLED:
        return
    # Marked first: a second call while the first awaits must not install the handlers twice.
    _INSTALLED.add(page)
    accept = name_matcher(labels.accept_cookies)
    no_thanks = name_matcher(labels.no_thanks, whole=True)

    async def accept_cookies(banner: Locator) -> None:
        await banner.get_by_role("button", name=accept).click()

    async def decline_feedback(dialog: Locator) -> None:
        await dialog.get_by_role("button", name=no_thanks).click()

    await page.add_locator_handler(cookie_banner(page, labels), accept_cookies)
    await page.add_locator_handler(feedback_dialog(page, labels), decline_feedback)
