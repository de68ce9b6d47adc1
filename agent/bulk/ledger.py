"""The bulk ledger: one SQLite file that records every row's state so a run can resume safely.

Each state change is committed with `synchronous=FULL` before the runner takes its next browser
action, so after a crash the ledger tells exactly which rows were finished, which never started,
and which were in flight (those may or may not have been submitted; re-read the portal first).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from agent.bulk.csv_input import CsvRow, InvalidRow
from agent.errors import ConfigError
from flows.models import AssignResult, OrderView

LEDGER_FILE = "ledger.sqlite3"
SCHEMA_VERSION = 1
PENDING = "pending"
IN_FLIGHT = "in_flight"
INVALID_INPUT = "invalid_input"
RunStatus = Literal["running", "finished", "interrupted"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id            TEXT PRIMARY KEY,
    input_path    TEXT NOT NULL,
    input_sha256  TEXT NOT NULL,
    options       TEXT NOT NULL,
    shard         TEXT,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted'))
);
CREATE INDEX IF NOT EXISTS runs_by_input ON runs (input_sha256, shard, status);
CREATE TABLE IF NOT EXISTS rows (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    row_number    INTEGER NOT NULL,
    order_number  TEXT NOT NULL,
    target        TEXT NOT NULL,
    reference     TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    started_at    TEXT,
    updated_at    TEXT NOT NULL,
    before        TEXT,
    after         TEXT,
    detail        TEXT NOT NULL DEFAULT '',
    artifacts     TEXT NOT NULL DEFAULT '[]',
    duration_s    REAL,
    PRIMARY KEY (run_id, row_number)
);
CREATE INDEX IF NOT EXISTS rows_by_status ON rows (run_id, status);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _options_json(options: Mapping[str, Any]) -> str:
    return json.dumps(dict(options), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class RunInfo:
    """One bulk run as the ledger knows it."""

    id: str
    input_path: str
    input_sha256: str
    options: dict[str, Any]
    shard: str | None
    started_at: str
    ended_at: str | None
    status: RunStatus


@dataclass(frozen=True)
class PendingRow:
    """A row still to do; `in_flight` means a previous attempt began and its end is unknown."""

    row: CsvRow
    in_flight: bool
    attempts: int


@dataclass(frozen=True)
class RowEntry:
    """Everything the ledger holds about one input row, for the report."""

    row_number: int
    order_number: str
    target: dict[str, str | None]
    reference: str
    status: str
    attempts: int
    last_error: str | None
    started_at: str | None
    updated_at: str
    before: OrderView | None
    after: OrderView | None
    detail: str
    artifacts: tuple[str, ...]
    duration_s: float | None


class Ledger:
    """The state folder's SQLite ledger; safe to share between a few worker threads."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        # One connection behind a lock: writes are tiny and SQLite serialises them anyway.
        self._lock = threading.Lock()

    @classmethod
    def open(cls, state_dir: str | Path) -> Ledger:
        """Open (creating if needed) `ledger.sqlite3` in the state folder."""
        folder = Path(state_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LEDGER_FILE
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise ConfigError(f"the ledger {path} cannot use WAL journaling (got {mode})")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=10000")
            _migrate(db, path)
        except BaseException:
            db.close()
            raise
        return cls(db, path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def start_run(
        self,
        *,
        input_path: str | Path,
        input_sha256: str,
        rows: Iterable[CsvRow],
        invalid: Iterable[InvalidRow] = (),
        options: Mapping[str, Any] | None = None,
        shard: str | None = None,
    ) -> str:
        """Record a new run with its rows pending (invalid rows already final); return its id."""
        run_id = str(uuid.uuid4())
        now = _now()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (id, input_path, input_sha256, options, shard, started_at,"
                " status) VALUES (?, ?, ?, ?, ?, ?, 'running')",
                (run_id, str(input_path), input_sha256, _options_json(options or {}), shard, now),
            )
            db.executemany(
                "INSERT INTO rows (run_id, row_number, order_number, target, reference, status,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, r.row, r.order_number, _target_json(r), r.reference, PENDING, now)
                    for r in rows
                ],
            )
            db.executemany(
                "INSERT INTO rows (run_id, row_number, order_number, target, reference, status,"
                " detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        bad.row,
                        bad.order_number,
                        json.dumps({k: v for k, v in bad.cells.items() if k not in _NOT_TARGET}),
                        bad.cells.get("reference", ""),
                        INVALID_INPUT,
                        bad.reason,
                        now,
                    )
                    for bad in invalid
                ],
            )
        return run_id

    def find_resumable(
        self, input_sha256: str, shard: str | None, *, options: Mapping[str, Any] | None = None
    ) -> str | None:
        """The latest unfinished run of the same file and shard (and options, when given)."""
        sql = (
            "SELECT id, options FROM runs WHERE input_sha256 = ? AND shard IS ?"
            " AND status != 'finished' ORDER BY started_at DESC, rowid DESC"
        )
        with self._lock:
            found = self._db.execute(sql, (input_sha256, shard)).fetchall()
        wanted = None if options is None else _options_json(options)
        for run_id, stored in found:
            if wanted is None or stored == wanted:
                return str(run_id)
        return None

    def run(self, run_id: str) -> RunInfo:
        """The run's record; KeyError if the ledger has no such run."""
        with self._lock:
            found = self._db.execute(
                "SELECT id, input_path, input_sha256, options, shard, started_at, ended_at, status"
                " FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()
        if found is None:
            raise KeyError(f"the ledger has no run {run_id}")
        return RunInfo(
            id=found[0],
            input_path=found[1],
            input_sha256=found[2],
            options=json.loads(found[3]),
            shard=found[4],
            started_at=found[5],
            ended_at=found[6],
            status=found[7],
        )

    def pending_rows(self, run_id: str) -> list[PendingRow]:
        """Rows not finished (pending or in flight), in file order."""
        with self._lock:
            found = self._db.execute(
                "SELECT row_number, order_number, target, reference, status, attempts FROM rows"
                " WHERE run_id = ? AND status IN (?, ?) ORDER BY row_number",
                (run_id, PENDING, IN_FLIGHT),
            ).fetchall()
        return [
            PendingRow(
                row=CsvRow.model_validate(
                    {"row": number, "order_number": order, "reference": ref, **json.loads(target)}
                ),
                in_flight=status == IN_FLIGHT,
                attempts=attempts,
            )
            for number, order, target, ref, status, attempts in found
        ]

    def mark_in_flight(self, run_id: str, row_number: int) -> None:
        """An attempt on this row begins (counted in attempts); call before every try."""
        now = _now()
        self._update_row(
            run_id,
            row_number,
            "status = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?),"
            " updated_at = ?",
            (IN_FLIGHT, now, now),
        )

    def record_attempt_error(self, run_id: str, row_number: int, error: str) -> None:
        """An attempt failed with a system error; the row stays in flight until its result."""
        self._update_row(run_id, row_number, "last_error = ?, updated_at = ?", (error, _now()))

    def record_result(self, run_id: str, row_number: int, result: AssignResult) -> None:
        """The row's final outcome with its evidence."""
        self._update_row(
            run_id,
            row_number,
            "status = ?, attempts = MAX(attempts, ?), detail = ?, before = ?, after = ?,"
            " artifacts = ?, duration_s = ?, updated_at = ?",
            (
                result.outcome.value,
                result.attempts,
                result.detail,
                None if result.before is None else result.before.model_dump_json(),
                None if result.after is None else result.after.model_dump_json(),
                json.dumps(list(result.artifacts)),
                result.duration_s,
                _now(),
            ),
        )

    def _update_row(
        self, run_id: str, row_number: int, assignments: str, values: tuple[object, ...]
    ) -> None:
        """One committed UPDATE of one row (`assignments` is this module's own SQL, no input)."""
        with self._transaction() as db:
            changed = db.execute(
                f"UPDATE rows SET {assignments} WHERE run_id = ? AND row_number = ?",
                (*values, run_id, row_number),
            ).rowcount
            _require_row(changed, run_id, row_number)

    def resume_run(self, run_id: str) -> None:
        """Mark an unfinished run as running again (a crash leaves it so; --resume finds it)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE runs SET status = 'running', ended_at = NULL"
                " WHERE id = ? AND status != 'finished'",
                (run_id,),
            ).rowcount
            if changed == 0:
                raise KeyError(f"the ledger has no unfinished run {run_id}")

    def finish_run(self, run_id: str, status: Literal["finished", "interrupted"]) -> None:
        """Close the run; an interrupted run can be resumed later, a finished one cannot."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", (status, _now(), run_id)
            ).rowcount
            if changed == 0:
                raise KeyError(f"the ledger has no run {run_id}")

    def results(self, run_id: str) -> list[RowEntry]:
        """Every row of the run, in file order, whatever its state."""
        with self._lock:
            found = self._db.execute(
                "SELECT row_number, order_number, target, reference, status, attempts, last_error,"
                " started_at, updated_at, before, after, detail, artifacts, duration_s"
                " FROM rows WHERE run_id = ? ORDER BY row_number",
                (run_id,),
            ).fetchall()
        return [
            RowEntry(
                row_number=r[0],
                order_number=r[1],
                target=json.loads(r[2]),
                reference=r[3],
                status=r[4],
                attempts=r[5],
                last_error=r[6],
                started_at=r[7],
                updated_at=r[8],
                before=None if r[9] is None else OrderView.model_validate_json(r[9]),
                after=None if r[10] is None else OrderView.model_validate_json(r[10]),
                detail=r[11],
                artifacts=tuple(json.loads(r[12])),
                duration_s=r[13],
            )
            for r in found
        ]


_NOT_TARGET = {"order_number", "reference"}


def _target_json(row: CsvRow) -> str:
    return row.model_dump_json(exclude={"row", *_NOT_TARGET})


def _require_row(changed: int, run_id: str, row_number: int) -> None:
    if changed == 0:
        raise KeyError(f"run {run_id} has no row {row_number}")


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"the ledger {path} was written by a newer ccw-agent (schema {version}; this one "
            f"knows {SCHEMA_VERSION}); upgrade ccw-agent or use another state folder"
        )
    if version == 0:
        # One script, one transaction: a half-created schema never gets a version number.
        db.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        )
