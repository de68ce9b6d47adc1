"""`ccw-agent doctor`: every label found on a portal that keeps the reference's names; on one that
renamed controls, each rename named, its substitute first, and a label file that makes the agent
work there."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from helpers import AgentCli, portal_session, write_csv
from playwright.async_api import Page

from agent.doctor import (
    DoctorReport,
    LabelCheck,
    changes_something,
    clear_fit,
    diagnose,
    overrides_toml,
    ranked,
    role_and_name,
    write_overrides,
)
from flows.assign import assign_smart_account
from flows.models import AssignRequest, Outcome, SearchBy
from flows.session import PortalSession
from mock_site.releases import LEGACY, REFERENCE_RELEASES, RENAMED
from mock_site.server import MockServer
from pages.labels import labels, read_label_file

# An order on hold that the demo user may assign.
ORDER = "110000002"
# Each label the renamed release changes, and the name it shows instead.
RENAMES = {
    "global_search": "Search orders",
    "view_assignments": "Manage Smart Account assignments",
    "assign_smart_account": "Assign a Smart Account",
    "assign_dialog": "Assign a Smart Account",
    "select_existing_account": "Find an existing account",
    "virtual_account_name": "Virtual account",
}


def session_on(page: Page, base_url: str, overrides: Path | None = None) -> PortalSession:
    """The demo user's session, with the labels of a label file on top when one is given."""
    return portal_session(page, base_url, labels=labels("en", overrides))


# --- ranking and the label file, without a browser --------------------------------------------


def test_the_renamed_control_ranks_first_and_clearly_fits() -> None:
    names = ["Find an existing account", "Virtual account"]

    candidates = ranked("Select an Existing Account", names)

    assert [c.name for c in candidates] == names
    assert clear_fit(candidates) == candidates[0]


def test_two_equally_distant_names_are_no_clear_fit() -> None:
    candidates = ranked("Assign", ["Assign all", "Assign one"])

    assert clear_fit(candidates) is None


def test_the_only_control_of_its_role_fits_when_it_shares_a_word() -> None:
    assert clear_fit(ranked("Global Search", ["Search orders"])) is not None
    assert clear_fit(ranked("Global Search", ["Quotes"])) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('- button "Search"', ("button", "Search")),
        (
            "- 'heading \"Order Details: 110000001\" [level=1]'",
            ("heading", "Order Details: 110000001"),
        ),
        ('  - combobox "Say \\"hi\\"":', ("combobox", 'Say "hi"')),
        ("- text: Signed in as", ("text", None)),
        ("not a snapshot line", None),
    ],
)
def test_snapshot_lines_give_role_and_name(line: str, expected: tuple[str, str | None]) -> None:
    assert role_and_name(line) == expected


def test_the_label_file_sets_the_substitutes_and_is_private(tmp_path: Path) -> None:
    report = DoctorReport(
        portal="https://ccw.example/home",
        order=ORDER,
        checks=[
            LabelCheck(step=2, key="global_search", role="searchbox", label="Global Search",
                       needed=True, status="substituted", shown='Search "orders"'),
            LabelCheck(step=7, key="assign", role="button", label="Assign", needed=True,
                       status="missing"),
            LabelCheck(step=2, key="search", role="button", label="Search", needed=True,
                       status="found", shown="Search"),
        ],
    )  # fmt: skip
    path = tmp_path / "labels.toml"

    assert write_overrides(report, path) == 1

    assert read_label_file(path) == {"global_search": 'Search "orders"'}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert '# replaces "Global Search" (searchbox, step 2)' in overrides_toml(report)
    assert not report.ok


# --- on the mock --------------------------------------------------------------------------------


@pytest.mark.parametrize("release", REFERENCE_RELEASES)
async def test_on_every_unchanged_release_every_label_is_found(
    page: Page, base_url: str, mock: MockServer, release: str
) -> None:
    # Given a release that keeps every word of the reference, however it draws its controls
    mock.set_release(release)
    # When the doctor walks the order, then it finds every label it needs and submits nothing
    report = await diagnose(session_on(page, base_url), ORDER)

    assert report.ok, [c for c in report.checks if not c.ok]
    needed = [c for c in report.checks if c.needed and c.status != "not_checked"]
    assert {c.status for c in needed} == {"found"}
    assert {"global_search", "assign_dialog", "virtual_account_name"} <= {c.key for c in needed}
    assert {"cancel", "close"} & {c.key for c in needed}
    assert not report.overrides()
    order = mock.order(ORDER)
    assert order is not None and not order["submissions"]


async def test_on_renamed_each_rename_is_named_and_the_label_file_makes_the_agent_work(
    page: Page, base_url: str, mock: MockServer, tmp_path: Path
) -> None:
    # Given the portal renamed five controls
    mock.set_release(RENAMED.name)

    # When the doctor walks the order
    report = await diagnose(session_on(page, base_url), ORDER)

    # Then it names every renamed control, with the new name as the first candidate
    assert not report.ok
    missing = {c.key: c for c in report.missing()}
    assert set(missing) == set(RENAMES)
    for key, name in RENAMES.items():
        assert missing[key].candidates[0].name == name, missing[key]
        assert missing[key].status == "substituted"
    assert report.overrides() == RENAMES
    order = mock.order(ORDER)
    assert order is not None and not order["submissions"], "the doctor submits nothing"

    # And its label file makes the agent assign the order there
    path = tmp_path / "labels.toml"
    write_overrides(report, path)
    request = AssignRequest(
        order_number=ORDER,
        search_by=SearchBy.DOMAIN,
        smart_account="globex.example",
        virtual_account="Production",
    )
    result = await assign_smart_account(session_on(page, base_url, path), request)
    assert result.outcome is Outcome.ASSIGNED, result.detail


