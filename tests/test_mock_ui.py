"""The mock portal in Chromium, driven only by roles, labels and text as the agent will drive it."""

from __future__ import annotations

import re

import pyotp
from helpers import DEMO, MFA, search, sign_on
from playwright.async_api import Locator, Page, expect

from mock_site.server import MockServer

SERVER_ERROR = "Something went wrong, please try again"


async def open_portal(page: Page, base_url: str) -> None:
    """Sign in as the demo user and accept the cookie banner."""
    await page.goto(base_url)
    await sign_on(page)
    await expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()
    await page.get_by_role("button", name="Accept All Cookies").click()


async def open_assignments(page: Page, number: str) -> None:
    await search(page, number)
    await page.get_by_role("link", name=number).click()
    await page.get_by_role("link", name="View or change Smart Account Assignments").click()
    await expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()


async def find_account(dialog: Locator, parameter: str, value: str) -> None:
    await dialog.get_by_role("combobox", name="Select an Existing Account").click()
    await dialog.get_by_role("option", name=parameter).click()
    await dialog.get_by_label("Search Value").fill(value)
    await dialog.get_by_role("button", name="Search").click()


async def test_sign_in_lands_on_home_with_the_cookie_banner_once(page: Page, base_url: str) -> None:
    await page.goto(base_url)
    await expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    await sign_on(page)

    await expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()
    await expect(page.get_by_text(f"Signed in as {DEMO.email}")).to_be_visible()
    banner = page.get_by_role("region", name="Cookie preferences")
    await banner.get_by_role("button", name="Accept All Cookies").click()
    await expect(banner).to_be_hidden()
    await page.reload()
    await expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()
    # The banner arrives late: give it the chance to (wrongly) appear before looking for it.
    await page.wait_for_timeout(400)
    await expect(banner).to_have_count(0)


async def test_wrong_password_is_an_alert_and_mfa_asks_for_a_code(
    page: Page, base_url: str, mock: MockServer
) -> None:
    assert MFA.totp_secret is not None
    await page.goto(base_url)
    await sign_on(page, password="wrong")
    await expect(page.get_by_role("alert")).to_contain_text("Unable to sign in")

    await page.goto(base_url)
    await sign_on(page, MFA.email, MFA.password)
    await page.get_by_role("textbox", name="Enter Code").fill(pyotp.TOTP(MFA.totp_secret).now())
    await page.get_by_role("button", name="Verify").click()

    await expect(page.get_by_text(f"Signed in as {MFA.email}")).to_be_visible()
    assert mock.stats()["logins_by_user"] == {MFA.email: 1}


async def test_enter_does_not_search_but_the_button_does(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await open_portal(page, base_url)
    box = page.get_by_role("searchbox", name="Global Search")
    await box.fill("110000001")
    await box.press("Enter")
    await expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()

    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("heading", name="Search Results")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="110000001"))
    await expect(row).to_contain_text("Sales Order")
    assert [e["path"] for e in mock.latency() if e["path"].startswith("/api/search")] == [
        "/api/search"
    ]

    await search(page, "999999999")
    await expect(page.get_by_text("No results found")).to_be_visible()


async def test_a_web_order_number_opens_its_sales_order(page: Page, base_url: str) -> None:
    await open_portal(page, base_url)
    await search(page, "80000006")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="80000006"))
    await expect(row).to_contain_text("Web Order")
    await row.get_by_role("link", name="80000006").click()

    await expect(page.get_by_role("heading", name="Order Details")).to_contain_text("110000006")
    await expect(page.get_by_text("Status: Booked")).to_be_visible()
    await expect(page.get_by_text("Web Order: 80000006")).to_be_visible()
    await expect(page.get_by_text("Holds: Export Hold, Smart Account Hold")).to_be_visible()


