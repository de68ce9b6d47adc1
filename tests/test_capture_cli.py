"""The capture on the command line: `doctor --capture` on every mock release, `assign` and `bulk
--capture-on-failure` on an order made to fail, and the `capture to-test` and `capture check`
commands a partner and a maintainer run on the bundle."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest
import typer
from helpers import AgentCli, write_csv
from playwright.async_api import Page
from test_capture import mock_values
from test_screens import cases, read_captured

from agent.capture import ValueLeft, find_values
from agent.capture.bundle import MANIFEST
from agent.cli import capture_reported
from mock_site.releases import REFERENCE_RELEASES
from mock_site.server import MockServer
from pages.errors import PortalError

# On Smart Account Hold with a Pending account behind it: a hold, lines and a dialog search.
ORDER = "110000015"
DOMAIN = "acme.example"
# Every call to the dialog's account search fails, so that step 6 cannot finish.
SEARCH_FAILS = {"fail_next": [{"path_contains": "/api/smart-accounts", "count": 50}]}
ONE_TRY = {"CCW_ATTEMPTS": "1", "CCW_STEP_ATTEMPTS": "1", "CCW_TIMEOUT_MS": "5000"}


def modes(folder: Path) -> set[int]:
    return {stat.S_IMODE(path.stat().st_mode) for path in folder.rglob("*")}


@pytest.mark.parametrize("release", REFERENCE_RELEASES)
async def test_doctor_capture_holds_no_mock_value_and_its_reader_tests_pass(
    page: Page, mock: MockServer, agent_cli: AgentCli, tmp_path: Path, release: str
) -> None:
    # Given a release of the mock
    mock.set_release(release)

    # When the doctor walks it with --capture, and the bundle becomes reader fixtures
    doctored = agent_cli("doctor", ORDER, "--domain", DOMAIN, "--capture", "bundle")
    made = agent_cli("capture", "to-test", "bundle", f"field-{release}", "--tests", "screens")

    # Then the bundle holds each screen after sign-on and none of the mock's values
    assert doctored.returncode == 0, doctored.stdout + doctored.stderr[-2000:]
    bundle = tmp_path / "bundle"
    names = [s["name"] for s in json.loads((bundle / MANIFEST).read_text())["screens"]]
    assert names[-5:] == [
        "order_details", "assignments", "assign_dialog", "account_results", "account_selected",
    ]  # fmt: skip
    assert find_values(bundle, mock_values()) == []
    assert modes(bundle) == {0o600} and stat.S_IMODE(bundle.stat().st_mode) == 0o700
    assert "capture check" in doctored.stderr
    # And the reader reads each captured screen as the agent read it on the walk
    assert made.returncode == 0, made.stderr
    captured = cases(tmp_path / "screens")
    assert [case.values[2]["name"] for case in captured] == [
        "order_details", "assignments", "account_results",
    ]  # fmt: skip
    for case in captured:
        folder, locale, screen = case.values
        assert await read_captured(page, folder, locale, screen) == screen["expect"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "command",
    [
        ["doctor", ORDER, "--capture"],
        ["assign", ORDER, "--domain", DOMAIN, "--virtual-account", "DEFAULT",
         "--capture-on-failure"],
        ["bulk", "orders.csv", "--capture-on-failure"],
    ],
    ids=["doctor", "assign", "bulk"],
)  # fmt: skip
def test_a_capture_folder_that_holds_anything_exits_2_before_any_browser(
    mock: MockServer, tmp_path: Path, command: list[str]
) -> None:
    # Given a folder with a file in it
    write_csv(tmp_path / "orders.csv", [[ORDER, "domain", DOMAIN, "DEFAULT"]])
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")

    # When a command is asked to capture into it (without a Chromium to start)
    done = AgentCli(tmp_path, base_url=mock.home_url)(*command, "used")

    # Then it refuses, naming the folder, before the portal is asked anything
    assert done.returncode == 2, done.stderr
    assert "used: not an empty folder" in done.stderr
    assert mock.stats()["requests"] == 0
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["notes.txt"]


def test_assign_captures_the_screen_its_failed_attempt_stopped_on(
    mock: MockServer, agent_cli: AgentCli, tmp_path: Path
) -> None:
    # Given an account search that always fails
    mock.set_faults(**SEARCH_FAILS)

    # When the order is assigned with --capture-on-failure
    done = agent_cli(
        "assign", ORDER, "--domain", DOMAIN, "--virtual-account", "DEFAULT", "--json",
        "--capture-on-failure", "failed", **ONE_TRY,
    )  # fmt: skip

    # Then the order failed, and the bundle holds step 6's screen (the portal's error), redacted
    assert done.returncode == 3, done.stderr[-2000:]
    bundle = tmp_path / "failed"
    manifest = json.loads((bundle / MANIFEST).read_text())
    assert [(s["step"], s["name"]) for s in manifest["screens"]] == [(6, "server_error")]
    assert any("Attempt 1 failed at step 6" in note for note in manifest["notes"])
    assert find_values(bundle, mock_values()) == []
    assert modes(bundle) == {0o600}
    assert str(bundle) in json.loads(done.stdout)["artifacts"]
    assert f"Capture of the failed screens: {bundle}" in done.stderr


def test_bulk_gives_each_failed_order_its_bundle_named_in_the_report(
    mock: MockServer, agent_cli: AgentCli, tmp_path: Path
) -> None:
    # Given two orders whose account search fails
    mock.set_faults(**SEARCH_FAILS)
    rows = [[ORDER, "domain", DOMAIN, "DEFAULT"], ["110000002", "domain", "globex.example", "X"]]
    file = write_csv(tmp_path / "orders.csv", rows)

    # When they run in bulk with --capture-on-failure
    done = agent_cli(
        "bulk", file, "--workers", "1", "--report", "r.csv", "--capture-on-failure", "failed",
        **ONE_TRY,
    )  # fmt: skip

    # Then each failed order has its own bundle, which its report row names
    assert done.returncode == 3, done.stderr[-2000:]
    bundles = sorted(p.name for p in (tmp_path / "failed").iterdir())
    assert bundles == ["order-001", "order-002"]
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as report:
        rows_read = list(csv.DictReader(report))
    named = [Path(a).name for row in rows_read for a in row["artifacts"].split("; ")]
    assert sorted(name for name in named if name.startswith("order-")) == bundles
    assert find_values(tmp_path / "failed" / "order-001", mock_values()) == []
    assert find_values(tmp_path / "failed" / "order-002", mock_values()) == []


def test_capture_check_exits_1_and_names_the_file_holding_a_value(tmp_path: Path) -> None:
    # Given a bundle with a planted customer name, and a list of one's own values
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "03-assignments.html").write_text("<td>GLOBEX  Industries</td>")
    (tmp_path / "mine.txt").write_text("Initech\n\nGlobex Industries\n")
    (tmp_path / "clean.txt").write_text("Initech\n")
    cli = AgentCli(tmp_path)

    # When each list is checked against it
    found = cli("capture", "check", "bundle", "mine.txt")
    clean = cli("capture", "check", "bundle", "clean.txt")

    # Then the planted value is found and named with its file; the other list passes
    assert found.returncode == 1, found.stderr
    assert "03-assignments.html: Globex Industries" in found.stdout
    assert clean.returncode == 0, clean.stderr
    assert "None of the 1 values" in clean.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "nowhere", "mine.txt"], "nowhere: not a folder"),
        (["check", "bundle", "missing.txt"], "missing.txt: cannot be read"),
        (["check", "bundle", "empty.txt"], "empty.txt: holds no value"),
        (["to-test", "bundle", "acme"], f"bundle: no {MANIFEST}"),
        (["to-test", "real", "Acme Corp", "--tests", "screens"], "is not a fixture name"),
    ],
)
def test_capture_commands_name_what_is_wrong_with_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "bundle").mkdir()
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / MANIFEST).write_text("{}")
    (tmp_path / "empty.txt").write_text("\n \n")

    done = AgentCli(tmp_path)("capture", *args)

    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_a_bundle_refused_on_the_way_out_of_a_failure_exits_3_naming_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a walk that failed, and a bundle that then refused to be written
    def walk_then_write() -> None:
        try:
            raise PortalError("step 4 (assignments): the table never showed")
        finally:
            raise ValueLeft("a registered value remained in 03-assignments.html; nothing written")

    # When the command reports it
    with pytest.raises(typer.Exit) as ended, capture_reported("--capture", Path("ccw-capture")):
        walk_then_write()

    # Then it exits 3 and names the folder, the refusal and the walk's own failure
    assert ended.value.exit_code == 3
    said = " ".join(capsys.readouterr().err.split())
    assert "--capture ccw-capture: nothing was written: a registered value remained" in said
    assert "the walk had also failed: step 4 (assignments)" in said
