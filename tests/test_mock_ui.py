"""The mock portal in Chromium, driven only by roles, labels and text as the agent will drive it."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Locator, Page, expect

from mock_site.server import MockServer

pytestmark = pytest.mark.browser

DEMO = ("demo.partner@northwind.example", "Northwind-Demo-1")
SERVER_ERROR = "Something went wrong, please try again"


def sign_in(page: Page, email: str = DEMO[0], password: str = DEMO[1]) -> None:
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Verify").click()


def open_portal(page: Page, base_url: str) -> None:
    """Sign in as the demo user and accept the cookie banner."""
    page.goto(base_url)
    sign_in(page)
    expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()
    page.get_by_role("button", name="Accept All Cookies").click()


def search(page: Page, number: str) -> None:
    page.get_by_role("searchbox", name="Global Search").fill(number)
    page.get_by_role("button", name="Search").click()


def open_assignments(page: Page, number: str) -> None:
    search(page, number)
    page.get_by_role("link", name=number).click()
    page.get_by_role("link", name="View or change Smart Account Assignments").click()
    expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()


def find_account(dialog: Locator, parameter: str, value: str) -> None:
    dialog.get_by_role("combobox", name="Select an Existing Account").click()
    dialog.get_by_role("option", name=parameter).click()
    dialog.get_by_label("Search Value").fill(value)
    dialog.get_by_role("button", name="Search").click()


def test_sign_in_lands_on_home_with_the_cookie_banner_once(page: Page, base_url: str) -> None:
    page.goto(base_url)
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    sign_in(page)

    expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {DEMO[0]}")).to_be_visible()
    banner = page.get_by_role("region", name="Cookie preferences")
    banner.get_by_role("button", name="Accept All Cookies").click()
    expect(banner).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()
    page.wait_for_timeout(400)  # the banner arrives late; give it the chance to (wrongly) appear
    expect(banner).to_have_count(0)


def test_wrong_password_is_an_alert_and_mfa_asks_for_a_code(
    page: Page, base_url: str, mock: MockServer
) -> None:
    page.goto(base_url)
    sign_in(page, password="wrong")
    expect(page.get_by_role("alert")).to_contain_text("Unable to sign in")

    page.goto(base_url)
    sign_in(page, "mfa.partner@northwind.example", "Northwind-Mfa-1")
    page.get_by_role("textbox", name="Enter Code").fill(
        pyotp.TOTP("NORTHWINDMFADEMOSECRET234567ABCD").now()
    )
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_text("Signed in as mfa.partner@northwind.example")).to_be_visible()
    assert mock.stats()["logins_by_user"] == {"mfa.partner@northwind.example": 1}


def test_enter_does_not_search_but_the_button_does(
    page: Page, base_url: str, mock: MockServer
) -> None:
    open_portal(page, base_url)
    box = page.get_by_role("searchbox", name="Global Search")
    box.fill("110000001")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Cisco Commerce Workspace")).to_be_visible()

    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Search Results")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="110000001"))
    expect(row).to_contain_text("Sales Order")
    assert [e["path"] for e in mock.latency() if e["path"].startswith("/api/search")] == [
        "/api/search"
    ]

    search(page, "999999999")
    expect(page.get_by_text("No results found")).to_be_visible()


def test_a_web_order_number_opens_its_sales_order(page: Page, base_url: str) -> None:
    open_portal(page, base_url)
    search(page, "80000006")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="80000006"))
    expect(row).to_contain_text("Web Order")
    row.get_by_role("link", name="80000006").click()

    expect(page.get_by_role("heading", name="Order Details")).to_contain_text("110000006")
    expect(page.get_by_text("Status: Booked")).to_be_visible()
    expect(page.get_by_text("Web Order: 80000006")).to_be_visible()
    expect(page.get_by_text("Holds: Export Hold, Smart Account Hold")).to_be_visible()


def test_assign_flow_through_yes_updates_the_table(
    page: Page, base_url: str, mock: MockServer
) -> None:
    open_portal(page, base_url)
    open_assignments(page, "110000010")
    page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")

    # The first combobox by keyboard: it opens on ArrowDown, Enter picks the active option.
    parameter = dialog.get_by_role("combobox", name="Select an Existing Account")
    parameter.press("ArrowDown")
    expect(parameter).to_have_attribute("aria-expanded", "true")
    parameter.press("Enter")
    expect(parameter).to_have_text("Domain Identifier")
    dialog.get_by_label("Search Value").fill("acme.example")
    dialog.get_by_role("button", name="Search").click()
    assign = dialog.get_by_role("button", name="Assign", exact=True)
    expect(assign).to_be_disabled()
    dialog.get_by_role("radio", name="Acme Corporation").check()
    dialog.get_by_role("combobox", name="Virtual Account Name").click()
    dialog.get_by_role("option", name="lab Sandbox").click()
    assign.click()
    submit = dialog.get_by_role("button", name="Submit")
    expect(submit).to_be_disabled()
    dialog.get_by_role("checkbox", name="I accept the Terms of Use").check()
    submit.click()
    page.get_by_role("alertdialog", name="Confirm Smart Account Assignment").get_by_role(
        "button", name="Yes"
    ).click()

    expect(page.get_by_role("status")).to_have_text(
        "Smart Account assignment submitted successfully"
    )
    expect(page.get_by_role("row").filter(has_text="2.0")).to_contain_text(
        re.compile("Acme Corporation.*lab Sandbox")
    )
    order = mock.order("110000010")
    assert order is not None and len(order["submissions"]) == 1


def test_cancel_closes_the_dialog_and_changes_nothing(
    page: Page, base_url: str, mock: MockServer
) -> None:
    open_portal(page, base_url)
    open_assignments(page, "110000009")
    page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    find_account(dialog, "Email ID", "it-admin@umbrella.example")
    expect(dialog.get_by_role("radio")).to_have_count(2)
    find_account(dialog, "Account Name", "no such account")
    expect(dialog.get_by_text("No Smart Accounts found")).to_be_visible()

    dialog.get_by_role("button", name="Cancel").click()

    expect(dialog).to_be_hidden()
    order = mock.order("110000009")
    assert order is not None and order["submissions"] == []


def test_a_shipped_order_disables_assign_with_the_reason(page: Page, base_url: str) -> None:
    open_portal(page, base_url)
    open_assignments(page, "110000004")

    expect(page.get_by_role("button", name="Assign Smart Account")).to_be_disabled()
    expect(
        page.get_by_text("Smart Account assignment is not available: the order status is Shipped.")
    ).to_be_visible()


def test_the_survey_appears_after_every_screen_at_probability_one(
    page: Page, base_url: str, mock: MockServer
) -> None:
    open_portal(page, base_url)
    mock.set_faults(survey_probability=1.0)
    survey = page.get_by_role("dialog", name="Feedback")

    search(page, "110000008")
    survey.get_by_role("button", name="No thanks").click()
    expect(survey).to_be_hidden()
    page.get_by_role("link", name="110000008").click()
    survey.get_by_role("button", name="No thanks").click()
    page.get_by_role("link", name="View or change Smart Account Assignments").click()
    survey.get_by_role("button", name="Give feedback").click()
    page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    find_account(dialog, "Account Name", "Umbrella Corp")

    survey.get_by_role("button", name="No thanks").click()
    expect(dialog.get_by_role("radio", name="Umbrella Corp", exact=True)).to_be_visible()


def test_a_server_error_shows_the_message_and_try_again_recovers(
    page: Page, base_url: str, mock: MockServer
) -> None:
    open_portal(page, base_url)
    mock.set_faults(fail_next=[{"path_contains": "/api/search", "count": 1}])

    search(page, "110000002")
    alert = page.get_by_role("alert").filter(has_text=SERVER_ERROR)
    expect(alert).to_be_visible()
    alert.get_by_role("button", name="Try again").click()

    expect(page.get_by_role("link", name="110000002")).to_be_visible()


def test_session_expiry_mid_way_returns_to_the_page_after_sign_in(
    page: Page, base_url: str, mock: MockServer
) -> None:
    open_portal(page, base_url)
    search(page, "110000001")
    page.get_by_role("link", name="110000001").click()
    mock.set_faults(expire_sessions_now=True)

    page.get_by_role("link", name="View or change Smart Account Assignments").click()
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    sign_in(page)

    expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()
    assert mock.stats()["logins"] == 2
