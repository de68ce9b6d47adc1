"""Drop-downs (native, ARIA combobox, or a widget drawn over a hidden select) and tables read by
their column headers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any, NamedTuple, TypeVar

from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from pages.base import (
    CHOSEN_MS,
    CLICK_OPEN_MS,
    LIST_MS,
    MARK,
    READ_MS,
    FoundBy,
    at_once,
    control_key,
    evaluate_once,
    found_before,
    new_mark,
    read_stably,
    remember_found,
    wait_promptly,
    wait_shown,
)
from pages.errors import ListboxUnstable, OptionNotOffered
from pages.labels import name_matcher, normalize, same_text

T = TypeVar("T")

_ATTEMPTS = 3


async def choose_option(combobox: Locator, option: str | re.Pattern[str]) -> str:
    """Choose an option of a native <select> or an ARIA combobox; return the text now displayed.

    A string is matched whole (white space trimmed, case kept); a pattern as given.
    Raises OptionNotOffered when nothing matches.
    """
    wanted = option if isinstance(option, re.Pattern) else _whole(option)
    state = await _ready_state(combobox)
    if state.tag == "select":
        label = _pick(await _native_options(combobox), wanted)
        await combobox.select_option(label=label)
        await expect(combobox.get_by_role("option", selected=True)).to_have_text(
            _whole(label), timeout=CHOSEN_MS
        )
        return label

    async def pick_and_click(listbox: Locator) -> str:
        label = _pick(await _option_texts(listbox), wanted)
        await listbox.get_by_role("option", name=_whole(label)).click(timeout=CLICK_OPEN_MS)
        return label

    label = await _with_open_list(combobox, pick_and_click, state)
    if state.tag in ("input", "textarea"):
        await expect(combobox).to_have_value(_whole(label), timeout=CHOSEN_MS)
    else:
        await _proved(
            combobox.filter(has_text=re.compile(re.escape(label))),
            lambda: expect(combobox).to_contain_text(label, timeout=CHOSEN_MS),
        )
    return label


async def read_options(combobox: Locator, *, keep_open: bool = False) -> list[str]:
    """The texts of the options a drop-down offers (a custom one is opened and closed again;
    left open with `keep_open`, for a choice made next: `close_list` closes it otherwise)."""
    state = await _ready_state(combobox)
    if state.tag == "select":
        return await _native_options(combobox)
    texts = await _with_open_list(combobox, _option_texts, state)
    if not keep_open:
        await close_list(combobox)
    return texts


def _enabled(combobox: Locator) -> Locator:
    """The combobox once it is enabled: a drop-down filled by a background request is disabled
    until its options arrive. A locator, not `expect(...).to_be_enabled()`, so that the wait
    follows the page's default timeout; `disabled=False` honours aria-disabled as well."""
    return combobox.and_(combobox.page.get_by_role("combobox", disabled=False))


async def _native_options(select: Locator) -> list[str]:
    """A <select>'s choosable options: not its disabled or valueless "Select…" placeholder.

    Waits for at least one: a list filled by a background request may still be empty.
    """
    try:
        await wait_shown(select.locator(_CHOOSABLE_CSS), state="attached")
    except PlaywrightTimeoutError:
        return []
    texts: list[str] = await evaluate_once(select, _CHOOSABLE)
    return [normalize(text) for text in texts]


_CHOOSABLE_CSS = "option:not([disabled]):not([value=''])"
# The options a person can pick; CSS because options carry no state a role locator can filter on
# beyond "disabled", and a placeholder is often an enabled option with an empty value.
_CHOOSABLE = "s => [...s.options].filter(o => !o.disabled && o.value !== '').map(o => o.text)"


async def close_list(combobox: Locator) -> None:
    """Close an open list so it covers no other control (a click toggles it, else Escape)."""
    if await combobox.get_attribute("aria-expanded", timeout=READ_MS) != "true":
        return
    await combobox.click()
    # Escape only for a list the click does not close: pressed on a list that a pop-up had
    # closed meanwhile (it takes the focus), it would close the dialog around the drop-down.
    try:
        await expect(combobox).not_to_have_attribute("aria-expanded", "true", timeout=CLICK_OPEN_MS)
    except AssertionError:
        await combobox.press("Escape")