async def test_assign_flow_through_yes_updates_the_table(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await open_portal(page, base_url)
    await open_assignments(page, "110000010")
    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")

    # The first combobox by keyboard: it opens on ArrowDown, Enter picks the active option.
    parameter = dialog.get_by_role("combobox", name="Select an Existing Account")
    await parameter.press("ArrowDown")
    await expect(parameter).to_have_attribute("aria-expanded", "true")
    await parameter.press("Enter")
    await expect(parameter).to_have_text("Domain Identifier")
    await dialog.get_by_label("Search Value").fill("acme.example")
    await dialog.get_by_role("button", name="Search").click()
    assign = dialog.get_by_role("button", name="Assign", exact=True)
    await expect(assign).to_be_disabled()
    await dialog.get_by_role("radio", name="Acme Corporation").check()
    await dialog.get_by_role("combobox", name="Virtual Account Name").click()
    await dialog.get_by_role("option", name="lab Sandbox").click()
    await assign.click()
    submit = dialog.get_by_role("button", name="Submit")
    await expect(submit).to_be_disabled()
    await dialog.get_by_role("checkbox", name="I accept the Terms of Use").check()
    await submit.click()
    await (
        page.get_by_role("alertdialog", name="Confirm Smart Account Assignment")
        .get_by_role("button", name="Yes")
        .click()
    )

    await expect(page.get_by_role("status")).to_have_text(
        "Smart Account assignment submitted successfully"
    )
    await expect(page.get_by_role("row").filter(has_text="2.0")).to_contain_text(
        re.compile("Acme Corporation.*lab Sandbox")
    )
    order = mock.order("110000010")
    assert order is not None and len(order["submissions"]) == 1


async def test_cancel_closes_the_dialog_and_changes_nothing(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await open_portal(page, base_url)
    await open_assignments(page, "110000009")
    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    await find_account(dialog, "Email ID", "it-admin@umbrella.example")
    await expect(dialog.get_by_role("radio")).to_have_count(2)
    await find_account(dialog, "Account Name", "no such account")
    await expect(dialog.get_by_text("No Smart Accounts found")).to_be_visible()

    await dialog.get_by_role("button", name="Cancel").click()

    await expect(dialog).to_be_hidden()
    order = mock.order("110000009")
    assert order is not None and order["submissions"] == []


async def test_a_shipped_order_disables_assign_with_the_reason(page: Page, base_url: str) -> None:
    await open_portal(page, base_url)
    await open_assignments(page, "110000004")

    await expect(page.get_by_role("button", name="Assign Smart Account")).to_be_disabled()
    await expect(
        page.get_by_text("Smart Account assignment is not available: the order status is Shipped.")
    ).to_be_visible()


async def test_the_survey_appears_after_every_screen_at_probability_one(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await open_portal(page, base_url)
    mock.set_faults(survey_probability=1.0)
    survey = page.get_by_role("dialog", name="Feedback")

    await search(page, "110000008")
    await survey.get_by_role("button", name="No thanks").click()
    await expect(survey).to_be_hidden()
    await page.get_by_role("link", name="110000008").click()
    await survey.get_by_role("button", name="No thanks").click()
    await page.get_by_role("link", name="View or change Smart Account Assignments").click()
    await survey.get_by_role("button", name="Give feedback").click()
    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    await find_account(dialog, "Account Name", "Umbrella Corp")

    await survey.get_by_role("button", name="No thanks").click()
    await expect(dialog.get_by_role("radio", name="Umbrella Corp", exact=True)).to_be_visible()


async def test_a_server_error_shows_the_message_and_try_again_recovers(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await open_portal(page, base_url)
    mock.set_faults(fail_next=[{"path_contains": "/api/search", "count": 1}])

    await search(page, "110000002")
    alert = page.get_by_role("alert").filter(has_text=SERVER_ERROR)
    await expect(alert).to_be_visible()
    await alert.get_by_role("button", name="Try again").click()

    await expect(page.get_by_role("link", name="110000002")).to_be_visible()


async def test_session_expiry_mid_way_returns_to_the_page_after_sign_in(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await open_portal(page, base_url)
    await search(page, "110000001")
    await page.get_by_role("link", name="110000001").click()
    assignments = page.get_by_role("link", name="View or change Smart Account Assignments")
    # Order Details drawn first: expired while it loads, the screen itself goes to the sign-on.
    await expect(assignments).to_be_visible()
    mock.set_faults(expire_sessions_now=True)

    await assignments.click()
    await expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    await sign_on(page)

    await expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()
    assert mock.stats()["logins"] == 2
