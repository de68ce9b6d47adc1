"""The benchmark's baseline: the ten steps with the fewest calls a script could make, no checks.

One sign-on, then per order: search, open it, open its assignments, open the dialog, search the
Smart Account by domain, pick it and its Virtual Account, accept the terms, Submit, Yes. It reads
nothing, recovers from nothing and verifies nothing; it waits only where the next click needs the
portal's answer (the same signals the agent waits on). There is one replay per release of the
mock it knows, each written for that release's markup only:

- `classic`: every control by role and name.
- `legacy`: the same clicks a person makes on controls drawn without roles: the link drawn over a
  hidden select and then the option link, by their visible words; the styled label of a hidden
  radio or checkbox; the role-less Search, Assign and Submit by their words; and the "Got it" tip
  dismissed by a locator handler, which costs a call only when the tip shows (once per tab).

Any other portal build, or any fault, breaks it: that is what a bare replay is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect

from pages.labels import Labels

# Told the number of the step that starts (0: the order is done), for the benchmark's time and
# calls per step; a step's own actions are the ones the agent takes in that step.
Mark = Callable[[int], None]


def _unmarked(step: int) -> None:
    return None


@dataclass(frozen=True)
class ReplayRow:
    order_number: str
    domain: str
    virtual_account: str


def _exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$", re.IGNORECASE)


async def sign_on(page: Page, base_url: str, email: str, password: str, words: Labels) -> None:
    """Step 1, once: the sign-on form, then the portal's search box."""
    await page.goto(base_url)
    await page.get_by_role("textbox", name=_exact(words.email)).fill(email)
    await page.get_by_role("button", name=_exact(words.next)).click()
    await page.get_by_role("textbox", name=_exact(words.password)).fill(password)
    await page.get_by_role("button", name=_exact(words.verify)).click()
    await expect(page.get_by_role("searchbox", name=words.global_search)).to_be_visible()


async def assign(page: Page, row: ReplayRow, words: Labels, mark: Mark = _unmarked) -> None:
    """Steps 2-10 for one order."""
    mark(2)
    search = page.get_by_role("searchbox", name=words.global_search)
    await search.fill(row.order_number)
    await page.get_by_role("button", name=_exact(words.search)).first.click()
    mark(3)
    await page.get_by_role("link", name=re.compile(re.escape(row.order_number))).first.click()
    mark(4)
    await (
        page.get_by_role("button", name=words.view_assignments)
        .or_(page.get_by_role("link", name=words.view_assignments))
        .click()
    )
    mark(5)
    await page.get_by_role("button", name=_exact(words.assign_smart_account)).click()
    dialog = page.get_by_role("dialog", name=words.assign_dialog)
    mark(6)
    await dialog.get_by_role("combobox", name=words.select_existing_account).click()
    await dialog.get_by_role("option", name=_exact(words.by_domain)).click()
    await dialog.get_by_role("textbox", name=words.search_value).fill(row.domain)
    await dialog.get_by_role("button", name=_exact(words.search)).click()
    mark(7)
    await dialog.get_by_role("radio").first.check()
    mark(8)
    virtual = dialog.get_by_role("combobox", name=words.virtual_account_name)
    await virtual.click()
    await dialog.get_by_role("option", name=_exact(row.virtual_account)).click()
    await dialog.get_by_role("button", name=_exact(words.assign)).click()
    mark(9)
    await dialog.get_by_role("checkbox", name=words.accept_terms).check()
    await dialog.get_by_role("button", name=_exact(words.submit)).click()
    mark(10)
    async with page.expect_response(lambda r: r.request.method == "POST" and "/api/" in r.url):
        await page.get_by_role("alertdialog").get_by_role("button", name=_exact(words.yes)).click()


# The legacy release's own words for what the reference names by role (the drop-downs' prompts).
LEGACY_CHOOSE = "Select"
LEGACY_CHOOSE_VIRTUAL = "Select a Virtual Account"
LEGACY_TIP = "Got it"


async def assign_legacy(page: Page, row: ReplayRow, words: Labels, mark: Mark = _unmarked) -> None:
    """Steps 2-10 for one order on the `legacy` release's markup."""
    mark(2)
    search = page.get_by_role("searchbox", name=words.global_search)
    await search.fill(row.order_number)
    await page.get_by_role("button", name=_exact(words.search)).first.click()
    mark(3)
    await page.get_by_role("link", name=re.compile(re.escape(row.order_number))).first.click()
    mark(4)
    await page.get_by_text(words.view_assignments, exact=True).click()
    mark(5)
    await page.get_by_role("button", name=_exact(words.assign_smart_account)).click()
    dialog = page.get_by_role("dialog", name=words.assign_dialog)
    mark(6)
    # The drop-down's link (the hidden select's first option carries the same words, hence the
    # visible one), then the option link in the list it adds to the page.
    await dialog.get_by_text(LEGACY_CHOOSE, exact=True).filter(visible=True).click()
    options = page.get_by_role("listitem")
    await options.get_by_text(words.by_domain, exact=True).click()
    await dialog.get_by_role("textbox", name=words.search_value).fill(row.domain)
    await dialog.get_by_text(words.search, exact=True).click()
    mark(7)
    # The result's radio is hidden behind an empty styled label: the row's words name it.
    await dialog.get_by_role("row").filter(has_text=row.domain).locator("label").click()
    mark(8)
    await dialog.get_by_text(LEGACY_CHOOSE_VIRTUAL, exact=True).filter(visible=True).click()
    await options.get_by_text(row.virtual_account, exact=True).click()
    await dialog.get_by_text(words.assign, exact=True).click()
    mark(9)
    await dialog.get_by_text(words.accept_terms, exact=True).click()
    await dialog.get_by_text(words.submit, exact=True).click()
    mark(10)
    async with page.expect_response(lambda r: r.request.method == "POST" and "/api/" in r.url):
        await page.get_by_role("button", name=_exact(words.yes)).click()


async def _dismiss(tip: Locator) -> None:
    await tip.click()


async def prepare(page: Page, release: str) -> None:
    """What a script sets up once per tab for this release: the `legacy` tip's dismissal."""
    if release == "legacy":
        tip = page.get_by_role("button", name=_exact(LEGACY_TIP))
        await page.add_locator_handler(tip, _dismiss)


REPLAYS: dict[str, Callable[[Page, ReplayRow, Labels, Mark], Awaitable[None]]] = {
    "classic": assign,
    "legacy": assign_legacy,
}


async def replay(
    page: Page,
    rows: list[ReplayRow],
    words: Labels,
    release: str = "classic",
    mark: Mark = _unmarked,
    *,
    own_handlers: bool = True,
) -> list[float]:
    """Steps 2-10 for each row in turn, on `release`'s markup; the seconds each one took.
    `mark` is told each step as it starts, and 0 when the order is done. Without
    `own_handlers`, the release's own pop-up handler is left out (the page has another)."""
    one = REPLAYS[release]
    if own_handlers:
        await prepare(page, release)
    durations = []
    for row in rows:
        started = time.perf_counter()
        await one(page, row, words, mark)
        mark(0)
        durations.append(time.perf_counter() - started)
    return durations