# --- the command line -------------------------------------------------------------------------


def test_the_command_writes_the_label_file_that_assign_then_uses(
    tmp_path: Path, mock: MockServer, agent_cli: AgentCli
) -> None:
    mock.set_release(RENAMED.name)
    path = tmp_path / "labels.toml"

    doctored = agent_cli("doctor", ORDER, "--json", "--write-overrides", path)

    assert doctored.returncode == 1, doctored.stderr
    report = json.loads(doctored.stdout)
    assert report["ok"] is False
    substituted = {c["key"]: c["shown"] for c in report["checks"] if c["status"] == "substituted"}
    assert substituted == RENAMES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    assigned = agent_cli(
        "assign", ORDER, "--domain", "globex.example", "--virtual-account", "Production",
        "--json", CCW_LABELS_FILE=str(path),
    )  # fmt: skip

    assert assigned.returncode == 0, assigned.stderr
    assert json.loads(assigned.stdout)["outcome"] == "assigned"


def test_the_command_exits_0_on_classic(agent_cli: AgentCli) -> None:
    done = agent_cli("doctor", ORDER)

    # Its report is on stdout: a failure shows what the doctor missed, then the log.
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Every label the procedure needs is on the screen" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["doctor", "11-0001"], "ORDER:"),
        (["doctor", ORDER, "--release", "renamed"], "--release works with --mock only"),
        (["doctor", ORDER, "--mock", "--release", "modern"], "expected one of"),
    ],
)
def test_bad_options_exit_2_before_any_browser_starts(
    tmp_path: Path, mock: MockServer, args: list[str], message: str
) -> None:
    # Without a Chromium path: the command must refuse before it would need one
    done = AgentCli(tmp_path, base_url=mock.home_url)(*args)

    assert done.returncode == 2
    assert message in done.stderr
    assert mock.stats()["requests"] == 0


def test_bulk_preflight_stops_before_any_row_on_a_renamed_portal(
    tmp_path: Path, mock: MockServer, agent_cli: AgentCli
) -> None:
    mock.set_release(RENAMED.name)
    orders = write_csv(
        tmp_path / "orders.csv",
        [
            [ORDER, "domain", "globex.example", "Production"],
            ["110000006", "domain", "acme.example", "DC West"],
        ],
    )

    done = agent_cli("bulk", orders, "--preflight")

    assert done.returncode == 1, done.stderr
    assert "no row was run" in done.stderr
    assert "Search orders" in done.stderr
    for number in (ORDER, "110000006"):
        order = mock.order(number)
        assert order is not None and not order["submissions"]
    assert not list((tmp_path / "state").glob("reports/*")), "no run was started"


@pytest.mark.parametrize(
    ("label", "name", "changes"),
    [
        ("Assign Smart Account", "Unassign Smart Account", True),
        ("Assign Smart Account", "Remove Smart Account", True),
        ("View or change Smart Account Assignments", "Transfer Smart Account", True),
        ("Assign Smart Account", "Assign a Smart Account", False),
        ("View or change Smart Account Assignments", "Manage Smart Account assignments", False),
        ("Submit", "Submit now", False),
    ],
)
def test_the_walk_never_goes_on_with_a_control_that_changes_something(
    label: str, name: str, changes: bool
) -> None:
    # A substitute is clicked, so one that removes, moves or confirms is never taken
    assert changes_something(label, name) is changes


async def test_on_legacy_it_says_which_controls_it_found_only_by_label_or_words(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given the legacy release: drop-downs drawn over hidden selects, actions without a role
    mock.set_release(LEGACY.name)
    report = await diagnose(session_on(page, base_url), ORDER)
    how = {c.key: c.how for c in report.checks if c.status == "found"}
    # Then the report says how far the portal is from the catalogue, control by control
    assert how["global_search"] == "role"
    assert how["select_existing_account"] == "label"
    assert how["virtual_account_name"] == "label"
    assert how["view_assignments"] == "visible words"
    assert how["assign"] == "visible words"
    assert report.ok


async def test_the_account_asked_for_is_picked_and_a_drop_down_of_another_entry_is_no_substitute(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given the renamed release, whose Virtual Account drop-down shows only once an account is
    # picked, beside the (renamed) search-parameter drop-down
    mock.set_release(RENAMED.name)
    # When the doctor is asked to pick an account by name
    report = await diagnose(
        session_on(page, base_url), "110000008", (SearchBy.ACCOUNT_NAME, "Umbrella Corp")
    )
    # Then it picked that one, and took neither drop-down for the other
    assert any("Picked Umbrella Corp (umbrella.example)" in note for note in report.notes)
    shown = {c.key: c.shown for c in report.checks if c.status == "substituted"}
    assert shown["select_existing_account"] == "Find an existing account"
    assert shown["virtual_account_name"] == "Virtual account"
    order = mock.order("110000008")
    assert order is not None and not order["submissions"]
