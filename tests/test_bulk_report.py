"""The bulk report: its lines, spreadsheet-safe CSV, JSON, shard merging; the exit codes."""

from __future__ import annotations

import csv
import errno
import json
import os
from pathlib import Path

import pytest

from agent.bulk.csv_input import CsvRow, load_orders
from agent.bulk.ledger import Ledger, RowEntry
from agent.bulk.report import (
    REPORT_COLUMNS,
    ReportRow,
    check_report_paths,
    merge_reports,
    read_report,
    summarise_assignment,
    write_report,
    write_run_report,
)
from agent.bulk.statuses import NOT_RUN, status_sentence, status_style
from agent.exits import Exit, exit_for
from flows.models import AssignResult, LineAssignment, OrderView, Outcome
from pages.errors import ConfigError, InputError, StorageError

TARGET: dict[str, str | None] = {
    "search_by": "domain",
    "smart_account": "globex.example",
    "virtual_account": "Production",
    "expect_domain": None,
}


def lines_view(*lines: tuple[str, str | None, str | None]) -> OrderView:
    return OrderView(
        order_number="110000014",
        status="Booked",
        lines=tuple(
            LineAssignment(line=line, product="C9300-24T", smart_account=sa, virtual_account=va)
            for line, sa, va in lines
        ),
    )


def entry(row: int = 2, order: str = "110000002", /, **kw: object) -> RowEntry:
    values: dict[str, object] = {
        "row_number": row,
        "order_number": order,
        "target": TARGET,
        "reference": f"PO-{row}",
        "status": "assigned",
        "attempts": 1,
        "last_error": None,
        "started_at": None,
        "updated_at": "2030-01-01T00:00:00.000+00:00",
        "before": None,
        "after": None,
        "detail": "",
        "artifacts": (),
        "duration_s": None,
        **kw,
    }
    return RowEntry(**values)  # type: ignore[arg-type]


def report_row(row: int, order: str, /, **kw: object) -> ReportRow:
    return ReportRow.from_entry(entry(row, order, **kw))


def test_a_report_line_carries_input_outcome_evidence_and_artifacts() -> None:
    line = ReportRow.from_entry(
        entry(
            detail="Lines 1.0, 2.0 moved.",
            before=lines_view(("1.0", "Northwind Holding", "DEFAULT")),
            after=lines_view(("1.0", "Globex Industries", "Production")),
            attempts=2,
            duration_s=14.25,
            artifacts=("artifacts/110000002/before.png", "artifacts/110000002/after.png"),
            sales_order="110000002",
        )
    )

    assert line.model_dump() == {
        "row": 2,
        "order_number": "110000002",
        "sales_order": "110000002",
        "search_by": "domain",
        "smart_account": "globex.example",
        "virtual_account": "Production",
        "expect_domain": "",
        "reference": "PO-2",
        "outcome": "assigned",
        "detail": f"{Outcome.ASSIGNED.sentence} Lines 1.0, 2.0 moved.",
        "before": "Northwind Holding / DEFAULT",
        "after": "Globex Industries / Production",
        "attempts": 2,
        "duration_s": 14.25,
        "artifacts": ("artifacts/110000002/before.png", "artifacts/110000002/after.png"),
    }


@pytest.mark.parametrize(
    ("view", "summary"),
    [
        (None, ""),
        (lines_view(), "no lines shown"),
        (lines_view(("1.0", None, None), ("2.0", None, None)), "not assigned"),
        (
            lines_view(
                ("1.0", "Acme Corporation", "DEFAULT"),
                ("2.0", None, None),
                ("3.0", None, None),
            ),
            "1.0: Acme Corporation / DEFAULT; 2.0, 3.0: not assigned",
        ),
        (lines_view(("1.0", "Initech", None)), "Initech / —"),
    ],
)
def test_assignment_summaries_group_lines_that_agree(view: OrderView | None, summary: str) -> None:
    assert summarise_assignment(view) == summary


@pytest.mark.parametrize(
    ("status", "extra", "detail"),
    [
        (
            "invalid_input",
            {"detail": "search_by: 'domian' is not one of domain, account_name, email"},
            "Not run: the row is invalid "
            "(search_by: 'domian' is not one of domain, account_name, email).",
        ),
        ("pending", {}, "Not run: the run ended before this row started."),
        (
            "in_flight",
            {"last_error": "step 9 (submit): timed out"},
            "Interrupted during an attempt; a resume re-reads the portal before acting. "
            "Last error: step 9 (submit): timed out",
        ),
        (
            "failed",
            {"last_error": "step 2 (search): Something went wrong"},
            f"{Outcome.FAILED.sentence} Last error: step 2 (search): Something went wrong",
        ),
        ("not_eligible", {}, Outcome.NOT_ELIGIBLE.sentence),
    ],
)
def test_details_say_what_happened_in_words(
    status: str, extra: dict[str, object], detail: str
) -> None:
    assert ReportRow.from_entry(entry(status=status, **extra)).detail == detail


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path) -> None:
    risky = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR", "PO-'ok"]
    rows = [report_row(n + 2, str(110000001 + n), reference=text) for n, text in enumerate(risky)]
    out = tmp_path / "report.csv"

    write_report(out, rows)

    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheets then read it as UTF-8
    with out.open(encoding="utf-8-sig", newline="") as stream:
        header, *cells = list(csv.reader(stream))
    assert header == list(REPORT_COLUMNS)
    assert [line[header.index("reference")] for line in cells] == [
        '\'=HYPERLINK("x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tTAB",
        "CR",  # a carriage return is a control character: reports never carry one
        "PO-'ok",
    ]
    assert read_report(out) == rows  # reading back undoes the quote