async def _with_open_list(
    combobox: Locator, action: Callable[[Locator], Awaitable[T]], state: _State | None = None
) -> T:
    """Open the list and act on it; a pop-up that takes the focus closes it, so try again.
    `state`: the combobox's as just read (the first attempt need not read it again)."""

    async def attempt(state: _State | None) -> T:
        listbox = await _open_listbox(combobox, state)
        # Options that show already are read at once (the read is the check); a list still
        # opening or filling is waited for first.
        with suppress(ListboxUnstable):
            return await action(listbox)
        await wait_shown(listbox.get_by_role("option"), timeout=LIST_MS)
        return await action(listbox)

    for _ in range(_ATTEMPTS - 1):
        try:
            return await attempt(state)
        except (PlaywrightTimeoutError, ListboxUnstable):
            state = None
            continue
    return await attempt(None)


async def _option_texts(listbox: Locator) -> list[str]:
    texts = [normalize(t) for t in await listbox.get_by_role("option").all_inner_texts()]
    if not texts:
        raise ListboxUnstable("the list closed while its options were read")
    return texts


async def _proved(shown: Locator, proof: Callable[[], Awaitable[None]]) -> None:
    """`proof` (an `expect` that the state just made shows), answered by one count of `shown`
    (the element in that state) when it shows already: an `expect` is a retry loop in the
    driver, about twice a count's time even when it holds at once. Else the proof waits."""
    if not await shown.count():
        await proof()


def _whole(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(normalize(text))}\s*$")


def _pick(offered: Sequence[str], wanted: re.Pattern[str]) -> str:
    for text in offered:
        if wanted.search(text):
            return text
    raise OptionNotOffered(wanted.pattern, offered)


class _State(NamedTuple):
    """A drop-down's control as read in one call: its tag name (lower case), its aria-expanded
    (None when it has none) and the id of the list it controls (aria-controls, else aria-owns)."""

    tag: str
    expanded: str | None
    controls: str


_STATE_JS = """
el => [el.tagName.toLowerCase(), el.getAttribute('aria-expanded'),
       el.getAttribute('aria-controls') || el.getAttribute('aria-owns') || '']
"""


async def _ready_state(combobox: Locator) -> _State:
    """The state of a drop-down once it shows and is enabled: one round trip when it does
    already, else waited for (the page's default timeout) and then read."""
    found: list[list[Any]] = await (
        _enabled(combobox).filter(visible=True).evaluate_all(f"els => els.map({_STATE_JS})")
    )
    if found:
        return _State(*found[0])
    await wait_shown(_enabled(combobox))
    return await _state(combobox)


async def _state(combobox: Locator) -> _State:
    """The control's state. One round trip when it shows (the callers waited for it); else
    waited for as a read is (a pop-up covering the screen hides it from its role)."""
    found: list[list[Any]] = await combobox.evaluate_all(f"els => els.map({_STATE_JS})")
    if found:
        return _State(*found[0])

    async def read() -> list[Any]:
        return list(await combobox.evaluate(_STATE_JS, timeout=READ_MS))

    return _State(*(await read_stably(combobox, read)))


async def _open_listbox(combobox: Locator, state: _State | None = None) -> Locator:
    """Open a custom combobox and return the listbox it controls (or the one now visible).
    `state`: the combobox's as just read (else it is read here, waited for if need be)."""
    if state is None:
        state = await _state(combobox)
    controls = state.controls
    if state.expanded != "true":
        await combobox.click()
        if state.expanded is not None:
            expanded = combobox.and_(combobox.page.locator("[aria-expanded='true']"))
            try:
                await _proved(
                    expanded,
                    lambda: expect(combobox).to_have_attribute(
                        "aria-expanded", "true", timeout=CLICK_OPEN_MS
                    ),
                )
            except AssertionError:
                await combobox.press("ArrowDown")
        if not controls:
            # A list made when it opens may name itself only then.
            controls = _State(*(await evaluate_once(combobox, _STATE_JS))).controls
    # The caller waits for the list's first option, which is the list showing.
    return _controlled_listbox(combobox, controls)


