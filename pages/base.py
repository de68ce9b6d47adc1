"""What every screen shares: the sign-on and server-error detectors, waiting for a landmark, and
the few waits whose limit is not the page's default timeout.

Every wait without a limit of its own (`wait_promptly`, which watches the page for changes, or
an action's own actionability wait) follows the page's default timeout, which the session sets
once.
`expect` assertions do not follow it (theirs is 5 s unless given one), so page objects use them
only as probes, with one of the named limits below.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from enum import StrEnum
from typing import Any, Literal, TypeVar, overload
from weakref import WeakKeyDictionary

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from pages.errors import PageError, PortalServerError, SignOnShown, UnknownAnswer
from pages.labels import Labels, any_of, label_pattern, name_matcher, normalize

# The page's default timeout: every wait for a screen or a control that has no limit of its own.
# Its one home: the settings' CCW_TIMEOUT_MS defaults to it, and a PortalSession given none uses
# it. (The pytest plugin's bundled mock answers in milliseconds and takes a third of it.)
DEFAULT_TIMEOUT_MS = 30_000.0
# Reads that wait for an element (inner_text, get_attribute) get this long; a pop-up that covers
# the screen makes them wait in vain, and read_stably then dismisses it and reads again.
READ_MS = 2_000.0
# How long a toast error is given to go away by itself before the screen is reloaded instead.
TOAST_MS = 8_000.0
# A custom combobox that ignores clicks usually opens on ArrowDown (WAI-ARIA combobox pattern):
# a click is given this long to open it before the key is tried, and an option this long to take
# a click before the list (closed by a pop-up meanwhile) is opened again.
CLICK_OPEN_MS = 1_500.0
# An opened list is given this long to show its first option before it is opened again: a pop-up
# that takes the focus closes it, and then waiting longer would only wait in vain.
LIST_MS = 5_000.0
# A control shows a choice just made (a radio ticked, an option chosen) without asking the
# server, so it is given this long to show it.
CHOSEN_MS = 5_000.0
# After the assignment table has loaded, the reason next to a disabled button is part of the same
# render; this bounds the wait for it before the button's own description is used instead.
REASON_MS = 2_000.0

# A wait is made of slices this long. Playwright polls a wait at 0, 20, 70, 170 and 270 ms and
# then only every 500 ms, so a screen that the portal's answer draws after 300 ms is seen at
# 770; a wait of 250 ms polls every 50 ms (its steps are capped at a fifth of its timeout), and
# each slice starts again from there. One browser call per slice.
WAIT_SLICE_MS = 250.0
# An action on a control the screen showed a moment ago (typing the order number, ticking a box)
# is tried in slices this long: the portal may still be loading the screen's own data, and a
# session that ran out meanwhile sends the browser to the sign-on page, where the control never
# comes. Between two slices that page (or a server error) ends the action at once.
ACT_SLICE_MS = 1_000.0

_READ_ATTEMPTS = 3


def page_timeout(page: Page) -> float:
    """The page's default timeout (`page.set_default_timeout`, else the context's, else
    Playwright's 30 s; 0: none), for a wait made in slices. Playwright keeps it without a public
    reader: this reads its own setting (a test pins it to the version in use)."""
    settings = getattr(getattr(page, "_impl_obj", None), "_timeout_settings", None)
    try:
        return float(settings.timeout(None))  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_TIMEOUT_MS


def _slices(total: float, size: float) -> Iterator[float]:
    """The limits of the calls that make up a wait of `total` ms (0: none) in slices of `size`
    ms, each computed when it is asked for, until the whole limit has run out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + total / 1000 if total else None
    while True:
        left = size if deadline is None else (deadline - loop.time()) * 1000
        if left <= 0:
            return
        yield max(1.0, min(left, size))


