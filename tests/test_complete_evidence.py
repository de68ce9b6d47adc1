"""Every answer from the whole evidence: results read to their last page, an account known by its
Domain Identifier however a cell writes it, Order Details followed into a new tab, and an answer
in unknown words ended at once instead of retried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import DEMO, AgentCli, MakeSettings, write_csv
from playwright.async_api import Browser, Page

from agent.runner import Target, Worker
from flows.matching import lines_on_target
from flows.models import AssignRequest, LineAssignment, Outcome, SearchBy
from mock_site.releases import PAGED
from mock_site.server import MockServer
from pages.assign_dialog import AssignDialog
from pages.assignments import split_account
from pages.errors import IncompleteList
from pages.labels import labels
from pages.lists import list_count
from pages.search_results import SearchResultsPage

ENGLISH = labels("en")


# --- an account is its Domain Identifier ----------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "name", "domain"),
    [
        ("Initech (initech.example)", "Initech", "initech.example"),
        ("Initech / initech.example", "Initech", "initech.example"),
        ("Initech - initech.example", "Initech", "initech.example"),
        ("Coca-Cola Partners - cola.example", "Coca-Cola Partners", "cola.example"),
        ("Initech\ninitech.example", "Initech", "initech.example"),
        ("initech.example (Initech)", "Initech", "initech.example"),
        ("initech.example / Initech", "Initech", "initech.example"),
        ("INITECH.EXAMPLE", None, "initech.example"),
        ("Northwind Holding", "Northwind Holding", None),
        # an email is no domain, and two domains cannot be told apart: neither is split
        ("it-admin@umbrella.example", "it-admin@umbrella.example", None),
        ("Acme (acme.example) emea.acme.example", "Acme (acme.example) emea.acme.example", None),
    ],
)
def test_an_account_cell_is_split_however_it_is_written(
    cell: str, name: str | None, domain: str | None
) -> None:
    assert split_account(cell) == (name, domain)


def _line(account: str | None, domain: str | None) -> LineAssignment:
    return LineAssignment(
        line="1.0",
        product="P",
        smart_account=account,
        virtual_account="DEFAULT",
        eligible=True,
        domain=domain,
    )


def test_a_line_showing_a_domain_is_matched_by_its_domain_alone() -> None:
    # Given a line that writes the account's name its own way beside its domain
    line = _line("Initech Inc. / legal", "initech.example")
    # Then the domain decides, whatever the name
    assert lines_on_target(
        [line], name="Initech", domain="initech.example", virtual_account="default"
    )
    assert not lines_on_target(
        [line], name="Initech", domain="emea.initech.example", virtual_account="DEFAULT"
    )


def test_a_line_without_a_domain_is_matched_by_its_exact_name_only() -> None:
    line = _line("Initech", None)
    assert lines_on_target(
        [line], name="initech", domain="initech.example", virtual_account="DEFAULT"
    )
    assert not lines_on_target([line], name="Initech EMEA", domain=None, virtual_account="DEFAULT")


# --- a list is read to its end ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pages", "total"),
    [
        ("Page 1 of 2 · 3 Smart Accounts", 2, 3),
        ("12 results", None, 12),
        ("Sales Order 110000002: choose how to find the Smart Account", None, None),
    ],
)
def test_a_list_says_how_long_it_is(text: str, pages: int | None, total: int | None) -> None:
    said = list_count(text, ENGLISH)
    assert (said.pages, said.total) == (pages, total)


# A dialog whose results come in two steps ("Show more" adds the rest), and whose count can lie.
_DIALOG = """
<div role="dialog" aria-label="Assign Smart Account">
  <label for="p">Select an Existing Account</label>
  <select id="p"><option>Domain Identifier</option><option>Account Name</option></select>
  <label for="v">Search Value</label><input id="v">
  <button onclick="document.getElementById('r').hidden = false">Search</button>
  <div id="r" hidden>
    <p>{count}</p>
    <table id="t">
      <tr><th>Select</th><th>Account Name</th><th>Domain Identifier</th><th>Status</th></tr>
      <tr><td><input type="radio" name="a" aria-label="Acme Cloud"></td><td>Acme Cloud</td>
          <td>cloud.acme.example</td><td>Active</td></tr>
    </table>
    <button id="more" onclick="more()">Show more</button>
  </div>
