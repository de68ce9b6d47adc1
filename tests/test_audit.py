"""`ccw-agent audit`: every scenario order read on every release, never a submission, its inputs
(a bulk CSV, a bulk report, one column of numbers) and its verdicts, which are pure functions."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import DEMO_CREDENTIALS, AgentCli, MakeSettings, write_csv

from agent.bulk.audit import (
    ASSIGNABLE,
    NOT_ELIGIBLE,
    NOT_ON_TARGET,
    ON_TARGET,
    ORDER_NOT_FOUND,
    UNPROVEN,
    audit_exit,
    judge,
    read_audit_input,
)
from agent.bulk.ledger import OrderRow
from agent.bulk.problems import InvalidCsv
from agent.bulk.run import BulkOptions, run_bulk
from agent.exits import Exit
from agent.runner import Target
from flows.models import LineAssignment, OrderView
from mock_site.data import SCENARIOS
from mock_site.releases import REFERENCE_RELEASES, RELEASES
from mock_site.server import MockServer

# What the audit answers for each scenario order asked with its table target, before any run:
# (on a release that shows account names only, like classic; on one that shows Domain
# Identifiers, like ledger, compact and legacy).
EXPECTED: dict[str, tuple[str, str]] = {
    "110000001": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000002": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000003": (UNPROVEN, ON_TARGET),
    "110000004": (NOT_ELIGIBLE, NOT_ELIGIBLE),
    "110000005": (NOT_ELIGIBLE, NOT_ELIGIBLE),
    "110000006": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000007": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000008": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000009": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000010": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000011": (ORDER_NOT_FOUND, ORDER_NOT_FOUND),
    "110000012": (UNPROVEN, NOT_ON_TARGET),
    "110000013": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000014": (NOT_ON_TARGET, NOT_ON_TARGET),
    "110000015": (UNPROVEN, NOT_ON_TARGET),
    "110000016": (NOT_ELIGIBLE, NOT_ELIGIBLE),
}
AUDIT_HEADER = ("order_number", "search_by", "smart_account", "virtual_account", "reference")


def scenario_file(path: Path) -> Path:
    rows = [
        [s.sales_order, s.search_by, s.smart_account, s.virtual_account, f"PO-{s.sales_order[-2:]}"]
        for s in SCENARIOS
    ]
    return write_csv(path, rows, AUDIT_HEADER)


def read_csv_report(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return {row["order_number"]: row for row in csv.DictReader(stream)}


async def audit(target: Target, path: Path, reports: tuple[Path, ...], **options: Any) -> Any:
    return await run_bulk(
        target,
        path,
        read_audit_input(path),
        BulkOptions(workers=2, reports=reports, audit=True, **options),
    )


def no_dialog_request(mock: MockServer) -> list[str]:
    """Requests that only the Assign dialog makes: its account search and the submission."""
    paths = [entry["path"] for entry in mock.latency()]
    return [p for p in paths if "smart-accounts" in p or p.rstrip("/").endswith("/assign")]


def shows_domains(release: str) -> bool:
    columns = RELEASES[release].assignment_columns
    return "domain" in columns or "smart_account_with_domain" in columns


@pytest.mark.parametrize("release", REFERENCE_RELEASES)
async def test_audit_answers_every_scenario_order_and_submits_nothing(
    mock: MockServer, agent_settings: MakeSettings, tmp_path: Path, release: str
) -> None:
    # Given the scenario orders with their table targets, on this release of the portal
    mock.set_release(release)
    path = scenario_file(tmp_path / "scenarios.csv")
    report = tmp_path / "audit.csv"
    target = Target.from_settings(agent_settings(), DEMO_CREDENTIALS)
    # When the file is audited
    summary = await audit(target, path, (report, tmp_path / "audit.json", tmp_path / "a.html"))
    # Then every order has the expected answer, and nothing reached the Assign dialog
    rows = read_csv_report(report)
    column = 1 if shows_domains(release) else 0
    assert {order: row["outcome"] for order, row in rows.items()} == {
        order: answers[column] for order, answers in EXPECTED.items()
    }
    assert summary.status == "finished"
    assert mock.stats()["submissions"] == 0
    assert no_dialog_request(mock) == []
    # and each answer carries its evidence: why not, what to do, what the lines carry
    shipped = rows["110000004"]
    assert shipped["can_assign"] == "no"
    assert shipped["order_status"] == "Shipped"
    assert "Asset Transfer" in shipped["advice"] and "open a case" in shipped["advice"]
    unassigned = rows["110000001"]
    assert "Smart Account Hold" in unassigned["holds"]
    assert "no Smart Account is assigned" in unassigned["advice"]
    assert unassigned["reference"] == "PO-01"
    assert (unassigned["sales_order"], unassigned["web_order"]) == ("110000001", "80000001")
    assert "Export Hold" in rows["110000006"]["holds"]
    assert "export hold" in rows["110000006"]["advice"]
    assert "Pending" in rows["110000015"]["advice"]
    assert "1.0" in rows["110000014"]["lines"] and "not eligible" in rows["110000014"]["lines"]
    document = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert [r["outcome"] for r in document["rows"]] == [
        rows[r["order_number"]]["outcome"] for r in document["rows"]
    ]
    assert "nothing was assigned or submitted" in (tmp_path / "a.html").read_text("utf-8")


async def test_a_bulk_report_audited_again_proves_the_move(
    mock: MockServer, agent_settings: MakeSettings, tmp_path: Path
) -> None:
    # Given a bulk run that moved two orders, and its report (on classic: names only)
    path = write_csv(
        tmp_path / "move.csv",
        [
            ["110000001", "domain", "acme.example", "Campus-Network"],
            ["110000002", "domain", "globex.example", "Production"],
            ["110000004", "domain", "globex.example", "DEFAULT"],
        ],
        AUDIT_HEADER,
    )
    target = Target.from_settings(agent_settings(), DEMO_CREDENTIALS)
    from agent.bulk.csv_input import load_orders

    await run_bulk(target, path, load_orders(path), BulkOptions(reports=(tmp_path / "bulk.csv",)))
    submitted = mock.stats()["submissions"]
    # When the report is audited
    summary = await audit(target, tmp_path / "bulk.csv", (tmp_path / "proof.csv",))
    # Then the moved orders are on target, the shipped one is not eligible, and no new submission
    rows = read_csv_report(tmp_path / "proof.csv")
    assert rows["110000001"]["outcome"] == ON_TARGET
    assert rows["110000002"]["outcome"] == ON_TARGET
    assert rows["110000004"]["outcome"] == NOT_ELIGIBLE
    assert mock.stats()["submissions"] == submitted
    assert audit_exit(summary.outcomes) is Exit.NEEDS_ATTENTION


def test_audit_cli_on_a_column_of_order_numbers_exits_as_bulk_does(
    agent_cli: AgentCli, tmp_path: Path, mock: MockServer
) -> None:
    # Given a file of order numbers alone, one of them not visible to this user
    numbers = tmp_path / "orders.csv"
    numbers.write_text("110000001\n110000002\n110000011\n", encoding="utf-8")
    # When it is audited from the command line
    done = agent_cli("audit", numbers, "--report", tmp_path / "out.json", timeout=180)
    # Then each order is answered without a target, the unknown one needs a person (exit 1)
    assert done.returncode == 1, done.stderr
    rows = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["rows"]
    assert [(r["order_number"], r["outcome"]) for r in rows] == [
        ("110000001", ASSIGNABLE),
        ("110000002", ASSIGNABLE),
        ("110000011", ORDER_NOT_FOUND),
    ]
    assert mock.stats()["submissions"] == 0


# --- without a browser ---------------------------------------------------------------------------


def view(
    *lines: LineAssignment, reason: str | None = None, holds: tuple[str, ...] = ()
) -> OrderView:
    return OrderView(
        order_number="110000001",
        status="Booked",
        holds=holds,
        lines=lines,
        assign_disabled_reason=reason,
    )


def line(
    sa: str | None, va: str | None, domain: str | None = None, eligible: bool = True
) -> LineAssignment:
    return LineAssignment(
        line="1.0",
        product="P",
        smart_account=sa,
        virtual_account=va,
        domain=domain,
        eligible=eligible,
    )


BY_DOMAIN = {"search_by": "domain", "smart_account": "acme.example", "virtual_account": "DEFAULT"}
PROVEN = {**BY_DOMAIN, "proven_account": "Acme"}
ACME = line("Acme", "DEFAULT", "acme.example")


@pytest.mark.parametrize(
    ("shown", "target", "status", "placed"),
    [
        (view(ACME), BY_DOMAIN, ON_TARGET, "yes"),
        (view(line("Acme", "DEFAULT")), BY_DOMAIN, UNPROVEN, "unproven"),
        (view(line("Acme", "DEFAULT")), PROVEN, ON_TARGET, "yes"),
        (
            view(line("Other", "DEFAULT")),
            {**BY_DOMAIN, "proven_account": "Acme"},
            UNPROVEN,
            "unproven",
        ),
        (view(line("Acme", "Lab", "acme.example")), BY_DOMAIN, NOT_ON_TARGET, "no"),
        (view(line(None, None)), BY_DOMAIN, NOT_ON_TARGET, "no"),
        (view(line(None, None), reason="Shipped"), BY_DOMAIN, NOT_ELIGIBLE, "no"),
        (
            view(line("Acme", "DEFAULT", "acme.example"), reason="Shipped"),
            BY_DOMAIN,
            ON_TARGET,
            "yes",
        ),
        (view(line(None, None, eligible=False)), {}, NOT_ELIGIBLE, ""),
        (view(line(None, None)), {}, ASSIGNABLE, ""),
        (None, BY_DOMAIN, ORDER_NOT_FOUND, ""),
    ],
)
def test_the_verdict_follows_what_the_screen_proves(
    shown: OrderView | None, target: dict[str, str], status: str, placed: str
) -> None:
    verdict = judge(shown, target)
    assert (verdict.status, verdict.on_target) == (status, placed)


def test_an_order_not_assignable_says_why() -> None:
    verdict = judge(view(line(None, None, eligible=False)), {})
    assert verdict.can_assign == "no"
    assert verdict.why_not.startswith("No line is eligible")


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ([ON_TARGET, ASSIGNABLE], Exit.OK),
        ([ON_TARGET, UNPROVEN], Exit.NEEDS_ATTENTION),
        ([NOT_ON_TARGET], Exit.NEEDS_ATTENTION),
        (["invalid_input", ON_TARGET], Exit.NEEDS_ATTENTION),
        ([ON_TARGET, "failed"], Exit.FAILED),
    ],
)
def test_exit_codes_follow_bulk(statuses: list[str], code: Exit) -> None:
    assert audit_exit(statuses) is code


def test_a_column_of_numbers_with_a_header_reads_each_once(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("Order Number\n110000001\n110000002\n110000001\n\n", encoding="utf-8")
    read = read_audit_input(path)
    assert [r.order_number for r in read.rows] == ["110000001", "110000002"]
    assert all(isinstance(r, OrderRow) and not r.target for r in read.rows)
    assert read.warnings == ("o.csv row 4: order 110000001 repeats row 2; read once",)


def test_a_bad_number_is_named_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("order_number\n110000001\n1.1E+08\n", encoding="utf-8")
    with pytest.raises(InvalidCsv) as raised:
        read_audit_input(path).check()
    assert "o.csv row 3, column order_number" in str(raised.value)
    assert "scientific notation" in str(raised.value)


def test_a_single_column_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("customer\nAcme\n", encoding="utf-8")
    with pytest.raises(InvalidCsv, match="neither an order number nor a column of them"):
        read_audit_input(path)


def test_a_bulk_file_keeps_its_targets(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "b.csv",
        [["110000003", "domain", "acme.example", "DC West", "PO-3"]],
        AUDIT_HEADER,
    )
    (row,) = read_audit_input(path).rows
    assert isinstance(row, OrderRow)
    assert row.reference == "PO-3"
    assert row.target["smart_account"] == "acme.example"
    assert row.target["virtual_account"] == "DC West"
