"""The mock's release variants keep the reference's roles and names but not its arrangement;
and the two fault knobs about submissions: errors that applied the change, late assignments."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from helpers import MockClient, run_mock_module, search, sign_on
from playwright.async_api import Locator, Page, expect

from mock_site.releases import ARIA_RELEASES, RELEASES, UnknownRelease
from mock_site.server import MockServer

SERVER_ERROR = "Something went wrong, please try again"
SUCCESS = "Smart Account assignment submitted successfully"


# --- helpers ----------------------------------------------------------------------------------


async def open_portal(page: Page, mock: MockServer, release: str) -> None:
    """Switch the mock to `release`, sign in as the demo user, accept the cookie banner."""
    mock.set_release(release)
    await page.goto(mock.home_url)
    await sign_on(page)
    await page.get_by_role("button", name="Accept All Cookies").click()


async def open_order(page: Page, number: str) -> None:
    """Search the number and reach its Order Details, through the match's link if listed."""
    await search(page, number)
    details = page.get_by_role("heading", name="Order Details")
    link = page.get_by_role("link", name=number, exact=True)
    await expect(details.or_(link)).to_be_visible()
    if await link.count():
        await link.click()
    await expect(details).to_be_visible()


async def open_assignments(page: Page, number: str) -> None:
    await open_order(page, number)
    await page.get_by_role("link", name="View or change Smart Account Assignments").click()
    await expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()


async def is_native_select(control: Locator) -> bool:
    return bool(await control.evaluate("e => e.tagName === 'SELECT'"))


async def choose(dialog: Locator, dropdown: str, option: str) -> None:
    """Pick an option of a drop-down, a native <select> or a custom combobox alike."""
    control = dialog.get_by_role("combobox", name=dropdown)
    if await is_native_select(control):
        await control.select_option(label=option)
    else:
        await control.click()
        await dialog.get_by_role("option", name=option, exact=True).click()


async def find_account(dialog: Locator, parameter: str, value: str) -> None:
    await choose(dialog, "Select an Existing Account", parameter)
    await dialog.get_by_role("textbox", name="Search Value").fill(value)
    await dialog.get_by_role("button", name="Search").click()


async def main_text(page: Page) -> str:
    return await page.get_by_role("main").inner_text()


def shown_targets(client: MockClient, order: str) -> list[tuple[str | None, str | None]]:
    """The (domain, virtual account) of each line, as the portal shows them now."""
    status, view = client.get(f"/api/orders/{order}/assignments")
    assert status == 200
    return [(ln["domain"], ln["virtual_account"]) for ln in view["lines"]]


# --- every release keeps the reference's roles and names ----------------------------------------


# The releases a person drives in one tab by the reference's roles and names (`paged` opens the
# order in a new tab, `legacy` draws controls without roles: each has its own test below).
ONE_TAB_ARIA = [name for name in ARIA_RELEASES if not RELEASES[name].details_in_new_tab]


@pytest.mark.parametrize("release", ONE_TAB_ARIA)
async def test_the_whole_procedure_by_the_reference_names(
    page: Page, mock: MockServer, release: str
) -> None:
    await open_portal(page, mock, release)

    await search(page, "999999999")
    await expect(page.get_by_text("No results found")).to_be_visible()

    await open_order(page, "80000006")
    await expect(page.get_by_role("heading", name="Order Details")).to_contain_text("110000006")
    assert re.search(r"Status:\s*Booked", await main_text(page))
    await page.get_by_role("link", name="View or change Smart Account Assignments").click()

    await expect(page.get_by_role("heading", name="Smart Account Assignment")).to_be_visible()
    for column in ("Line", "Product", "Smart Account", "Virtual Account"):
        await expect(page.get_by_role("columnheader", name=column, exact=True)).to_have_count(1)
    await page.get_by_role("button", name="Assign Smart Account").click()

    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    parameter = dialog.get_by_role("combobox", name="Select an Existing Account")
    if not await is_native_select(parameter):
        await parameter.click()
    for option in ("Domain Identifier", "Account Name", "Email ID"):
        await expect(dialog.get_by_role("option", name=option)).to_have_count(1)
    if not await is_native_select(parameter):
        await parameter.press("Escape")
    await find_account(dialog, "Account Name", "no such account")
    await expect(dialog.get_by_text("No Smart Accounts found")).to_be_visible()
    await find_account(dialog, "Domain Identifier", "acme.example")
    assign = dialog.get_by_role("button", name="Assign", exact=True)
    await expect(assign).to_be_disabled()
    await dialog.get_by_role("radio", name="Acme Corporation").check()
    await choose(dialog, "Virtual Account Name", "DC West")
    await expect(assign).to_be_enabled()
    await assign.click()
    submit = dialog.get_by_role("button", name="Submit")
    await expect(submit).to_be_disabled()
    await dialog.get_by_role("checkbox", name="I accept the Terms of Use").check()
    await submit.click()
    confirmation = page.get_by_role("alertdialog")
    await expect(confirmation.get_by_role("button", name="No")).to_be_visible()
    await confirmation.get_by_role("button", name="Yes").click()

    done = page.get_by_role("status").or_(page.get_by_role("alert")).filter(has_text=SUCCESS)
    await expect(done).to_have_text(re.compile("submitted successfully"))
    order = mock.order("110000006")
    assert order is not None and len(order["submissions"]) == 1
    assert {ln["virtual_account"] for ln in order["lines"]} == {"DC West"}


