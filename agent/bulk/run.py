"""Running a bulk file: the ledger, the worker pool, Ctrl-C and the report, in that order.

Every row's state is committed to the ledger before the browser action that depends on it:
`mark_in_flight` before a worker starts the row, `claim_order` once the order's page is read,
`mark_submitting` immediately before Yes, `record_result` as soon as it ends. A run that dies at
any moment therefore leaves rows that are finished, pending, in flight or submitting; on --resume
the in-flight ones go through the flow again, which re-reads the portal before acting, and the
submitting ones are only looked at, never submitted again.

Rows stream: from the input into the ledger, from the ledger to the workers a batch at a time,
and from the ledger into the report, so a run's memory does not grow with its file.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import structlog
from structlog.contextvars import bound_contextvars

from agent.bulk.audit import AuditPool, write_audit_report
from agent.bulk.csv_input import CsvRow, InvalidRow, LoadedOrders
from agent.bulk.ledger import LEDGER_FILE, UNFINISHED, Ledger, OrderRow
from agent.bulk.lock import StateLock
from agent.bulk.pool import WorkerPool
from agent.bulk.progress import BulkObserver, LogObserver
from agent.bulk.report import write_run_report
from agent.bulk.shard import Shard
from agent.bulk.signals import StopRequest
from agent.runner import Target
from pages.errors import CcwAgentError, ConfigError, LockHeld, StorageError

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class BulkOptions:
    """How one bulk run works; only `outcome_options` decide whether a run may be resumed."""

    workers: int = 2
    dry_run: bool = False
    allow_pending: bool = False
    allow_internal: bool = False
    resume: bool = False
    shard: Shard | None = None
    max_submits_per_minute: float | None = None
    reports: tuple[Path, ...] = ()
    # Read every order with steps 1-4 (agent.bulk.audit) instead of assigning it.
    audit: bool = False

    def outcome_options(self, base_url: str) -> dict[str, Any]:
        """The options that change what a row ends as, and the portal it ran against."""
        options: dict[str, Any] = {
            "dry_run": self.dry_run,
            "allow_pending": self.allow_pending,
            "allow_internal": self.allow_internal,
            "portal": urlsplit(base_url).netloc,
        }
        if self.audit:
            # Named only when set, so that a bulk run's options read as they always have and
            # an audit never resumes a bulk run of the same file, nor the reverse.
            options["audit"] = True
        return options


@dataclass(frozen=True)
class BulkSummary:
    """How a run ended: its status, rows per outcome, and where the report is."""

    run_id: str
    resumed: bool
    status: Literal["finished", "interrupted"]
    counts: Mapping[str, int]
    reports: tuple[Path, ...]

    @property
    def outcomes(self) -> list[str]:
        return [outcome for outcome, count in self.counts.items() for _ in range(count)]

    @property
    def unfinished(self) -> int:
        return sum(self.counts.get(status, 0) for status in UNFINISHED)


@dataclass(frozen=True)
class Exported:
    """A run's report written again: which run, where, and whether that finished the run."""

    run_id: str
    reports: tuple[Path, ...]
    finished: bool


class OrderSource(Protocol):
    """A validated input: its fingerprint, its warnings, and its rows in file order."""

    @property
    def sha256(self) -> str: ...

    @property
    def warnings(self) -> Sequence[str]: ...

    def items(self) -> Iterable[CsvRow | OrderRow | InvalidRow]:
        """Valid and invalid rows, in file order; may read the file again on each call."""
        ...


@dataclass(frozen=True)
class Loaded:
    """An OrderSource over a file loaded whole (load_orders): fine for small files and tests."""

    loaded: LoadedOrders

    @property
    def sha256(self) -> str:
        return self.loaded.sha256

    @property
    def warnings(self) -> Sequence[str]:
        return self.loaded.warnings

    def items(self) -> Iterable[CsvRow | InvalidRow]:
        both: Iterator[CsvRow | InvalidRow] = heapq.merge(
            self.loaded.rows, self.loaded.invalid, key=lambda item: item.row
        )
        return both


def default_reports(state_dir: Path, input_path: Path, run_id: str) -> tuple[Path, ...]:
    """`<state_dir>/reports/<input-stem>-<run_id>.csv` and `.json`."""
    stem = state_dir / "reports" / f"{input_path.stem}-{run_id}"
    return stem.with_suffix(".csv"), stem.with_suffix(".json")


async def run_bulk(
    target: Target,
    input_path: Path,
    source: OrderSource | LoadedOrders,
    options: BulkOptions,
    *,
    observer: BulkObserver | None = None,
    stop: StopRequest | None = None,
) -> BulkSummary:
    """Run (or resume) the rows of `source` in this shard; write the report; return the summary.

    Raises LockHeld when another run holds the state folder, StorageError when the state folder,
    the ledger or a report cannot be written (naming the path), and re-raises a fatal worker
    error (LoginFailed, LoginRequired, a portal that never answered) after the ledger and the
    report are brought up to date. The run is marked finished only after its report is written.
    """
    observer = observer or LogObserver()
    stop = stop or StopRequest()
    settings = target.settings
    orders = Loaded(source) if isinstance(source, LoadedOrders) else source
    shard = None if options.shard is None else str(options.shard)
    for warning in orders.warnings:
        observer.notice(warning)
    with StateLock(settings.state_dir), Ledger.open(settings.state_dir) as ledger:
        run_id, resumed = _open_run(
            ledger, input_path, orders, options, settings.base_url, observer
        )
        with bound_contextvars(run_id=run_id):
            counts = ledger.counts(run_id)
            to_do = sum(counts.get(status, 0) for status in UNFINISHED)
            done = Counter({k: v for k, v in counts.items() if k not in UNFINISHED})
            workers = max(1, min(options.workers, to_do))
            log.info(
                "bulk_started",
                input=str(input_path),
                shard=shard,
                resumed=resumed,
                rows=sum(counts.values()),
                to_do=to_do,
                in_flight=to_do - counts.get("pending", 0),
                workers=workers,
            )
            observer.start(run_id=run_id, total=sum(counts.values()), done=done, workers=workers)
            fatal: CcwAgentError | None = None
            try:
                if to_do:
                    kind = AuditPool if options.audit else WorkerPool
                    pool = kind(target, ledger, run_id, options, observer, stop, workers)
                    with stop.handling_signals():
                        fatal = await pool.run()
            finally:
                observer.stop()
                summary = _finish(ledger, run_id, resumed, input_path, options, settings.state_dir)
    if fatal is not None:
        raise fatal
    return summary


