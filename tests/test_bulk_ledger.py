"""The bulk ledger: durable per-row state, resume semantics, thread safety and schema version."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.bulk.csv_input import CsvRow, InvalidRow, Problem
from agent.bulk.ledger import LEDGER_FILE, Ledger
from flows.models import (
    AssignRequest,
    AssignResult,
    LineAssignment,
    OrderView,
    Outcome,
    SearchBy,
)
from pages.errors import ConfigError, StorageError

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
    rows: Iterable[CsvRow],
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
        "user_version": 2,
    }


def test_a_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    Ledger.open(tmp_path).close()
    with sqlite3.connect(tmp_path / LEDGER_FILE) as db:
        db.execute("PRAGMA user_version = 7")

    with pytest.raises(
        ConfigError,
        match=r"was written by a newer ccw-agent \(schema 7; this one "
        r"knows 2\); upgrade ccw-agent or use another state folder",
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


# --- one order, one truth ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["١١٠٠٠٠٠١٢", "１１００００００１２", "11000 0012"])
def test_an_order_number_to_search_is_ascii_digits_only(number: str) -> None:
    with pytest.raises(ValidationError, match="an order number is 6 to 12 digits"):
        AssignRequest(
            order_number=number,
            search_by=SearchBy.DOMAIN,
            smart_account="acme.example",
            virtual_account="DEFAULT",
        )


PORTAL = {"portal": "ccw.example"}


def test_one_order_asked_by_its_two_numbers_is_claimed_once(ledger: Ledger) -> None:
    # Given the Sales Order and the Web Order of one order, for two different targets,
    rows = [
        csv_row(2, "110000012", smart_account="acme.example"),
        csv_row(3, "80000012", smart_account="globex.example"),
        csv_row(4, "110000001", smart_account="acme.example"),
    ]
    run_id = start(ledger, rows, options=PORTAL)

    # when each row claims the order its page showed,
    first = ledger.claim_order(run_id, 2, "110000012", "110000012")
    again = ledger.claim_order(run_id, 2, "110000012", "110000012")  # a retry of the same row
    second = ledger.claim_order(run_id, 3, "110000012", "80000012")
    other = ledger.claim_order(run_id, 4, "110000001", "110000001")

    # then the first row goes on, and the second is refused naming both rows and targets.
    assert (first, again, other) == (None, None, None)
    assert second == (
        "Sales Order 110000012 is asked for by row 2 as 110000012, for acme.example / DEFAULT, "
        "and by this row 3 as 80000012, for globex.example / DEFAULT. Row 2 took the order "
        "first; this row was not submitted. Decide which target is meant and correct the file."
    )
    assert [e.sales_order for e in ledger.results(run_id)] == [
        "110000012",
        "110000012",
        "110000001",
    ]


def test_the_same_target_under_another_number_or_spelling_is_no_conflict(ledger: Ledger) -> None:
    rows = [
        csv_row(2, "110000012", virtual_account="lab Sandbox"),
        csv_row(3, "80000012", virtual_account="LAB  SANDBOX"),
        csv_row(4, "0110000012", smart_account="globex.example"),
    ]
    run_id = start(ledger, rows, options=PORTAL)

    assert ledger.claim_order(run_id, 2, "110000012", "110000012") is None
    assert ledger.claim_order(run_id, 3, "110000012", "80000012") is None
    # Leading zeros, on the page or in the file, do not make another order.
    refused = ledger.claim_order(run_id, 4, "0110000012", "0110000012")
    assert refused is not None and refused.startswith("Sales Order 110000012 is asked for by row 2")


def test_claims_hold_across_runs_and_shards_of_the_same_file_and_portal_only(
    ledger: Ledger,
) -> None:
    rows = [csv_row(2, "110000012"), csv_row(3, "80000012", smart_account="globex.example")]
    shard_one = start(ledger, [rows[0]], options=PORTAL, shard="1/2")
    assert ledger.claim_order(shard_one, 2, "110000012", "110000012") is None
    ledger.finish_run(shard_one, "finished")

    shard_two = start(ledger, [rows[1]], options=PORTAL, shard="2/2")
    other_portal = start(ledger, [rows[1]], options={"portal": "staging.example"})
    other_file = ledger.start_run(
        input_path="other.csv", input_sha256="cd" * 32, rows=[rows[1]], options=PORTAL
    )

    refused = ledger.claim_order(shard_two, 3, "110000012", "80000012")
    assert refused is not None
    assert f"for acme.example / DEFAULT (in run {shard_one}, of the same file)" in refused
    assert ledger.claim_order(other_portal, 3, "110000012", "80000012") is None
    assert ledger.claim_order(other_file, 3, "110000012", "80000012") is None


def test_a_page_without_a_sales_order_claims_the_number_asked(ledger: Ledger) -> None:
    run_id = start(
        ledger, [csv_row(2, "110000012"), csv_row(3, "110000012", smart_account="x.example")]
    )

    assert ledger.claim_order(run_id, 2, None, "110000012") is None
    refused = ledger.claim_order(run_id, 3, "SO ?", "0110000012")
    assert refused is not None and refused.startswith("Order 110000012 is asked for by row 2")


# --- durable submit intent ---------------------------------------------------------------------


def test_submitting_is_durable_and_survives_a_new_attempt_until_the_result(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    with Ledger.open(state) as opened:
        run_id = start(opened, [csv_row(2, "110000001"), csv_row(3, "110000002")])
        opened.mark_in_flight(run_id, 2)
        opened.mark_submitting(run_id, 2)
        opened.mark_in_flight(run_id, 3)

    with Ledger.open(state) as reopened:  # as after a crash
        pending = reopened.pending_rows(run_id)
        reopened.mark_in_flight(run_id, 2)  # the resume's attempt
        still = reopened.results(run_id)[0].status
        reopened.record_result(
            run_id, 2, AssignResult(order_number="110000001", outcome=Outcome.ASSIGNED)
        )
        final = reopened.results(run_id)[0].status

    assert [(p.row.row, p.in_flight, p.submitting) for p in pending] == [
        (2, True, True),
        (3, True, False),
    ]
    assert (still, final) == ("submitting", "assigned")


def test_a_version_1_ledger_is_upgraded_in_place(tmp_path: Path) -> None:
    from agent.bulk.ledger import _SCHEMA

    with sqlite3.connect(tmp_path / LEDGER_FILE) as db:
        db.executescript(f"{_SCHEMA} PRAGMA user_version = 1;")
        db.execute(
            "INSERT INTO runs (id, input_path, input_sha256, options, started_at, status)"
            " VALUES ('r1', 'orders.csv', ?, '{}', '2030-01-01', 'running')",
            (SHA,),
        )
        db.execute(
            "INSERT INTO rows (run_id, row_number, order_number, target, status, updated_at)"
            """ VALUES ('r1', 2, '110000001', '{"search_by": "domain", "smart_account": """
            """"acme.example", "virtual_account": "DEFAULT"}', 'in_flight', '2030-01-01')"""
        )
    db.close()

    with Ledger.open(tmp_path) as upgraded:
        version = upgraded._db.execute("PRAGMA user_version").fetchone()[0]
        (pending,) = upgraded.pending_rows("r1")
        assert upgraded.claim_order("r1", 2, "110000001", "110000001") is None

    assert version == 2
    assert (pending.row.order_number, pending.in_flight, pending.submitting) == (
        "110000001",
        True,
        False,
    )