def _controlled_listbox(combobox: Locator, controls: str) -> Locator:
    page = combobox.page
    if controls:
        # The id comes from the combobox's own aria-controls at run time, not from a known page.
        return page.locator(f"id={controls.split()[0]}")
    return page.get_by_role("listbox").filter(visible=True)


def data_table(scope: Page | Locator, *headers: str) -> Locator:
    """The table or grid inside `scope` that has a column header for each of `headers`."""
    page = scope if isinstance(scope, Page) else scope.page
    table = scope.get_by_role("table").or_(scope.get_by_role("grid"))
    for header in headers:
        table = table.filter(has=page.get_by_role("columnheader", name=name_matcher(header)))
    return table


def data_rows(table: Locator) -> Locator:
    """The rows of a table or grid that hold data cells (not its header row)."""
    page = table.page
    return table.get_by_role("row").filter(
        has=page.get_by_role("cell").or_(page.get_by_role("gridcell"))
    )


async def read_table(table: Locator) -> tuple[list[str], list[list[str]]]:
    """The column headers and the data rows (cell texts, in column order) of a table or grid, in
    one browser call: every header, data row and cell the role locators find (what shows), in
    the page's order, grouped by the data row each cell belongs to."""
    cells = (
        table.get_by_role("cell")
        .or_(table.get_by_role("gridcell"))
        .or_(table.get_by_role("rowheader"))
    )
    parts = table.get_by_role("columnheader").or_(data_rows(table)).or_(cells)
    headers, rows = await parts.evaluate_all(_TABLE_JS)
    return [normalize(t) for t in headers], [[normalize(t) for t in row] for row in rows]


# The elements of a table a role locator found (headers, data rows and their cells, in the
# page's order), sorted by what contains what, since a script cannot ask an element's role: a data
# row holds cells; a header holds none; a cell's nearest holder among them is its row. A nested
# table's cells belong to the cell around them, not to a row, so they are left out, as a person
# reads the outer table.
_TABLE_JS = """
elements => {
  const found = new Set(elements);
  const holder = el => {
    for (let up = el.parentElement; up; up = up.parentElement) if (found.has(up)) return up;
    return null;
  };
  const held = new Map();
  for (const el of elements) {
    const up = holder(el);
    if (up) { if (!held.has(up)) held.set(up, []); held.get(up).push(el); }
  }
  const headers = [], rows = [];
  for (const el of elements) {
    if (holder(el)) continue;
    if (held.has(el)) rows.push(held.get(el).map(cell => cell.innerText || ''));
    else headers.push(el.innerText || '');
  }
  return [headers, rows];
}
"""


def column_index(headers: Sequence[str], label: str) -> int | None:
    """Where a column is: the header equal to the label, else the one header containing it."""
    for index, header in enumerate(headers):
        if same_text(header, label):
            return index
    pattern = name_matcher(label)
    loose = [index for index, header in enumerate(headers) if pattern.search(header)]
    return loose[0] if len(loose) == 1 else None


def rows_by_header(
    headers: Sequence[str], rows: Sequence[Sequence[str]], columns: Mapping[str, str]
) -> list[dict[str, str | None]]:
    """Rows as {key: cell text or None}, `columns` mapping each key to a header label."""
    where = {key: column_index(headers, label) for key, label in columns.items()}
    return [
        {key: (row[i] if i is not None and i < len(row) else None) for key, i in where.items()}
        for row in rows
    ]


# The element drawn over a hidden <select> (a jQuery "selectBox", Chosen or Select2 widget): the
# nearest visible sibling after it (else before it) that is not its label. Marked with our own
# attribute so that a locator can click it.
_DRAWN_JS = """
(select, [attribute, token]) => {
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  if (shown(select)) return false;
  const siblings = [];
  for (let el = select.nextElementSibling; el; el = el.nextElementSibling) siblings.push(el);
  for (let el = select.previousElementSibling; el; el = el.previousElementSibling) {
    siblings.push(el);
  }
  const drawn = siblings.find(el => el.tagName !== 'LABEL' && shown(el));
  if (!drawn) return false;
  drawn.setAttribute(attribute, token);
  return true;
}
"""