@pytest.mark.parametrize("release", ONE_TAB_ARIA)
async def test_a_disabled_assign_smart_account_says_why_in_words(
    page: Page, mock: MockServer, release: str
) -> None:
    await open_portal(page, mock, release)
    await open_assignments(page, "110000004")

    assign = page.get_by_role("button", name="Assign Smart Account")
    await expect(assign).to_be_disabled()
    reason = "Smart Account assignment is not available: the order status is Shipped."
    await expect(page.get_by_text(reason)).to_be_visible()
    await expect(assign).to_have_accessible_description(reason)
    await assign.click(force=True)  # a click on a disabled control must do nothing
    await expect(page.get_by_role("dialog", name="Assign Smart Account")).to_have_count(0)


# --- and each arranges them differently ---------------------------------------------------------


async def test_classic_uses_tables_custom_comboboxes_and_inline_messages(
    page: Page, mock: MockServer
) -> None:
    await open_portal(page, mock, "classic")
    await search(page, "80000006")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="80000006"))
    await expect(row).to_contain_text("Web Order")
    await row.get_by_role("link").click()
    await expect(
        page.get_by_role("heading", name="Order Details: 110000006", level=1)
    ).to_be_visible()
    await expect(page.get_by_text("Status: Booked")).to_be_visible()
    await expect(page.get_by_text("Web Order: 80000006")).to_be_visible()
    banner = page.get_by_role("region", name="Order notifications")
    await banner.get_by_role("link", name="View or change Smart Account Assignments").click()

    await expect(page.get_by_role("columnheader", name="Eligibility")).to_be_visible()
    await expect(page.get_by_role("columnheader", name="Domain Identifier")).to_have_count(0)
    await expect(page.get_by_role("row").filter(has_text="1.0")).to_contain_text("\u2014")
    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    assert not await is_native_select(
        dialog.get_by_role("combobox", name="Select an Existing Account")
    )
    await find_account(dialog, "Email ID", "it-admin@umbrella.example")
    await expect(dialog.get_by_role("row").filter(has=page.get_by_role("radio"))).to_have_count(2)
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_visible()
    assign = dialog.get_by_role("button", name="Assign", exact=True)
    await expect(assign).to_have_attribute("disabled", "")


