"""Driving orders through the flows: one worker per browser context, retries, failure artifacts."""

from __future__ import annotations

import asyncio
import random
import re
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import structlog
from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from agent.bulk.lock import OrderLocks
from agent.bulk.signals import wait_for_event
from agent.capture.failures import FailureCaptures
from agent.files import make_private, private_folder
from agent.session import SessionStore
from agent.settings import Settings, TraceMode
from agent.traces import scrub_trace
from flows.assign import SUBMIT_STEP, assign_smart_account
from flows.models import AssignRequest, AssignResult, Outcome
from flows.session import Credentials, OrderState, PortalSession, SessionHooks
from pages.base import WATCH_SCRIPT
from pages.errors import OrderBusy, PortalError, first_line
from pages.labels import Labels, labels
from pages.popups import install_popup_handlers

R = TypeVar("R")
log = structlog.get_logger(__name__)


def credentials_from(settings: Settings) -> Credentials | None:
    """Sign-in credentials when both the username and the password are configured."""
    if not settings.username or settings.password is None:
        return None
    return Credentials(
        username=settings.username, password=settings.password, totp_secret=settings.totp_secret
    )


@dataclass
class Target:
    """Where and as whom the agent works: settings, credentials and the saved session."""

    settings: Settings
    credentials: Credentials | None
    store: SessionStore
    labels: Labels = field(default_factory=labels)
    # Where the screens of failed attempts go (`--capture-on-failure`); None: not captured.
    failure_captures: FailureCaptures | None = None

    @classmethod
    def from_settings(cls, settings: Settings, credentials: Credentials | None = None) -> Target:
        return cls(
            settings=settings,
            credentials=credentials or credentials_from(settings),
            store=SessionStore(settings.session_file),
            labels=settings.labels,
        )


class TraceRecorder:
    """A Playwright trace per attempt, kept on failure (or always), stopped while secrets are typed.

    Tracing is stopped, not merely split into chunks, around a sign-in: Playwright carries the
    network log of a paused chunk into the next one, and with it the sign-on request bodies.
    Every trace file kept is scrubbed (agent.traces: no cookie, authorization header or known
    secret value) and private (0600 in a 0700 folder); one that cannot be scrubbed is deleted.
    """

    def __init__(self, context: BrowserContext, mode: TraceMode) -> None:
        self.context = context
        self.mode = mode
        self.parts: list[Path] = []
        self.recording = False
        self.title = ""

    async def _start(self) -> None:
        # DOM snapshots and the screencast cost about a third of an order's time and a fifth of
        # its CPU on the mock, on every order for the few that fail: the kept-on-failure trace
        # goes without them (actions with their call logs, network and console stay, and the
        # failure has its full-page screenshot). `--trace` (always) is for debugging: with them.
        full = self.mode is TraceMode.ALWAYS
        await self.context.tracing.start(title=self.title, screenshots=full, snapshots=full)
        self.recording = True

    async def begin(self, title: str) -> None:
        self.parts = []
        self.title = title
        if self.mode is not TraceMode.OFF:
            await self._start()

    @asynccontextmanager
    async def paused(self, spill: Path) -> AsyncIterator[None]:
        """Nothing done inside (password, one-time code, sign-on requests) reaches a trace file."""
        if not self.recording:
            yield
            return
        private_folder(spill.parent)
        await self.context.tracing.stop(path=spill)
        self.parts.append(spill)
        self.recording = False
        try:
            yield
        finally:
            await self._start()

    async def end(self, keep: bool, path: Path) -> list[Path]:
        """Stop recording; the trace files kept (none when not kept)."""
        kept = [*self.parts] if keep else []
        if self.recording:
            if keep:
                private_folder(path.parent)
                await self.context.tracing.stop(path=path)
                kept.append(path)
            else:
                await self.context.tracing.stop()
        self.recording = False
        if not keep:
            for part in self.parts:
                part.unlink(missing_ok=True)
        self.parts = []
        return [trace for trace in kept if _scrubbed(trace)]