# Among the visible elements showing an option's words, the ones a person would click in the
# list the widget opened: clickable, not the widget itself; those inside a list first.
_OPTION_LINKS_JS = """
(elements, selector) => elements.map((el, i) => {
  const drawn = document.querySelector(selector);
  const style = getComputedStyle(el);
  const clickable = !!el.closest('a, button, li, [role=option], [onclick]')
    || style.cursor === 'pointer';
  const inWidget = drawn ? drawn.contains(el) : false;
  const listed = !!el.closest('ul, ol, [role=listbox], [role=menu]');
  return [i, clickable && !inWidget && el.tagName !== 'LABEL' && el.tagName !== 'OPTION', listed];
})
"""


class DropDown:
    """A drop-down as a person finds it: a combobox named by the label; else the field the label
    names, a native <select> shown as it is or hidden under a drawn widget (a link showing the
    current choice, whose list of options is a list of links)."""

    def __init__(self, scope: Locator, label: str) -> None:
        self.scope = scope
        self.label = label
        self.by_role = scope.get_by_role("combobox", name=name_matcher(label))
        self.by_label = scope.get_by_label(name_matcher(label))
        self.attached = self.by_role.or_(self.by_label)

    async def find(self) -> tuple[Locator, FoundBy]:
        """The drop-down's control (waited for: the page's default timeout) and how it was
        found. A hidden <select> found by its label is returned as such. One found by its role
        on this page before is taken at once (what is done with it waits for it); one found by
        its label before is taken once the role still finds nothing and the label's field is
        in the page, without the second look a first finding needs."""
        before = found_before(self.scope.page, self._key)
        if before is FoundBy.ROLE:
            return self.by_role.filter(visible=True).first, FoundBy.ROLE
        shown = self.by_role.filter(visible=True)
        looked_at = asyncio.get_running_loop().time()
        if before is FoundBy.LABEL:
            # Both ways asked in one round trip; the role still comes first.
            roles, fields = await at_once(shown.count(), self.by_label.first.count())
        else:
            roles, fields = await shown.count(), 0
        if not roles:
            if before is FoundBy.LABEL:
                try:
                    if not fields:
                        await wait_promptly(
                            self.by_label.first, state="attached", looked_at=looked_at
                        )
                except PlaywrightTimeoutError:
                    self._forget()  # the step's retry looks the whole way again
                    raise
                return self.by_label.first, FoundBy.LABEL
            await wait_promptly(self.attached.first, state="attached")
            if not await shown.count():
                remember_found(self.scope.page, self._key, FoundBy.LABEL)
                return self.by_label.first, FoundBy.LABEL
        remember_found(self.scope.page, self._key, FoundBy.ROLE)
        return shown.first, FoundBy.ROLE

    @property
    def ready(self) -> Locator:
        """The drop-down once it can be read (not waited for): an enabled combobox, or an
        enabled <select> (shown or hidden under a drawn widget) with an option to choose. A list
        filled by a background request is neither until its options arrive."""
        filled = self.scope.page.locator(f"select:enabled:has({_CHOOSABLE_CSS})")
        return _enabled(self.by_role).or_(self.by_label.and_(filled))

    @property
    def _key(self) -> tuple[str, str]:
        return control_key("combobox", self.label, self.scope)

    def _forget(self) -> None:
        remember_found(self.scope.page, self._key, None)

    async def options(self, *, keep_open: bool = False) -> list[str]:
        """The options it offers (a custom list is opened and closed again; left open with
        `keep_open`, for the choice made next, and then closed by `close_list` if none is)."""
        control, how = await self.find()
        try:
            if how is FoundBy.ROLE or await control.is_visible():
                return await read_options(control, keep_open=keep_open)
            await wait_promptly(_enabled_select(control), state="attached")
            return await _native_options(control)
        except Exception:
            self._forget()
            raise

    async def close_list(self) -> None:
        """Close its list if it shows (left open by `options(keep_open=True)`), so that it
        covers no other control; checked, not waited for."""
        if not await self.scope.page.get_by_role("listbox").filter(visible=True).count():
            return
        # The control that was read, whichever way it was found; none showing: none to close.
        shown = self.attached.filter(visible=True)
        if await shown.count():
            await close_list(shown.first)

    async def choose(self, option: str | re.Pattern[str]) -> str:
        """Choose an option (a string matched whole, a pattern as given); the text now shown.

        Raises OptionNotOffered when nothing matches.
        """
        control, how = await self.find()
        try:
            if how is FoundBy.ROLE or await control.is_visible():
                return await choose_option(control, option)
            return await _choose_drawn(control, option)
        except Exception:
            self._forget()
            raise