async def test_ledger_lists_matches_uses_native_selects_aria_disabled_and_toasts(
    page: Page, mock: MockServer
) -> None:
    await open_portal(page, mock, "ledger")
    await search(page, "80000006")
    results = page.get_by_role("main")
    entry = results.get_by_role("listitem").filter(has=page.get_by_role("link", name="80000006"))
    await expect(entry).to_contain_text("Web Order")
    await expect(entry.get_by_role("link")).to_have_text(["Download order summary", "80000006"])
    await expect(results.get_by_role("row")).to_have_count(0)
    await entry.get_by_role("link", name="80000006").click()

    heading = page.get_by_role("heading", name="Order Details", level=2)
    await expect(heading).to_have_text("Order Details \u2014 110000006")
    await expect(page.get_by_role("term").filter(has_text="Status:")).to_be_visible()
    await expect(page.get_by_role("definition").filter(has_text="Booked")).to_be_visible()
    await expect(page.get_by_text("Status: Booked")).to_have_count(0)
    await expect(page.get_by_role("term").filter(has_text="Web Order Number")).to_be_visible()
    note = page.get_by_role("note", name="Smart Account notice")
    await note.get_by_role("link", name="View or change Smart Account Assignments").click()

    await expect(page.get_by_role("columnheader", name="Domain Identifier")).to_be_visible()
    await expect(page.get_by_role("columnheader", name="Eligibility")).to_have_count(0)
    cells = page.get_by_role("row").filter(has_text="1.0").get_by_role("cell")
    await expect(cells).to_have_count(7)
    for unassigned in (1, 2, 3):  # Smart Account, Domain Identifier, Virtual Account
        await expect(cells.nth(unassigned)).to_have_text("")
    assign_sa = page.get_by_role("button", name="Assign Smart Account")
    await assign_sa.click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    for name in ("Select an Existing Account", "Virtual Account Name"):
        assert await is_native_select(dialog.get_by_role("combobox", name=name))
        await expect(dialog.get_by_label(name)).to_be_visible()
    await find_account(dialog, "Email ID", "it-admin@umbrella.example")
    await expect(dialog.get_by_role("row")).to_have_count(0)
    entries = dialog.get_by_role("list").get_by_role("listitem")
    emea = entries.filter(has=page.get_by_role("radio", name="Umbrella Corp EMEA"))
    await expect(emea).to_contain_text("emea.umbrella.example \u00b7 Active")
    assign = dialog.get_by_role("button", name="Assign", exact=True)
    await expect(assign).to_have_attribute("aria-disabled", "true")
    await assign.click(force=True)
    await expect(dialog.get_by_role("checkbox", name="I accept the Terms of Use")).to_have_count(0)

    await emea.get_by_role("radio").check()
    await choose(dialog, "Virtual Account Name", "Research")
    await assign.click()
    submit = dialog.get_by_role("button", name="Submit")
    await expect(submit).to_have_attribute("aria-disabled", "true")
    await submit.click(force=True)
    await expect(page.get_by_role("alertdialog")).to_have_count(0)
    await dialog.get_by_role("checkbox", name="I accept the Terms of Use").check()
    await submit.click()
    await (
        page.get_by_role("alertdialog", name="Please confirm")
        .get_by_role("button", name="Yes")
        .click()
    )

    toast = page.get_by_role("status").filter(has_text=SUCCESS)
    await expect(toast).to_be_visible()
    await expect(toast).to_have_count(0, timeout=8000)  # gone by itself after about 5 s


async def test_ledger_reports_a_server_error_in_a_toast_without_try_again(
    page: Page, mock: MockServer
) -> None:
    await open_portal(page, mock, "ledger")
    mock.set_faults(fail_next=[{"path_contains": "/api/search", "count": 1}])

    await search(page, "110000002")

    alert = page.get_by_role("alert").filter(has_text=SERVER_ERROR)
    await expect(alert).to_be_visible()
    await expect(page.get_by_role("button", name="Try again")).to_have_count(0)
    await expect(alert).to_have_count(0, timeout=8000)
    await search(page, "110000002")
    await expect(page.get_by_role("link", name="110000002")).to_be_visible()


