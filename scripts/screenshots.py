"""Walk every screen of the bundled mock portal in headless Chromium and save docs/screens/*.png;
then the main screens of every other release, driven by the agent's own page objects (which is
how a person would find the controls there), as docs/screens/<release>-*.png."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pyotp
from playwright.async_api import Browser, Locator, Page, ViewportSize, async_playwright, expect
from pydantic import SecretStr

from agent.browser import launch_args, resolve_executable
from flows.session import Credentials, PortalSession
from flows.signin import ensure_signed_in
from mock_site.releases import DEFAULT_RELEASE, REFERENCE_RELEASES
from mock_site.server import MockServer
from pages.assign_dialog import SearchBy
from pages.header import Header
from pages.order_details import OrderDetailsPage

VIEWPORT: ViewportSize = {"width": 1100, "height": 700}
DEMO_USER = ("demo.partner@northwind.example", "Northwind-Demo-1")
MFA_USER = ("mfa.partner@northwind.example", "Northwind-Mfa-1", "NORTHWINDMFADEMOSECRET234567ABCD")


class Shooter:
    """Numbered screenshots of one page."""

    def __init__(self, page: Page, out: Path) -> None:
        self.page, self.out, self.count = page, out, 0

    async def shot(self, name: str) -> None:
        self.count += 1
        await expect(self.page.get_by_role("progressbar", name="Loading")).to_be_hidden()
        await self.page.screenshot(path=self.out / f"{self.count:02d}-{name}.png")


async def search(page: Page, number: str) -> None:
    await page.get_by_role("searchbox", name="Global Search").fill(number)
    await page.get_by_role("button", name="Search").click()


async def open_assignments(page: Page, number: str) -> None:
    await search(page, number)
    await page.get_by_role("link", name=number).click()
    await page.get_by_role("link", name="View or change Smart Account Assignments").click()
    await expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()


async def sign_on(page: Page, shoot: Shooter, home_url: str) -> None:
    email, password, secret = MFA_USER
    await page.goto(home_url)
    await page.get_by_role("textbox", name="Email").fill(email)
    await shoot.shot("sign-on-email")
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("textbox", name="Password").fill(password)
    await shoot.shot("sign-on-password")
    await page.get_by_role("button", name="Verify").click()
    code = page.get_by_role("textbox", name="Enter Code")
    await code.fill(pyotp.TOTP(secret).now())
    await shoot.shot("sign-on-code")
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("region", name="Cookie preferences")).to_be_visible()
    await shoot.shot("home-cookie-banner")
    await page.get_by_role("button", name="Accept All Cookies").click()


async def assign(page: Page, shoot: Shooter) -> None:
    await open_assignments(page, "110000008")
    await shoot.shot("assignments")
    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    await dialog.get_by_role("combobox", name="Select an Existing Account").click()
    await shoot.shot("assign-dialog-parameter")
    await dialog.get_by_role("option", name="Account Name").click()
    await dialog.get_by_label("Search Value").fill("Umbrella Corp")
    await dialog.get_by_role("button", name="Search").click()
    await dialog.get_by_role("radio", name="Umbrella Corp", exact=True).check()
    virtual_account = dialog.get_by_role("combobox", name="Virtual Account Name")
    await expect(virtual_account).to_be_enabled()
    await virtual_account.click()
    await shoot.shot("assign-dialog-results-and-va")
    await dialog.get_by_role("option", name="Research").click()
    await dialog.get_by_role("button", name="Assign", exact=True).click()
    await dialog.get_by_role("checkbox", name="I accept the Terms of Use").check()
    await shoot.shot("terms")
    await dialog.get_by_role("button", name="Submit").click()
    confirm = page.get_by_role("alertdialog", name="Confirm Smart Account Assignment")
    await expect(confirm).to_be_visible()
    await shoot.shot("confirmation")
    await confirm.get_by_role("button", name="Yes").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Smart Account assignment submitted successfully"
    )
    await shoot.shot("success")


async def oddities(page: Page, shoot: Shooter, mock: MockServer) -> None:
    await open_assignments(page, "110000004")
    await shoot.shot("assign-disabled-shipped")
    await search(page, "123456789")
    await expect(page.get_by_text("No results found")).to_be_visible()
    await shoot.shot("no-results")
    mock.set_faults(survey_probability=1.0)
    await search(page, "80000002")
    survey: Locator = page.get_by_role("dialog", name="Feedback")
    await expect(survey).to_be_visible()
    await shoot.shot("survey")
    await survey.get_by_role("button", name="No thanks").click()
    mock.set_faults(fail_next=[{"path_contains": "/api/orders", "count": 1}])
    await page.get_by_role("link", name="80000002").click()
    await expect(page.get_by_role("button", name="Try again")).to_be_visible()
    await shoot.shot("error-message")


async def release_tour(browser: Browser, mock: MockServer, release: str, out: Path) -> int:
    """Order Details, assignments, the dialog with an account and a Virtual Account chosen, and
    the confirmation, in `release`, through the agent's page objects; the number of shots."""
    mock.set_release(release)
    context = await browser.new_context(viewport=VIEWPORT)
    session = PortalSession(
        page=await context.new_page(),
        base_url=mock.home_url,
        credentials=Credentials(username=DEMO_USER[0], password=SecretStr(DEMO_USER[1])),
        timeout_ms=15_000,
    )
    shots = 0

    async def shot(name: str) -> None:
        nonlocal shots
        shots += 1
        await expect(session.page.get_by_role("progressbar", name="Loading")).to_be_hidden()
        await session.page.screenshot(path=out / f"{release}-{shots:02d}-{name}.png")

    try:
        await ensure_signed_in(session)
        found = await Header(session.page, session.labels).search_order("110000008")
        details = (
            found if isinstance(found, OrderDetailsPage) else await found.open_order("110000008")
        )
        await session.follow(details.page)
        await shot("order-details")
        screen = await details.open_smart_account_assignments()
        await shot("assignments")
        dialog = await screen.open_assign_dialog()
        accounts = await dialog.search_accounts(SearchBy.ACCOUNT_NAME, "Umbrella Corp")
        await dialog.select_account(next(a for a in accounts if a.account_name == "Umbrella Corp"))
        await dialog.choose_virtual_account("Research")
        await shot("assign-dialog")
        await dialog.wait_assign_enabled()
        await dialog.assign()
        await dialog.accept_terms_and_submit()
        await shot("confirmation")
    finally:
        await context.close()
    return shots


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screens"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    mock = MockServer(seed=0).start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(**launch_args(resolve_executable()))
            page = await browser.new_page(viewport=VIEWPORT)
            shoot = Shooter(page, args.out)
            await sign_on(page, shoot, mock.home_url)
            await search(page, "80000008")
            await expect(page.get_by_role("heading", name="Search Results")).to_be_visible()
            await shoot.shot("search-results")
            await page.get_by_role("link", name="80000008").click()
            await expect(page.get_by_role("heading", name="Order Details")).to_be_visible()
            await shoot.shot("order-details")
            await assign(page, shoot)
            await oddities(page, shoot, mock)
            for release in REFERENCE_RELEASES:
                if release != DEFAULT_RELEASE:
                    mock.reset()
                    shoot.count += await release_tour(browser, mock, release, args.out)
            await browser.close()
    finally:
        mock.stop()
    print(f"{shoot.count} screenshots in {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