def _enabled_select(select: Locator) -> Locator:
    """A <select> once it is enabled (a list filled by a background request is disabled until
    its options arrive); the CSS pseudo-class is the only way to ask it of a hidden one."""
    return select.and_(select.page.locator("select:enabled"))


async def _choose_drawn(select: Locator, option: str | re.Pattern[str]) -> str:
    """Choose through the widget drawn over a hidden <select>, as a person does: click the
    widget, click the option's words in the list it opens; through the select itself (with its
    change event) only when no widget or no list shows. Checked on the select and the widget."""
    wanted = option if isinstance(option, re.Pattern) else _whole(option)
    try:
        # Enabled, with an option to choose (a list filled by a background request is neither
        # until its options arrive): one wait.
        await wait_shown(_enabled_select(select).locator(_CHOOSABLE_CSS), state="attached")
    except PlaywrightTimeoutError:
        if not await _enabled_select(select).count():
            raise  # still disabled: no answer, not an empty list
        raise OptionNotOffered(wanted.pattern, []) from None
    token, selector = new_mark()
    drawn = select.page.locator(selector)
    # Its options, the widget drawn over it (marked) and the words that widget shows: one call.
    options, has_widget, shows = await evaluate_once(select, _DRAWN_STATE_JS, [MARK, token])
    label = _pick([normalize(text) for text in options], wanted)
    selected = False
    for attempt in range(_ATTEMPTS):
        if attempt:
            shows = await drawn.inner_text(timeout=READ_MS) if has_widget else ""
        if has_widget and same_text(shows, label):
            break
        if not has_widget or not await _pick_in_opened_list(drawn, selector, label):
            await select.select_option(label=label, force=True)
        if same_text(await _selected_text(select), label):
            selected = True
            break
    if has_widget:
        await _proved(
            drawn.filter(has_text=_whole(label)),
            lambda: expect(drawn).to_have_text(_whole(label), timeout=CHOSEN_MS),
        )
    if not selected and not same_text(await _selected_text(select), label):
        raise ListboxUnstable(f"{label!r} was clicked but the drop-down does not show it")
    return label


# A hidden <select>'s choosable options, whether a widget is drawn over it (then marked with our
# own attribute) and the words that widget shows.
_DRAWN_STATE_JS = f"""
(select, mark) => {{
  const has = ({_DRAWN_JS})(select, mark);
  const drawn = has ? document.querySelector(`[${{mark[0]}}='${{mark[1]}}']`) : null;
  return [({_CHOOSABLE})(select), has, drawn ? drawn.innerText || '' : ''];
}}
"""


async def _pick_in_opened_list(drawn: Locator, selector: str, label: str) -> bool:
    """Open the drawn widget's list (`selector`: our own mark on it) and click the option's
    words; False when no list showed."""
    page = drawn.page
    await drawn.click()
    words = page.get_by_text(_whole(label)).filter(visible=True)
    try:
        await wait_promptly(words.first, timeout=CLICK_OPEN_MS)
    except PlaywrightTimeoutError:
        return False
    found: list[list[Any]] = await words.evaluate_all(_OPTION_LINKS_JS, selector)
    usable = [(i, listed) for i, ok, listed in found if ok]
    if not usable:
        return False
    listed = [i for i, in_list in usable if in_list]
    index = listed[-1] if listed else usable[-1][0]
    try:
        await words.nth(index).click(timeout=CLICK_OPEN_MS)
    except PlaywrightTimeoutError:
        return False
    return True


async def _selected_text(select: Locator) -> str:
    text = await evaluate_once(
        select, "s => s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : ''"
    )
    return normalize(str(text))
