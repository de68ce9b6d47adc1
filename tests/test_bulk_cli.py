"""`ccw-agent bulk` and `ccw-agent report merge` as a user runs them: subprocesses on the mock."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers import AgentCli, book_csv, submissions, write_csv

from agent.bulk import StateLock, in_shard
from agent.bulk.ledger import LEDGER_FILE
from agent.bulk.lock import OrderLocks
from mock_site.data import book_rows
from mock_site.server import MockServer

FINAL = "status NOT IN ('pending', 'in_flight')"
# The runs' settings beyond the agent_cli fixture's: a short retry backoff, every wait 10 s.
QUICK = {"CCW_RETRY_BACKOFF_S": "0.1", "CCW_TIMEOUT_MS": "10000"}


def start_bulk(agent: AgentCli, *args: str | Path) -> subprocess.Popen[str]:
    """`ccw-agent bulk ARGS` started in the background, in a process group of its own, so that a
    kill reaches the browser too, as when a machine dies."""
    return subprocess.Popen(
        agent.command("bulk", *args),
        env=agent.env(**QUICK),
        cwd=agent.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def ledger_query(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    path = tmp_path / "state" / LEDGER_FILE
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # the schema is not there yet
    finally:
        db.close()


def wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll a subprocess's visible state (its ledger) until the condition holds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the bulk run"
        pause.wait(0.2)


def finished_rows(tmp_path: Path) -> int:
    found = ledger_query(tmp_path, f"SELECT COUNT(*) FROM rows WHERE {FINAL}")
    return int(found[0][0]) if found else 0  # type: ignore[call-overload]


def read_csv_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def on_target(mock: MockServer, row: dict[str, str]) -> bool:
    found = mock.order(row["order_number"])
    assert found is not None
    return all(
        line["domain"] == row["domain"] and line["virtual_account"] == row["virtual_account"]
        for line in found["lines"]
        if not line["entitled"]
    )


def test_an_invalid_file_is_refused_whole_with_every_problem(
    mock: MockServer, tmp_path: Path
) -> None:
    # Without a Chromium path: the file is refused before any browser would start
    file = write_csv(
        tmp_path / "orders.csv",
        [
            ["110000001", "domain", "acme.example", "DEFAULT"],
            ["110000002", "domian", "globex.example", "Production"],
            ["1.1E+08", "domain", "acme.example", "DEFAULT"],
        ],
    )

    done = AgentCli(tmp_path, base_url=mock.home_url)("bulk", file, **QUICK)

    assert done.returncode == 2
    assert "2 problems in the input, nothing was run" in done.stderr
    assert "orders.csv row 3, column search_by: 'domian' is not one of" in done.stderr
    assert "orders.csv row 4, column order_number: '1.1E+08' looks like a number" in done.stderr
    assert not (tmp_path / "state" / LEDGER_FILE).exists()
    assert mock.stats()["logins"] == 0


def test_a_good_run_signs_in_once_exits_0_and_reports_every_row_safely(
    mock: MockServer, tmp_path: Path, agent_cli: AgentCli
) -> None:
    file = write_csv(
        tmp_path / "orders.csv",
        [
            ["110000001", "domain", "acme.example", "DEFAULT", '=HYPERLINK("x")'],
            ["110000002", "domain", "globex.example", "Production", "PO-2"],
            ["110000003", "domain", "acme.example", "DC West", "@SUM(1)"],
        ],
    )

    done = agent_cli(
        "bulk", file, "--workers", "2", "--report", "out.csv", "--report", "out.json", **QUICK
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert mock.stats()["logins"] == 1
    rows = read_csv_report(tmp_path / "out.csv")
    assert [(r["row"], r["order_number"], r["outcome"]) for r in rows] == [
        ("2", "110000001", "assigned"),
        ("3", "110000002", "assigned"),
        ("4", "110000003", "already_assigned"),
    ]
    assert rows[0]["reference"] == '\'=HYPERLINK("x")'
    assert rows[2]["reference"] == "'@SUM(1)"
    assert rows[1]["after"] == "Globex Industries / Production"
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert document["summary"] == {"already_assigned": 1, "assigned": 2}
    assert document["rows"][0]["reference"] == '=HYPERLINK("x")'
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    row_done = [e for e in events if e["event"] == "bulk_row_done"]
    assert {e["order"] for e in row_done} == {"110000001", "110000002", "110000003"}
    assert all(e["run_id"] for e in row_done)


@pytest.mark.parametrize(
    ("rows", "faults", "code"),
    [
        ([["110000004", "domain", "acme.example", "DEFAULT"]], None, 1),
        (
            [["110000001", "domain", "acme.example", "DEFAULT"]],
            {"fail_next": [{"path_contains": "/api/search", "count": 50}]},
            3,
        ),
    ],
    ids=["not-eligible-needs-attention", "failed-after-retries"],
)
def test_exit_codes_follow_the_worst_outcome(
    mock: MockServer,
    tmp_path: Path,
    agent_cli: AgentCli,
    rows: list[list[str]],
    faults: dict[str, Any] | None,
    code: int,
) -> None:
    if faults:
        mock.set_faults(**faults)
    file = write_csv(tmp_path / "o.csv", rows)
    done = agent_cli("bulk", file, "--report", "r.csv", **QUICK, CCW_ATTEMPTS="2")
    assert done.returncode == code, done.stderr[-2000:]
    assert len(read_csv_report(tmp_path / "r.csv")) == 1


def test_a_second_run_on_the_same_state_folder_exits_5(mock: MockServer, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "orders.csv", [["110000001", "domain", "acme.example", "DEFAULT"]])
    with StateLock(tmp_path / "state"):  # refused before any browser would start
        done = AgentCli(tmp_path, base_url=mock.home_url)("bulk", file, **QUICK)
    assert done.returncode == 5
    assert f"PID {os.getpid()}" in done.stderr
    assert "is using the state folder" in done.stderr


def test_shards_partition_the_file_and_their_reports_merge_and_dry_run_submits_nothing(
    mock: MockServer, tmp_path: Path, agent_cli: AgentCli
) -> None:
    rows = book_rows(6)
    file = book_csv(tmp_path / "orders.csv", 6)

    one = agent_cli("bulk", file, "--shard", "1/2", "--dry-run", "--report", "one.csv", **QUICK)
    two = agent_cli("bulk", file, "--shard", "2/2", "--dry-run", "--report", "two.json", **QUICK)

    assert (one.returncode, two.returncode) == (0, 0), one.stderr[-1000:] + two.stderr[-1000:]
    first = {r["order_number"] for r in read_csv_report(tmp_path / "one.csv")}
    assert first == {r["order_number"] for r in rows if in_shard(r["order_number"], 1, 2)}
    merged = agent_cli("report", "merge", "all.csv", "one.csv", "two.json")
    assert merged.returncode == 0, merged.stderr
    report = read_csv_report(tmp_path / "all.csv")
    assert [r["order_number"] for r in report] == [r["order_number"] for r in rows]
    assert {r["outcome"] for r in report} == {"would_assign"}
    assert mock.stats()["submissions"] == 0
    assert all(not submissions(mock, r["order_number"]) for r in rows)

    overlap = agent_cli("report", "merge", "bad.csv", "one.csv", "one.csv")
    assert overlap.returncode == 2
    assert "the reports overlap" in overlap.stderr


def test_a_run_killed_mid_way_resumes_without_submitting_twice(
    mock: MockServer, tmp_path: Path, agent_cli: AgentCli
) -> None:
    rows = book_rows(6)
    file = book_csv(tmp_path / "orders.csv", 6)
    mock.set_faults(json_latency_ms=150, page_latency_ms=100)
    run = start_bulk(agent_cli, file, "--workers", "2", "--report", "r.csv")
    try:
        wait_until(lambda: finished_rows(tmp_path) >= 2)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    assert finished_rows(tmp_path) < 6
    assert ledger_query(tmp_path, "SELECT status FROM runs") == [("running",)]
    at_kill = dict(ledger_query(tmp_path, "SELECT order_number, status FROM rows"))
    mock.set_faults(json_latency_ms=0, page_latency_ms=0)

    done = agent_cli("bulk", file, "--resume", "--report", "r.csv", **QUICK)

    assert ledger_query(tmp_path, "SELECT status FROM runs") == [("finished",)]
    report = {r["order_number"]: r for r in read_csv_report(tmp_path / "r.csv")}
    assert len(report) == 6
    for row in rows:
        order = row["order_number"]
        assert len(submissions(mock, order)) <= 1
        if report[order]["outcome"] == "failed":
            # Killed between the commit before Yes and the click reaching the portal: whether
            # it was submitted cannot be known, so it is only looked at, and left to a person.
            assert at_kill[order] == "submitting"
            assert submissions(mock, order) == []
            assert "It was not submitted again" in report[order]["detail"]
        else:
            assert report[order]["outcome"] in {"assigned", "already_assigned"}
            assert on_target(mock, row), row
    failed = any(r["outcome"] == "failed" for r in report.values())
    assert done.returncode == (3 if failed else 0), done.stderr[-2000:]


def test_ctrl_c_finishes_rows_in_progress_exits_130_and_resume_does_the_rest(
    mock: MockServer, tmp_path: Path, agent_cli: AgentCli
) -> None:
    rows = book_rows(6)
    file = book_csv(tmp_path / "orders.csv", 6)
    mock.set_faults(json_latency_ms=100)
    run = start_bulk(agent_cli, file, "--workers", "2", "--report", "r.csv")
    try:
        wait_until(lambda: finished_rows(tmp_path) >= 1)
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=120) == 130
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    statuses = [status for (status,) in ledger_query(tmp_path, "SELECT status FROM rows")]
    assert "in_flight" not in statuses
    assert "pending" in statuses
    assert ledger_query(tmp_path, "SELECT status FROM runs") == [("interrupted",)]
    assert {r["outcome"] for r in read_csv_report(tmp_path / "r.csv")} == {"assigned", "pending"}
    mock.set_faults(json_latency_ms=0)

    done = agent_cli("bulk", file, "--resume", "--report", "r.csv", **QUICK)

    assert done.returncode == 0, done.stderr[-2000:]
    assert {r["outcome"] for r in read_csv_report(tmp_path / "r.csv")} == {"assigned"}
    assert all(len(submissions(mock, row["order_number"])) == 1 for row in rows)


# --- the submit that a crash cut off -----------------------------------------------------------

# `ccw-agent` with one change: the whole process group dies (SIGKILL) right after Yes was
# clicked and confirmed, before the agent re-reads the assignment.
KILLED_AFTER_YES = textwrap.dedent(
    """
    import os, signal
    from agent.runner import Worker

    original = Worker._step_done

    def step_done(self, number, name):
        if (number, name) == (10, "confirm"):
            os.killpg(os.getpgid(0), signal.SIGKILL)
        original(self, number, name)

    Worker._step_done = step_done
    from agent.cli import app
    app()
    """
)


@pytest.mark.parametrize(
    ("shows_after_s", "outcome", "code"),
    [(8.0, "assigned", 0), (600.0, "failed", 3)],
    ids=["shown-late", "never-shown"],
)
def test_a_run_killed_between_yes_and_the_re_read_never_submits_again_on_resume(
    mock: MockServer,
    tmp_path: Path,
    agent_cli: AgentCli,
    shows_after_s: float,
    outcome: str,
    code: int,
) -> None:
    # Given a portal that shows an assignment only some seconds after the submission,
    mock.set_faults(assignment_visible_after_s=shows_after_s)
    file = write_csv(
        tmp_path / "orders.csv", [["110000002", "domain", "globex.example", "Production"]]
    )

    # and a run killed after Yes, before it could read the result,
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_YES, "bulk", str(file), "--report", "r.csv"],
        env=agent_cli.env(**QUICK),
        cwd=agent_cli.cwd,
        capture_output=True,
        text=True,
        timeout=240,
        start_new_session=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert ledger_query(tmp_path, "SELECT status FROM rows") == [("submitting",)]
    assert len(submissions(mock, "110000002")) == 1

    # when it is resumed,
    done = agent_cli("bulk", file, "--resume", "--report", "r.csv", **QUICK)

    # then nothing is submitted again: the row ends assigned once the portal shows it, or
    # failed with the advice to check the order if it never does.
    assert done.returncode == code, done.stderr[-2000:]
    assert len(submissions(mock, "110000002")) == 1
    (row,) = read_csv_report(tmp_path / "r.csv")
    assert row["outcome"] == outcome
    assert "An earlier run clicked Yes on this order" in row["detail"]
    if outcome == "failed":
        assert "It was not submitted again" in row["detail"]
        assert "ccw-agent show 110000002" in row["detail"]


# --- one process per order ---------------------------------------------------------------------


def assign_json(
    agent: AgentCli, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`ccw-agent assign ARGS --json` with a state folder of its own, and the result it printed."""
    env = {"CCW_STATE_DIR": str(agent.cwd / "other-state"), **QUICK, **env}
    done = agent("assign", *args, "--json", **env)
    return done, json.loads(done.stdout) if done.stdout.startswith("{") else {}


