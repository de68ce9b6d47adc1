"""The bulk ledger: one SQLite file that records every row's state so a run can resume safely.

Each state change is committed with `synchronous=FULL` before the runner takes its next browser
action, so after a crash the ledger tells exactly which rows were finished, which never started,
which were in flight before the irreversible click (run them again: the flow re-reads first) and
which were `submitting` (Yes may have been clicked: only look, never submit again).

It also holds the claims: which target each Sales Order was first taken for, per input file and
portal, so that one order asked under two numbers (or two spellings) is never moved twice.
Rows and results stream in and out in batches; nothing here holds a whole run in memory.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from agent.bulk.csv_input import CsvRow, InvalidRow
from agent.bulk.storage import guarded, make_folder
from flows.models import AssignResult, OrderView
from pages.errors import ConfigError
from pages.orders import order_key

LEDGER_FILE = "ledger.sqlite3"
SCHEMA_VERSION = 2
PENDING = "pending"
IN_FLIGHT = "in_flight"
# Committed immediately before Yes: the submission may have reached the portal.
SUBMITTING = "submitting"
INVALID_INPUT = "invalid_input"
UNFINISHED = (PENDING, IN_FLIGHT, SUBMITTING)
RunStatus = Literal["running", "finished", "interrupted"]
BATCH_ROWS = 500

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
# Each entry upgrades the schema from its key's version to the next one.
_UPGRADES = {
    1: """