# A wait first watches the page for changes (FAST_MS), looking again each time its document
# changes instead of on Playwright's 50 ms polls: the portal's answer is seen within a few
# milliseconds of being drawn, and a screen that stays still costs one query per WAIT_SLICE_MS
# (what changes without touching the document, such as a style sheet's animation or a frame's
# own document, is seen at that pace). After that it is Playwright's own sliced wait.
FAST_MS = 2_000.0
# Looks made at once on a change, before each look waits at least RESTLESS_MS: a page that
# changes without end (a clock, an animation drawn by script) is looked at no more often than
# Playwright's own wait would poll it.
_EAGER_LOOKS = 5
RESTLESS_MS = 50.0

# Keeps, for each document, when it last changed (nodes, attributes, text), and wakes the waits
# watching it. It reads nothing of the portal's and changes nothing in it. A context that adds it
# as an init script (`WATCH_SCRIPT`) has it in every document from the start; else the first
# wait on a document installs it.
_WATCH = """(() => {
  if (window.__ccwWatch) return window.__ccwWatch;
  const watch = {last: performance.now(), waiters: new Set()};
  Object.defineProperty(window, "__ccwWatch", {value: watch, enumerable: false});
  new MutationObserver(() => {
    watch.last = performance.now();
    for (const wake of [...watch.waiters]) wake();
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  watch.fresh = true;
  return watch;
})()"""
WATCH_SCRIPT = _WATCH + ".fresh = false;"

# Resolves true once the document has changed within the last `since` ms or changes within
# `limit` ms (false when it did not), not before `earliest` ms. A document the watch was only
# now installed in answers true at once: its changes before are unknown.
_NEXT_CHANGE = """([limit, earliest, since]) => new Promise((resolve) => {
  const started = performance.now();
  const watch = WATCH;
  let done = false;
  const finish = (changed) => {
    if (done) return;
    done = true;
    watch.waiters.delete(changed_);
    clearTimeout(timer);
    const wait = changed ? earliest - (performance.now() - started) : 0;
    if (wait > 0) setTimeout(() => resolve(true), wait);
    else resolve(changed);
  };
  const changed_ = () => finish(true);
  const timer = setTimeout(() => finish(false), limit);
  if (watch.fresh || watch.last >= started - since) {
    watch.fresh = false;
    finish(true);
  } else {
    watch.waiters.add(changed_);
  }
})""".replace("WATCH", _WATCH, 1)
# How much earlier than the look a change is still taken as come after it: the look's query and
# the watch's start reach the page at delays that differ by this much at most.
_SINCE_MARGIN_MS = 10.0


async def next_change(page: Page, limit: float, earliest: float = 0.0, since: float = 0.0) -> bool:
    """Wait until the page's document changes (at most `limit` ms; not before `earliest` ms;
    a change in the last `since` ms counts), and tell whether it did. A new document (a
    navigation) counts as a change."""
    try:
        return bool(await page.evaluate(_NEXT_CHANGE, [limit, earliest, since]))
    except PlaywrightError:
        if page.is_closed():
            raise
        return True  # the document went away under the watch: a navigation is a change


# The pop-ups Playwright's handler dismisses on each page (pages.popups registers them): a
# modal one hides the screen beneath from role locators, and watching for changes alone would
# not dismiss it.
_POPUPS: WeakKeyDictionary[Page, Locator] = WeakKeyDictionary()


def watch_popups(page: Page, popup: Locator) -> None:
    """Let waits on `page` dismiss `popup` (Playwright's handler for it being installed) when
    it shows while the screen stays still."""
    _POPUPS[page] = popup


async def _holds(
    target: Locator, state: Literal["attached", "detached", "visible", "hidden"]
) -> bool:
    """Whether `target` is in `state` right now: one count (`shows_now`), checked, not waited."""
    there = await shows_now(target, hidden_ok=state in ("attached", "detached"))
    return there if state in ("visible", "attached") else not there