def test_json_report_has_columns_summary_and_typed_rows(tmp_path: Path) -> None:
    rows = [
        report_row(3, "110000004", status="not_eligible", reference="=1+1"),
        report_row(2, "110000001", artifacts=("a.png",), duration_s=3.5),
    ]
    out = tmp_path / "report.json"

    write_report(out, rows)

    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["columns"] == list(REPORT_COLUMNS)
    assert document["summary"] == {"assigned": 1, "not_eligible": 1}
    assert [row["row"] for row in document["rows"]] == [2, 3]
    assert document["rows"][0]["artifacts"] == ["a.png"]
    assert document["rows"][0]["duration_s"] == 3.5
    assert document["rows"][1]["reference"] == "=1+1"  # JSON is not a spreadsheet


def test_one_call_writes_both_formats_and_refuses_unknown_ones(tmp_path: Path) -> None:
    rows = [report_row(2, "110000001")]

    write_report([tmp_path / "r.csv", tmp_path / "r.json"], rows)

    assert read_report(tmp_path / "r.csv") == read_report(tmp_path / "r.json") == rows
    with pytest.raises(
        ConfigError, match=r"a report file must end in \.csv, \.json or \.html: .*r\.xlsx"
    ):
        write_report([tmp_path / "s.csv", tmp_path / "r.xlsx"], rows)
    assert not (tmp_path / "s.csv").exists()  # nothing half-written


def test_shard_reports_merge_into_one_in_input_order(tmp_path: Path) -> None:
    write_report(tmp_path / "shard-1.csv", [report_row(2, "110000001"), report_row(5, "110000004")])
    write_report(tmp_path / "shard-2.json", [report_row(3, "110000002")])
    out = tmp_path / "all.csv"

    merged = merge_reports([tmp_path / "shard-1.csv", tmp_path / "shard-2.json"], out)

    assert [row.row for row in merged] == [2, 3, 5]
    assert read_report(out) == merged