</div>
<script>
function more() {{
  const row = document.createElement('tr');
  row.innerHTML = '<td><input type="radio" name="a" aria-label="Acme"></td><td>Acme</td>'
    + '<td>acme.example</td><td>Active</td>';
  document.getElementById('t').append(row);
  document.getElementById('more').remove();
}}
</script>
"""


async def test_show_more_is_followed_to_the_end_of_the_list(page: Page) -> None:
    # Given results whose exact match shows only after "Show more"
    await page.set_content(_DIALOG.format(count="2 Smart Accounts"))
    dialog = AssignDialog(page, ENGLISH)
    await page.get_by_role("button", name="Search").click()
    # When the dialog reads the accounts, then it has read both
    accounts = await dialog.accounts()
    assert [(a.account_name, a.domain) for a in accounts] == [
        ("Acme Cloud", "cloud.acme.example"),
        ("Acme", "acme.example"),
    ]


async def test_a_count_on_screen_that_disagrees_with_what_was_read_is_no_answer(
    page: Page,
) -> None:
    # Given results that say there are 5 accounts where 2 can be read
    await page.set_content(_DIALOG.format(count="5 Smart Accounts"))
    await page.get_by_role("button", name="Search").click()
    # Then reading them fails instead of answering from part of the list
    with pytest.raises(IncompleteList, match="say 5 accounts; 2 could be read"):
        await AssignDialog(page, ENGLISH).accounts()


# --- on the paged release: pages, "Name / domain" cells, a new tab -----------------------------


async def test_the_exact_match_on_the_second_page_is_found_and_assigned(
    browser: Browser, mock: MockServer, agent_settings: MakeSettings
) -> None:
    # Given results in pages of two, the longest names first: "Umbrella Corp" is on page 2
    mock.set_release(PAGED.name)
    worker = Worker(browser, Target.from_settings(agent_settings(user=DEMO)))
    try:
        # When the agent assigns the order to the account named exactly "Umbrella Corp"
        result = await worker.assign(
            AssignRequest(
                order_number="110000008",
                search_by=SearchBy.ACCOUNT_NAME,
                smart_account="Umbrella Corp",
                virtual_account="Research",
            )
        )
        # Then it is assigned to that account, once, and the tab the order opened is closed
        assert result.outcome is Outcome.ASSIGNED, result.detail
        assert worker._session is not None
        assert len(worker._session.page.context.pages) == 1
    finally:
        await worker.close()
    snapshot = mock.order("110000008")
    assert snapshot is not None
    assert [s["domain"] for s in snapshot["submissions"]] == ["umbrella.example"]
    # and the table's "Umbrella Corp / umbrella.example" reads as that account
    assert result.after is not None
    assert {(ln.smart_account, ln.domain) for ln in result.after.lines} == {
        ("Umbrella Corp", "umbrella.example")
    }


def test_a_bulk_run_with_two_workers_reads_every_page(
    tmp_path: Path, mock: MockServer, agent_cli: AgentCli
) -> None:
    # Given the paged release and a file whose exact matches sit on later pages
    mock.set_release(PAGED.name)
    rows = [
        ("110000008", "account_name", "Umbrella Corp", "Research"),
        ("110000013", "account_name", "Stark Industries", "DEFAULT"),
        ("110000002", "domain", "globex.example", "Production"),
        ("110000010", "domain", "acme.example", "lab Sandbox"),
    ]
    file = write_csv(tmp_path / "orders.csv", rows)
    # When two workers run it
    done = agent_cli("bulk", file, "--workers", "2", "--report", "r.json")
    # Then each row ends as the scenario table says, the paged match included
    assert done.returncode == 1, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    outcomes = {row["order_number"]: row["outcome"] for row in report["rows"]}
    assert outcomes == {
        "110000008": "assigned",
        "110000013": "smart_account_ambiguous",
        "110000002": "assigned",
        "110000010": "assigned",
    }
    umbrella = mock.order("110000008")
    assert umbrella is not None
    assert [s["domain"] for s in umbrella["submissions"]] == ["umbrella.example"]


# --- an answer in words the agent does not know is an answer, not an error --------------------


async def test_an_account_search_answered_in_unknown_words_ends_at_once(
    browser: Browser, mock: MockServer, agent_settings: MakeSettings
) -> None:
    # Given a portal that says "No Smart Accounts match your search." (not the catalogue's words)
    mock.set_faults(no_accounts_words="No Smart Accounts match your search.")
    # and the default settings (every wait 30 s, 4 runs per step, 3 attempts)
    settings = agent_settings(user=DEMO, timeout_ms=30_000, retry_backoff_s=2.0)
    worker = Worker(browser, Target.from_settings(settings))
    try:
        result = await worker.assign(
            AssignRequest(
                order_number="110000002",
                search_by=SearchBy.DOMAIN,
                smart_account="nobody.example",
                virtual_account="DEFAULT",
            )
        )
    finally:
        await worker.close()
    # Then the step fails once, quoting the portal, with a screenshot; no retry, no second attempt
    assert result.outcome is Outcome.FAILED
    assert "No Smart Accounts match your search." in result.detail
    assert "step 6" in result.detail
    assert result.attempts == 1
    assert any(path.endswith(".png") for path in result.artifacts)
    print(f"unknown words in the account search answered in {result.duration_s:.1f} s")


async def test_an_order_search_answered_in_unknown_words_ends_at_once(
    browser: Browser, mock: MockServer, agent_settings: MakeSettings
) -> None:
    # Given a portal that answers a search for an order it does not have in words of its own
    mock.set_faults(no_orders_words="We could not find that order.")
    settings = agent_settings(user=DEMO, timeout_ms=30_000, retry_backoff_s=2.0)
    worker = Worker(browser, Target.from_settings(settings))
    try:
        result = await worker.assign(
            AssignRequest(
                order_number="119999999",
                search_by=SearchBy.DOMAIN,
                smart_account="globex.example",
                virtual_account="DEFAULT",
            )
        )
    finally:
        await worker.close()
    # Then it is a failure quoting those words, never order_not_found, and it is not retried
    assert result.outcome is Outcome.FAILED
    assert "We could not find that order." in result.detail
    assert result.attempts == 1
    print(f"unknown words in the order search answered in {result.duration_s:.1f} s")


# Search results in pages: the order asked for is on page 2, behind "Next page".
_RESULTS = """
<main>
  <h1>Search Results</h1>
  <p id="count">Page 1 of 2</p>
  <table><tr><th>Order Number</th><th>Order Type</th></tr>
    <tr id="r1"><td><a href="#o">110000021</a></td><td>Sales Order</td></tr></table>
  <button id="next" onclick="next()">Next page</button>
