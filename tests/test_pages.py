"""Page objects against the mock portal, the label matchers, and the no-CSS-selector rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from mock_site.server import MockServer
from pages.assign_dialog import AccountRow, AssignDialog
from pages.assignments import SmartAccountAssignmentPage
from pages.base import wait_for_landmark
from pages.errors import SignOnShown
from pages.header import Header
from pages.labels import Labels, labels, name_matcher, same_text
from pages.popups import install_popup_handlers
from pages.signon import AfterVerify, SignOnPage
from pages.widgets import OptionNotOffered, choose_option, read_options, read_table, rows_by_header

EN = labels("en")
TIMEOUT_MS = 5_000.0
DEMO = ("demo.partner@northwind.example", "Northwind-Demo-1")
PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


def signed_in(page: Page, base_url: str) -> Header:
    install_popup_handlers(page, EN)
    page.goto(base_url)
    signon = SignOnPage(page, EN, TIMEOUT_MS).wait()
    signon.submit_email(DEMO[0])
    assert signon.submit_password(DEMO[1]) is AfterVerify.SIGNED_IN
    return Header(page, EN, TIMEOUT_MS).wait()


def assignments_of(page: Page, base_url: str, number: str) -> SmartAccountAssignmentPage:
    results = signed_in(page, base_url).search_order(number)
    return results.open_order(number).open_smart_account_assignments()


# --- the catalogue and its matchers -------------------------------------------------------------


def test_catalogue_has_english_and_refuses_unknown_locales() -> None:
    assert labels() is labels("EN")
    assert isinstance(EN, Labels)
    with pytest.raises(ValueError, match="no labels for locale 'xx'"):
        labels("xx")


@pytest.mark.parametrize(
    ("label", "whole", "shown", "matches"),
    [
        ("Assign Smart Account", False, "  assign   smart account ", True),
        ("Global Search", False, "Global Search (orders, quotes)", True),
        ("Assign", True, "Assign Smart Account", False),
        ("Assign", True, " Assign ", True),
        ("Assign", False, "Reassign", False),
        ("No", True, "No thanks", False),
        ("Verify", True, "verify", True),
        ("Status:", False, "Order Status: Booked", True),
    ],
)
def test_name_matcher_tolerates_case_space_and_extra_words_only_where_asked(
    label: str, whole: bool, shown: str, matches: bool
) -> None:
    assert bool(name_matcher(label, whole=whole).search(shown)) is matches


def test_same_text_ignores_case_and_surrounding_space() -> None:
    assert same_text(" lab  Sandbox ", "LAB SANDBOX")
    assert not same_text("DC West", "DC West 2")
    assert not same_text(None, "DEFAULT")


FORBIDDEN = re.compile(r"""locator\(\s*f?["'][#.]|data-testid|get_by_test_id|xpath=""")


def test_page_objects_never_select_by_id_class_test_id_or_xpath() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(PAGES_DIR.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert offenders == []
    assert FORBIDDEN.search('page.locator("#app")') and FORBIDDEN.search("get_by_test_id('x')")


# --- widgets on hand-made markup ----------------------------------------------------------------


def test_choose_option_drives_a_native_select_by_its_label(page: Page) -> None:
    page.set_content(
        "<label>Select an Existing Account <select><option>Domain Identifier</option>"
        "<option>Account Name</option><option>Email ID</option></select></label>"
    )
    box = page.get_by_role("combobox", name=name_matcher(EN.select_existing_account))
    assert read_options(box) == ["Domain Identifier", "Account Name", "Email ID"]
    assert choose_option(box, name_matcher("account name", whole=True)) == "Account Name"
    expect(box.get_by_role("option", selected=True)).to_have_text("Account Name")
    with pytest.raises(OptionNotOffered):
        choose_option(box, "Phone", timeout_ms=1_000)


def test_read_table_maps_cells_by_header_names_not_positions(page: Page) -> None:
    page.set_content(
        "<table><tr><th>Virtual Account</th><th>Line</th><th>Smart Account</th></tr>"
        "<tr><td>DC West</td><td>1.0</td><td>Acme Corporation</td></tr></table>"
    )
    headers, rows = read_table(page.get_by_role("table"))
    mapped = rows_by_header(
        headers, rows, {"line": "Line", "sa": "Smart Account", "va": "Virtual Account", "x": "Eh"}
    )
    assert mapped == [{"line": "1.0", "sa": "Acme Corporation", "va": "DC West", "x": None}]


# --- screens of the mock portal -----------------------------------------------------------------


@pytest.mark.browser
def test_sign_on_page_reports_a_refused_password(
    page: Page, base_url: str, mock: MockServer
) -> None:
    page.goto(base_url)
    signon = SignOnPage(page, EN, TIMEOUT_MS).wait()
    signon.submit_email(DEMO[0])
    assert signon.submit_password("wrong") is AfterVerify.REJECTED
    assert "Unable to sign in" in signon.error_text()
    assert mock.stats()["logins"] == 0


@pytest.mark.browser
def test_landmark_wait_notices_the_sign_on_page(
    page: Page, base_url: str, mock: MockServer
) -> None:
    page.goto(base_url)
    with pytest.raises(SignOnShown):
        wait_for_landmark(page, EN, Header(page, EN).search_box, TIMEOUT_MS)


@pytest.mark.browser
def test_header_search_lists_web_order_matches_and_no_results(
    page: Page, base_url: str, mock: MockServer
) -> None:
    header = signed_in(page, base_url)
    assert header.signed_in_email() == DEMO[0]
    results = header.search_order("80000012")
    assert [(m.number, m.kind) for m in results.matches()] == [("80000012", "Web Order")]
    details = results.open_order("80000012")
    assert (details.sales_order(), details.order_status()) == ("110000012", "Booked")
    assert details.holds() == ()
    missing = header.search_order("110000011")  # Fabrikam's order: invisible to Northwind
    expect(missing.no_results).to_be_visible()
    assert missing.matches() == []


@pytest.mark.browser
def test_assignment_page_reads_lines_and_the_disabled_reason(
    page: Page, base_url: str, mock: MockServer
) -> None:
    screen = assignments_of(page, base_url, "110000004")
    rows = screen.lines()
    assert [(r.line, r.smart_account, r.virtual_account) for r in rows] == [
        ("1.0", "Northwind Holding", "DEFAULT"),
        ("2.0", "Northwind Holding", "DEFAULT"),
    ]
    reason = screen.assign_disabled_reason()
    assert reason is not None and "Shipped" in reason


@pytest.mark.browser
def test_dialog_selects_the_row_with_both_name_and_domain(
    page: Page, base_url: str, mock: MockServer
) -> None:
    dialog = assignments_of(page, base_url, "110000013").open_assign_dialog()
    found = dialog.search_accounts(EN.by_account_name, "Stark Industries")
    assert {(a.account_name, a.domain) for a in found} == {
        ("Stark Industries", "stark.example"),
        ("Stark Industries", "stark-industries.example"),
    }
    second = AccountRow("Stark Industries", "stark-industries.example", "Active")
    dialog.select_account(second)

    def radio_of(domain: str) -> Locator:
        cell = page.get_by_role("cell", name=domain, exact=True)
        return dialog.dialog.get_by_role("row").filter(has=cell).get_by_role("radio")

    chosen, other = radio_of("stark-industries.example"), radio_of("stark.example")
    expect(chosen).to_be_checked()
    expect(other).not_to_be_checked()
    assert dialog.virtual_accounts() == ["DEFAULT"]
    assert dialog.choose_virtual_account("DEFAULT") == "DEFAULT"
    dialog.wait_assign_enabled()
    dialog.cancel()
    assert mock.stats()["submissions"] == 0


@pytest.mark.browser
def test_dialog_reports_no_accounts(page: Page, base_url: str, mock: MockServer) -> None:
    dialog = assignments_of(page, base_url, "110000001").open_assign_dialog()
    assert dialog.search_accounts(EN.by_domain, "nobody.example") == []
    expect(dialog.no_accounts).to_be_visible()


@pytest.mark.browser
def test_popups_are_dismissed_at_every_screen(page: Page, base_url: str, mock: MockServer) -> None:
    mock.set_faults(survey_probability=1.0)
    screen = assignments_of(page, base_url, "110000010")
    dialog: AssignDialog = screen.open_assign_dialog()
    found = dialog.search_accounts(EN.by_domain, "acme.example")
    dialog.select_account(found[0])
    assert "lab Sandbox" in dialog.virtual_accounts()
    dialog.choose_virtual_account("lab Sandbox")
    dialog.wait_assign_enabled()
    expect(page.get_by_role("dialog", name="Feedback")).to_have_count(0)
    expect(page.get_by_role("region", name="Cookie preferences")).to_have_count(0)