def _scrubbed(trace: Path) -> bool:
    """Scrub a trace about to be kept; one that cannot be scrubbed is deleted, not kept."""
    try:
        scrub_trace(trace)
    except (OSError, zipfile.BadZipFile) as exc:
        log.warning("trace_dropped", path=str(trace), error=first_line(exc))
        trace.unlink(missing_ok=True)
        return False
    return True


class Worker:
    """One browser context driving orders one after another.

    System failures (PortalError, Playwright errors) are retried with backoff and jitter, on a
    fresh context when the page broke; business outcomes are final. Workers are asyncio tasks of
    one event loop sharing one browser, each with its own context. Every failed attempt leaves a
    screenshot and a trace in the artifacts folder.
    """

    def __init__(
        self,
        browser: Browser,
        target: Target,
        *,
        stop: asyncio.Event | None = None,
        on_step: Callable[[int, str], None] | None = None,
        on_attempt_failed: Callable[[str], None] | None = None,
        name: str = "worker-1",
    ) -> None:
        self.browser = browser
        self.target = target
        self.settings = target.settings
        self.stop = stop or asyncio.Event()
        self.on_step = on_step
        self.on_attempt_failed = on_attempt_failed
        self.maybe_submitted = False
        self.name = name
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._tracer: TraceRecorder | None = None
        self._session: PortalSession | None = None
        self._label = "order"
        self._attempt = 0
        self._completed_step = 0
        self._generation = 0  # the saved session's generation this context holds
        self._deadline: float | None = None  # the current order's, while assign() runs
        self._request: AssignRequest | None = None  # the order assign() runs, for captures
        self._orders_here = 0  # orders (and read-only calls) run in the current context

    # --- context life cycle -------------------------------------------------------------
    async def _open(self) -> PortalSession:
        """This worker's page and its PortalSession, made anew after the context was closed."""
        if self._session is None:
            self._generation = self.target.store.generation
            state = self.target.store.load()
            context = await self.browser.new_context(storage_state=state)  # type: ignore[arg-type]
            # Every document (new tabs too) keeps when it last changed from its start, so a wait
            # looks again the moment the portal's answer is drawn (pages.base.wait_promptly).
            await context.add_init_script(WATCH_SCRIPT)
            self._tracer = TraceRecorder(context, self.settings.trace)
            self._page = await context.new_page()
            await install_popup_handlers(self._page, self.target.labels)
            self._context = context
            self._session = PortalSession(
                page=self._page,
                base_url=self.settings.base_url,
                labels=self.target.labels,
                credentials=self.target.credentials,
                credential_hosts=self.settings.credential_hosts,
                timeout_ms=self.settings.timeout_ms,
                hooks=SessionHooks(
                    on_signed_in=self._signed_in,
                    secret_section=self._secret_section,
                    on_step=self._step_done,
                    adopt_session=self._adopt_session,
                ),
                step_attempts=self.settings.step_attempts,
                resubmits=self.settings.resubmits,
            )
        return self._session

    async def close(self) -> None:
        if self._context is not None:
            try:
                await self._context.close()
            except PlaywrightError:
                pass  # the browser may already be gone (crash, Ctrl-C)
        self._context = self._page = self._tracer = self._session = None
        self._orders_here = 0

    async def _recycle_if_due(self) -> None:
        """Close this worker's context after CCW_CONTEXT_ORDERS orders: the next order opens a
        fresh one (a new renderer), so that a long run's browser memory does not keep growing
        with the pages one renderer has shown. The session goes along: the context's cookies are
        saved first when they are the newest the store knows (no sign-in for the recycle)."""
        if self._session is None or self._orders_here < self.settings.context_orders:
            return
        store = self.target.store
        async with store.lock:
            if self._context is not None and self._generation == store.generation:
                with suppress(PlaywrightError):
                    await store.save(self._context)
        log.info("context_recycled", orders=self._orders_here)
        await self.close()

    def _step_done(self, number: int, name: str) -> None:
        self._completed_step = max(self._completed_step, number)
        if self.on_step is not None:
            self.on_step(number, name)

    async def _signed_in(self) -> None:
        assert self._context is not None
        await self.target.store.save(self._context)
        self._generation = self.target.store.generation
        log.info("session_saved", path=str(self.target.store.path))

    async def _adopt_session(self) -> bool:
        """Take the session another worker saved since this context was filled, if any."""
        store = self.target.store
        if store.generation <= self._generation or self._context is None:
            return False
        adopted = await store.restore_into(self._context)
        self._generation = store.generation
        log.info("session_adopted", adopted=adopted)
        return adopted

    @asynccontextmanager
    async def _secret_section(self) -> AsyncIterator[None]:
        """Around every sign-in: one worker signs in at a time, with the trace stopped."""
        assert self._tracer is not None
        spill = self._artifact_path(f"part{len(self._tracer.parts) + 1}.zip")
        async with self.target.store.lock, self._tracer.paused(spill):
            yield

    # --- artifacts ----------------------------------------------------------------------------
    def _artifact_path(self, suffix: str) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self._label)
        return self.settings.artifacts_path / f"{safe}-{stamp}-attempt{self._attempt}-{suffix}"

    async def _finish_attempt(self, failed: bool, error: BaseException | None = None) -> list[str]:
        kept: list[Path] = []
        captures = self.target.failure_captures
        if failed and captures is not None and self._request is not None and self._page:
            assert error is not None and self._session is not None
            await captures.attempt_failed(
                self._page,
                self._request,
                error,
                attempt=self._attempt,
                completed_step=self._completed_step,
                signed_in=self._session.signed_in_email,
                timeout_ms=self.settings.timeout_ms,
            )
        # The screen the attempt ended on: a tab the portal opened, else the worker's page.
        shown = self._session.page if self._session is not None else self._page
        if failed and shown is not None:
            shot = self._artifact_path("screenshot.png")
            private_folder(shot.parent)
            try:
                await shown.screenshot(path=shot, full_page=True)
                make_private(shot)
                kept.append(shot)
            except (PlaywrightError, OSError) as exc:
                log.warning("screenshot_failed", error=first_line(exc))
        if self._tracer is not None:
            keep = failed or self.settings.trace is TraceMode.ALWAYS
            try:
                kept += await self._tracer.end(keep, self._artifact_path("trace.zip"))
            except PlaywrightError as exc:
                log.warning("trace_failed", error=first_line(exc))
        if self._session is not None and not self._page_broken():
            await self._session.close_followed()
        return [str(path) for path in kept]

    # --- running ------------------------------------------------------------------------------
    async def _attempts(
        self, label: str, call: Callable[[PortalSession], Awaitable[R]]
    ) -> tuple[R | None, PortalError | PlaywrightError | None, int, list[str]]:
        """Run `call` until it returns or attempts run out.

        Returns the result (None if every attempt failed), the last error, the number of
        attempts and the artifact paths. `self.maybe_submitted` tells, meanwhile and after,
        whether a failed attempt got past Submit, so that its Yes may have reached the portal.
        """
        await self._recycle_if_due()
        self._orders_here += 1
        self._label = label
        self.maybe_submitted = False
        artifacts: list[str] = []
        error: PortalError | PlaywrightError | None = None
        attempts = self.settings.attempts
        deadline = self._deadline or time.monotonic() + self.settings.order_budget_s
        for attempt in range(1, attempts + 1):
            self._attempt = attempt
            self._completed_step = 0
            session = await self._open()
            session.order = OrderState(deadline=deadline)
            assert self._tracer is not None
            await self._tracer.begin(f"{label} attempt {attempt}")
            try:
                result = await call(session)
            except (PortalError, PlaywrightError) as exc:
                error = exc
                self.maybe_submitted |= self._completed_step >= SUBMIT_STEP
                artifacts += await self._finish_attempt(failed=True, error=exc)
                log.warning(
                    "attempt_failed",
                    order=label,
                    attempt=attempt,
                    of=attempts,
                    error=first_line(exc),
                )
                if self.on_attempt_failed is not None:
                    self.on_attempt_failed(first_line(exc))
                if isinstance(exc, PlaywrightError) or self._page_broken():
                    await self.close()
                if isinstance(exc, PortalError) and exc.final:
                    break  # the portal answered; starting over would only hear it again
                if attempt < attempts and (
                    time.monotonic() >= deadline or not await self._backoff(attempt, deadline)
                ):
                    break
                continue
            except BaseException:
                with suppress(Exception):  # a cancelled task must still end as cancelled
                    await self._finish_attempt(failed=False)
                raise
            artifacts += await self._finish_attempt(failed=False)
            return result, error, attempt, artifacts
        return None, error, self._attempt, artifacts

    def _page_broken(self) -> bool:
        return self._page is None or self._page.is_closed()

    async def _backoff(self, attempt: int, deadline: float) -> bool:
        """Wait before the next attempt, never past the order's deadline; False when a stop was
        requested meanwhile."""
        delay = self.settings.retry_backoff_s * 2 ** (attempt - 1)
        delay += random.uniform(0, self.settings.retry_backoff_s)
        delay = max(0.0, min(delay, deadline - time.monotonic()))
        return not await wait_for_event(self.stop, delay)

    async def assign(
        self,
        request: AssignRequest,
        *,
        claim: Callable[[str | None, str], str | None] | None = None,
        before_submit: Callable[[], Awaitable[None]] | None = None,
        submitted_before: bool = False,
    ) -> AssignResult:
        """Steps 1-10 for one order; a system failure that outlives the retries is `failed`.

        The order is locked on this host (OrderLocks) from before it is read to its verified
        result: under the number asked, and under the Sales Order its page shows; a lock held
        elsewhere for longer than CCW_TIMEOUT_MS ends `failed`. Dry runs change nothing and
        lock nothing. `claim(sales_order, asked)` may then refuse the order (order_conflict);
        `before_submit()` runs immediately before Yes, and if it raises nothing is clicked.

        Once an attempt got past Submit, later attempts only look (a dry run): the portal may
        have taken that submission without confirming it, and nothing is ever submitted twice.
        `submitted_before` says an earlier run may have clicked Yes: then every attempt only
        looks, and since a portal may show an assignment late, while the order does not show
        the target it looks again (after 1 s, 2 s, 4 s...) for up to CCW_TIMEOUT_MS.
        """
        started = time.perf_counter()
        # One budget for the whole order, however many rounds of attempts its looks take.
        self._deadline = time.monotonic() + self.settings.order_budget_s
        self._request = request
        maybe_submitted = submitted_before
        error: BaseException | None = None
        result: AssignResult | None = None
        attempts, looks = 0, 1
        artifacts: list[str] = []
        portal = urlsplit(self.settings.base_url).netloc
        wait_s = self.settings.timeout_ms / 1000
        with OrderLocks(portal, wait_s=wait_s, stop=self.stop) as locks:

            async def claim_order(sales_order: str | None, asked: str) -> str | None:
                if not request.dry_run:
                    # The Sales Order shown is the order's one name; a page that shows none (or
                    # no number) leaves the number asked, already held.
                    with suppress(ValueError):
                        await locks.hold(sales_order or asked)
                return None if claim is None else claim(sales_order, asked)

            async def attempt(session: PortalSession) -> AssignResult:
                session.hooks.claim_order = claim_order
                session.hooks.before_submit = before_submit
                look_only = (maybe_submitted or self.maybe_submitted) and not request.dry_run
                ask = request.model_copy(update={"dry_run": True}) if look_only else request
                return await assign_smart_account(session, ask)

            def not_on_target_yet(found: AssignResult | None) -> bool:
                return found is not None and found.outcome is Outcome.WOULD_ASSIGN

            try:
                if not request.dry_run:
                    await locks.hold(request.order_number)
                result, error, attempts, artifacts = await self._attempts(
                    request.order_number, attempt
                )
                maybe_submitted |= self.maybe_submitted
                look_until = time.monotonic() + wait_s
                while submitted_before and not request.dry_run and not_on_target_yet(result):
                    pause = min(2.0 ** (looks - 1), look_until - time.monotonic())
                    if pause <= 0 or await wait_for_event(self.stop, pause):
                        break
                    looks += 1
                    again, failure, _tries, kept = await self._attempts(
                        request.order_number, attempt
                    )
                    artifacts += kept
                    error = failure or error
                    result = again or result
                    if again is None:
                        break
            except OrderBusy as busy:
                result, error, attempts = None, busy, max(attempts, 1)
            finally:
                if self._session is not None:
                    hooks = self._session.hooks
                    hooks.claim_order = hooks.before_submit = None
        self._request = None
        if self.target.failure_captures is not None:
            bundle = self.target.failure_captures.finish(request.order_number)
            artifacts += [str(bundle)] if bundle is not None else []
        duration = round(time.perf_counter() - started, 3)
        if result is None:
            return AssignResult(
                order_number=request.order_number,
                outcome=Outcome.FAILED,
                detail=_describe(error),
                artifacts=tuple(artifacts),
                attempts=attempts,
                duration_s=duration,
            )
        update: dict[str, object] = {
            "attempts": attempts,
            "duration_s": duration,
            "artifacts": (*artifacts, *result.artifacts),
        }
        judged = judge_read_after_yes(
            result.outcome,
            result.detail,
            order_number=request.order_number,
            maybe_submitted=maybe_submitted,
            submitted_before=submitted_before,
            dry_run=request.dry_run,
            error=_describe(error),
            looks=looks,
            wait_s=wait_s,
        )
        if judged is not None:
            update["outcome"], update["detail"] = judged
        return result.model_copy(update=update)

    async def call(self, label: str, call: Callable[[PortalSession], Awaitable[R]]) -> R:
        """Any read-only flow with the same retries; raises the last error if all attempts fail."""
        self._deadline = None  # its own budget, not an earlier order's
        self._request = None
        result, error, _attempts, artifacts = await self._attempts(label, call)
        if result is None:
            kept = f" (screenshots and traces: {', '.join(artifacts)})" if artifacts else ""
            raise PortalError(_describe(error) + kept) from error
        return result


