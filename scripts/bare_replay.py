"""The benchmark's baseline: the ten steps by role and name on the mock portal, and no checks.

One sign-on, then per order: search, open it, open its assignments, open the dialog, search the
Smart Account by domain, pick it and its Virtual Account, accept the terms, Submit, Yes. It reads
nothing, recovers from nothing and verifies nothing; it waits only where the next click needs the
portal's answer (the same signals the agent waits on). Any portal build other than the mock's
`classic` release, or any fault, breaks it: that is what a bare replay is.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from playwright.async_api import Page, expect

from pages.labels import Labels


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


async def assign(page: Page, row: ReplayRow, words: Labels) -> None:
    """Steps 2-10 for one order."""
    search = page.get_by_role("searchbox", name=words.global_search)
    await search.fill(row.order_number)
    await page.get_by_role("button", name=_exact(words.search)).first.click()
    await page.get_by_role("link", name=re.compile(re.escape(row.order_number))).first.click()
    await (
        page.get_by_role("button", name=words.view_assignments)
        .or_(page.get_by_role("link", name=words.view_assignments))
        .click()
    )
    await page.get_by_role("button", name=_exact(words.assign_smart_account)).click()
    dialog = page.get_by_role("dialog", name=words.assign_dialog)
    await dialog.get_by_role("combobox", name=words.select_existing_account).click()
    await dialog.get_by_role("option", name=_exact(words.by_domain)).click()
    await dialog.get_by_role("textbox", name=words.search_value).fill(row.domain)
    await dialog.get_by_role("button", name=_exact(words.search)).click()
    await dialog.get_by_role("radio").first.check()
    virtual = dialog.get_by_role("combobox", name=words.virtual_account_name)
    await virtual.click()
    await dialog.get_by_role("option", name=_exact(row.virtual_account)).click()
    await dialog.get_by_role("button", name=_exact(words.assign)).click()
    await dialog.get_by_role("checkbox", name=words.accept_terms).check()
    await dialog.get_by_role("button", name=_exact(words.submit)).click()
    async with page.expect_response(lambda r: r.request.method == "POST" and "/api/" in r.url):
        await page.get_by_role("alertdialog").get_by_role("button", name=_exact(words.yes)).click()


async def replay(page: Page, rows: list[ReplayRow], words: Labels) -> list[float]:
    """Steps 2-10 for each row in turn; the seconds each one took."""
    durations = []
    for row in rows:
        started = time.perf_counter()
        await assign(page, row, words)
        durations.append(time.perf_counter() - started)
    return durations