# --- streaming and finding runs ------------------------------------------------------------------


def test_pending_rows_and_results_stream_in_batches_each_row_once(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agent.bulk.ledger.BATCH_ROWS", 3)
    rows = [csv_row(n, str(110000000 + n)) for n in range(2, 12)]
    run_id = start(ledger, (row for row in rows))  # a generator, as a streamed input is

    seen = []
    for pending in ledger.iter_pending(run_id):
        seen.append(pending.row.row)
        ledger.mark_in_flight(run_id, pending.row.row)  # workers change rows meanwhile
        if pending.row.row % 2:
            ledger.record_result(
                run_id,
                pending.row.row,
                AssignResult(order_number=pending.row.order_number, outcome=Outcome.ASSIGNED),
            )

    assert seen == list(range(2, 12))
    assert [e.row_number for e in ledger.iter_results(run_id)] == list(range(2, 12))
    assert ledger.counts(run_id) == {"assigned": 5, "in_flight": 5}


def test_a_run_is_found_by_its_id_or_a_unique_start_of_it(ledger: Ledger) -> None:
    one = start(ledger, [csv_row(2, "110000001")])
    two = start(ledger, [csv_row(2, "110000001")])
    common = next(i for i in range(len(one)) if one[i] != two[i])

    assert ledger.find_run(one) == one
    assert ledger.find_run(two[: common + 1]) == two
    with pytest.raises(KeyError, match="has no run 'zzz'"):
        ledger.find_run("zzz")
    if common:
        with pytest.raises(KeyError, match="names several runs"):
            ledger.find_run(one[:common])


# --- the disk and the folder -------------------------------------------------------------------


def test_a_full_disk_is_a_storage_error_naming_the_ledger_and_nothing_half_written(
    ledger: Ledger,
) -> None:
    # SQLite's own size cap answers exactly as a full disk does (SQLITE_FULL).
    pages = ledger._db.execute("PRAGMA page_count").fetchone()[0]
    ledger._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    rows = [csv_row(n, str(110000000 + n), reference="x" * 500) for n in range(2, 400)]

    with pytest.raises(StorageError) as caught:
        start(ledger, rows)

    assert str(caught.value) == (f"cannot write the ledger {ledger.path}: database or disk is full")
    assert ledger._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == 0
    assert ledger._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_a_locked_ledger_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    with Ledger.open(tmp_path, busy_timeout_ms=100) as opened:
        run_id = start(opened, [csv_row(2, "110000001")])
        other = sqlite3.connect(tmp_path / LEDGER_FILE, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(
                StorageError, match=r"^cannot write the ledger .*: database is locked$"
            ):
                opened.mark_in_flight(run_id, 2)
        finally:
            other.execute("ROLLBACK")
            other.close()
        opened.mark_in_flight(run_id, 2)  # and it works again once released


def test_a_state_folder_that_cannot_exist_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")

    with pytest.raises(StorageError) as caught:
        Ledger.open(tmp_path / "file" / "state")

    assert (
        str(caught.value)
        == f"cannot create the folder {tmp_path / 'file' / 'state'}: Not a directory"
    )
