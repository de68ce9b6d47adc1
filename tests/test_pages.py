"""Page objects against the mock portal, the label matchers, and the no-CSS-selector rule."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import cast

import pytest
from helpers import DEMO
from playwright._impl.connection import Connection
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Route, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from structlog.testing import capture_logs

from agent.pytest_plugin import MOCK_TIMEOUT_MS
from mock_site.server import MockServer
from pages.assign_dialog import AccountRow, AssignDialog, SearchBy
from pages.assignments import SmartAccountAssignmentPage
from pages.base import (
    ACT_SLICE_MS,
    FAST_MS,
    WAIT_SLICE_MS,
    WATCH_SCRIPT,
    FoundBy,
    act_watching,
    click_watching,
    control_key,
    page_timeout,
    wait_for_landmark,
    wait_promptly,
    wait_shown,
)
from pages.errors import OptionNotOffered, SignOnShown
from pages.header import Header
from pages.labels import Labels, labels, name_matcher, same_text
from pages.order_details import OrderDetailsPage
from pages.popups import install_popup_handlers, quietly
from pages.search_results import SearchResultsPage
from pages.signon import AfterVerify, SignOnPage
from pages.widgets import DropDown, choose_option, read_options, read_table, rows_by_header

EN = labels("en")
TIMEOUT_MS = 5_000.0
PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


async def opened(page: Page, base_url: str, timeout_ms: float = TIMEOUT_MS) -> None:
    """Open the portal with the limit PortalSession gives every wait of the page objects."""
    page.set_default_timeout(timeout_ms)
    await page.goto(base_url)


async def signed_in(page: Page, base_url: str, timeout_ms: float = TIMEOUT_MS) -> Header:
    await install_popup_handlers(page, EN)
    await opened(page, base_url, timeout_ms)
    signon = await SignOnPage(page, EN).wait()
    await signon.submit_email(DEMO.email)
    assert await signon.submit_password(DEMO.password) is AfterVerify.SIGNED_IN
    return await Header(page, EN).wait()


async def assignments_of(
    page: Page, base_url: str, number: str, timeout_ms: float = TIMEOUT_MS
) -> SmartAccountAssignmentPage:
    results = await (await signed_in(page, base_url, timeout_ms)).search_order(number)
    assert not isinstance(results, OrderDetailsPage), "the classic release lists the match"
    details = await results.open_order(number)
    return await details.open_smart_account_assignments()


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


async def test_choose_option_drives_a_native_select_by_its_label(page: Page) -> None:
    await page.set_content(
        "<label>Select an Existing Account <select><option>Domain Identifier</option>"
        "<option>Account Name</option><option>Email ID</option></select></label>"
    )
    box = page.get_by_role("combobox", name=name_matcher(EN.select_existing_account))
    assert await read_options(box) == ["Domain Identifier", "Account Name", "Email ID"]
    assert await choose_option(box, name_matcher("account name", whole=True)) == "Account Name"
    await expect(box.get_by_role("option", selected=True)).to_have_text("Account Name")
    with pytest.raises(OptionNotOffered):
        await choose_option(box, "Phone")


async def test_choose_option_waits_for_a_drop_down_filled_late(page: Page) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    await page.set_content(
        "<label>Virtual Account Name <select disabled><option value=''>Select a Smart Account "
        "first</option></select></label>"
        "<script>setTimeout(() => { const s = document.querySelector('select');"
        " s.add(new Option('DEFAULT', 'DEFAULT')); s.disabled = false; }, 300)</script>"
    )
    box = page.get_by_role("combobox", name=name_matcher(EN.virtual_account_name))
    assert await choose_option(box, "DEFAULT") == "DEFAULT"
    await expect(box).to_have_value("DEFAULT")


# An ARIA combobox whose list is there from the start (DELAY 0) or filled DELAY ms after it
# first opens.
ARIA_COMBOBOX = """
<label id="l">Virtual Account Name</label>
<button role="combobox" aria-labelledby="l" aria-expanded="false" aria-controls="list">Pick</button>
<ul role="listbox" id="list" hidden></ul>
<script>
  const box = document.querySelector("[role=combobox]"), list = document.getElementById("list");
  const fill = () => {
    for (const name of ["DEFAULT", "Production"]) {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      item.textContent = name;
      item.onclick = () => { box.textContent = name; box.click(); };
      list.append(item);
    }
  };
  if (DELAY === 0) fill();
  box.onclick = () => {
    const open = box.getAttribute("aria-expanded") !== "true";
    box.setAttribute("aria-expanded", String(open));
    list.hidden = !open;
    if (open && !list.children.length) setTimeout(fill, DELAY);
  };
