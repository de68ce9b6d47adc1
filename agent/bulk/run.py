"""Running a bulk file: the ledger, one shared browser, N worker threads, Ctrl-C, the report.

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
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Literal, ParamSpec, Protocol
from urllib.parse import urlsplit

import structlog
from playwright.sync_api import Browser, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from structlog.contextvars import bound_contextvars

from agent.browser import connect, shared_browser
from agent.bulk.csv_input import CsvRow, InvalidRow, LoadedOrders
from agent.bulk.ledger import UNFINISHED, Ledger, PendingRow
from agent.bulk.lock import StateLock
from agent.bulk.progress import BulkObserver, LogObserver
from agent.bulk.ratelimit import SubmitLimiter
from agent.bulk.report import write_run_report
from agent.bulk.shard import Shard
from agent.bulk.storage import StorageError
from agent.runner import Target, Worker
from flows.assign import SUBMIT_STEP
from flows.models import AssignResult, Outcome
from flows.signin import ensure_signed_in
from pages.errors import CcwAgentError, LockHeld, first_line

P = ParamSpec("P")
log = structlog.get_logger(__name__)

# on_step(SUBMIT_STEP) fires once Submit has opened the confirmation, just before step 10 clicks
# Yes: the one irreversible click, so the submit-rate cap waits there and nowhere else (dry runs
# never reach it; a retried submission waits for a slot again).
ABORT_JOIN_S = 10.0
POLL_S = 0.2
INTERRUPTED_DETAIL = (
    "Found on the target when re-read after an interrupted attempt; that attempt's submission "
    "probably went through."
)


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

    def outcome_options(self, base_url: str) -> dict[str, Any]:
        """The options that change what a row ends as, and the portal it ran against."""
        return {
            "dry_run": self.dry_run,
            "allow_pending": self.allow_pending,
            "allow_internal": self.allow_internal,
            "portal": urlsplit(base_url).netloc,
        }


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


class OrderSource(Protocol):
    """A validated input: its fingerprint, its warnings, and its rows in file order."""

    @property
    def sha256(self) -> str: ...

    @property
    def warnings(self) -> Sequence[str]: ...

    def items(self) -> Iterable[CsvRow | InvalidRow]:
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


class StopRequest:
    """The two ways to stop a run: drain (finish the rows in progress) and abort (at once).

    As signal handlers: the first SIGINT/SIGTERM drains, the second aborts. Handlers only set
    events; the main thread notices them between short waits.
    """

    def __init__(self) -> None:
        self.drain = threading.Event()
        self.abort = threading.Event()
        self.signals = 0

    def request(self) -> None:
        self.signals += 1
        self.drain.set()
        if self.signals > 1:
            self.abort.set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request()

    @contextmanager
    def handling_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the run while inside (only the main thread can install them)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, self._handle)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class _Aborted(Exception):
    """The run was aborted while a worker waited for a submit slot; its row stays in flight."""


def default_reports(state_dir: Path, input_path: Path, run_id: str) -> tuple[Path, ...]:
    """`<state_dir>/reports/<input-stem>-<run_id>.csv` and `.json`."""
    stem = state_dir / "reports" / f"{input_path.stem}-{run_id}"
    return stem.with_suffix(".csv"), stem.with_suffix(".json")


def run_bulk(
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
                    pool = _Pool(target, ledger, run_id, options, observer, stop, workers)
                    with stop.handling_signals():
                        fatal = pool.run()
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
        counts = write_run_report(ledger, run_id, reports)
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


class _Pool:
    """One shared browser and N worker threads taking rows from one queue."""

    def __init__(
        self,
        target: Target,
        ledger: Ledger,
        run_id: str,
        options: BulkOptions,
        observer: BulkObserver,
        stop: StopRequest,
        workers: int,
    ) -> None:
        self.target = target
        self.settings = target.settings
        self.ledger = ledger
        self.run_id = run_id
        self.options = options
        self.observer = observer
        self.stop = stop
        self.workers = workers
        # Taken a batch at a time from the ledger, never all at once.
        self.rows = ledger.iter_pending(run_id)
        rate = options.max_submits_per_minute
        self.limiter = SubmitLimiter(rate) if rate else None
        # Set once the first worker has signed in (or failed to): the others then open their
        # contexts from the saved session, so the run signs in once, not once per worker.
        self.signed_in = threading.Event()
        self.fatal: CcwAgentError | None = None
        self._fatal_lock = threading.Lock()
        # After an abort the main thread closes the ledger; a straggling worker must not write.
        self._ledger_open = True
        self._ledger_lock = threading.Lock()

    def run(self) -> CcwAgentError | None:
        """Work through the queue; the first fatal worker error, if any."""
        settings = self.settings
        with ExitStack() as browser:
            endpoint = browser.enter_context(
                shared_browser(
                    endpoint=settings.browser_endpoint,
                    executable=settings.browser_executable,
                    headless=settings.headless,
                )
            )
            threads = [
                threading.Thread(
                    target=self._work,
                    args=(index, endpoint),
                    name=f"bulk-worker-{index + 1}",
                    daemon=True,  # an aborted run must not wait on a thread stuck in the browser
                )
                for index in range(self.workers)
            ]
            for thread in threads:
                thread.start()
            self._wait(threads, browser)
        with self._ledger_lock:
            self._ledger_open = False
        return self.fatal

    def _wait(self, threads: list[threading.Thread], browser: ExitStack) -> None:
        announced = False
        while any(thread.is_alive() for thread in threads):
            if self.stop.abort.is_set():
                self.observer.notice(
                    "stopping now: closing the browser; rows in progress stay in flight and are "
                    "re-read from the portal on --resume"
                )
                browser.close()  # a local Chromium ends here; a remote one drops our contexts
                deadline = time.monotonic() + ABORT_JOIN_S
                for thread in threads:
                    thread.join(max(0.0, deadline - time.monotonic()))
                return
            if self.stop.drain.is_set() and not announced:
                announced = True
                self.observer.notice(
                    "stopping: finishing the rows in progress and taking no new ones; "
                    "press Ctrl-C again to stop at once"
                )
            next(thread for thread in threads if thread.is_alive()).join(POLL_S)

    # --- in each worker thread -----------------------------------------------------------------
    def _work(self, index: int, endpoint: str) -> None:
        name = f"worker-{index + 1}"
        with bound_contextvars(run_id=self.run_id, worker=name):
            try:
                # Playwright's sync objects belong to the thread that made them: one each.
                with sync_playwright() as pw:
                    browser = self._connect(pw, endpoint)
                    worker = Worker(
                        browser, self.target, stop=self.stop.abort, on_step=self._on_step, name=name
                    )
                    try:
                        if index == 0:
                            email = worker.call("login", ensure_signed_in)
                            log.info("bulk_signed_in", user=email)
                            self.signed_in.set()
                        else:
                            self.signed_in.wait()
                        if self.fatal is None:
                            self._take_rows(worker)
                    finally:
                        worker.close()
                        with suppress(PlaywrightError):
                            browser.close()
            except BaseException as exc:  # noqa: B036 - a worker thread must report, not vanish
                self._fail(exc)
            finally:
                if index == 0:
                    self.signed_in.set()  # also when signing in failed: the others must not wait

    def _connect(self, pw: Playwright, endpoint: str) -> Browser:
        try:
            return connect(pw, endpoint, slow_mo_ms=self.settings.slow_mo_ms)
        except PlaywrightError as exc:
            raise CcwAgentError(
                f"cannot connect to the browser at {endpoint}: {first_line(exc)}"
            ) from exc

    def _fail(self, exc: BaseException) -> None:
        if self.stop.abort.is_set():
            log.debug("worker_stopped_by_abort", error=first_line(exc))
            return
        error = exc if isinstance(exc, CcwAgentError) else None
        if error is None:
            error = CcwAgentError(f"a bulk worker stopped: {type(exc).__name__}: {first_line(exc)}")
            error.__cause__ = exc
        log.error("worker_failed", error=first_line(error))
        with self._fatal_lock:
            if self.fatal is None:
                self.fatal = error
        self.stop.drain.set()  # the others finish their rows and take no new ones

    def _take_rows(self, worker: Worker) -> None:
        while not self.stop.drain.is_set():
            with self._ledger_lock:
                pending = next(self.rows, None) if self._ledger_open else None
            if pending is None or not self._run_row(worker, pending):
                return

    def _run_row(self, worker: Worker, pending: PendingRow) -> bool:
        """One row start to end; False when the worker must stop taking rows."""
        row = pending.row
        with bound_contextvars(order=row.order_number, row=row.row):
            if not self._commit(self.ledger.mark_in_flight, self.run_id, row.row):
                return False
            log.info(
                "bulk_row_started",
                attempt=pending.attempts + 1,
                rerun=pending.in_flight,
                look_only=pending.submitting,
            )
            request = row.request(
                dry_run=self.options.dry_run,
                allow_pending=self.options.allow_pending,
                allow_internal=self.options.allow_internal,
            )

            # A failed attempt's error is on record even if the process dies before the result.
            def record_error(error: str) -> None:
                self._commit(self.ledger.record_attempt_error, self.run_id, row.row, error)

            # The order the row resolved to (its Sales Order) is claimed for the row's target.
            def claim(sales_order: str | None, asked: str) -> str | None:
                with self._ledger_lock:
                    if not self._ledger_open:
                        raise _Aborted
                    return self.ledger.claim_order(self.run_id, row.row, sales_order, asked)

            # Committed before Yes: after a crash, --resume knows to only look at this row.
            def before_submit() -> None:
                if self.stop.abort.is_set() or not self._commit(
                    self.ledger.mark_submitting, self.run_id, row.row
                ):
                    raise _Aborted

            worker.on_attempt_failed = record_error
            try:
                result = worker.assign(
                    request,
                    claim=claim,
                    before_submit=before_submit,
                    submitted_before=pending.submitting,
                )
            except _Aborted:
                return False
            finally:
                worker.on_attempt_failed = None
            if self.stop.abort.is_set() and result.outcome is Outcome.FAILED:
                return False  # the abort broke the browser; --resume re-reads this row
            result = _as_recorded(result, pending)
            if not self._commit(self.ledger.record_result, self.run_id, row.row, result):
                return False
            self.observer.row_done(row.order_number, result.outcome.value, result.detail)
        return True

    def _commit(self, write: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> bool:
        with self._ledger_lock:
            if not self._ledger_open:
                return False
            write(*args, **kwargs)
            return True

    def _on_step(self, number: int, name: str) -> None:
        if number != SUBMIT_STEP or self.limiter is None:
            return
        started = time.monotonic()
        if not self.limiter.wait(self.stop.abort):
            raise _Aborted
        waited = time.monotonic() - started
        if waited >= 0.05:
            log.info("submit_rate_wait", seconds=round(waited, 2))


def _as_recorded(result: AssignResult, pending: PendingRow) -> AssignResult:
    """Attempts counted across resumes; an in-flight row found on target says so."""
    update: dict[str, Any] = {"attempts": pending.attempts + result.attempts}
    if pending.in_flight and result.outcome is Outcome.ALREADY_ASSIGNED:
        update["detail"] = f"{result.detail} {INTERRUPTED_DETAIL}".strip()
    return result.model_copy(update=update)