async def test_compact_opens_a_single_match_and_writes_the_domain_in_the_account_cell(
    page: Page, mock: MockServer
) -> None:
    await open_portal(page, mock, "compact")
    await search(page, "80000015")

    heading = page.get_by_role("heading", name="Order Details", level=1)
    await expect(heading).to_have_text("Sales Order 110000015 \u00b7 Order Details")
    status_label = page.get_by_text("Status:", exact=True)
    await expect(status_label).to_be_visible()
    assert await status_label.evaluate("e => e.nextElementSibling.tagName") == "B"
    await expect(page.get_by_text("Web Order Number")).to_be_visible()
    banner = page.get_by_role("alert", name="Order alerts")
    await expect(
        banner.get_by_role("link", name="Learn about Smart Account assignments")
    ).to_be_visible()
    await banner.get_by_role("link", name="View or change Smart Account Assignments").click()

    await expect(
        page.get_by_role("cell", name="Initech (initech.example)", exact=True)
    ).to_have_count(2)
    await expect(page.get_by_role("columnheader", name="Domain Identifier")).to_have_count(0)
    await expect(page.get_by_role("columnheader", name="Eligibility")).to_have_count(0)
    await expect(page.get_by_role("columnheader", name="Quantity")).to_be_visible()

    await open_assignments(page, "110000014")
    entitled = page.get_by_role("row").filter(has_text="1.0")
    await expect(entitled.get_by_role("cell").first).to_contain_text(
        "Not eligible: active entitlement"
    )
    await open_assignments(page, "110000001")
    await expect(page.get_by_role("cell", name="Not assigned")).to_have_count(4)

    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    assert await is_native_select(dialog.get_by_role("combobox", name="Select an Existing Account"))
    assert not await is_native_select(dialog.get_by_role("combobox", name="Virtual Account Name"))
    await find_account(dialog, "Email ID", "it-admin@umbrella.example")
    await expect(dialog.get_by_role("radio")).to_have_count(2)
    await expect(dialog.get_by_role("row").or_(dialog.get_by_role("listitem"))).to_have_count(0)
    await expect(dialog.get_by_text("emea.umbrella.example")).to_be_visible()
    await expect(dialog.get_by_role("button", name="Cancel")).to_have_count(0)
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_have_count(0)


async def test_compact_retries_a_server_error_with_retry_and_toasts_success_as_an_alert(
    page: Page, mock: MockServer
) -> None:
    await open_portal(page, mock, "compact")
    mock.set_faults(fail_next=[{"path_contains": "/assignments", "count": 1}])
    await open_order(page, "110000002")
    await page.get_by_role("link", name="View or change Smart Account Assignments").click()
    alert = page.get_by_role("alert").filter(has_text=SERVER_ERROR)
    await alert.get_by_role("button", name="Retry").click()

    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    await find_account(dialog, "Domain Identifier", "globex.example")
    await dialog.get_by_role("radio", name="Globex Industries").check()
    await choose(dialog, "Virtual Account Name", "Production")
    await dialog.get_by_role("button", name="Assign", exact=True).click()
    await dialog.get_by_role("checkbox", name="I accept the Terms of Use").check()
    await dialog.get_by_role("button", name="Submit").click()
    await (
        page.get_by_role("alertdialog", name="Are you sure?")
        .get_by_role("button", name="Yes")
        .click()
    )

    await expect(page.get_by_role("alert").filter(has_text=SUCCESS)).to_be_visible()
    await expect(page.get_by_role("status")).to_have_count(0)


# --- choosing and switching releases ------------------------------------------------------------


async def test_a_release_switched_at_run_time_shows_from_the_next_screen(
    page: Page, mock: MockServer
) -> None:
    await open_portal(page, mock, "classic")
    await search(page, "110000003")
    await expect(page.get_by_role("row").filter(has_text="110000003")).to_be_visible()

    status, body = MockClient(mock).post("/__mock__/release", {"release": "ledger"})
    await search(page, "110000003")

    assert (status, body["release"]) == (200, "ledger")
    await expect(page.get_by_role("listitem").filter(has_text="110000003")).to_be_visible()
    await expect(page.get_by_role("main").get_by_role("row")).to_have_count(0)


def test_reset_returns_to_the_release_the_server_was_built_with() -> None:
    server = MockServer(release="ledger").start()
    try:
        server.set_release("compact")
        assert MockClient(server).get("/__mock__/release")[1]["release"] == "compact"
        server.reset()
        assert server.release.name == "ledger"
        assert server.stats()["release"] == "ledger"
    finally:
        server.stop()


def test_an_unknown_release_is_refused_with_the_known_names(mock: MockServer) -> None:
    with pytest.raises(UnknownRelease, match="classic, ledger, compact"):
        MockServer(release="modern")
    with pytest.raises(ValueError, match="known releases"):
        mock.set_release("modern")

    status, body = MockClient(mock).post("/__mock__/release", {"release": "modern"})

    assert status == 400 and body["known"] == list(RELEASES)
    assert "classic, ledger, compact" in body["error"]
    assert mock.release.name == "classic"