def judge_read_after_yes(
    outcome: Outcome,
    detail: str,
    *,
    order_number: str,
    maybe_submitted: bool,
    submitted_before: bool,
    dry_run: bool,
    error: str,
    looks: int,
    wait_s: float,
) -> tuple[Outcome, str] | None:
    """What the order's last read means when a Yes may have reached the portal before it.

    `outcome` and `detail` are that read's; `maybe_submitted` says a Yes may have been clicked
    for this order, by an attempt that got past Submit or (`submitted_before`) by an earlier run;
    `error` is the last failure described to a person, `looks` the reads over the `wait_s` look
    window. Returns the outcome and detail that replace the read's, or None when the read stands.

    The rule lives with the runner, not the flows: only the runner knows an order's attempts and
    runs, and its advice names a command of the CLI.
    """
    if submitted_before:
        earlier = "An earlier run clicked Yes on this order and stopped before reading the result"
        now = f"after {looks} looks over {wait_s:g} s" if looks > 1 else "now"
    else:
        earlier = f"An attempt clicked Submit but the portal did not confirm ({error})"
        now = "now"
    if maybe_submitted and outcome is Outcome.ALREADY_ASSIGNED:
        return Outcome.ASSIGNED, (
            f"{earlier}; the re-read shows the target on every eligible line, so that "
            "submission went through."
        )
    if maybe_submitted and outcome is Outcome.WOULD_ASSIGN:
        return Outcome.FAILED, (
            f"{earlier}, and the order does not show the target {now}. It was not submitted "
            "again, to rule out a double submission: check it with `ccw-agent show "
            f"{order_number}` before running it again."
        )
    if maybe_submitted and not outcome.ended_well and not dry_run:
        # A "no" read after a submission that may have gone through (a portal that disables
        # assignment once an order is assigned) says nothing about that submission.
        return Outcome.FAILED, (
            f"{earlier}, and the re-read answered {outcome.value}: {detail} "
            "Whether the submission went through is unknown; it was not submitted again: "
            f"check it with `ccw-agent show {order_number}`."
        )
    return None


def _describe(error: BaseException | None) -> str:
    return "stopped before the first attempt" if error is None else first_line(error)