def _open_run(
    ledger: Ledger,
    input_path: Path,
    orders: OrderSource,
    options: BulkOptions,
    base_url: str,
    observer: BulkObserver,
) -> tuple[str, bool]:
    """The run to work on: the unfinished one with --resume, else a new one."""
    shard = None if options.shard is None else str(options.shard)
    wanted = options.outcome_options(base_url)
    found = ledger.find_resumable(orders.sha256, shard, options=wanted)
    if found is not None and options.resume:
        ledger.resume_run(found)
        return found, True
    if found is not None:
        started = ledger.run(found).started_at
        observer.notice(
            f"an unfinished run of this file ({found}, started {started}) can be continued with "
            "--resume; starting a new run instead"
        )
    elif options.resume:
        other = ledger.find_resumable(orders.sha256, shard)
        if other is None:
            observer.notice("no unfinished run of this file to resume; starting a new run")
        else:
            stored = ledger.run(other).options
            differ = ", ".join(
                f"{key} {stored.get(key)!r} then, {value!r} now"
                for key, value in wanted.items()
                if stored.get(key) != value
            )
            observer.notice(
                f"the unfinished run {other} of this file used other options ({differ}); "
                "starting a new run"
            )
    in_shard = options.shard
    rows = (
        item for item in orders.items() if in_shard is None or in_shard.contains(item.order_number)
    )
    run_id = ledger.start_run(
        input_path=input_path.resolve(),
        input_sha256=orders.sha256,
        rows=rows,
        options=wanted,
        shard=shard,
    )
    return run_id, False


def _finish(
    ledger: Ledger,
    run_id: str,
    resumed: bool,
    input_path: Path,
    options: BulkOptions,
    state_dir: Path,
) -> BulkSummary:
    """Write the report, then close the run in the ledger (finished only when no row is left).

    A report that cannot be written leaves the run unfinished, so that --resume (or `ccw-agent
    report export`) can write it once the folder or the disk is fixed.
    """
    reports = options.reports or default_reports(state_dir, input_path, run_id)
    try:
        counts = write_any_report(ledger, run_id, reports)
    except StorageError as exc:
        raise StorageError(
            f"{exc}. Every result is in the ledger and the run {run_id} stays unfinished: write "
            f"its report with `ccw-agent report export {run_id} --report PATH`, or run the same "
            "command again with --resume"
        ) from exc
    status: Literal["finished", "interrupted"] = (
        "interrupted" if any(counts[state] for state in UNFINISHED) else "finished"
    )
    ledger.finish_run(run_id, status)
    log.info(
        "bulk_ended",
        status=status,
        counts=dict(sorted(counts.items())),
        reports=[str(path) for path in reports],
    )
    return BulkSummary(run_id, resumed, status, dict(counts), tuple(reports))


def write_any_report(ledger: Ledger, run_id: str, paths: Sequence[Path]) -> Counter[str]:
    """The run's report: an audit's columns for an audit run, else the bulk report's."""
    if ledger.run(run_id).options.get("audit"):
        return write_audit_report(ledger, run_id, paths)
    return write_run_report(ledger, run_id, paths)


def finish_if_done(ledger: Ledger, run_id: str, state_dir: Path, counts: Mapping[str, int]) -> bool:
    """Mark finished a run whose every row is done (its report had failed); True if it was.

    Only when no bulk run holds the state folder: a run at work finishes itself.
    """
    if ledger.run(run_id).status == "finished" or any(counts.get(s) for s in UNFINISHED):
        return False
    lock = StateLock(state_dir)
    try:
        lock.acquire()
    except LockHeld:
        return False
    try:
        ledger.finish_run(run_id, "finished")
    finally:
        lock.release()
    return True


def export_report(state_dir: Path, run: str, reports: Sequence[Path] = ()) -> Exported:
    """Write again from the ledger the report of the run whose id is `run` or starts with it (to
    `reports`, else where the run wrote it), and mark the run finished if no row is left."""
    if not (state_dir / LEDGER_FILE).is_file():
        raise ConfigError(f"no ledger in {state_dir}; give the run's --state-dir")
    with Ledger.open(state_dir) as ledger:
        try:
            run_id = ledger.find_run(run)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from exc
        paths = tuple(reports) or default_reports(
            state_dir, Path(ledger.run(run_id).input_path), run_id
        )
        counts = write_any_report(ledger, run_id, paths)
        finished = finish_if_done(ledger, run_id, state_dir, counts)
    return Exported(run_id, paths, finished)
