"""Finding a control as a person does, in one fixed order of trust.

1. its role and accessible name (what assistive technology announces);
2. else its label (a form field whose <label> names it, even when the field itself is hidden
   behind a styled box);
3. else its visible words, matched whole (white space and case normalised; a couple of short
   words an icon adds, such as "?" or "EDIT", tolerated), on something a person can click: an
   element that is a link, a button or has a click cursor.

The controls that act (Assign, Submit, Yes) are never looser than their exact words: without
their role they are taken only when exactly one clickable element on the screen (or in the
dialog) shows exactly those words; anything else is a PageError saying what was seen.

What a person clicks is what is clicked: a hidden radio or checkbox is ticked through the
visible label that stands for it; an action without a role is clicked where its words are.
Elements are pointed at through our own marker attribute (set by a script on the element found
by meaning), never by the portal's ids or classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect

from pages.base import (
    CHOSEN_MS,
    MARK,
    READ_MS,
    FoundBy,
    act_watching,
    at_once,
    control_key,
    evaluate_once,
    found_before,
    new_mark,
    remember_found,
    wait_shown,
)
from pages.errors import PageError
from pages.labels import Labels, label_pattern, name_matcher, wordings

# Whether an element is something a person clicks, and whether it looks switched off. A
# jQuery-era action is an <a> without href or a styled <span>: no role, only its looks say so.
_CLICKABLE_JS = """
el => {
  const style = getComputedStyle(el);
  const clickable = !!el.closest('a, button, [role=button], [role=link], [onclick]')
    || style.cursor === 'pointer';
  const off = !!el.closest('[disabled], [aria-disabled=true]')
    || /(^|\\s)disabled(\\s|$)/.test(el.className || '')
    || style.cursor === 'not-allowed' || style.pointerEvents === 'none';
  return [clickable, off];
}
"""
# Every element's flags; the one to click marked with our own attribute in the same call: the
# only clickable one (any control), else the first clickable one (a control that does not act).
_FIND_BY_WORDS_JS = f"""
(elements, [attribute, token, acts]) => {{
  const flags = elements.map({_CLICKABLE_JS});
  const clickable = elements.filter((_, i) => flags[i][0]);
  if (clickable.length === 1 || (clickable.length && !acts)) {{
    clickable[0].setAttribute(attribute, token);
  }}
  return flags;
}}
"""

# The visible element that stands for a hidden input: a label of it that has a box, else the
# largest element around it that holds no other input of its kind (its row or list item).
_PROXY_JS = """
(input, [attribute, token]) => {
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  if (shown(input)) { input.setAttribute(attribute, token); return 'input'; }
  const label = [...(input.labels || [])].find(shown);
  if (label) { label.setAttribute(attribute, token); return 'label'; }
  const box = input.closest('label');
  if (box && shown(box)) { box.setAttribute(attribute, token); return 'label'; }
  return '';
}
"""

# A few short words an icon may add to a label ("Holds ?", "Purchase Order #* EDIT").
_ICON_WORDS = r"(?:\s*[*?:ⓘ]|\s+[^\s]{1,5}){0,2}"


def words_matcher(label: str, *, exact: bool) -> re.Pattern[str]:
    """The visible words of a control named `label`: exactly them (`exact`), or them with a
    plural and up to two short words an icon adds."""
    body = label_pattern(label)
    if exact:
        return re.compile(rf"^\s*{body}\s*$", re.IGNORECASE)
    return re.compile(rf"^\s*{body}s?{_ICON_WORDS}\s*$", re.IGNORECASE)


def field_name(label: str) -> str:
    """A field label without the colon the catalogue writes ("Status:" -> "Status")."""
    return label.rstrip().rstrip(":").rstrip()


def field_matcher(label: str) -> re.Pattern[str]:
    """A field's label alone, with or without its colon and with an icon's words: the whole
    text of the element that labels a value ("Status", "Status:", "Holds ?")."""
    bodies = "|".join(label_pattern(field_name(w)) for w in wordings(label))
    return re.compile(rf"^\s*(?:{bodies})\s*:?{_ICON_WORDS}\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Action:
    """A control a person clicks (button or link), by its role and name, else by its words.

    `acts`: a control that changes something (Assign, Submit, Yes), taken by its words only when
    they are exactly the catalogue's and exactly one clickable element shows them.
    """

    scope: Page | Locator
    role: str
    label: str
    acts: bool = False
    whole: bool = True

    @property
    def by_role(self) -> Locator:
        name = name_matcher(self.label, whole=self.whole or self.acts)
        return self.scope.get_by_role(self.role, name=name).filter(visible=True)  # type: ignore[arg-type]

    @property
    def by_words(self) -> Locator:
        pattern = words_matcher(self.label, exact=self.acts)
        return self.scope.get_by_text(pattern).filter(visible=True)

    @property
    def shown(self) -> Locator:
        """Either way of finding it, for waiting until the control shows."""
        return self.by_role.or_(self.by_words)

    @property
    def _page(self) -> Page:
        return self.scope if isinstance(self.scope, Page) else self.scope.page

    @property
    def _key(self) -> tuple[str, str]:
        return control_key(self.role, self.label, self.scope)

    async def find(self) -> tuple[Locator, FoundBy]:
        """The control on screen now (checked, not waited), and how it was found.

        Raises PageError when only words show and they do not make one clickable control.
        """
        control, how, _off = await self._find()
        return control, how

    async def _find(self) -> tuple[Locator, FoundBy, bool]:
        """`find`, and whether a control found by its words looked switched off when found.

        The role is asked first, always; on a page where the control was found by its words
        before, the words are asked in the same round trip (the role still wins when it finds
        the control: the mark the words left is then never used)."""
        token, selector = new_mark()

        async def by_words() -> list[list[bool]]:
            found: list[list[bool]] = await self.by_words.evaluate_all(
                _FIND_BY_WORDS_JS, [MARK, token, self.acts]
            )
            return found

        flags: list[list[bool]] | None = None
        if found_before(self._page, self._key) is FoundBy.WORDS:
            roles, flags = await at_once(self.by_role.count(), by_words())
        else:
            roles = await self.by_role.count()
        if roles:
            remember_found(self._page, self._key, FoundBy.ROLE)
            return self.by_role.first, FoundBy.ROLE, False
        if flags is None:
            flags = await by_words()
        clickable = [i for i, (can_click, _off) in enumerate(flags) if can_click]
        if len(clickable) == 1 or (clickable and not self.acts):
            remember_found(self._page, self._key, FoundBy.WORDS)
            return self._page.locator(selector), FoundBy.WORDS, flags[clickable[0]][1]
        seen = f"{len(clickable)} clickable elements" if clickable else "no clickable element"
        raise PageError(
            f'no {self.role} named "{self.label}"; {seen} show those words'
            + (" (a control that acts is taken by its words only when it is the only one)"
               if self.acts else "")
        )  # fmt: skip

    async def wait(self) -> tuple[Locator, FoundBy]:
        """Wait (the page's default timeout) until the control shows, then find it."""
        control, how, _off = await self._wait()
        return control, how

    async def _wait(self) -> tuple[Locator, FoundBy, bool]:
        await wait_shown(self.shown)
        return await self._find()

    async def click(self) -> FoundBy:
        """Wait for the control, click it; how it was found. A control found by its role on this
        page before is clicked at once (the click waits for it); a click that fails forgets that."""
        if found_before(self._page, self._key) is FoundBy.ROLE:
            try:
                await self.by_role.first.click()
            except Exception:
                remember_found(self._page, self._key, None)
                raise
            return FoundBy.ROLE
        control, how, off = await self._wait()
        if off:
            # A role-less action greyed out is not clickable yet; a button's click waits for
            # that itself.
            await self._wait_on(control)
        await control.click()
        return how

    async def is_enabled(self) -> bool:
        """Whether the control shows and is not switched off (checked, not waited)."""
        control, how = await self.find()
        if how is FoundBy.ROLE:
            return await control.is_enabled(timeout=READ_MS)
        _clickable, off = await evaluate_once(control, _CLICKABLE_JS)
        return not off

    async def wait_enabled(self) -> None:
        """Wait (the page's default timeout) until the control is enabled."""
        enabled_role = self.scope.get_by_role(
            self.role,  # type: ignore[arg-type]
            name=name_matcher(self.label, whole=self.whole or self.acts),
            disabled=False,
        ).filter(visible=True)
        if found_before(self._page, self._key) is FoundBy.ROLE:
            try:
                await wait_shown(enabled_role)
            except Exception:
                remember_found(self._page, self._key, None)
                raise
            return
        await wait_shown(self.shown)
        if await self.by_role.count():
            await wait_shown(enabled_role)
            return
        control, _how, off = await self._find()
        if off:
            await self._wait_on(control)

    @staticmethod
    async def _wait_on(control: Locator) -> None:
        """Wait (the page's default timeout) until a control found by its words, and marked,
        no longer looks switched off."""
        token = await control.get_attribute(MARK, timeout=READ_MS)
        await control.page.wait_for_function(
            f"t => {{ const el = document.querySelector(`[{MARK}='${{t}}']`);"
            f" return !!el && !({_CLICKABLE_JS})(el)[1]; }}",
            arg=token,
        )


async def tick(box: Locator, labels: Labels) -> str:
    """Tick a radio or checkbox as a person does; what was clicked ("input" or "label").

    A visible input is checked itself; one hidden behind a styled label is clicked through that
    label (or the label around it). A tick may be what sends the portal its first request on a
    screen (the radio of a Smart Account loads its Virtual Accounts): a session that ran out
    then sends the browser to the sign-on page, which ends the tick at once (SignOnShown).
    Raises PageError when nothing visible stands for the choice.
    """
    page = box.page
    token, selector = new_mark()
    clicked = str(await evaluate_once(box, _PROXY_JS, [MARK, token]))
    if not clicked:
        raise PageError("a hidden choice has no visible label or box to click")
    if clicked == "input":
        # Playwright checks that it took; checking a ticked box again changes nothing.
        await act_watching(page, labels, lambda limit: box.check(timeout=limit))
        return clicked
    proxy = page.locator(selector)

    async def click_proxy(limit: float) -> None:
        # A label toggles a checkbox: it is clicked again only while the box is not ticked.
        if not await box.is_checked(timeout=READ_MS):
            await proxy.click(timeout=limit)

    await act_watching(page, labels, click_proxy)
    await expect(box).to_be_checked(timeout=CHOSEN_MS)
    return clicked