async def wait_promptly(
    target: Locator,
    *,
    state: Literal["attached", "detached", "visible", "hidden"] = "visible",
    timeout: float | None = None,
    looked_at: float | None = None,
    likely: Locator | None = None,
) -> bool:
    """`target.wait_for(state=..., timeout=...)` (None: the page's default timeout, 0: none),
    seen within milliseconds of the change that brings it however long it took.

    For FAST_MS it looks (one count) each time the page's document changes (`next_change`);
    when the screen stays still for WAIT_SLICE_MS with a pop-up showing (`watch_popups`),
    Playwright's own wait runs the handler that dismisses it. After FAST_MS it waits with
    Playwright in slices of WAIT_SLICE_MS, pop-up handlers run in each.
    `looked_at`: the event loop's time when the caller began a look that found nothing; the
    wait then starts by watching.
    `likely`: the part of `target` the caller expects (a screen's landmark, where `target` also
    holds the sign-on page and the server error): the first looks at a page that just changed
    count it alone, a cheaper query; a still screen, a restless one and Playwright's wait look
    at the whole of `target`. True when what ended the wait is `likely` for sure, False when it
    is `target` (which part of it is the caller's to tell).
    Raises Playwright's TimeoutError naming the whole timeout.
    """
    total = page_timeout(target.page) if timeout is None else timeout
    loop = asyncio.get_running_loop()
    started = loop.time()
    fast_until = started + (FAST_MS if not total else min(FAST_MS, total)) / 1000
    if looked_at is None:
        looked_at = started
        if await _holds(target, state):
            return False
    looks = 0
    while (left := (fast_until - loop.time()) * 1000) > 0:
        looks += 1
        # A change since the last look began may not have been seen by it: it counts.
        since = (loop.time() - looked_at) * 1000 + _SINCE_MARGIN_MS
        earliest = 0.0 if looks <= _EAGER_LOOKS else RESTLESS_MS
        limit = max(1.0, min(left, WAIT_SLICE_MS))
        changed = await next_change(target.page, limit, earliest, since)
        if not changed:
            # A still screen: if a pop-up is what shows, Playwright's own wait runs its handler.
            popup = _POPUPS.get(target.page)
            if popup is not None and await popup.count():
                with suppress(PlaywrightTimeoutError):
                    await target.wait_for(state=state, timeout=limit)
                    return False
        looked_at = loop.time()
        probe = likely if likely is not None and changed and looks <= _EAGER_LOOKS else target
        if await _holds(probe, state):
            return probe is not target
    rest = 0.0 if not total else total - (loop.time() - started) * 1000
    if total and rest <= 0:
        raise PlaywrightTimeoutError(f"Timeout {total:.0f}ms exceeded.")
    for limit in _slices(rest, WAIT_SLICE_MS):
        try:
            await target.wait_for(state=state, timeout=limit)
            return False
        except PlaywrightTimeoutError:
            continue
    # Playwright's own first line, for a wait it would have made in one call.
    raise PlaywrightTimeoutError(f"Timeout {total:.0f}ms exceeded.")


# Our own attribute, set by a script on an element it found by meaning (the widget drawn over a
# hidden select, the label that stands for a hidden radio, an action without a role), so that a
# locator can point at it. Each use takes a fresh token: an earlier mark is never clicked.
MARK = "data-ccw-target"
_TOKENS = itertools.count(1)


def new_mark() -> tuple[str, str]:
    """A fresh token for MARK, and the CSS selector of the element that will carry it (our own
    attribute: nothing of the portal's markup is assumed)."""
    token = str(next(_TOKENS))
    return token, f"[{MARK}='{token}']"


class FoundBy(StrEnum):
    """How a control was found, in the order of trust: first to last."""

    ROLE = "role"
    LABEL = "label"
    WORDS = "visible words"


# How each control was found on a page, so that the next order on the same page goes straight to
# a control found by its role (one browser call instead of three); a use that fails forgets it,
# and the step's retry looks for the control the whole way again.
_FOUND: WeakKeyDictionary[Page, dict[tuple[str, str], FoundBy]] = WeakKeyDictionary()


def control_key(role: str, label: str, scope: Page | Locator) -> tuple[str, str]:
    """What identifies a control in `_FOUND`: its role, its label and where it is looked for
    (the header's Search is not the dialog's). Where is the scope's selector, without the
    address of the page it is on: the same dialog is the same place on the next order's page."""
    if isinstance(scope, Page):
        return (role, label)
    where = repr(scope)  # <Locator frame=<Frame name=... url='...'> selector='...'>
    return (role, f"{label}\n{where[where.find(' selector=') :]}")


