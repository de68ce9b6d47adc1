"""Pop-ups that may cover any screen (cookie banner, feedback survey, tips), dismissed
automatically."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar
from weakref import WeakSet

import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from pages.base import MARK, READ_MS, new_mark, watch_popups
from pages.errors import first_line
from pages.labels import Labels, any_of, name_matcher, normalize

log = structlog.get_logger()

T = TypeVar("T")

_INSTALLED: WeakSet[Page] = WeakSet()

# Our own attribute on a dismiss-worded control found not to be a tip (a dialog's "Close" beside
# its other controls): it is never looked at again.
NOT_A_TIP = "data-ccw-not-a-tip"

# Whether a dismiss-worded control belongs to a cover that offers nothing else: the nearest
# element around it that covers most of the window (or a dialog), all of whose visible controls
# say one of the dismiss words. Marks the control with the token when it is, else NOT_A_TIP.
_TIP_JS = r"""
(control, [dismiss, attribute, token, notTip]) => {
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const covers = el => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const layered = style.position === 'fixed' || style.position === 'absolute';
    return (layered && r.width * r.height >= 0.4 * innerWidth * innerHeight)
      || el.matches('[role=dialog], [role=alertdialog], dialog, [role=tooltip]');
  };
  const words = el => (el.innerText || el.value || el.getAttribute('aria-label') || '')
    .replace(/\s+/g, ' ').trim().toLowerCase();
  let cover = control.parentElement;
  while (cover && cover !== document.body && !covers(cover)) cover = cover.parentElement;
  const controls = cover && cover !== document.body ? [...cover.querySelectorAll(
    'a, button, input, select, textarea, [role=button], [role=link], [onclick]')].filter(shown)
    : [];
  const onlyDismiss = controls.length > 0 && controls.every(c => dismiss.includes(words(c)));
  if (!onlyDismiss) { control.setAttribute(notTip, ''); return ''; }
  // A tip under another one is left for when the one over it is gone (a click would only
  // reach the cover); one out of the window is scrolled to by the click.
  const r = control.getBoundingClientRect();
  // Asked of the control's own tree: in a shadow root the document would answer its host.
  const root = control.getRootNode();
  const hit = (root.elementFromPoint ? root : document)
    .elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (hit && hit !== control && !control.contains(hit)) return '';
  control.setAttribute(attribute, token);
  return words(control);
}
"""


def cookie_banner(page: Page, labels: Labels) -> Locator:
    """The cookie-consent banner (a region or a dialog)."""
    name = name_matcher(labels.cookie_preferences)
    return page.get_by_role("region", name=name).or_(page.get_by_role("dialog", name=name))


def dismiss_controls(page: Page, labels: Labels) -> Locator:
    """Visible buttons and links worded as a dismissal ("Got it", "Close", ...) not yet found to
    belong to something other than a tip."""
    words = any_of(labels.dismiss)
    return (
        page.get_by_role("button", name=words)
        .or_(page.get_by_role("link", name=words))
        .filter(visible=True)
        .and_(page.locator(f":not([{NOT_A_TIP}])"))
    )


async def dismiss_tips(page: Page, labels: Labels) -> list[str]:
    """Click away every tip or cover showing that offers only dismiss words; the words clicked.

    A control with those words inside anything that offers more (a dialog's "Close" beside its
    form) is marked and left alone: nothing else is ever clicked to get out of the way. A tip
    under another cover is left for the next call, once what lies over it is gone.
    """
    dismiss = [normalize(word).casefold() for word in labels.dismiss]
    clicked: list[str] = []
    candidates = dismiss_controls(page, labels)
    # The last first: a cover drawn later lies over an earlier one, and a control marked or
    # clicked away leaves the ones before it where they were.
    for index in reversed(range(await candidates.count())):
        token, selector = new_mark()
        said = await candidates.nth(index).evaluate(_TIP_JS, [dismiss, MARK, token, NOT_A_TIP])
        if said:
            # Bounded: something drawn over the tip's own button is not ours to move.
            with suppress(PlaywrightTimeoutError):
                await page.locator(selector).click(timeout=READ_MS)
                clicked.append(str(said))
    return clicked


def feedback_dialog(page: Page, labels: Labels) -> Locator:
    """The feedback survey that appears at random."""
    return page.get_by_role("dialog", name=name_matcher(labels.feedback, whole=True))


def any_popup(page: Page, labels: Labels) -> Locator:
    """The first pop-up showing, whichever it is: the cookie banner, the survey, or a control
    worded as a dismissal (a tip's, or one not yet told from a tip's).

    Always one element at most: Playwright checks a handler's locator strictly, and two matches
    (two tips, or a form's "×" beside its "Close") would fail every action while they show.
    """
    found = cookie_banner(page, labels).or_(feedback_dialog(page, labels))
    return found.or_(dismiss_controls(page, labels)).filter(visible=True).first


async def install_popup_handlers(page: Page, labels: Labels) -> None:
    """Let Playwright dismiss the pop-ups before any action, locator wait or web-first assertion
    (idempotent).

    Playwright checks the handler's locator before every actionable action, every `wait_for`
    retry and every `expect` retry, so neither flows nor page objects need to know the pop-ups
    exist. One handler for them all: each handler's locator costs a query of the page before
    every action, and the handler then clears whichever of them show, in the order they cover.
    """
    if page in _INSTALLED:
        return
    # Marked first: a second call while the first awaits must not install the handlers twice.
    _INSTALLED.add(page)
    accept = name_matcher(labels.accept_cookies)
    no_thanks = name_matcher(labels.no_thanks, whole=True)
    banner = cookie_banner(page, labels).filter(visible=True).first
    survey = feedback_dialog(page, labels).filter(visible=True).first

    async def accept_cookies(_found: Locator) -> bool:
        if not await banner.count():
            return False
        await banner.get_by_role("button", name=accept).click()
        # Gone before the action goes on: a banner fading out is not clicked again.
        await banner.wait_for(state="hidden")
        return True

    async def decline_feedback(_found: Locator) -> bool:
        # The survey can come again right after it was declined (one per screen the portal
        # draws, and a screen may draw twice): it is not waited for to go; the action's next
        # retry finds the new one and runs the handler again.
        if not await survey.count():
            return False
        await survey.get_by_role("button", name=no_thanks).click()
        return True

    seen: set[str] = set()

    async def clear_tips(_found: Locator) -> bool:
        clicked = await dismiss_tips(page, labels)
        for words in clicked:
            if words not in seen:
                seen.add(words)
                log.info("tip_dismissed", words=words)
        return bool(clicked)

    async def clear(found: Locator) -> None:
        # One pop-up cleared per call, as Playwright's retry sees them: the survey declined a
        # moment ago may still show its "No thanks", which must not be taken for a tip's. What
        # else shows is met by the action's next retry, which calls this again.
        for part in (accept_cookies, decline_feedback, clear_tips):
            # Each on its own: one that fails (logged) does not keep the next from its pop-up.
            if await quietly(page, part)(found):
                return

    popup = any_popup(page, labels)
    await page.add_locator_handler(popup, clear, no_wait_after=True)
    watch_popups(page, popup)


def quietly(
    page: Page, handler: Callable[[Locator], Awaitable[T]]
) -> Callable[[Locator], Awaitable[T | None]]:
    """`handler`, with its failures logged instead of raised (None then).

    Playwright runs a handler in a task of its own: what it raises reaches no action (the action
    goes on and meets the pop-up itself), only the event loop, as an error nobody waits for. The
    usual one is the page closing while a pop-up is being clicked away (the run or the test
    ended), which is not worth a word.
    """

    async def run(locator: Locator) -> T | None:
        try:
            return await handler(locator)
        except PlaywrightError as exc:
            if not page.is_closed():
                log.warning("popup_not_dismissed", error=first_line(exc))
            return None

    return run
