"""The work behind each command, on asyncio: one browser, one worker, one call.

The CLI (agent.cli) parses options and turns results and errors into output and exit codes; it
runs each of these with `asyncio.run`. Bulk runs have their own module, agent.bulk.run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from agent.browser import configured_browser
from agent.bulk.csv_input import CsvRow, OrderFile
from agent.capture import CaptureBundle
from agent.doctor import DoctorReport, diagnose
from agent.runner import Target, Worker
from flows.models import AssignRequest, AssignResult, SearchBy, ViewResult
from flows.session import PortalSession
from flows.signin import sign_in, wait_for_interactive_sign_in
from flows.view import view_assignment


@asynccontextmanager
async def open_worker(target: Target) -> AsyncIterator[Worker]:
    """A worker on the target's browser (local or remote), closed with the block."""
    async with configured_browser(target.settings) as browser:
        worker = Worker(browser, target)
        try:
            yield worker
        finally:
            await worker.close()


async def login(target: Target, *, interactive: bool, timeout_s: float) -> str:
    """Sign in (with the credentials, or by the person at the browser); who is signed in."""
    async with open_worker(target) as worker:
        if interactive:
            return await worker.call(
                "login", lambda session: wait_for_interactive_sign_in(session, timeout_s)
            )
        return await worker.call("login", sign_in)


async def show(target: Target, order: str) -> ViewResult:
    """Steps 1-4 on one order."""
    async with open_worker(target) as worker:
        return await worker.call(order, lambda session: view_assignment(session, order))


async def assign(target: Target, request: AssignRequest) -> AssignResult:
    """Steps 1-10 on one order."""
    async with open_worker(target) as worker:
        return await worker.assign(request)


async def doctor(
    target: Target,
    order: str,
    search: tuple[SearchBy, str] | None = None,
    capture: Path | None = None,
) -> DoctorReport:
    """The doctor's read-only walk on one order (picking `search`'s account in the dialog, by
    default the order's current one). `capture`: an empty folder that gets the bundle of the
    screens the walk visits, written when the walk ends, also when it failed; an attempt made
    again captures its screens again."""
    async with open_worker(target) as worker:
        if capture is None:
            return await worker.call(order, lambda session: diagnose(session, order, search))
        bundle = CaptureBundle(
            capture,
            portal_url=target.settings.base_url,
            locale=target.settings.locale,
            words=target.labels,
        )
        with bundle:

            async def walk(session: PortalSession) -> DoctorReport:
                bundle.restart()
                return await diagnose(session, order, search, capture=bundle)

            return await worker.call(order, walk)


async def preflight(target: Target, orders: OrderFile) -> DoctorReport | None:
    """The doctor on the file's first valid order, before a bulk run; None if it has none."""
    first = next((row for row in orders.items() if isinstance(row, CsvRow)), None)
    if first is None:
        return None
    return await doctor(target, first.order_number)