def found_before(page: Page, control: tuple[str, str]) -> FoundBy | None:
    """How `control` (its role and label) was found on this page before, if it was."""
    return _FOUND.get(page, {}).get(control)


def remember_found(page: Page, control: tuple[str, str], how: FoundBy | None) -> None:
    """Remember how `control` was found on this page (None: forget it)."""
    known = _FOUND.setdefault(page, {})
    if how is None:
        known.pop(control, None)
    else:
        known[control] = how


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


async def raise_if_server_error(page: Page, labels: Labels) -> None:
    """Raise PortalServerError when the generic error message is showing (checked, not waited)."""
    error = server_error(page, labels)
    if await error.count():
        raise PortalServerError(f"the portal said: {normalize(await error.first.inner_text())}")


async def sign_on_showing(page: Page, labels: Labels) -> bool:
    """Whether the sign-on page is showing right now (checked, not waited)."""
    return await sign_on_marker(page, labels).count() > 0


async def shows_now(locator: Locator, *, hidden_ok: bool = False) -> bool:
    """Whether an element of `locator` shows right now (with `hidden_ok`, is in the page at all):
    one count, checked, not waited."""
    first = locator.first
    return await (first if hidden_ok else first.filter(visible=True)).count() > 0


async def raise_if_replaced(page: Page, labels: Labels) -> None:
    """Raise PortalServerError when the portal's error shows, SignOnShown when the sign-on page
    does (checked, not waited): what shows instead of a screen or control that did not come."""
    await raise_if_server_error(page, labels)
    if await sign_on_showing(page, labels):
        raise SignOnShown


async def wait_shown(
    locator: Locator,
    *,
    state: Literal["attached", "visible"] = "visible",
    timeout: float | None = None,
) -> None:
    """`locator.first.wait_for(state=...)`, answered by one count when it already holds, else
    `wait_promptly` (which dismisses a pop-up that stands in the way); one that is there is
    acted on next, and Playwright's actions run the pop-up handlers themselves."""
    looked_at = asyncio.get_running_loop().time()
    if await shows_now(locator, hidden_ok=state == "attached"):
        return
    await wait_promptly(locator.first, state=state, timeout=timeout, looked_at=looked_at)


async def wait_for_landmark(
    page: Page,
    labels: Labels,
    landmark: Locator,
    *,
    hidden_ok: bool = False,
    timeout: float | None = None,
) -> None:
    """Wait until `landmark` shows; fail fast when the sign-on page or a server error shows instead.

    The landmark wins when both show (a toast of an earlier failure may linger beside a screen
    that has since loaded): one that shows already is answered by one count. A pop-up that
    stands in the way is dismissed (`wait_promptly`). With `hidden_ok`, a landmark that is in
    the page but hidden counts (an input a styled label stands for).
    Raises SignOnShown, PortalServerError, or Playwright's TimeoutError when nothing shows within
    `timeout` (None: the page's default timeout).
    """
    visible = landmark if hidden_ok else landmark.filter(visible=True)
    looked_at = asyncio.get_running_loop().time()
    if await visible.count():
        return
    either = visible.or_(sign_on_marker(page, labels)).or_(server_error(page, labels))
    # Every part but a hidden-ok landmark is filtered to what is visible, so "attached" is
    # "shows" for them. The sign-on page or an error shown already is seen at the first change.
    if await wait_promptly(
        either.first, state="attached", timeout=timeout, looked_at=looked_at, likely=visible.first
    ):
        return
    if await visible.count():
        return
    await raise_if_replaced(page, labels)


async def settled_document(page: Page) -> None:
    """Wait until the page's document has been parsed and its deferred scripts have run
    (DOMContentLoaded): a page shows its controls before that, and a click then is lost, since
    nothing listens to it yet. Answered in the client, without a round trip, once reached."""
    await page.wait_for_load_state("domcontentloaded")