def test_merging_overlapping_reports_is_refused_naming_order_and_files(tmp_path: Path) -> None:
    write_report(tmp_path / "a.csv", [report_row(2, "110000001"), report_row(3, "110000002")])
    write_report(tmp_path / "b.csv", [report_row(2, "110000001"), report_row(3, "110000009")])

    with pytest.raises(InputError) as caught:
        merge_reports([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "all.csv")

    assert str(caught.value) == (
        "the reports overlap; merge only the shards of one input, each once:\n"
        "  order 110000001 is in both a.csv and b.csv\n"
        "  input row 3 is in both a.csv and b.csv"
    )
    assert not (tmp_path / "all.csv").exists()


def test_merging_refuses_files_with_other_columns(tmp_path: Path) -> None:
    write_report(tmp_path / "a.csv", [report_row(2, "110000001")])
    (tmp_path / "b.csv").write_text("row,order_number,colour\n3,110000002,red\n", encoding="utf-8")

    with pytest.raises(InputError) as caught:
        merge_reports([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "all.csv")

    assert str(caught.value).startswith(
        "b.csv: its columns differ from the report format (missing: sales_order, search_by, "
    )
    assert str(caught.value).endswith("; unexpected: colour)")
    with pytest.raises(InputError, match="no reports to merge"):
        merge_reports([], tmp_path / "all.csv")


def test_the_ledger_feeds_the_report(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(
        "order_number,search_by,smart_account,virtual_account,reference\n"
        "110000001,domain,acme.example,DEFAULT,PO-1\n"
        "110000002,domian,globex.example,Production,PO-2\n",
        encoding="utf-8",
    )
    loaded = load_orders(source, skip_invalid=True)
    with Ledger.open(tmp_path / "state") as ledger:
        run_id = ledger.start_run(
            input_path=source, input_sha256=loaded.sha256, rows=loaded.rows, invalid=loaded.invalid
        )
        ledger.mark_in_flight(run_id, 2)
        ledger.record_result(
            run_id, 2, AssignResult(order_number="110000001", outcome=Outcome.ASSIGNED)
        )
        rows = [ReportRow.from_entry(e) for e in ledger.results(run_id)]

    assert [(r.row, r.order_number, r.outcome, r.reference) for r in rows] == [
        (2, "110000001", "assigned", "PO-1"),
        (3, "110000002", "invalid_input", "PO-2"),
    ]
    assert rows[1].search_by == "domian"  # the input as written, to fix it
    assert exit_for(r.outcome for r in rows) == Exit.NEEDS_ATTENTION


@pytest.mark.parametrize(
    ("outcomes", "code"),
    [
        ([], 0),
        (["assigned", "already_assigned", "would_assign"], 0),
        (["assigned", "not_eligible"], 1),
        (["assigned", "invalid_input"], 1),
        (["smart_account_ambiguous", "refused_internal_user"], 1),
        (["assigned", "not_eligible", "failed"], 3),
        (["failed"], 3),
    ],
)
def test_exit_codes(outcomes: list[str], code: int) -> None:
    assert exit_for(outcomes) == code


def test_exit_code_refuses_unfinished_rows() -> None:
    with pytest.raises(ValueError, match=r"not a final row outcome: in_flight, pending \(an "):
        exit_for(["assigned", "pending", "in_flight"])


def test_an_order_conflict_needs_a_person() -> None:
    assert exit_for(["assigned", "order_conflict"]) == Exit.NEEDS_ATTENTION


def test_a_row_cut_off_after_yes_says_a_resume_only_looks() -> None:
    line = ReportRow.from_entry(entry(status="submitting", last_error="step 10 (verify): timeout"))

    assert line.detail == (
        "Interrupted after Yes was clicked and before the result was read; a resume only looks "
        "at the order and never submits it again. Last error: step 10 (verify): timeout"
    )


# --- the disk and the folder -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
    ids=["disk-full", "read-only"],
)
def test_a_report_the_disk_refuses_is_a_storage_error_and_no_file_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    old = [report_row(2, "110000001")]
    write_report([tmp_path / "r.csv", tmp_path / "r.json"], old)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_fsync = os.fsync
    calls: list[int] = []

    def refuse_the_second(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", refuse_the_second)

    with pytest.raises(StorageError) as caught:
        write_report([tmp_path / "r.csv", tmp_path / "r.json"], [report_row(3, "110000002")])

    assert str(caught.value) == f"cannot write {tmp_path / 'r.json'}: {reason}"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporaries


def test_a_missing_report_folder_is_made(tmp_path: Path) -> None:
    out = tmp_path / "not" / "yet" / "r.csv"

    write_report(out, [report_row(2, "110000001")])

    assert [row.order_number for row in read_report(out)] == ["110000001"]


def test_a_report_in_a_folder_that_cannot_exist_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")

    with pytest.raises(StorageError) as caught:
        write_report(tmp_path / "file" / "reports" / "r.csv", [report_row(2, "110000001")])

    assert str(caught.value) == (
        f"cannot create the folder {tmp_path / 'file' / 'reports'}: Not a directory"
    )


def test_a_run_report_streams_from_the_ledger(tmp_path: Path) -> None:
    rows = [
        CsvRow.model_validate(
            {
                "row": n,
                "order_number": str(110000000 + n),
                "search_by": "domain",
                "smart_account": "acme.example",
                "virtual_account": "DEFAULT",
            }
        )
        for n in range(2, 1200)
    ]
    with Ledger.open(tmp_path / "state") as ledger:
        run_id = ledger.start_run(input_path="o.csv", input_sha256="ab" * 32, rows=iter(rows))
        ledger.mark_in_flight(run_id, 5)
        ledger.mark_submitting(run_id, 5)

        counts = write_run_report(ledger, run_id, [tmp_path / "r.csv", tmp_path / "r.json"])

    assert counts == {"pending": 1197, "submitting": 1}
    document = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert document["summary"] == {"pending": 1197, "submitting": 1}
    assert [row["row"] for row in document["rows"]] == list(range(2, 1200))
    assert read_report(tmp_path / "r.csv") == read_report(tmp_path / "r.json")


def test_report_paths_are_checked_before_a_run(tmp_path: Path) -> None:
    # Given a path in folders still to be made, one without a report suffix, and one under a file
    fine = tmp_path / "new" / "r.html"
    (tmp_path / "taken").write_text("a file", encoding="utf-8")

    assert check_report_paths([fine]) == (fine,)
    with pytest.raises(ConfigError, match=r"r\.txt: the file must end in \.csv, \.json or \.html"):
        check_report_paths([fine, tmp_path / "r.txt"])
    with pytest.raises(ConfigError, match="taken is not a writable folder"):
        check_report_paths([tmp_path / "taken" / "r.csv"])


def test_every_row_status_has_one_sentence_and_one_style() -> None:
    assert status_style("assigned") == Outcome.ASSIGNED.style == "green"
    assert status_style("failed") == "bold red"
    assert status_style("not_eligible") == Outcome.NOT_ELIGIBLE.style == "yellow"
    assert status_style("pending") == "dim"
    assert status_sentence("not_eligible") == Outcome.NOT_ELIGIBLE.sentence
    assert status_sentence("in_flight") == NOT_RUN["in_flight"].sentence
    assert status_style("from_a_newer_version") == "yellow"
    assert status_sentence("from_a_newer_version") == "An outcome this version does not know."