ALTER TABLE rows ADD COLUMN sales_order TEXT;
CREATE TABLE IF NOT EXISTS claims (
    scope         TEXT NOT NULL,
    sales_order   TEXT NOT NULL,
    target        TEXT NOT NULL,
    target_text   TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    row_number    INTEGER NOT NULL,
    order_number  TEXT NOT NULL,
    claimed_at    TEXT NOT NULL,
    PRIMARY KEY (scope, sales_order)
);
""",
}


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
class OrderRow:
    """A row to read, not to assign (`audit`): its order and, when the file gives one, the
    target as written (search_by, smart_account, virtual_account, expect_domain...)."""

    row: int
    order_number: str
    target: Mapping[str, str | None] = field(default_factory=dict)
    reference: str = ""


@dataclass(frozen=True)
class UnfinishedRow:
    """An OrderRow still to read; `in_flight` means an earlier attempt began and did not end."""

    row: OrderRow
    in_flight: bool
    attempts: int


@dataclass(frozen=True)
class PendingRow:
    """A row still to do; `in_flight` means a previous attempt began and its end is unknown.

    `submitting` (always with `in_flight`) means an attempt was about to click Yes: the order
    may have been submitted, so it is only looked at from now on.
    """

    row: CsvRow
    in_flight: bool
    attempts: int
    submitting: bool = False


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
    sales_order: str | None = None


class Ledger:
    """The state folder's SQLite ledger; safe to share between a few worker threads."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        # One connection behind a lock: writes are tiny and SQLite serialises them anyway.
        self._lock = threading.Lock()

    @classmethod
    def open(cls, state_dir: str | Path, *, busy_timeout_ms: int = 10_000) -> Ledger:
        """Open (creating if needed) `ledger.sqlite3` in the state folder.

        A folder or disk that refuses is a StorageError naming the path; a ledger written by a
        newer version is a ConfigError.
        """
        folder = Path(state_dir)
        make_folder(folder)
        path = folder / LEDGER_FILE
        with guarded("open the ledger", path):
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            with guarded("open the ledger", path):
                db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
                mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode != "wal":
                    raise ConfigError(f"the ledger {path} cannot use WAL journaling (got {mode})")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA foreign_keys=ON")
                _migrate(db, path)
        except BaseException:
            db.close()
            raise
        return cls(db, path)

    def close(self) -> None:
        with self._lock, guarded("close the ledger", self.path):
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
        with self._lock, guarded("write the ledger", self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, parameters: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock, guarded("read the ledger", self.path):
            return self._db.execute(sql, parameters).fetchall()

    def start_run(
        self,
        *,
        input_path: str | Path,
        input_sha256: str,
        rows: Iterable[CsvRow | OrderRow | InvalidRow],
        invalid: Iterable[InvalidRow] = (),
        options: Mapping[str, Any] | None = None,
        shard: str | None = None,
    ) -> str:
        """Record a new run with its rows pending (invalid rows already final); return its id.

        `rows` may mix valid and invalid rows and may be a generator: rows are streamed into
        the ledger in one transaction, never held in memory all at once.
        """
        run_id = str(uuid.uuid4())
        now = _now()

        def records(
            items: Iterable[CsvRow | OrderRow | InvalidRow],
        ) -> Iterator[tuple[object, ...]]:
            for item in items:
                if isinstance(item, OrderRow):
                    yield (
                        run_id,
                        item.row,
                        item.order_number,
                        json.dumps(dict(item.target)),
                        item.reference,
                        PENDING,
                        "",
                        now,
                    )
                elif isinstance(item, CsvRow):
                    yield (
                        run_id,
                        item.row,
                        item.order_number,
                        _target_json(item),
                        item.reference,
                        PENDING,
                        "",
                        now,
                    )
                else:
                    target = {k: v for k, v in item.cells.items() if k not in _NOT_TARGET}
                    yield (
                        run_id,
                        item.row,
                        item.order_number,
                        json.dumps(target),
                        item.cells.get("reference", ""),
                        INVALID_INPUT,
                        item.reason,
                        now,
                    )

        insert = (
            "INSERT INTO rows (run_id, row_number, order_number, target, reference, status,"
            " detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (id, input_path, input_sha256, options, shard, started_at,"
                " status) VALUES (?, ?, ?, ?, ?, ?, 'running')",
                (run_id, str(input_path), input_sha256, _options_json(options or {}), shard, now),
            )
            db.executemany(insert, records(rows))
            db.executemany(insert, records(invalid))
        return run_id

    def find_resumable(
        self, input_sha256: str, shard: str | None, *, options: Mapping[str, Any] | None = None
    ) -> str | None:
        """The latest unfinished run of the same file and shard (and options, when given)."""
        found = self._read(
            "SELECT id, options FROM runs WHERE input_sha256 = ? AND shard IS ?"
            " AND status != 'finished' ORDER BY started_at DESC, rowid DESC",
            (input_sha256, shard),
        )
        wanted = None if options is None else _options_json(options)
        for run_id, stored in found:
            if wanted is None or stored == wanted:
                return str(run_id)
        return None

    def find_run(self, wanted: str) -> str:
        """The id of the run whose id is `wanted` or starts with it; KeyError naming the choice."""
        text = wanted.strip()
        exact = self._read("SELECT id FROM runs WHERE id = ?", (text,))
        if exact:
            return str(exact[0][0])
        found = self._read(
            "SELECT id FROM runs WHERE substr(id, 1, length(?)) = ? ORDER BY started_at",
            (text, text),
        )
        if len(found) == 1 and text:
            return str(found[0][0])
        if not found or not text:
            raise KeyError(f"the ledger {self.path} has no run {wanted!r}")
        ids = ", ".join(str(row[0]) for row in found)
        raise KeyError(f"{wanted!r} names several runs ({ids}); give more of the run id")

    def run(self, run_id: str) -> RunInfo:
        """The run's record; KeyError if the ledger has no such run."""
        found = self._read(
            "SELECT id, input_path, input_sha256, options, shard, started_at, ended_at, status"
            " FROM runs WHERE id = ?",
            (run_id,),
        )
        if not found:
            raise KeyError(f"the ledger has no run {run_id}")
        (record,) = found
        return RunInfo(
            id=record[0],
            input_path=record[1],
            input_sha256=record[2],
            options=json.loads(record[3]),
            shard=record[4],
            started_at=record[5],
            ended_at=record[6],
            status=record[7],
        )

    def counts(self, run_id: str) -> dict[str, int]:
        """How many rows of the run are in each status (outcomes, pending, in flight, ...)."""
        found = self._read(
            "SELECT status, COUNT(*) FROM rows WHERE run_id = ? GROUP BY status ORDER BY status",
            (run_id,),
        )
        return {str(status): int(count) for status, count in found}

    def iter_pending(self, run_id: str) -> Iterator[PendingRow]:
        """Rows not finished (pending, in flight, submitting), in file order, a batch at a time.

        Each batch is read afresh after the last row number given, so workers may change rows'
        states meanwhile; a row is given once.
        """
        marks = ", ".join("?" for _ in UNFINISHED)
        last = 0
        while True:
            found = self._read(
                "SELECT row_number, order_number, target, reference, status, attempts FROM rows"
                f" WHERE run_id = ? AND status IN ({marks}) AND row_number > ?"
                " ORDER BY row_number LIMIT ?",
                (run_id, *UNFINISHED, last, BATCH_ROWS),
            )
            for number, order, target, ref, status, attempts in found:
                yield PendingRow(
                    row=_csv_row(number, order, target, ref),
                    in_flight=status != PENDING,
                    attempts=attempts,
                    submitting=status == SUBMITTING,
                )
            if len(found) < BATCH_ROWS:
                return
            last = found[-1][0]

    def iter_unfinished(self, run_id: str) -> Iterator[UnfinishedRow]:
        """Rows not finished, as OrderRows whatever their target, in file order, in batches
        (what `audit` reads: a row there may name an order and no target)."""
        marks = ", ".join("?" for _ in UNFINISHED)
        last = 0
        while True:
            found = self._read(
                "SELECT row_number, order_number, target, reference, status, attempts FROM rows"
                f" WHERE run_id = ? AND status IN ({marks}) AND row_number > ?"
                " ORDER BY row_number LIMIT ?",
                (run_id, *UNFINISHED, last, BATCH_ROWS),
            )
            for number, order, target, ref, status, attempts in found:
                yield UnfinishedRow(
                    row=OrderRow(number, order, json.loads(target), ref),
                    in_flight=status != PENDING,
                    attempts=attempts,
                )
            if len(found) < BATCH_ROWS:
                return
            last = found[-1][0]

    def pending_rows(self, run_id: str) -> list[PendingRow]:
        """Rows not finished (pending, in flight, submitting), in file order."""
        return list(self.iter_pending(run_id))

    def mark_in_flight(self, run_id: str, row_number: int) -> None:
        """An attempt on this row begins (counted in attempts); call before every try.

        A row already `submitting` stays so: only its result may end that state.
        """
        now = _now()
        self._update_row(
            run_id,
            row_number,
            "status = CASE WHEN status = ? THEN status ELSE ? END, attempts = attempts + 1,"
            " started_at = COALESCE(started_at, ?), updated_at = ?",
            (SUBMITTING, IN_FLIGHT, now, now),
        )

    def mark_submitting(self, run_id: str, row_number: int) -> None:
        """Yes is about to be clicked: from now on the row may have been submitted."""
        self._update_row(run_id, row_number, "status = ?, updated_at = ?", (SUBMITTING, _now()))

    def claim_order(
        self, run_id: str, row_number: int, sales_order: str | None, asked: str
    ) -> str | None:
        """Take the order this row resolved to for the row's target, or say why not.

        The order is the Sales Order read on its page (the number asked when the page shows
        none), compared as order_key() does. The first row of the same input file and portal to
        claim it (in this run, an earlier one or another shard in this state folder) fixes its
        target: a row with the same target goes on (None), one with another target gets the
        sentence for its `order_conflict` outcome, naming both rows.
        """
        key = _canonical(sales_order) or order_key(asked)
        with self._transaction() as db:
            found = db.execute(
                "SELECT rows.order_number, rows.target, rows.reference, runs.input_sha256,"
                " runs.options FROM rows JOIN runs ON runs.id = rows.run_id"
                " WHERE rows.run_id = ? AND rows.row_number = ?",
                (run_id, row_number),
            ).fetchone()
            _require_row(0 if found is None else 1, run_id, row_number)
            order, target, reference, sha256, options = found
            mine = _csv_row(row_number, order, target, reference)
            wanted = json.dumps(mine.target_key())
            db.execute(
                "UPDATE rows SET sales_order = ? WHERE run_id = ? AND row_number = ?",
                (key, run_id, row_number),
            )
            scope = f"{sha256} {json.loads(options).get('portal', '')}"
            first = db.execute(
                "SELECT target, target_text, run_id, row_number, order_number FROM claims"
                " WHERE scope = ? AND sales_order = ?",
                (scope, key),
            ).fetchone()
            if first is None:
                db.execute(
                    "INSERT INTO claims (scope, sales_order, target, target_text, run_id,"
                    " row_number, order_number, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (scope, key, wanted, mine.target_text(), run_id, row_number, asked, _now()),
                )
                return None
        their_target, their_text, their_run, their_row, their_number = first
        if their_target == wanted:
            return None
        where = "" if their_run == run_id else f" (in run {their_run}, of the same file)"
        what = "Sales Order" if _canonical(sales_order) else "Order"
        return (
            f"{what} {key} is asked for by row {their_row} as {their_number}, for "
            f"{their_text}{where}, and by this row {row_number} as {asked}, for "
            f"{mine.target_text()}. Row {their_row} took the order first; this row was not "
            "submitted. Decide which target is meant and correct the file."
        )

    def record_attempt_error(self, run_id: str, row_number: int, error: str) -> None:
        """An attempt failed with a system error; the row stays in flight until its result."""
        self._update_row(run_id, row_number, "last_error = ?, updated_at = ?", (error, _now()))

    def record_result(self, run_id: str, row_number: int, result: AssignResult) -> None:
        """The row's final outcome with its evidence."""
        read = None if result.before is None else _canonical(result.before.sales_order)
        self._update_row(
            run_id,
            row_number,
            "status = ?, attempts = MAX(attempts, ?), detail = ?, before = ?, after = ?,"
            " artifacts = ?, duration_s = ?, sales_order = COALESCE(sales_order, ?),"
            " updated_at = ?",
            (
                result.outcome.value,
                result.attempts,
                result.detail,
                None if result.before is None else result.before.model_dump_json(),
                None if result.after is None else result.after.model_dump_json(),
                json.dumps(list(result.artifacts)),
                result.duration_s,
                read,
                _now(),
            ),
        )

    def record_read(
        self,
        run_id: str,
        row_number: int,
        status: str,
        *,
        detail: str,
        view: OrderView | None,
        attempts: int,
        artifacts: Iterable[str] = (),
        duration_s: float | None = None,
    ) -> None:
        """A read-only row's end (`audit`): its status, and the order as the portal showed it."""
        read = None if view is None else _canonical(view.sales_order)
        self._update_row(
            run_id,
            row_number,
            "status = ?, attempts = MAX(attempts, ?), detail = ?, before = ?, artifacts = ?,"
            " duration_s = ?, sales_order = COALESCE(?, sales_order), updated_at = ?",
            (
                status,
                attempts,
                detail,
                None if view is None else view.model_dump_json(),
                json.dumps(list(artifacts)),
                duration_s,
                read,
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

    def iter_results(self, run_id: str) -> Iterator[RowEntry]:
        """Every row of the run, in file order, whatever its state, a batch at a time."""
        last = 0
        while True:
            found = self._read(
                "SELECT row_number, order_number, target, reference, status, attempts, last_error,"
                " started_at, updated_at, before, after, detail, artifacts, duration_s,"
                " sales_order FROM rows WHERE run_id = ? AND row_number > ?"
                " ORDER BY row_number LIMIT ?",
                (run_id, last, BATCH_ROWS),
            )
            for r in found:
                yield RowEntry(
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
                    sales_order=r[14],
                )
            if len(found) < BATCH_ROWS:
                return
            last = found[-1][0]

    def results(self, run_id: str) -> list[RowEntry]:
        """Every row of the run, in file order, whatever its state."""
        return list(self.iter_results(run_id))


_NOT_TARGET = {"order_number", "reference"}


def _target_json(row: CsvRow) -> str:
    return row.model_dump_json(exclude={"row", *_NOT_TARGET})


def _csv_row(number: int, order: str, target: str, reference: str) -> CsvRow:
    return CsvRow.model_validate(
        {"row": number, "order_number": order, "reference": reference, **json.loads(target)}
    )


def _canonical(sales_order: str | None) -> str | None:
    """The Sales Order read on the page as order_key() spells it; None when none was read."""
    if not sales_order:
        return None
    try:
        return order_key(sales_order)
    except ValueError:
        return None  # not a number the page showed clearly; the number asked stands in


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
    # One transaction per step, the version re-read inside it: a half-made schema never gets a
    # version number, and two processes opening an old ledger at once upgrade it once.
    steps = {0: _SCHEMA, **_UPGRADES}
    while version < SCHEMA_VERSION:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                for statement in steps[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                version += 1
                db.execute(f"PRAGMA user_version = {version}")
            db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