async def act_watching(
    page: Page,
    labels: Labels,
    act: Callable[[float], Awaitable[T]],
    *,
    timeout: float | None = None,
) -> T:
    """`act(limit)`: an action that is safe to run twice (a fill, a check), tried in slices of
    ACT_SLICE_MS within `timeout` (None: the page's default).

    The document's own scripts are waited for first (`settled_document`). When a slice runs out
    (the control is not ready yet, or, on a machine short of CPU, the action took longer than
    the slice after it acted, which is why it must be safe to run again), the sign-on page or a
    server error showing instead ends it (SignOnShown, PortalServerError), else it is tried
    again. Raises Playwright's TimeoutError naming the whole timeout when the control never
    became ready.
    """
    total = page_timeout(page) if timeout is None else timeout
    await settled_document(page)
    for limit in _slices(total, ACT_SLICE_MS):
        try:
            return await act(limit)
        except PlaywrightTimeoutError:
            pass
        # Outside the except block: the slice's timeout is not the cause of what is raised.
        await raise_if_replaced(page, labels)
    raise PlaywrightTimeoutError(f"Timeout {total:.0f}ms exceeded.")


async def click_watching(page: Page, labels: Labels, control: Locator) -> None:
    """Click `control` once its document's scripts have run and it shows, the sign-on page or a
    server error showing instead ending the wait (`wait_for_landmark`). The click itself is not
    made of slices: a slice that ran out just after the click would click twice, and a second
    Search redraws the results under the next click. What the click brings is waited for by
    the caller, with the sign-on page in view."""
    await settled_document(page)
    await wait_for_landmark(page, labels, control)
    await control.click(no_wait_after=True)


A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")