def test_every_json_answer_and_the_page_name_the_release(
    mock: MockServer, client: MockClient
) -> None:
    mock.set_release("compact")

    _, headers, _ = client.call("GET", "/api/search?q=110000001")
    _, _, page = client.call("GET", "/ccw/home")

    assert headers["x-release"] == "compact"
    assert b'"current": "compact"' in page and b'"ledger"' in page


def test_python_dash_m_takes_a_release_and_lists_the_known_ones_when_wrong() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "mock_site", "--release", "modern"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "classic" in bad.stderr and "compact" in bad.stderr

    _, current = run_mock_module("--release", "compact", ask="/__mock__/release")
    assert current["release"] == "compact"


def test_the_compact_release_opens_a_single_match_and_the_knob_still_does(
    mock: MockServer, client: MockClient
) -> None:
    assert "open" not in client.get("/api/search?q=110000001")[1]
    mock.set_faults(single_match_opens_details=True)
    assert client.get("/api/search?q=110000001")[1]["open"] == "110000001"
    mock.set_faults()
    mock.set_release("compact")
    assert client.get("/api/search?q=80000001")[1]["open"] == "110000001"
    assert client.get("/api/search?q=999")[1] == {"results": []}


# --- json_error_applied_fraction ----------------------------------------------------------------


def test_an_error_on_the_submit_applies_the_change_for_the_applied_fraction(
    mock: MockServer, client: MockClient
) -> None:
    mock.set_faults(json_error_rate=1.0, json_error_applied_fraction=1.0)

    status = client.assign("110000002", "globex.example", "Production")[0]

    order = mock.order("110000002")
    assert order is not None
    assert status == 500
    assert len(order["submissions"]) == 1
    assert order["lines"][0]["virtual_account"] == "Production"


def test_without_the_fraction_an_error_on_the_submit_changes_nothing(
    mock: MockServer, client: MockClient
) -> None:
    mock.set_faults(json_error_rate=1.0)

    status = client.assign("110000002", "globex.example", "Production")[0]

    order = mock.order("110000002")
    assert status == 500 and order is not None and order["submissions"] == []


def test_read_only_calls_never_apply_anything(mock: MockServer, client: MockClient) -> None:
    mock.set_faults(json_error_rate=1.0, json_error_applied_fraction=1.0)

    statuses = [client.get(path)[0] for path in ("/api/search?q=1", "/api/orders/110000002")]

    assert statuses == [500, 500]
    assert mock.stats()["submissions"] == 0


def test_the_applied_errors_are_drawn_from_seeded_dice(
    mock: MockServer, client: MockClient
) -> None:
    def applied() -> list[bool]:
        mock.set_faults(json_error_rate=0.7, json_error_applied_fraction=0.5)
        outcomes = []
        for _ in range(24):
            before = mock.stats()["submissions"]
            status = client.assign("110000002", "globex.example", "Production")[0]
            outcomes.append(status == 500 and mock.stats()["submissions"] > before)
        return outcomes

    first = applied()
    mock.reset()
    second = applied()

    assert first == second
    assert any(first) and not all(first)


# --- assignment_visible_after_s -----------------------------------------------------------------


@pytest.fixture
def late(mock: MockServer) -> float:
    """A portal that shows assignments this many seconds late."""
    delay = 1.5  # long enough that a loaded machine still reads before it has passed
    mock.set_faults(assignment_visible_after_s=delay)
    return delay


def test_a_late_portal_shows_the_old_assignment_until_the_delay_passed(
    mock: MockServer, client: MockClient, late: float
) -> None:
    before = shown_targets(client, "110000002")

    started = time.monotonic()
    assert client.assign("110000002", "globex.example", "Production")[0] == 200
    shown_at_once = shown_targets(client, "110000002")
    order = mock.order("110000002")
    while shown_targets(client, "110000002") == before:
        assert time.monotonic() - started < late + 5, "the assignment never showed"
        time.sleep(0.05)

    assert shown_at_once == before
    assert order is not None and len(order["submissions"]) == 1
    assert order["lines"][0]["virtual_account"] == "Production"
    assert time.monotonic() - started >= late
    assert set(shown_targets(client, "110000002")) == {("globex.example", "Production")}