</script>
"""


class DriverCalls:
    """The browser calls (round trips to the driver) made while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.methods: list[str] = []
        send = Connection.send_message_to_server

        def counting(conn: Connection, obj: object, method: str, *args: object) -> object:
            if method != "__waitInfo__" and not method.endswith("NoReply"):
                self.methods.append(method)
            return send(conn, obj, method, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(Connection, "send_message_to_server", counting)


@pytest.mark.parametrize("delay", [0, 400])
async def test_a_drop_down_whose_options_show_is_read_and_chosen_without_a_wait(
    page: Page, monkeypatch: pytest.MonkeyPatch, delay: int
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    await page.set_content(ARIA_COMBOBOX.replace("DELAY", str(delay)))
    box = page.get_by_role("combobox", name=name_matcher(EN.virtual_account_name))
    calls = DriverCalls(monkeypatch)
    assert await choose_option(box, "Production") == "Production"
    await expect(box).to_have_text("Production")
    if delay == 0:
        # Its state read once it shows enabled, one click, the list open (one count), its
        # options read (the read is the check that they show), the option's click, the choice
        # shown (one count): no count before the read, no wait for the options, and no
        # `expect` for what shows at once (the last call is this test's own).
        assert calls.methods[:2] == ["evalOnSelectorAll", "click"], calls.methods
        assert calls.methods.count("queryCount") == 2, calls.methods
        assert "expect" not in calls.methods[:-1], calls.methods
        assert len(calls.methods) <= 7, calls.methods
    else:
        # A list filled late is waited for, then read.
        assert "waitForSelector" in calls.methods or "queryCount" in calls.methods


async def test_a_drop_down_found_by_its_label_is_found_so_again_and_a_role_still_comes_first(
    page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    hidden = (
        "<div id='d'><label for='va'>Virtual Account Name</label>"
        "<select id='va' style='display:none'><option>DEFAULT</option></select>"
        "<a href='#'>DEFAULT</a></div>"
    )
    await page.set_content(hidden)
    drop = DropDown(page.locator("body"), EN.virtual_account_name)
    assert (await drop.find())[1] is FoundBy.LABEL
    calls = DriverCalls(monkeypatch)
    control, how = await drop.find()
    # Found by its label before: the role is asked once, the label's field is there at once
    # (a first finding looks for the role again after that wait).
    assert calls.methods == ["queryCount", "queryCount"], calls.methods
    assert how is FoundBy.LABEL and await control.evaluate("e => e.id") == "va"
    # The same page now draws a combobox with that name: the role is first in the order of
    # trust, whatever was found before.
    await page.set_content(
        "<label>Virtual Account Name <select><option>DEFAULT</option></select></label>"
    )
    assert (await drop.find())[1] is FoundBy.ROLE


async def test_read_table_maps_cells_by_header_names_not_positions(page: Page) -> None:
    await page.set_content(
        "<table><tr><th>Virtual Account</th><th>Line</th><th>Smart Account</th></tr>"
        "<tr><td>DC West</td><td>1.0</td><td>Acme Corporation</td></tr></table>"
    )
    headers, rows = await read_table(page.get_by_role("table"))
    mapped = rows_by_header(
        headers, rows, {"line": "Line", "sa": "Smart Account", "va": "Virtual Account", "x": "Eh"}
    )
    assert mapped == [{"line": "1.0", "sa": "Acme Corporation", "va": "DC West", "x": None}]


async def test_read_table_reads_a_grid_with_row_headers_skipping_hidden_and_nested_rows(
    page: Page,
) -> None:
    await page.set_content(
        "<div role='grid'>"
        "<div role='row'><span role='columnheader'>Line</span>"
        "<span role='columnheader'>Smart Account</span></div>"
        "<div role='row'><span role='rowheader'>1.0</span><span role='gridcell'>Acme"
        "<table><tr><th>Inner</th></tr><tr><td>not a line</td></tr></table></span></div>"
        "<div role='row' hidden><span role='rowheader'>9.0</span>"
        "<span role='gridcell'>Hidden</span></div>"
        "<div role='row'><span role='rowheader'>2.0</span><span role='gridcell'>Globex</span></div>"
        "</div>"
    )
    headers, rows = await read_table(page.get_by_role("grid"))
    assert headers == ["Line", "Smart Account"]
    assert [row[0] for row in rows] == ["1.0", "2.0"]
    assert rows[1] == ["2.0", "Globex"]
    assert rows[0][1].startswith("Acme")


# A dialog that, unlike the mock, leaves the earlier search's accounts on screen until the next
# search's answer arrives.
SLOW_DIALOG = """
<div role="dialog" aria-label="Assign Smart Account">
  <label>Select an Existing Account <select><option>Domain Identifier</option>
    <option>Account Name</option><option>Email ID</option></select></label>
  <label>Search Value <input type="text"></label>
  <button type="button">Search</button>
  <div id="found"><div><input type="radio" aria-label="Old Account"> old.example Active</div></div>
</div>
<script>
  document.querySelector("button").onclick = async () => {
    const { accounts } = await (await fetch("/accounts")).json();
    document.getElementById("found").innerHTML = accounts.map((a) =>
      `<div><input type="radio" aria-label="${a.name}"> ${a.domain} ${a.status}</div>`).join("");
  };
</script>
"""


async def test_a_search_reads_the_accounts_of_its_own_answer(page: Page) -> None:
    page.set_default_timeout(TIMEOUT_MS)

    async def portal(route: Route) -> None:
        if not route.request.url.endswith("/accounts"):
            await route.fulfill(body=SLOW_DIALOG, content_type="text/html")
            return
        await asyncio.sleep(0.5)
        found = [{"name": "New Account", "domain": "new.example", "status": "Pending"}]
        await route.fulfill(json={"accounts": found})

    await page.route("http://portal.test/**", portal)
    await page.goto("http://portal.test/")
    dialog = await AssignDialog(page, EN).wait()
    found = await dialog.search_accounts(SearchBy.DOMAIN, "new.example")
    assert found == [AccountRow("New Account", "new.example", "Pending")]


# --- screens of the mock portal -----------------------------------------------------------------


async def test_sign_on_page_reports_a_refused_password(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await opened(page, base_url)
    signon = await SignOnPage(page, EN).wait()
    await signon.submit_email(DEMO.email)
    assert await signon.submit_password("wrong") is AfterVerify.REJECTED
    assert "Unable to sign in" in await signon.error_text()
    assert mock.stats()["logins"] == 0


async def test_landmark_wait_notices_the_sign_on_page(
    page: Page, base_url: str, mock: MockServer
) -> None:
    await opened(page, base_url)
    with pytest.raises(SignOnShown):
        await wait_for_landmark(page, EN, Header(page, EN).search_box)


async def test_a_landmark_drawn_late_is_seen_across_wait_slices(page: Page) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    await page.set_content(
        "<main></main><script>setTimeout(() => document.querySelector('main').innerHTML ="
        " '<h1>Order Details</h1>', 700)</script>"
    )
    heading = page.get_by_role("heading", name="Order Details")
    await wait_for_landmark(page, EN, heading)  # about three slices of WAIT_SLICE_MS
    await expect(heading).to_be_visible(timeout=1)


async def test_a_sliced_wait_times_out_on_its_whole_limit_with_playwrights_words(
    page: Page,
) -> None:
    await page.set_content("<p>nothing else comes</p>")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(PlaywrightTimeoutError, match=r"^Timeout 700ms exceeded\.$"):
        await wait_promptly(page.get_by_role("dialog"), timeout=700)
    assert loop.time() - started >= 0.7 > WAIT_SLICE_MS / 1000


async def watched_page_drawing(page: Page, html: str, after_ms: int = 150) -> None:
    """An empty page the agent's change watch is in, whose script draws `html` (the test's own
    markup) after `after_ms`."""
    page.set_default_timeout(TIMEOUT_MS)
    await page.context.add_init_script(WATCH_SCRIPT)
    await page.goto("data:text/html,<main></main>")
    await page.evaluate(
        "([html, ms]) => setTimeout(() => document.querySelector('main').innerHTML = html, ms)",
        [html, after_ms],
    )


async def test_a_wait_looks_again_when_the_page_changes_not_on_playwrights_polls(
    page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    await watched_page_drawing(page, "<h1>Order Details</h1>")
    calls = DriverCalls(monkeypatch)
    await wait_promptly(page.get_by_role("heading", name="Order Details"))
    # Looks (one count each) and watches that end with a change; no Playwright wait polled.
    assert "waitForSelector" not in calls.methods, calls.methods
    assert calls.methods[-1] == "queryCount" and calls.methods.count("queryCount") <= 3


async def test_a_landmark_that_comes_is_known_from_the_look_that_saw_it(
    page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    await watched_page_drawing(page, "<h1>Order Details</h1>")
    calls = DriverCalls(monkeypatch)
    await wait_for_landmark(page, EN, page.get_by_role("heading", name="Order Details"))
    # The first look, then one look after each change: the look that found the landmark alone
    # is the answer, with no second count to tell it from the sign-on page or an error.
    assert calls.methods[-1] == "queryCount", calls.methods
    assert calls.methods.count("queryCount") == calls.methods.count("evaluateExpression") + 1


async def test_a_sign_on_page_drawn_while_a_landmark_is_awaited_ends_the_wait_promptly(
    page: Page,
) -> None:
    await watched_page_drawing(page, "<label>Email <input type=email></label>")
    loop = asyncio.get_running_loop()
    started = loop.time()
    # The looks made as the page changes count the landmark alone; the one made once it is
    # still again sees the sign-on page, within the watching part of the wait.
    with pytest.raises(SignOnShown):
        await wait_for_landmark(page, EN, page.get_by_role("heading", name="Order Details"))
    assert loop.time() - started < FAST_MS / 1000


async def test_a_wait_sees_what_shows_without_a_change_of_the_document(page: Page) -> None:
    # Drawn visible by the style sheet alone: no node, attribute or text changes.
    await page.set_content(
        "<style>@keyframes show { from { visibility: hidden } to { visibility: visible } }"
        " h1 { visibility: hidden; animation: show 0s 400ms forwards }</style>"
        "<h1>Order Details</h1>"
    )
    await wait_promptly(page.get_by_role("heading", name="Order Details"), timeout=FAST_MS / 2)


async def test_a_wait_dismisses_a_modal_pop_up_that_hides_the_screen_while_it_stays_still(
    page: Page,
) -> None:
    await install_popup_handlers(page, EN)
    await page.set_content(
        "<main aria-hidden='true'><h1>Order Details</h1></main>"
        "<div role='dialog' aria-label='Feedback'><button onclick=\"this.parentNode.remove();"
        " document.querySelector('main').removeAttribute('aria-hidden')\">No thanks</button></div>"
    )
    heading = page.get_by_role("heading", name="Order Details")
    assert not await heading.count()  # hidden from role locators while the survey shows
    # Within the watching part of the wait: its own handler run dismissed the survey.
    await wait_for_landmark(page, EN, heading, timeout=FAST_MS * 3 / 4)
    assert not await page.get_by_role("dialog").count()


async def test_sliced_waits_follow_the_pages_default_timeout(page: Page) -> None:
    page.context.set_default_timeout(4_321)
    assert page_timeout(page) == 4_321
    page.set_default_timeout(1_234)
    assert page_timeout(page) == 1_234


async def test_wait_shown_answers_from_one_count_and_waits_only_for_what_does_not_show(
    page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    await page.set_content("<button>Search</button><button hidden>Assign</button>")
    calls = DriverCalls(monkeypatch)
    await wait_shown(page.get_by_role("button", name="Search"))
    await wait_shown(page.get_by_text("Assign"), state="attached")
    assert calls.methods == ["queryCount", "queryCount"]
    with pytest.raises(PlaywrightTimeoutError):
        await wait_shown(page.get_by_text("Assign"), timeout=300)
    # The hidden one is waited for: the page watched for changes, looked at again after each.
    assert "evaluateExpression" in calls.methods[2:] and calls.methods[-1] == "queryCount"


async def test_a_control_found_on_one_screen_is_known_on_the_next_orders_screen(
    page: Page,
) -> None:
    dialog = page.get_by_role("dialog", name=name_matcher(EN.assign_dialog))
    await page.goto("data:text/html,<p>order one</p>")
    first = control_key("button", EN.search, dialog)
    await page.goto("data:text/html,<p>order two</p>")
    assert control_key("button", EN.search, dialog) == first
    assert control_key("button", EN.search, page.get_by_role("banner")) != first
    assert control_key("button", EN.search, page) == ("button", EN.search) != first


async def test_header_search_lists_web_order_matches_and_no_results(
    page: Page, base_url: str, mock: MockServer
) -> None:
    header = await signed_in(page, base_url)
    assert await header.signed_in_email() == DEMO.email
    results = await header.search_order("80000012")
    assert isinstance(results, SearchResultsPage)
    assert [(m.number, m.kind) for m in await results.matches()] == [("80000012", "Web Order")]
    details = await results.open_order("80000012")
    assert (await details.sales_order(), await details.order_status()) == ("110000012", "Booked")
    assert await details.holds() == ()
    missing = await header.search_order("110000011")  # Fabrikam's order: invisible to Northwind
    assert isinstance(missing, SearchResultsPage)
    await expect(missing.no_results).to_be_visible()
    assert await missing.says_no_results()
    assert await missing.matches() == []


async def test_a_search_on_a_screen_the_sign_on_page_replaced_ends_at_once(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given the header found, then the session gone and the browser sent to the sign-on page
    # (as the home screen's own late call does when the session ran out meanwhile)
    header = await signed_in(page, base_url)
    mock.set_faults(expire_sessions_now=True)
    await page.goto(base_url)
    await SignOnPage(page, EN).wait()
    # When the order number is typed into the box that is no longer there, with a limit no
    # test could sit out
    page.set_default_timeout(600_000)
    # Then the sign-on page ends the search within a slice or two, not at the page's timeout
    with pytest.raises(SignOnShown):
        await asyncio.wait_for(header.search_order("110000002"), 10 * ACT_SLICE_MS / 1000)


async def test_an_action_waits_for_the_documents_own_scripts(page: Page) -> None:
    # Given a screen whose controls show before its deferred script, late, listens to them
    async def late_script(route: Route) -> None:
        await asyncio.sleep(1)
        await route.fulfill(
            content_type="text/javascript",
            body="document.querySelector('button').onclick = () => { window.asked += 1 };",
        )

    async def screen(route: Route) -> None:
        await route.fulfill(
            content_type="text/html",
            body="<button>Search</button><script>window.asked = 0</script>"
            "<script src='/app.js' defer></script>",
        )

    await page.route("**/app.js", late_script)
    await page.route("**/home", screen)
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto("http://portal.example/home", wait_until="commit")
    button = page.get_by_role("button", name="Search")
    await expect(button).to_be_visible()
    # When it is clicked as soon as it shows
    await click_watching(page, EN, button)
    # Then the click was not lost on a document whose script had not run yet, nor made twice
    assert await page.evaluate("window.asked") == 1


async def test_an_action_watching_for_the_sign_on_page_acts_on_a_control_drawn_late(
    page: Page,
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    await page.set_content(
        "<main></main><script>setTimeout(() => document.querySelector('main').innerHTML ="
        " '<input aria-label=\"Global Search\">', 1500)</script>"
    )
    box = page.get_by_role("textbox", name="Global Search")
    # Past the first slice: the control is tried again, not given up on
    await act_watching(page, EN, lambda limit: box.fill("110000002", timeout=limit))
    await expect(box).to_have_value("110000002", timeout=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(PlaywrightTimeoutError, match=r"^Timeout 1500ms exceeded\.$"):
        await act_watching(
            page, EN, lambda limit: page.get_by_role("button").click(timeout=limit), timeout=1500
        )
    assert loop.time() - started >= 1.5


async def test_assignment_page_reads_lines_and_the_disabled_reason(
    page: Page, base_url: str, mock: MockServer
) -> None:
    screen = await assignments_of(page, base_url, "110000004")
    rows = await screen.lines()
    assert [(r.line, r.smart_account, r.virtual_account) for r in rows] == [
        ("1.0", "Northwind Holding", "DEFAULT"),
        ("2.0", "Northwind Holding", "DEFAULT"),
    ]
    reason = await screen.assign_disabled_reason()
    assert reason is not None and "Shipped" in reason


async def test_dialog_selects_the_row_with_both_name_and_domain(
    page: Page, base_url: str, mock: MockServer
) -> None:
    screen = await assignments_of(page, base_url, "110000013")
    dialog = await screen.open_assign_dialog()
    found = await dialog.search_accounts(SearchBy.ACCOUNT_NAME, "Stark Industries")
    assert {(a.account_name, a.domain) for a in found} == {
        ("Stark Industries", "stark.example"),
        ("Stark Industries", "stark-industries.example"),
    }
    second = AccountRow("Stark Industries", "stark-industries.example", "Active")
    await dialog.select_account(second)

    def radio_of(domain: str) -> Locator:
        cell = page.get_by_role("cell", name=domain, exact=True)
        return dialog.dialog.get_by_role("row").filter(has=cell).get_by_role("radio")

    chosen, other = radio_of("stark-industries.example"), radio_of("stark.example")
    await expect(chosen).to_be_checked()
    await expect(other).not_to_be_checked()
    assert await dialog.virtual_accounts() == ["DEFAULT"]
    assert await dialog.choose_virtual_account("DEFAULT") == "DEFAULT"
    await dialog.wait_assign_enabled()
    await dialog.cancel()
    await expect(dialog.dialog).to_be_hidden()
    assert mock.stats()["submissions"] == 0


async def test_dialog_reports_no_accounts(page: Page, base_url: str, mock: MockServer) -> None:
    screen = await assignments_of(page, base_url, "110000001")
    dialog = await screen.open_assign_dialog()
    assert await dialog.search_accounts(SearchBy.DOMAIN, "nobody.example") == []
    await expect(dialog.no_accounts).to_be_visible()


async def test_a_pop_up_handler_that_fails_logs_it_unless_the_page_is_gone() -> None:
    # Playwright runs a handler in a task of its own: what it raises reaches only the event loop
    class Closing:
        closed = False

        def is_closed(self) -> bool:
            return self.closed

    async def click_away(_cover: Locator) -> None:
        raise PlaywrightError("Target page, context or browser has been closed")

    page = Closing()
    handler = quietly(cast(Page, page), click_away)
    cover = cast(Locator, None)
    with capture_logs() as logs:
        await handler(cover)  # the page still open: worth a word, not an error
        page.closed = True
        await handler(cover)  # the run or the test ended while it clicked: nothing to say
    assert [(e["event"], e["log_level"]) for e in logs] == [("popup_not_dismissed", "warning")]
    assert "has been closed" in logs[0]["error"]


_TWO_TIPS_AND_A_FORM = """
<section role="dialog" aria-label="Edit note">
  <button aria-label="Close">&times;</button>
  <label>Note <input></label>
  <button>Close</button>
</section>
<button onclick="document.title = 'went'">Go</button>
<div class="tip" style="position: fixed; inset: 0; background: #eee">
  <p>New: search by e-mail</p><button onclick="this.parentNode.remove()">Got it</button>
</div>
<div class="tip" style="position: fixed; inset: 0; background: #ddd">
  <p>New: export</p><button onclick="this.parentNode.remove()">Got it</button>
</div>
"""


async def test_two_tips_and_a_form_with_two_close_buttons_never_stop_an_action(
    page: Page,
) -> None:
    # Given two tips over the page and, under them, a form offering "×" and "Close" (four
    # dismiss-worded controls showing at once)
    await install_popup_handlers(page, EN)
    page.set_default_timeout(TIMEOUT_MS)
    await page.set_content(_TWO_TIPS_AND_A_FORM)
    # When the agent clicks what the tips cover
    await page.get_by_role("button", name="Go", exact=True).click()
    # Then the click went through, both tips are gone, and the form's own controls are untouched
    assert await page.title() == "went"
    await expect(page.locator(".tip")).to_have_count(0)
    await expect(page.get_by_role("dialog", name="Edit note").get_by_role("button")).to_have_count(
        2
    )


async def test_popups_are_dismissed_at_every_screen(
    page: Page, base_url: str, mock: MockServer
) -> None:
    mock.set_faults(survey_probability=1.0)
    # A survey on every screen, each declined before anything else goes on: the suite's usual
    # limit for the mock (one wait took over 5 s once in the parallel suite).
    screen = await assignments_of(page, base_url, "110000010", MOCK_TIMEOUT_MS)
    dialog: AssignDialog = await screen.open_assign_dialog()
    found = await dialog.search_accounts(SearchBy.DOMAIN, "acme.example")
    await dialog.select_account(found[0])
    assert "lab Sandbox" in await dialog.virtual_accounts()
    await dialog.choose_virtual_account("lab Sandbox")
    await dialog.wait_assign_enabled()
    await expect(page.get_by_role("dialog", name="Feedback")).to_have_count(0)
    await expect(page.get_by_role("region", name="Cookie preferences")).to_have_count(0)
