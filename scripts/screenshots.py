"""Walk every screen of the bundled mock portal in headless Chromium and save docs/screens/*.png."""

from __future__ import annotations

import argparse
from pathlib import Path

import pyotp
from playwright.sync_api import Locator, Page, ViewportSize, expect, sync_playwright

from agent.browser import launch_args, resolve_executable
from mock_site.server import MockServer

VIEWPORT: ViewportSize = {"width": 1100, "height": 700}
MFA_USER = ("mfa.partner@northwind.example", "Northwind-Mfa-1", "NORTHWINDMFADEMOSECRET234567ABCD")


class Shooter:
    """Numbered screenshots of one page."""

    def __init__(self, page: Page, out: Path) -> None:
        self.page, self.out, self.count = page, out, 0

    def shot(self, name: str) -> None:
        self.count += 1
        expect(self.page.get_by_role("progressbar", name="Loading")).to_be_hidden()
        self.page.screenshot(path=self.out / f"{self.count:02d}-{name}.png")


def search(page: Page, number: str) -> None:
    page.get_by_role("searchbox", name="Global Search").fill(number)
    page.get_by_role("button", name="Search").click()


def open_assignments(page: Page, number: str) -> None:
    search(page, number)
    page.get_by_role("link", name=number).click()
    page.get_by_role("link", name="View or change Smart Account Assignments").click()
    expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()


def sign_on(page: Page, shoot: Shooter, home_url: str) -> None:
    email, password, secret = MFA_USER
    page.goto(home_url)
    page.get_by_role("textbox", name="Email").fill(email)
    shoot.shot("sign-on-email")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("textbox", name="Password").fill(password)
    shoot.shot("sign-on-password")
    page.get_by_role("button", name="Verify").click()
    code = page.get_by_role("textbox", name="Enter Code")
    code.fill(pyotp.TOTP(secret).now())
    shoot.shot("sign-on-code")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("region", name="Cookie preferences")).to_be_visible()
    shoot.shot("home-cookie-banner")
    page.get_by_role("button", name="Accept All Cookies").click()


def assign(page: Page, shoot: Shooter) -> None:
    open_assignments(page, "110000008")
    shoot.shot("assignments")
    page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    dialog.get_by_role("combobox", name="Select an Existing Account").click()
    shoot.shot("assign-dialog-parameter")
    dialog.get_by_role("option", name="Account Name").click()
    dialog.get_by_label("Search Value").fill("Umbrella Corp")
    dialog.get_by_role("button", name="Search").click()
    dialog.get_by_role("radio", name="Umbrella Corp", exact=True).check()
    virtual_account = dialog.get_by_role("combobox", name="Virtual Account Name")
    expect(virtual_account).to_be_enabled()
    virtual_account.click()
    shoot.shot("assign-dialog-results-and-va")
    dialog.get_by_role("option", name="Research").click()
    dialog.get_by_role("button", name="Assign", exact=True).click()
    dialog.get_by_role("checkbox", name="I accept the Terms of Use").check()
    shoot.shot("terms")
    dialog.get_by_role("button", name="Submit").click()
    confirm = page.get_by_role("alertdialog", name="Confirm Smart Account Assignment")
    expect(confirm).to_be_visible()
    shoot.shot("confirmation")
    confirm.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status")).to_have_text(
        "Smart Account assignment submitted successfully"
    )
    shoot.shot("success")


def oddities(page: Page, shoot: Shooter, mock: MockServer) -> None:
    open_assignments(page, "110000004")
    shoot.shot("assign-disabled-shipped")
    search(page, "123456789")
    expect(page.get_by_text("No results found")).to_be_visible()
    shoot.shot("no-results")
    mock.set_faults(survey_probability=1.0)
    search(page, "80000002")
    survey: Locator = page.get_by_role("dialog", name="Feedback")
    expect(survey).to_be_visible()
    shoot.shot("survey")
    survey.get_by_role("button", name="No thanks").click()
    mock.set_faults(fail_next=[{"path_contains": "/api/orders", "count": 1}])
    page.get_by_role("link", name="80000002").click()
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    shoot.shot("error-message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screens"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    mock = MockServer(seed=0).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**launch_args(resolve_executable()))
            page = browser.new_page(viewport=VIEWPORT)
            shoot = Shooter(page, args.out)
            sign_on(page, shoot, mock.home_url)
            search(page, "80000008")
            expect(page.get_by_role("heading", name="Search Results")).to_be_visible()
            shoot.shot("search-results")
            page.get_by_role("link", name="80000008").click()
            expect(page.get_by_role("heading", name="Order Details")).to_be_visible()
            shoot.shot("order-details")
            assign(page, shoot)
            oddities(page, shoot, mock)
            browser.close()
    finally:
        mock.stop()
    print(f"{shoot.count} screenshots in {args.out}")


if __name__ == "__main__":
    main()