def test_a_late_portal_shows_each_change_late_and_other_orders_at_once(
    mock: MockServer, client: MockClient, late: float
) -> None:
    client.assign("110000003", "globex.example", "DEFAULT")
    time.sleep(late + 0.1)
    client.assign("110000003", "acme.example", "Campus-Network")

    assert set(shown_targets(client, "110000003")) == {("globex.example", "DEFAULT")}
    assert set(shown_targets(client, "110000001")) == {(None, None)}
    snapshot = mock.order("110000003")
    assert snapshot is not None and snapshot["lines"][0]["virtual_account"] == "Campus-Network"


async def test_legacy_draws_its_controls_the_jquery_way_and_a_person_can_still_drive_them(
    page: Page, mock: MockServer
) -> None:
    # Given the legacy release, on an order that can be assigned
    await open_portal(page, mock, "legacy")
    await open_order(page, "110000002")
    # Its fields are label/value cells without colons, one label carrying an icon's words
    summary = page.get_by_role("row", name=re.compile(r"^Status\s+Booked$"))
    await expect(summary).to_have_count(1)
    await expect(page.get_by_role("cell", name="Holds ?", exact=True)).to_have_count(1)
    # a "Got it" tip covers the page some time after Order Details opens, once per tab
    got_it = page.get_by_role("button", name="Got it")
    await expect(got_it).to_be_visible()
    await got_it.click()
    # the banner's action has no link role: only its words find it
    await expect(
        page.get_by_role("link", name="View or change Smart Account Assignments")
    ).to_have_count(0)
    await page.get_by_text("View or change Smart Account Assignments", exact=True).click()
    await page.get_by_role("button", name="Assign Smart Account").click()
    dialog = page.get_by_role("dialog", name="Assign Smart Account")
    # the drop-downs are links over hidden selects: no combobox role
    await expect(dialog.get_by_role("combobox")).to_have_count(0)
    await expect(dialog.get_by_label("Select an Existing Account")).to_be_hidden()
    await dialog.get_by_text("Select", exact=True).filter(visible=True).click()
    await page.get_by_role("listitem").get_by_text("Domain Identifier", exact=True).click()
    await dialog.get_by_role("textbox", name="Search Value").fill("acme.example")
    await dialog.get_by_text("Search", exact=True).filter(visible=True).click()
    # the result radio is hidden behind an empty label; the row's words name the account
    radio = dialog.get_by_role("radio", include_hidden=True)
    await expect(radio).to_have_count(1)
    await expect(radio).to_be_hidden()
    row = dialog.get_by_role("row", name=re.compile("Acme Corporation"))
    await row.locator("label").click()
    await expect(radio).to_be_checked()
    # and Assign is an anchor without a role, greyed out until a Virtual Account is chosen
    await expect(dialog.get_by_role("button", name="Assign", exact=True)).to_have_count(0)
    await expect(dialog.get_by_text("Assign", exact=True)).to_have_class(re.compile("disabled"))


async def test_paged_lists_accounts_by_pages_and_opens_the_order_in_a_new_tab(
    page: Page, mock: MockServer
) -> None:
    # Given the paged release
    await open_portal(page, mock, "paged")
    await search(page, "110000008")
    # When the order's link is clicked, Order Details opens in a new tab
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name="110000008", exact=True).click()
    tab = await opened.value
    await expect(tab.get_by_role("heading", name="Order Details")).to_contain_text("110000008")
    await tab.get_by_role("link", name="View or change Smart Account Assignments").click()
    # the account cells read "Name / domain"
    await expect(
        tab.get_by_role("cell", name="Northwind Holding / holding.northwind.example")
    ).to_have_count(2)
    await tab.get_by_role("button", name="Assign Smart Account").click()
    dialog = tab.get_by_role("dialog", name="Assign Smart Account")
    await choose(dialog, "Select an Existing Account", "Account Name")
    await dialog.get_by_role("textbox", name="Search Value").fill("Umbrella Corp")
    await dialog.get_by_role("button", name="Search").click()
    # and the results come two at a time, the exact name on the second page
    await expect(dialog.get_by_text("Page 1 of 2 · 3 Smart Accounts")).to_be_visible()
    await expect(dialog.get_by_role("radio", name="Umbrella Corp", exact=True)).to_have_count(0)
    await dialog.get_by_role("button", name="Next page").click()
    await expect(dialog.get_by_role("radio", name="Umbrella Corp", exact=True)).to_have_count(1)
    await expect(dialog.get_by_role("button", name="Next page")).to_be_disabled()
