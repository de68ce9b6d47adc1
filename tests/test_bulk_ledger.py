"""The bulk ledger: durable per-row state, resume semantics, thread safety and schema version."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.bulk.csv_input import CsvRow, InvalidRow, Problem
from agent.bulk.ledger import LEDGER_FILE, Ledger
from agent.errors import ConfigError
from flows.models import AssignResult, LineAssignment, OrderView, Outcome, SearchBy

SHA = "ab" * 32


def csv_row(row: int, order: str, **target: str) -> CsvRow:
    values = {
        "search_by": "domain",
        "smart_account": "acme.example",
        "virtual_account": "DEFAULT",
        "reference": f"PO-{row}",
        **target,
    }
    return CsvRow.model_validate({"row": row, "order_number": order, **values})


def view(order: str, sa: str | None, va: str | None) -> OrderView:
    lines = (LineAssignment(line="1.0", product="C9300-24T", smart_account=sa, virtual_account=va),)
    return OrderView(order_number=order, status="Booked", lines=lines)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "state") as opened:
        yield opened


def start(
    ledger: Ledger,
    rows: list[CsvRow],
    *,
    invalid: tuple[InvalidRow, ...] = (),
    options: dict[str, object] | None = None,
    shard: str | None = None,
) -> str:
    return ledger.start_run(
        input_path="orders.csv",
        input_sha256=SHA,
        rows=rows,
        invalid=invalid,
        options=options,
        shard=shard,
    )


def test_the_ledger_is_durable_sqlite_with_a_schema_version(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "state") as opened:
        settings = {
            name: opened._db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "user_version")
        }

    assert (tmp_path / "state" / LEDGER_FILE).is_file()
    assert settings == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "user_version": 1,
    }


def test_a_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    Ledger.open(tmp_path).close()
    with sqlite3.connect(tmp_path / LEDGER_FILE) as db:
        db.execute("PRAGMA user_version = 7")

    with pytest.raises(
        ConfigError,
        match=r"was written by a newer ccw-agent \(schema 7; this one "
        r"knows 1\); upgrade ccw-agent or use another state folder",
    ):
        Ledger.open(tmp_path)


def test_a_new_run_holds_every_row_pending_and_invalid_rows_final(ledger: Ledger) -> None:
    bad = InvalidRow(
        row=3,
        cells={"order_number": "110000002", "search_by": "domian", "reference": "PO-3"},
        problems=(Problem("orders.csv", 3, "search_by", "'domian' is not one of ..."),),
    )

    run_id = start(ledger, [csv_row(2, "110000001"), csv_row(4, "110000003")], invalid=(bad,))

    entries = ledger.results(run_id)
    assert [(e.row_number, e.order_number, e.status) for e in entries] == [
        (2, "110000001", "pending"),
        (3, "110000002", "invalid_input"),
        (4, "110000003", "pending"),
    ]
    assert entries[0].target == {
        "search_by": "domain",
        "smart_account": "acme.example",
        "virtual_account": "DEFAULT",
        "expect_domain": None,
    }
    assert entries[1].target == {"search_by": "domian"}
    assert (entries[1].reference, entries[1].detail) == (
        "PO-3",
        "search_by: 'domian' is not one of ...",
    )
    assert ledger.run(run_id).status == "running"


def test_a_row_goes_in_flight_then_gets_its_result_with_evidence(ledger: Ledger) -> None:
    run_id = start(ledger, [csv_row(2, "110000002", smart_account="globex.example")])

    ledger.mark_in_flight(run_id, 2)
    ledger.record_attempt_error(run_id, 2, "step 8 (assign): timed out")
    ledger.mark_in_flight(run_id, 2)
    in_flight = ledger.results(run_id)[0]
    ledger.record_result(
        run_id,
        2,
        AssignResult(
            order_number="110000002",
            outcome=Outcome.ASSIGNED,
            detail="Lines 1.0 assigned.",
            before=view("110000002", "Northwind Holding", "DEFAULT"),
            after=view("110000002", "Globex Industries", "Production"),
            artifacts=("artifacts/110000002/after.png",),
            attempts=1,
            duration_s=12.5,
        ),
    )

    (entry,) = ledger.results(run_id)
    assert (in_flight.status, in_flight.attempts) == ("in_flight", 2)
    assert in_flight.last_error == "step 8 (assign): timed out"
    assert (entry.status, entry.attempts, entry.detail) == ("assigned", 2, "Lines 1.0 assigned.")
    assert entry.before == view("110000002", "Northwind Holding", "DEFAULT")
    assert entry.after == view("110000002", "Globex Industries", "Production")
    assert (entry.artifacts, entry.duration_s) == (("artifacts/110000002/after.png",), 12.5)
    assert entry.started_at == in_flight.started_at is not None


def test_pending_rows_are_the_unfinished_ones_with_in_flight_flagged(ledger: Ledger) -> None:
    rows = [
        csv_row(2, "110000001"),
        csv_row(3, "110000009", search_by="email", smart_account="it-admin@umbrella.example"),
        csv_row(4, "110000003", virtual_account="DC West", expect_domain="acme.example"),
    ]
    run_id = start(ledger, rows)
    ledger.mark_in_flight(run_id, 2)
    ledger.record_result(
        run_id, 2, AssignResult(order_number="110000001", outcome=Outcome.ASSIGNED)
    )
    ledger.mark_in_flight(run_id, 4)

    pending = ledger.pending_rows(run_id)

    assert [(p.row, p.in_flight, p.attempts) for p in pending] == [
        (rows[1], False, 0),
        (rows[2], True, 1),
    ]
    assert pending[0].row.search_by is SearchBy.EMAIL


def test_find_resumable_picks_the_last_unfinished_run_of_the_same_file_and_shard(
    ledger: Ledger,
) -> None:
    rows = [csv_row(2, "110000001")]
    finished = start(ledger, rows, shard="1/2")
    ledger.finish_run(finished, "finished")
    older = start(ledger, rows, shard="1/2", options={"dry_run": False})
    ledger.finish_run(older, "interrupted")
    newer = start(ledger, rows, shard="1/2", options={"dry_run": True})
    whole = start(ledger, rows)

    assert ledger.find_resumable(SHA, "1/2") == newer
    assert ledger.find_resumable(SHA, "1/2", options={"dry_run": False}) == older
    assert ledger.find_resumable(SHA, None) == whole
    assert ledger.find_resumable(SHA, "2/2") is None
    assert ledger.find_resumable("cd" * 32, None) is None
    assert ledger.run(older).status == "interrupted"
    assert ledger.run(older).ended_at is not None
    assert ledger.run(newer).options == {"dry_run": True}


def test_unknown_runs_and_rows_are_errors_not_silent(ledger: Ledger) -> None:
    run_id = start(ledger, [csv_row(2, "110000001")])

    with pytest.raises(KeyError, match="has no row 9"):
        ledger.mark_in_flight(run_id, 9)
    with pytest.raises(KeyError, match="has no row 9"):
        ledger.record_result(
            run_id, 9, AssignResult(order_number="110000001", outcome=Outcome.FAILED)
        )
    with pytest.raises(KeyError, match="the ledger has no run nope"):
        ledger.finish_run("nope", "finished")
    with pytest.raises(KeyError, match="the ledger has no run nope"):
        ledger.run("nope")


def test_state_survives_a_process_that_dies_without_closing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Ledger.open(state) as opened:
        run_id = start(opened, [csv_row(2, "110000001"), csv_row(3, "110000002")])
    script = textwrap.dedent(
        f"""
        import os
        from agent.bulk.ledger import Ledger
        ledger = Ledger.open({str(state)!r})
        ledger.mark_in_flight({run_id!r}, 2)
        os._exit(9)  # no close, no commit hook: what a crash leaves
        """
    )

    died = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)

    assert died.returncode == 9
    with Ledger.open(state) as reopened:
        assert reopened.find_resumable(SHA, None) == run_id
        pending = reopened.pending_rows(run_id)
    assert [(p.row.row, p.in_flight) for p in pending] == [(2, True), (3, False)]


def test_worker_threads_can_record_at_the_same_time(ledger: Ledger) -> None:
    rows = [csv_row(n, str(110000000 + n)) for n in range(2, 42)]
    run_id = start(ledger, rows)

    def work(mine: list[CsvRow]) -> None:
        for row in mine:
            ledger.mark_in_flight(run_id, row.row)
            ledger.record_result(
                run_id,
                row.row,
                AssignResult(order_number=row.order_number, outcome=Outcome.ALREADY_ASSIGNED),
            )

    workers = [threading.Thread(target=work, args=(rows[i::4],)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert {e.status for e in ledger.results(run_id)} == {"already_assigned"}
    assert ledger.pending_rows(run_id) == []