</main>
<script>
function next() {
  document.getElementById('r1').innerHTML =
    '<td><a href="#o">110000022</a></td><td>Sales Order</td>';
  document.getElementById('count').textContent = 'Page 2 of 2';
  document.getElementById('next').disabled = true;
}
</script>
"""


async def test_an_order_on_the_second_page_of_results_is_found(page: Page) -> None:
    # Given search results whose order is on the second page
    await page.set_content(_RESULTS)
    found = SearchResultsPage(page, ENGLISH)
    matches = await found.matches()
    assert not any(match.holds("110000022") for match in matches)
    # When the next page is followed, then the order shows, and the list is at its end
    assert await found.next_page(1)
    assert any(match.holds("110000022") for match in await found.matches())
    assert not await found.next_page(2)
    assert await found.says_more_than(2, 2) is None


async def test_results_that_say_more_pages_than_could_be_read_are_no_answer(page: Page) -> None:
    # Given results that say two pages but offer no way to the second
    await page.set_content(_RESULTS.replace('onclick="next()"', "disabled"))
    found = SearchResultsPage(page, ENGLISH)
    assert not await found.next_page(1)
    # Then what the screen says is reported, for the flow to fail rather than say "not found"
    assert await found.says_more_than(1, 1) == "the results say 2 pages; 1 could be read"