@overload
async def at_once(first: Awaitable[A], second: Awaitable[B], /) -> tuple[A, B]: ...
@overload
async def at_once(
    first: Awaitable[A], second: Awaitable[B], third: Awaitable[C], /
) -> tuple[A, B, C]: ...
async def at_once(*reads: Awaitable[Any]) -> tuple[Any, ...]:
    """Independent reads of one screen made together: their round trips overlap, so they cost
    about one. The first to fail is raised as it is, and the others are cancelled first (none
    goes on reading the page behind the caller's back)."""
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        return tuple(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def which_show(
    page: Page, labels: Labels, first: Locator, second: Locator, *, also: Locator | None = None
) -> tuple[bool, bool]:
    """Whether `first` and `second` show, asked in one round trip (the screen a click leads to,
    and the control that leads there, say). When neither shows yet, waits for either, or for
    `also` (a screen that shows neither, which the caller reads its own way), as
    `wait_for_landmark` does, and asks again."""

    async def shows(part: Locator) -> bool:
        return bool(await part.filter(visible=True).count())

    found = await at_once(shows(first), shows(second))
    if not any(found):
        either = first.or_(second)
        await wait_for_landmark(page, labels, either if also is None else either.or_(also))
        found = await at_once(shows(first), shows(second))
    return found


def all_showing(body: Locator, *parts: Locator) -> Locator:
    """`body` once every one of `parts` shows inside it: a screen made of several landmarks,
    waited for in one call (wait_for_landmark) instead of one wait per landmark."""
    for part in parts:
        body = body.filter(has=part.filter(visible=True))
    return body


async def recover_screen(
    page: Page, labels: Labels, *, reload: bool, try_again: bool = True
) -> str:
    """Undo a read-only failure in place, the smallest way; returns what was done.

    The portal's own "Try again" when its error offers one (it re-runs the failed load); else,
    when `reload`, a reload of the screen (it reloads the current screen's data and clears any
    message); else wait (up to TOAST_MS) until a toast error has gone. Without `try_again` (after
    the irreversible click) the portal's button is never pressed: it might send the change again.
    """
    error = server_error(page, labels)
    retry = error.get_by_role("button", name=any_of(labels.try_again))
    if try_again and await retry.count():
        await retry.first.click()
        return "try_again"
    if reload:
        await reload_screen(page)
        return "reload"
    with suppress(AssertionError):
        await expect(error).to_have_count(0, timeout=TOAST_MS)
    return "waited"


# How long a screen is given to show an answer the agent knows once the portal has answered; a
# screen that then shows the same other words twice this far apart has settled on them.
ANSWER_MS = 4_000.0


async def wait_for_answer(
    page: Page,
    labels: Labels,
    landmark: Locator,
    scope: Locator,
    before: str,
    *,
    hidden_ok: bool = False,
) -> None:
    """Wait for `landmark` (an answer the agent knows) after an action that asks the portal.

    When instead `scope` settles on words it did not show `before` (the same words at two looks
    ANSWER_MS apart), they are the portal's answer in words the agent does not know: raise
    UnknownAnswer quoting them at once, rather than wait for words that will not come and
    retry. A screen still changing (loading) is waited for up to the page's default timeout.
    """
    for _ in range(2):
        try:
            await wait_for_landmark(page, labels, landmark, hidden_ok=hidden_ok, timeout=ANSWER_MS)
            return
        except PlaywrightTimeoutError:
            pass
    first = await scope.inner_text(timeout=READ_MS)
    try:
        await wait_for_landmark(page, labels, landmark, hidden_ok=hidden_ok, timeout=ANSWER_MS)
        return
    except PlaywrightTimeoutError:
        pass
    settled = await scope.inner_text(timeout=READ_MS)
    busy = (
        page.locator("[aria-busy=true]").or_(page.get_by_role("progressbar")).filter(visible=True)
    )
    if await busy.count():
        # Still loading: words under a spinner are not an answer.
        await wait_for_landmark(page, labels, landmark, hidden_ok=hidden_ok)
        return
    old = {normalize(line) for line in before.splitlines()}
    new = [normalize(line) for line in settled.splitlines() if normalize(line) not in old]
    new = [line for line in new if line]
    if settled == first and new:
        quoted = " / ".join(new)
        quoted = quoted if len(quoted) <= 300 else quoted[:297] + "..."
        raise UnknownAnswer(f'the portal answered in words the agent does not know: "{quoted}"')
    await wait_for_landmark(page, labels, landmark, hidden_ok=hidden_ok)


# Our own attribute on the portal's messages that were on screen before the irreversible click:
# the answer to that click is a message not marked, or a marked one whose words change (a live
# region the portal reuses), which the observer unmarks.
SEEN_ATTRIBUTE = "data-ccw-seen"
_MARK_SEEN = f"""elements => {{
  for (const element of elements) {{
    element.setAttribute("{SEEN_ATTRIBUTE}", "");
    const observer = new MutationObserver(() => {{
      element.removeAttribute("{SEEN_ATTRIBUTE}");
      observer.disconnect();
    }});
    observer.observe(element, {{
      childList: true, subtree: true, characterData: true,
      attributes: true, attributeFilter: ["hidden", "class", "style", "aria-hidden"],
    }});
  }}
}}"""


def messages(page: Page) -> Locator:
    """Every message the portal shows: alerts and statuses (inline, banners or toasts), also those
    hidden from assistive technology behind an open dialog (`aria-hidden` on the page)."""
    return page.get_by_role("alert", include_hidden=True).or_(
        page.get_by_role("status", include_hidden=True)
    )


async def mark_messages_seen(page: Page) -> None:
    """Mark the messages on screen now as old news (a toast from an earlier order, say)."""
    await messages(page).evaluate_all(_MARK_SEEN)


def unseen(locator: Locator) -> Locator:
    """The elements of `locator` that were not on screen when `mark_messages_seen` ran.

    CSS, on our own marker attribute only: nothing of the portal's markup is assumed.
    """
    return locator.and_(locator.page.locator(f":not([{SEEN_ATTRIBUTE}])"))


async def reload_screen(page: Page) -> None:
    """Load the current address again (the portal's screens re-read their data)."""
    await page.reload(wait_until="domcontentloaded")


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


async def follow_click(control: Locator, landmark: Locator, labels: Labels) -> Page:
    """Click `control` and return the page the answer shows in: a tab or window the click
    opened, else this page (its content replaced or not). Waits (the page's default timeout)
    for one of the two: a new tab, or `landmark` in this page; the sign-on page or a server
    error showing here instead ends the wait at once (SignOnShown, PortalServerError), as in
    `wait_for_landmark`."""
    page = control.page
    # A link that opens its tab from a script is not one before the document's scripts ran: a
    # click then would open nothing, and the wait below would last the whole timeout.
    await settled_document(page)
    popup = asyncio.ensure_future(page.wait_for_event("popup"))
    try:
        await control.click()
        here = asyncio.ensure_future(wait_for_landmark(page, labels, landmark))
        done, _ = await asyncio.wait({popup, here}, return_when=asyncio.FIRST_COMPLETED)
        if popup in done and popup.exception() is None:
            here.cancel()
            await asyncio.gather(here, return_exceptions=True)
            opened: Page = popup.result()
            await opened.wait_for_load_state("domcontentloaded")
            return opened
        popup.cancel()
        await asyncio.gather(popup, return_exceptions=True)
        await here  # raises its timeout when neither came
        return page
    finally:
        if not popup.done():
            popup.cancel()
            await asyncio.gather(popup, return_exceptions=True)


async def evaluate_once(locator: Locator, script: str, arg: Any = None) -> Any:
    """`locator.evaluate(script, arg)` in one round trip when it points at exactly one element
    now (Playwright's own takes three: wait for it, evaluate, release the handle); else that
    call itself, which waits for it (READ_MS) and refuses more than one (strict mode).

    `script` is the agent's own code, never text from a page or a file: a function of the
    element and `arg`, as for `locator.evaluate`.
    """
    found: list[Any] = await locator.evaluate_all(
        f"(elements, arg) => elements.length === 1 ? [({script})(elements[0], arg)] : []", arg
    )
    if found:
        return found[0]
    return await locator.evaluate(script, arg, timeout=READ_MS)


async def read_stably(
    landmark: Locator,
    read: Callable[[], Awaitable[T]],
    *,
    hidden_ok: bool = False,
    found: Callable[[T], bool] | None = None,
    never_waits: bool = False,
) -> T:
    """Read while `landmark` shows, and again if a pop-up covered the screen during the read.

    Reads (counts, texts) do not trigger Playwright's pop-up handlers, and a modal pop-up hides
    the screen from role locators, so a read could see an empty table. The wait for the landmark
    before each read dismisses pop-ups; the check after it rejects a read a pop-up interrupted.
    With `hidden_ok`, a landmark in the page but hidden counts (an input a styled label stands
    for, found with include_hidden, which a modal pop-up does not hide).

    `found` is for a read made in one browser call: when it says the read found what it looked
    for, the check after it is skipped. A pop-up only hides, and one call is read at one moment,
    so such a read cannot have been cut short by one; an empty read is checked as any other.
    With `found`, a landmark that shows already is read at once (one count, not a wait); a read
    that then finds nothing is made again the careful way, after a wait that dismisses pop-ups.
    With `never_waits` too (a read that is one evaluate over what is there, never a wait), the
    read is made first, without that count: one that finds what it looked for is the answer, as
    it would have been after the count, and one that does not goes the careful way.
    """
    state: Literal["attached", "visible"] = "attached" if hidden_ok else "visible"
    if found is not None:
        if never_waits or await shows_now(landmark, hidden_ok=hidden_ok):
            with suppress(PlaywrightTimeoutError):
                value = await read()
                if found(value):
                    return value
    for attempt in range(1, _READ_ATTEMPTS + 1):
        await wait_promptly(landmark.first, state=state)
        try:
            value = await read()
        except PlaywrightTimeoutError:
            if attempt == _READ_ATTEMPTS:
                raise
            continue
        if found is not None and found(value):
            return value
        if await (landmark.count() if hidden_ok else landmark.first.is_visible()):
            return value
    raise PageError("a pop-up kept covering the screen while it was read")