def test_assign_during_a_bulk_run_of_the_same_order_is_refused(
    mock: MockServer, tmp_path: Path, agent_cli: AgentCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # order locks of this test only
    mock.set_faults(json_latency_ms=1500)  # the bulk run works on the order for a long while
    file = write_csv(
        tmp_path / "orders.csv", [["110000012", "domain", "globex.example", "DEFAULT"]]
    )
    running = start_bulk(agent_cli, file, "--workers", "1", "--report", "r.csv")
    try:
        wait_until(lambda: ledger_query(tmp_path, "SELECT status FROM rows") == [("in_flight",)])

        done, result = assign_json(
            agent_cli,
            "110000012",
            "--domain",
            "acme.example",
            "--virtual-account",
            "DEFAULT",
            CCW_TIMEOUT_MS="2000",
        )

        assert done.returncode == 3, done.stderr[-2000:]
        assert result["outcome"] == "failed"
        assert result["detail"].startswith(
            f"another ccw-agent process (PID {running.pid}) is working on order 110000012"
        )
        assert running.wait(timeout=180) == 0
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
    assert len(submissions(mock, "110000012")) == 1
    order = mock.order("110000012")
    assert order is not None and {line["domain"] for line in order["lines"]} == {"globex.example"}


def test_an_order_asked_by_its_web_order_waits_for_the_lock_of_its_sales_order(
    mock: MockServer, tmp_path: Path, agent_cli: AgentCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with OrderLocks(urlsplit(mock.home_url).netloc, wait_s=0) as mine:
        # as another ccw-agent process working on the Sales Order
        asyncio.run(mine.hold("110000012"))

        done, result = assign_json(
            agent_cli,
            "80000012",
            "--domain",
            "acme.example",
            "--virtual-account",
            "DEFAULT",
            CCW_TIMEOUT_MS="3000",
        )

    assert done.returncode == 3, done.stderr[-2000:]
    assert result["detail"].startswith(
        f"another ccw-agent process (PID {os.getpid()}) is working on order 110000012; waited 3 s"
    )
    assert submissions(mock, "110000012") == []


# --- the disk and the folders ------------------------------------------------------------------


def test_a_report_folder_that_fails_leaves_the_run_unfinished_and_export_writes_it(
    tmp_path: Path, agent_cli: AgentCli
) -> None:
    file = write_csv(tmp_path / "orders.csv", [["110000011", "domain", "acme.example", "DEFAULT"]])
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "reports").write_text("a file where the reports folder should be")

    done = agent_cli("bulk", file, **QUICK)

    assert done.returncode == 3
    (message,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert message.startswith(
        f"error: cannot create the folder {tmp_path / 'state' / 'reports'}: a file of that name "
        "is in the way. "
        "Every result is in the ledger and the run "
    )
    assert "Traceback" not in done.stderr
    ((run_id, status),) = ledger_query(tmp_path, "SELECT id, status FROM runs")
    assert status == "running"
    assert ledger_query(tmp_path, "SELECT status FROM rows") == [("order_not_found",)]

    exported = agent_cli(
        "report", "export", str(run_id)[:8], "--report", "again.csv", "--state-dir", "state"
    )

    assert exported.returncode == 0, exported.stderr
    assert [(r["order_number"], r["outcome"]) for r in read_csv_report(tmp_path / "again.csv")] == [
        ("110000011", "order_not_found")
    ]
    assert ledger_query(tmp_path, "SELECT status FROM runs") == [("finished",)]
    unknown = agent_cli("report", "export", "nope", "--state-dir", "state")
    assert unknown.returncode == 2
    assert "has no run 'nope'" in unknown.stderr


def test_a_state_folder_that_cannot_be_made_is_exit_3_naming_it(
    mock: MockServer, tmp_path: Path
) -> None:
    file = write_csv(tmp_path / "orders.csv", [["110000011", "domain", "acme.example", "DEFAULT"]])
    (tmp_path / "file").write_text("")

    state = tmp_path / "file" / "state"
    done = AgentCli(tmp_path, base_url=mock.home_url)(
        "bulk", file, **QUICK, CCW_STATE_DIR=str(state)
    )

    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert f"{tmp_path / 'file' / 'state'}" in done.stderr
    assert "Not a directory" in done.stderr
