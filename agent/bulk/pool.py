"""The bulk run's workers: one browser, N contexts driven by asyncio tasks, one row queue.

Every row's state is committed to the ledger before the browser action that depends on it (see
agent.bulk.run). Workers share one event loop, so ledger writes need no lock: each is a plain
call between two awaits. After an abort the ledger is closed to stragglers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, ParamSpec

import structlog
from playwright.async_api import Browser
from structlog.contextvars import bound_contextvars

from agent.browser import configured_browser
from agent.bulk.ledger import Ledger, PendingRow
from agent.bulk.progress import BulkObserver
from agent.bulk.ratelimit import SubmitLimiter
from agent.bulk.signals import StopRequest
from agent.runner import Target, Worker
from flows.models import AssignResult, Outcome
from flows.signin import ensure_signed_in
from pages.errors import CcwAgentError, first_line

if TYPE_CHECKING:
    from agent.bulk.run import BulkOptions

P = ParamSpec("P")
log = structlog.get_logger(__name__)

ABORT_JOIN_S = 10.0
INTERRUPTED_DETAIL = (
    "Found on the target when re-read after an interrupted attempt; that attempt's submission "
    "probably went through."
)


class _Aborted(Exception):
    """The run was aborted while a worker waited for a submit slot; its row stays in flight."""


class WorkerPool:
    """One browser and N workers (asyncio tasks, a context each) taking rows from one queue."""

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
        self.signed_in = asyncio.Event()
        self.fatal: CcwAgentError | None = None
        # After an abort the run closes the ledger; a straggling worker must not write.
        self._ledger_open = True

    async def run(self) -> CcwAgentError | None:
        """Work through the queue; the first fatal worker error, if any."""
        async with configured_browser(self.settings) as browser:
            tasks = [
                asyncio.create_task(self._work(index, browser), name=f"bulk-worker-{index + 1}")
                for index in range(self.workers)
            ]
            await self._wait(tasks)
        self._ledger_open = False
        return self.fatal

    async def _wait(self, tasks: list[asyncio.Task[None]]) -> None:
        """Until every worker ends; on drain say so; on abort cancel them (rows stay in flight)."""
        abort = asyncio.create_task(self.stop.abort.wait())
        drain: asyncio.Task[bool] | None = asyncio.create_task(self.stop.drain.wait())
        running: set[asyncio.Task[Any]] = set(tasks)
        try:
            while running:
                watched = running | {abort} | ({drain} if drain is not None else set())
                done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                running -= done
                if abort in done:
                    self.observer.notice(
                        "stopping now: rows in progress stay in flight and are re-read from the "
                        "portal on --resume"
                    )
                    self._ledger_open = False
                    for task in running:
                        task.cancel()
                    await asyncio.wait(running, timeout=ABORT_JOIN_S)
                    return
                if drain is not None and drain in done:
                    drain = None
                    self.observer.notice(
                        "stopping: finishing the rows in progress and taking no new ones; "
                        "press Ctrl-C again to stop at once"
                    )
        finally:
            # Also when the run itself is cancelled: no worker outlives the browser.
            for waiter in (abort, drain, *running):
                if waiter is not None:
                    waiter.cancel()
            if running:
                await asyncio.wait(running, timeout=ABORT_JOIN_S)

    # --- in each worker task -------------------------------------------------------------------
    async def _work(self, index: int, browser: Browser) -> None:
        name = f"worker-{index + 1}"
        with bound_contextvars(run_id=self.run_id, worker=name):
            worker = Worker(browser, self.target, stop=self.stop.abort, name=name)
            try:
                if index == 0:
                    email = await worker.call("login", ensure_signed_in)
                    log.info("bulk_signed_in", user=email)
                    self.signed_in.set()
                else:
                    await self.signed_in.wait()
                if self.fatal is None:
                    await self._take_rows(worker)
            except asyncio.CancelledError:
                if not self.stop.abort.is_set():
                    raise  # the run itself is cancelled: not a worker's failure
                log.debug("worker_stopped_by_abort")
            except BaseException as exc:  # noqa: B036 - a worker must report, not vanish
                self._fail(exc)
            finally:
                if index == 0:
                    self.signed_in.set()  # also when signing in failed: the others must not wait
                with suppress(Exception):
                    await worker.close()

    def _fail(self, exc: BaseException) -> None:
        if self.stop.abort.is_set():
            log.debug("worker_stopped_by_abort", error=first_line(exc))
            return
        error = exc if isinstance(exc, CcwAgentError) else None
        if error is None:
            error = CcwAgentError(f"a bulk worker stopped: {type(exc).__name__}: {first_line(exc)}")
            error.__cause__ = exc
        log.error("worker_failed", error=first_line(error))
        if self.fatal is None:
            self.fatal = error
        self.stop.drain.set()  # the others finish their rows and take no new ones

    async def _take_rows(self, worker: Worker) -> None:
        while not self.stop.drain.is_set():
            pending = next(self.rows, None) if self._ledger_open else None
            if pending is None or not await self._run_row(worker, pending):
                return

    async def _run_row(self, worker: Worker, pending: PendingRow) -> bool:
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
                if not self._ledger_open:
                    raise _Aborted
                return self.ledger.claim_order(self.run_id, row.row, sales_order, asked)

            # The submit-rate cap waits here, at the one irreversible click and nowhere else;
            # then the row is committed as submitting: after a crash, --resume only looks at it.
            async def before_submit() -> None:
                await self._submit_slot()
                if self.stop.abort.is_set() or not self._commit(
                    self.ledger.mark_submitting, self.run_id, row.row
                ):
                    raise _Aborted

            worker.on_attempt_failed = record_error
            try:
                result = await worker.assign(
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
                return False  # the abort cut the attempt short; --resume re-reads this row
            result = _as_recorded(result, pending)
            if not self._commit(self.ledger.record_result, self.run_id, row.row, result):
                return False
            self.observer.row_done(row.order_number, result.outcome.value, result.detail)
        return True

    def _commit(self, write: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> bool:
        if not self._ledger_open:
            return False
        write(*args, **kwargs)
        return True

    async def _submit_slot(self) -> None:
        """Wait for the submit-rate cap's next slot, if a cap is set; _Aborted on abort."""
        if self.limiter is None:
            return
        started = time.monotonic()
        if not await self.limiter.wait(self.stop.abort):
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
