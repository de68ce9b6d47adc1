"""Capture bundles: the redaction (known values, patterns, the DOM's dropped parts), the folder's
rules, the conversion into reader fixtures, and on every mock release a fresh bundle that holds
none of the mock's data values."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from helpers import portal_session
from playwright.async_api import Page

from agent.capture import (
    CaptureBundle,
    FolderNotEmpty,
    Kind,
    Redactor,
    ValueLeft,
    find_values,
    materialise,
    restore,
    to_test,
)
from agent.capture.__main__ import main as capture_main
from agent.capture.bundle import MANIFEST, Screen
from agent.capture.dom import clean_html
from agent.capture.fixtures import EXPECTED
from agent.capture.redact import register_fields, value_key
from agent.capture.walk import capture_walk
from mock_site.data import SMART_ACCOUNTS, USERS, initial_orders
from mock_site.releases import REFERENCE_RELEASES
from mock_site.server import MockServer

PORTAL = "http://127.0.0.1:8765/ccw/home"


def mock_values() -> list[str]:
    """Every data value of the mock: users, accounts, domains, e-mails, VA names, orders.

    Left out: the internal user's organisation "Cisco", the portal's own vendor, whose name
    the portal's title carries.
    """
    values: set[str] = set()
    for user in USERS:
        values |= {user.email, user.password, user.totp_secret or ""}
        if user.organisation != "Cisco":
            values.add(user.organisation)
    for account in SMART_ACCOUNTS:
        values |= {account.name, account.domain, *account.virtual_accounts, *account.emails}
    for order in initial_orders():
        values |= {order.sales_order, order.web_order, order.partner, order.end_customer}
    return sorted(v for v in values if v)


def a_screen(html: str, text: str = "", pairs: list[tuple[str, str]] | None = None) -> Screen:
    return Screen(
        step=3, name="order_details", html=html, aria="- heading \"Order Details\"",
        text=text, pairs=pairs or [], title="CCW", path="/ccw/orders/110000001",
    )  # fmt: skip


# --- the Redactor -------------------------------------------------------------------------------


def test_a_known_value_is_one_placeholder_in_any_case_and_spacing() -> None:
    redactor = Redactor()
    redactor.add(Kind.ACCOUNT, "Acme Corporation")

    text = redactor.redact("Acme Corporation, ACME  corporation and acme\ncorporation")

    assert text == "<ACCOUNT-1>, <ACCOUNT-1> and <ACCOUNT-1>"


def test_placeholders_are_numbered_per_kind_in_the_order_values_arrive() -> None:
    redactor = Redactor()

    placeholders = [
        redactor.add(Kind.ACCOUNT, "Globex Industries"),
        redactor.add(Kind.DOMAIN, "globex.example"),
        redactor.add(Kind.ACCOUNT, "Initech"),
        redactor.add(Kind.ACCOUNT, "globex industries"),
    ]

    assert placeholders == ["<ACCOUNT-1>", "<DOMAIN-1>", "<ACCOUNT-2>", "<ACCOUNT-1>"]


def test_an_order_number_matches_with_or_without_leading_zeros() -> None:
    redactor = Redactor()
    redactor.add(Kind.ORDER, "0110000001")

    text = redactor.redact("SO 110000001, WO 00110000001, not 1110000001")

    assert text == "SO <ORDER-1>, WO <ORDER-1>, not <NUMBER-1>"


def test_the_longest_known_value_wins_over_one_inside_it() -> None:
    redactor = Redactor()
    redactor.add(Kind.ACCOUNT, "Umbrella Corp")
    redactor.add(Kind.ACCOUNT, "Umbrella Corp EMEA")

    assert redactor.redact("Umbrella Corp EMEA and Umbrella Corp") == "<ACCOUNT-2> and <ACCOUNT-1>"


def test_a_known_value_is_not_taken_from_inside_a_longer_word() -> None:
    redactor = Redactor()
    redactor.add(Kind.VA, "Lab")

    assert redactor.redact("Label: Lab") == "Label: <VA-1>"


def test_patterns_catch_emails_domains_numbers_and_tokens_nobody_registered() -> None:
    redactor = Redactor()

    text = redactor.redact(
        "it-admin@umbrella.example wrote from emea.umbrella.example about PO 4500012345, "
        "session 9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    )

    assert text == "<EMAIL-1> wrote from <DOMAIN-1> about PO <NUMBER-1>, session <TOKEN-1>"


def test_the_portals_own_domain_file_names_and_product_ids_are_kept() -> None:
    redactor = Redactor(portal_domains=("cisco.com", "apps.cisco.com"))

    text = redactor.redact("Sign in at apps.cisco.com; app.js; LIC-DNA-ADV-ESSENTIALS-BUNDLE-3Y")

    assert text == "Sign in at apps.cisco.com; app.js; LIC-DNA-ADV-ESSENTIALS-BUNDLE-3Y"


def test_a_file_named_after_customer_data_loses_the_data_not_its_ending() -> None:
    redactor = Redactor()
    redactor.add(Kind.DOMAIN, "acme.example")

    assert redactor.redact("acme.example.pdf 110000001.csv") == "<DOMAIN-1>.pdf <NUMBER-1>.csv"


def test_redacting_twice_changes_nothing_more() -> None:
    redactor = Redactor()
    once = redactor.redact("Order 110000001 for buyer@acme.example")

    assert redactor.redact(once) == once == "Order <NUMBER-1> for <EMAIL-1>"


def test_party_fields_register_their_values_in_every_layout() -> None:
    redactor = Redactor()
    text = "Partner: Northwind Networks\nEnd Customer\nGlobex Industries\nSigned in as Jane Roe"

    register_fields(redactor, text, [("ship to", "Initech")])

    assert {value for _, value in redactor.known()} == {
        "Northwind Networks", "Globex Industries", "Jane Roe", "Initech",
    }  # fmt: skip


def test_a_field_adds_only_what_is_not_known_and_never_an_empty_mark() -> None:
    redactor = Redactor()
    redactor.add(Kind.DOMAIN, "initech.example")

    register_fields(redactor, "Customer: Initech (initech.example)\nPartner: \u2014", [])

    assert redactor.known() == [(Kind.DOMAIN, "initech.example"), (Kind.ACCOUNT, "Initech")]


def test_a_one_word_label_without_its_colon_is_the_portals_word() -> None:
    redactor = Redactor()

    register_fields(redactor, "Customer Status\tLines", [])

    assert redactor.known() == []


# --- the DOM ------------------------------------------------------------------------------------


def test_the_dom_loses_scripts_styles_comments_handlers_and_form_values() -> None:
    document = (
        "<!DOCTYPE html><html><head><meta name='csrf' content='k3y'><script>var a = 1</script>"
        "<style>.x { background: url(/a.png) }</style><link rel=stylesheet href='/s.css'></head>"
        "<body><!-- build 42 --><button onclick='go()' style='background:url(/b.png)'>Go"
        "</button><input type=hidden name=token value='s3cret'><input value='typed'>"
        "<textarea>typed words</textarea><iframe src='https://frame.example/x'></iframe>"
        "<a href='/orders/x?session=abc#top' data-row='row-3' data-json='{\"n\": 1}'>Open</a>"
        "</body></html>"
    )

    cleaned = clean_html(document, Redactor())

    for gone in ("var a", ".x {", "s.css", "build 42", "onclick", "k3y", "s3cret", "typed",
                 "frame.example", "session", "#top", "/a.png", "/b.png", '"n"'):  # fmt: skip
        assert gone not in cleaned
    assert '<a href="/orders/x" data-row="row-3" data-json="">Open</a>' in cleaned
    assert '<button style="background:url()">Go</button>' in cleaned


def test_text_and_attribute_values_are_redacted_alike_so_references_still_match() -> None:
    redactor = Redactor()
    redactor.add(Kind.ACCOUNT, "Acme Corporation")

    cleaned = clean_html(
        '<input type=radio id="r-110000001" aria-label="Acme Corporation">'
        '<label for="r-110000001">Acme Corporation &amp; co</label>',
        redactor,
    )

    assert cleaned == (
        '<input type="radio" id="r-&lt;NUMBER-1&gt;" aria-label="&lt;ACCOUNT-1&gt;">'
        '<label for="r-&lt;NUMBER-1&gt;">&lt;ACCOUNT-1&gt; &amp; co</label>'
    )


# --- the bundle folder ----------------------------------------------------------------------------


def test_a_folder_that_holds_anything_is_refused_before_the_walk(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")

    with pytest.raises(FolderNotEmpty):
        CaptureBundle(tmp_path, portal_url=PORTAL)

    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_bundle_is_private_and_names_no_query_string(tmp_path: Path) -> None:
    folder = tmp_path / "capture"
    bundle = CaptureBundle(folder, portal_url="https://apps.cisco.com/Commerce/home?x=1#y")
    bundle.screens.append(a_screen("<h1>Order Details: 110000001</h1>"))

    bundle.write()

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["portal"] == {
        "host": "apps.cisco.com", "url": "https://apps.cisco.com/Commerce/home",
    }  # fmt: skip
    assert manifest["screens"][0]["path"] == "/ccw/orders/<NUMBER-1>"


def test_a_value_first_read_on_a_later_screen_is_gone_from_the_earlier_ones(
    tmp_path: Path,
) -> None:
    bundle = CaptureBundle(tmp_path / "b", portal_url=PORTAL)
    bundle.screens.append(a_screen("<p>Initech</p>"))
    bundle.redactor.add(Kind.ACCOUNT, "Initech")

    bundle.write()

    assert find_values(tmp_path / "b", ["Initech"]) == []


def test_a_value_that_survives_redaction_stops_the_whole_bundle(tmp_path: Path) -> None:
    bundle = CaptureBundle(tmp_path / "b", portal_url=PORTAL)
    bundle.redactor.add(Kind.VA, "Research")
    # An attribute's name is never rewritten: the check after redaction must catch it.
    bundle.screens.append(a_screen("<p data-research='1'>x</p>"))

    with pytest.raises(ValueLeft, match="01-order_details.html"):
        bundle.write()

    assert list((tmp_path / "b").iterdir()) == []


# --- from a bundle to reader fixtures -------------------------------------------------------------


def test_placeholders_become_values_of_their_shape_and_back() -> None:
    html = "<h1>Order Details: &lt;ORDER-1&gt;</h1><td>&lt;ACCOUNT-2&gt; (&lt;DOMAIN-3&gt;)</td>"

    shown = materialise(html)

    assert shown == "<h1>Order Details: 700000001</h1><td>Account-2 (domain-3.test)</td>"
    assert restore({"read": ["700000001", "Account-2", "domain-3.test"]}) == {
        "read": ["<ORDER-1>", "<ACCOUNT-2>", "<DOMAIN-3>"]
    }


def test_a_bundle_becomes_fixtures_whose_expectations_are_what_was_read(tmp_path: Path) -> None:
    bundle = CaptureBundle(tmp_path / "bundle", portal_url=PORTAL)
    bundle.redactor.add(Kind.ORDER, "110000001")
    bundle.screens.append(a_screen("<h1>Order Details: 110000001</h1>"))
    bundle.screens[0].read = {"sales_order": "110000001", "order_status": "Booked", "holds": []}
    bundle.write()

    folder = to_test(tmp_path / "bundle", "field-1", tmp_path / "screens")

    expected = json.loads((folder / EXPECTED).read_text())
    assert expected["screens"][0]["expect"] == {
        "sales_order": "<ORDER-1>", "web_order": None, "order_status": "Booked", "holds": [],
    }  # fmt: skip
    assert (folder / "01-order_details.html").read_text().count("&lt;ORDER-1&gt;") == 1
    with pytest.raises(FileExistsError):
        to_test(tmp_path / "bundle", "field-1", tmp_path / "screens")


# --- on every mock release --------------------------------------------------------------------


@pytest.mark.parametrize("release", REFERENCE_RELEASES)
async def test_a_fresh_bundle_holds_none_of_the_mocks_data_values(
    page: Page, mock: MockServer, tmp_path: Path, release: str
) -> None:
    mock.set_release(release)
    folder = tmp_path / "capture"
    session = portal_session(page, mock.home_url)

    with CaptureBundle(folder, portal_url=mock.home_url) as bundle:
        await capture_walk(session, bundle, "110000015", search_domain="acme.example")

    manifest = json.loads((folder / MANIFEST).read_text())
    assert [s["name"] for s in manifest["screens"]][-3:] == [
        "assign_dialog", "account_results", "account_selected",
    ]  # fmt: skip
    assert find_values(folder, mock_values()) == []
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_a_check_finds_a_value_in_any_case_and_a_number_with_leading_zeros(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.html").write_text("<p>Order 00110000001 for ACME corporation</p>")

    found = find_values(tmp_path, ["110000001", "Acme Corporation", "Initech"])

    assert found == [("a.html", "110000001"), ("a.html", "Acme Corporation")]


def test_the_shipped_example_fixtures_hold_none_of_the_mocks_data_values() -> None:
    folders = sorted((Path(__file__).parent / "screens").glob("*/"))

    found = [(f.name, hit) for f in folders for hit in find_values(f, mock_values())]

    assert folders and found == []


def test_the_check_command_exits_1_and_names_the_file_when_a_value_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "01-order_details.html").write_text("<p>Globex Industries</p>")
    (tmp_path / "mine.txt").write_text("Initech\nglobex industries\n")

    code = capture_main(["check", str(tmp_path / "bundle"), str(tmp_path / "mine.txt")])

    assert code == 1
    assert "01-order_details.html: globex industries" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("0110000001", "110000001"),
        (" 000 ", "0"),
        ("007 Agency", "007 agency"),
        # Digits of other scripts are no order number: compared as text, zeros kept.
        ("０１２", "０１２"),
    ],
)
def test_a_value_is_keyed_as_an_order_number_only_when_it_is_one(value: str, key: str) -> None:
    assert value_key(value) == key
