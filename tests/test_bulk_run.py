"""The bulk runner in-process against the mock portal: resume, stop requests, rate cap, retries."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest
from helpers import DEMO, MakeSettings, book_csv, submissions, write_csv
from structlog.testing import capture_logs

from agent.bulk import Ledger, load_orders
from agent.bulk.ledger import IN_FLIGHT, PENDING, SUBMITTING
from agent.bulk.pool import INTERRUPTED_DETAIL
from agent.bulk.ratelimit import SubmitLimiter
from agent.bulk.run import BulkOptions, BulkSummary, run_bulk
from agent.bulk.shard import Shard, in_shard
from agent.bulk.signals import StopRequest
from agent.bulk.storage import AtomicText, guarded
from agent.runner import Target, Worker
from mock_site.data import book_rows
from mock_site.server import MockServer
from pages.errors import StorageError


@pytest.fixture
def target(agent_settings: MakeSettings) -> Target:
    """The demo user on the mock, with a short retry backoff; asking for it marks a test
    `browser` (run_bulk starts the session's Chromium)."""
    return Target.from_settings(agent_settings(user=DEMO, retry_backoff_s=0.1))


class Recorder:
    """An observer that keeps what it is told and can act when a row ends."""

    def __init__(self, on_row_done: object = None) -> None:
        self.notices: list[str] = []
        self.done: list[tuple[str, str]] = []
        self.on_row_done = on_row_done

    def notice(self, message: str) -> None:
        self.notices.append(message)

    def start(self, *, run_id: str, total: int, done: Mapping[str, int], workers: int) -> None:
        self.total = total

    def row_done(self, order: str, outcome: str, detail: str) -> None:
        self.done.append((order, outcome))
        if callable(self.on_row_done):
            self.on_row_done()

    def stop(self) -> None:
        return None


async def run(
    target: Target,
    file: Path,
    observer: Recorder | None = None,
    stop: StopRequest | None = None,
    **options: object,
) -> BulkSummary:
    return await run_bulk(
        target,
        file,
        load_orders(file),
        BulkOptions(**options),  # type: ignore[arg-type]
        observer=observer or Recorder(),
        stop=stop,
    )


# --- pieces without a browser ------------------------------------------------------------------


def test_the_limiter_spaces_slots_across_callers() -> None:
    now = [100.0]
    limiter = SubmitLimiter(30, clock=lambda: now[0])  # one slot every 2 s

    assert [limiter.reserve() for _ in range(3)] == [0.0, 2.0, 4.0]
    now[0] = 110.0  # idle for a while: the next slot is free at once, with no burst credit
    assert [limiter.reserve(), limiter.reserve()] == [0.0, 2.0]


async def test_a_cancelled_wait_does_not_grant_the_slot() -> None:
    limiter = SubmitLimiter(1)
    cancel = asyncio.Event()
    assert await limiter.wait(cancel) is True
    cancel.set()
    assert await limiter.wait(cancel) is False


def test_the_first_stop_request_drains_and_the_second_aborts() -> None:
    stop = StopRequest()
    stop.request()
    assert stop.drain.is_set() and not stop.abort.is_set()
    stop.request()
    assert stop.abort.is_set()


# --- runs against the mock ---------------------------------------------------------------------


async def test_an_in_flight_row_found_on_target_is_recorded_as_such_on_resume(
    target: Target, mock: MockServer, tmp_path: Path
) -> None:
    first, second = book_rows(2)
    file = book_csv(tmp_path / "orders.csv", 2, references=True)
    loaded = load_orders(file)
    # Given a run that died after the first row's submission went through but before its result
    # was recorded,
    with Ledger.open(target.settings.state_dir) as ledger:
        run_id = ledger.start_run(
            input_path=file,
            input_sha256=loaded.sha256,
            rows=loaded.rows,
            options=BulkOptions().outcome_options(target.settings.base_url),
        )
        ledger.mark_in_flight(run_id, 2)
    mock.portal.assign(
        DEMO.email, first["order_number"], first["domain"], first["virtual_account"], True
    )

    # when it is resumed,
    summary = await run(target, file, resume=True)

    # then the same run finishes, the in-flight row is read, not submitted again, and says why.
    assert (summary.run_id, summary.resumed, summary.status) == (run_id, True, "finished")
    with Ledger.open(target.settings.state_dir) as ledger:
        entries = {entry.order_number: entry for entry in ledger.results(run_id)}
    rerun = entries[first["order_number"]]
    assert rerun.status == "already_assigned"
    assert INTERRUPTED_DETAIL in rerun.detail
    assert rerun.attempts == 2
    assert entries[second["order_number"]].status == "assigned"
    assert len(submissions(mock, first["order_number"])) == 1
    assert len(submissions(mock, second["order_number"])) == 1


async def test_without_resume_an_unfinished_run_is_mentioned_and_a_new_one_starts(
    target: Target, tmp_path: Path
) -> None:
    file = write_csv(tmp_path / "orders.csv", [["110000011", "domain", "acme.example", "DEFAULT"]])
    with Ledger.open(target.settings.state_dir) as ledger:
        old = ledger.start_run(
            input_path=file,
            input_sha256=load_orders(file).sha256,
            rows=load_orders(file).rows,
            options=BulkOptions().outcome_options(target.settings.base_url),
        )
    observer = Recorder()

    summary = await run(target, file, observer)

    assert summary.run_id != old
    assert any("--resume" in notice and old in notice for notice in observer.notices)
    assert summary.counts == {"order_not_found": 1}
    with Ledger.open(target.settings.state_dir) as ledger:
        assert ledger.run(old).status == "running"


async def test_an_abort_leaves_rows_in_flight_and_never_records_them_as_failed(
    target: Target, mock: MockServer, tmp_path: Path
) -> None:
    file = book_csv(tmp_path / "orders.csv", 4, references=True)
    mock.set_faults(json_latency_ms=100)
    stop = StopRequest()

    def abort() -> None:
        stop.request()
        stop.request()

    summary = await run(target, file, Recorder(abort), stop, workers=2)

    assert summary.status == "interrupted"
    assert "failed" not in summary.counts
    assert summary.counts.get("assigned", 0) >= 1
    assert summary.counts.get(PENDING, 0) + summary.counts.get(IN_FLIGHT, 0) >= 2
    mock.set_faults(json_latency_ms=0)

    resumed = await run(target, file, resume=True, workers=2)

    assert resumed.status == "finished"
    # A row the abort caught between its commit as submitting and the Yes it guards is only
    # looked at on resume, never submitted again: it ends failed, with advice, if Yes never
    # reached the portal. Every other row ends on its target, and no order is submitted twice.
    failed = resumed.counts.get("failed", 0)
    assert set(resumed.counts) <= {"assigned", "already_assigned", "failed"}
    assert failed <= summary.counts.get(SUBMITTING, 0)
    sent = [len(submissions(mock, row["order_number"])) for row in book_rows(4)]
    assert all(count <= 1 for count in sent)
    assert sent.count(0) == failed


async def test_the_submit_rate_cap_spaces_submissions_across_workers(
    target: Target, mock: MockServer, tmp_path: Path
) -> None:
    file = book_csv(tmp_path / "orders.csv", 2, references=True)

    summary = await run(target, file, workers=2, max_submits_per_minute=20)  # one every 3 s

    assert summary.counts == {"assigned": 2}
    times = sorted(
        datetime.fromisoformat(entry["at"])
        for row in book_rows(2)
        for entry in (mock.order(row["order_number"]) or {})["submissions"]
    )
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    # The slots are 3 s apart at the Yes clicks; the portal records each submission when its
    # request arrives, which under a loaded machine can lag the click by a different 100-200 ms
    # for each order. Without the cap the two workers submit well under a second apart.
    assert len(gaps) == 1 and gaps[0] >= 2.5, gaps


async def test_a_500_after_the_submit_ends_assigned_with_one_submission(
    target: Target, mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write_csv(
        tmp_path / "orders.csv", [["110000002", "domain", "globex.example", "Production"]]
    )
    original = Worker._step_done

    def arm_fault_before_yes(worker: Worker, number: int, name: str) -> None:
        # Armed once Submit is clicked, so the next call to the assign endpoint is the submit.
        if number == 9 and len(submissions(mock, "110000002")) == 0:
            mock.set_faults(fail_next=[{"path_contains": "/assign", "count": 1, "when": "after"}])
        original(worker, number, name)

    monkeypatch.setattr(Worker, "_step_done", arm_fault_before_yes)

    summary = await run(target, file, workers=1)

    assert summary.counts == {"assigned": 1}
    assert len(submissions(mock, "110000002")) == 1
    with Ledger.open(target.settings.state_dir) as ledger:
        (entry,) = ledger.results(summary.run_id)
    assert "Something went wrong" in f"{entry.detail} {entry.last_error}"


async def test_workers_share_one_sign_in_per_session_expiry(
    target: Target, mock: MockServer, tmp_path: Path
) -> None:
    # Given four workers on twelve orders, and every session expired once four rows are done
    file = book_csv(tmp_path / "orders.csv", 12)
    done: list[bool] = []

    def expire_once() -> None:
        done.append(True)
        if len(done) == 4:
            mock.set_faults(expire_sessions_now=True)

    # When the file is run
    summary = await run(target, file, Recorder(on_row_done=expire_once), workers=4)
    # Then every order is assigned once, and the portal saw two sign-ins in all: the first and
    # one after the expiry, which the other workers adopted instead of signing in themselves
    assert summary.counts == {"assigned": 12}
    assert all(len(submissions(mock, row["order_number"])) == 1 for row in book_rows(12))
    assert mock.stats()["logins"] == 2


async def test_a_worker_opens_a_fresh_context_every_few_orders_without_signing_in_again(
    agent_settings: MakeSettings, mock: MockServer, tmp_path: Path
) -> None:
    # Given one worker whose context is renewed every 2 orders, on 5 orders
    target = Target.from_settings(agent_settings(user=DEMO, context_orders=2))
    file = book_csv(tmp_path / "orders.csv", 5)
    contexts: list[object] = []
    # When the file is run, counting the browser contexts it opens
    with capture_logs() as logs:
        original = Worker._open

        async def counting(worker: Worker) -> object:
            if worker._session is None:
                contexts.append(True)
            return await original(worker)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Worker, "_open", counting)
            summary = await run(target, file, workers=1)
    # Then every order is assigned, three contexts served them (2, 2 and 1 orders), and the
    # session went along: one sign-in on the portal in all
    assert summary.counts == {"assigned": 5}
    assert len(contexts) == 3
    assert [e["orders"] for e in logs if e["event"] == "context_recycled"] == [2, 2]
    assert mock.stats()["logins"] == 1


# --- one order, one truth ----------------------------------------------------------------------


async def test_one_order_under_its_two_numbers_is_assigned_once_the_other_row_is_a_conflict(
    target: Target, mock: MockServer, tmp_path: Path
) -> None:
    # Given the Sales Order for one account and its Web Order for another,
    file = write_csv(
        tmp_path / "orders.csv",
        [
            ["110000012", "domain", "globex.example", "DEFAULT", "PO-SO"],
            ["80000012", "domain", "acme.example", "DEFAULT", "PO-WO"],
        ],
    )

    # when the file runs,
    summary = await run(target, file, workers=1)

    # then the first row assigns it, the second is refused naming both, and it moved once.
    assert summary.counts == {"assigned": 1, "order_conflict": 1}
    with Ledger.open(target.settings.state_dir) as ledger:
        first, second = ledger.results(summary.run_id)
    assert (first.status, first.sales_order) == ("assigned", "110000012")
    assert (second.status, second.sales_order) == ("order_conflict", "110000012")
    assert second.detail.startswith(
        "Sales Order 110000012 is asked for by row 2 as 110000012, for globex.example / DEFAULT, "
        "and by this row 3 as 80000012, for acme.example / DEFAULT."
    )
    assert len(submissions(mock, "110000012")) == 1
    order = mock.order("110000012")
    assert order is not None
    assert {line["domain"] for line in order["lines"]} == {"globex.example"}


async def test_shards_sharing_a_state_folder_never_move_one_order_twice(
    target: Target, mock: MockServer, tmp_path: Path
) -> None:
    book = book_rows(2)
    sales, web = book[1]["order_number"], str(9000000002)  # the Web Order of the same order
    assert in_shard(sales, 2, 2) and in_shard(web, 1, 2)
    file = write_csv(
        tmp_path / "orders.csv",
        [
            [sales, "domain", book[1]["domain"], book[1]["virtual_account"]],
            [web, "domain", book[0]["domain"], book[0]["virtual_account"]],
        ],
    )

    one = await run(target, file, shard=Shard(1, 2))
    two = await run(target, file, shard=Shard(2, 2))

    assert one.counts == {"assigned": 1}
    assert two.counts == {"order_conflict": 1}
    with Ledger.open(target.settings.state_dir) as ledger:
        (refused,) = ledger.results(two.run_id)
    assert f"for {book[0]['domain']} / {book[0]['virtual_account']} (in run {one.run_id}" in (
        refused.detail
    )
    assert len(submissions(mock, sales)) == 1


async def test_a_dry_run_reports_the_conflict_and_changes_nothing(
    target: Target, mock: MockServer, tmp_path: Path
) -> None:
    file = write_csv(
        tmp_path / "orders.csv",
        [
            ["80000012", "domain", "acme.example", "DEFAULT"],
            ["110000012", "domain", "globex.example", "DEFAULT"],
        ],
    )

    summary = await run(target, file, workers=1, dry_run=True)

    assert summary.counts == {"would_assign": 1, "order_conflict": 1}
    assert mock.stats()["submissions"] == 0


# --- the disk and the folders ------------------------------------------------------------------


async def test_a_ledger_that_cannot_record_the_submit_intent_stops_the_run_before_yes(
    target: Target, mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write_csv(
        tmp_path / "orders.csv", [["110000002", "domain", "globex.example", "Production"]]
    )

    def disk_full(ledger: Ledger, run_id: str, row_number: int) -> None:
        raise StorageError(f"cannot write the ledger {ledger.path}: database or disk is full")

    monkeypatch.setattr(Ledger, "mark_submitting", disk_full)

    with pytest.raises(StorageError, match=r"^cannot write the ledger .*ledger\.sqlite3: database"):
        await run(target, file, workers=1)

    assert len(submissions(mock, "110000002")) == 0  # Yes was never clicked
    with Ledger.open(target.settings.state_dir) as ledger:
        (run_id,) = [row[0] for row in ledger._db.execute("SELECT id FROM runs").fetchall()]
        (entry,) = ledger.results(run_id)
    assert entry.status == IN_FLIGHT


async def test_a_report_the_disk_refuses_leaves_the_run_unfinished_for_resume(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write_csv(tmp_path / "orders.csv", [["110000011", "domain", "acme.example", "DEFAULT"]])
    report = tmp_path / "out" / "r.csv"
    flush_to_disk = AtomicText.flush_to_disk

    def disk_full(self: AtomicText) -> None:
        with guarded("write", self.path):  # as a full disk answers the flush
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(AtomicText, "flush_to_disk", disk_full)
    with pytest.raises(StorageError) as caught:
        await run(target, file, reports=(report,))
    monkeypatch.setattr(AtomicText, "flush_to_disk", flush_to_disk)

    assert str(caught.value).startswith(f"cannot write {report}: No space left on device. ")
    assert "ccw-agent report export" in str(caught.value)
    assert not report.exists() and list(report.parent.iterdir()) == []
    # Then, with space again, --resume finds the unfinished run, runs nothing, writes the report.
    resumed = await run(target, file, resume=True, reports=(report,))
    assert (resumed.resumed, resumed.status, resumed.counts) == (
        True,
        "finished",
        {"order_not_found": 1},
    )
    assert report.exists()
