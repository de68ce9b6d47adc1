"""A portal that fails often: read-only steps recover in place, and nothing is submitted twice.

The mock fails a share of its JSON calls with "Something went wrong"; half of the failed submits
are applied anyway (the portal took the change and still answered an error).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import DEMO, MakeSettings, book_csv, submissions
from playwright.async_api import Browser
from structlog.testing import capture_logs

from agent.bulk import Ledger, load_orders
from agent.bulk.run import BulkOptions, run_bulk
from agent.runner import Target, Worker
from agent.settings import Settings, TraceMode
from flows.models import AssignRequest, Outcome, SearchBy
from mock_site.data import book_rows
from mock_site.server import MockServer


def resilient_settings(agent_settings: MakeSettings, **changes: Any) -> Settings:
    """The demo user, a short retry backoff, no traces (the point is the portal's errors; a
    failure names every row that did not end well), every wait 10 s; `changes` win."""
    return agent_settings(user=DEMO, retry_backoff_s=0.1, trace=TraceMode.OFF, **changes)


@pytest.fixture
async def worker(browser: Browser, agent_settings: MakeSettings) -> AsyncIterator[Worker]:
    made = Worker(browser, Target.from_settings(resilient_settings(agent_settings)))
    yield made
    await made.close()


async def test_with_a_third_of_calls_failing_single_orders_still_end_assigned_once(
    worker: Worker, mock: MockServer
) -> None:
    # Given a portal that fails 35% of its JSON calls, half of the failed submits applied
    mock.set_faults(json_error_rate=0.35, json_error_applied_fraction=0.5)
    orders = book_rows(6)
    # When six orders are assigned one after another
    with capture_logs() as logs:
        outcomes = [
            (
                await worker.assign(
                    AssignRequest(
                        order_number=row["order_number"],
                        search_by=SearchBy.DOMAIN,
                        smart_account=row["domain"],
                        virtual_account=row["virtual_account"],
                    )
                )
            ).outcome
            for row in orders
        ]
    # Then at least five end assigned, and no order was submitted twice
    assert outcomes.count(Outcome.ASSIGNED) >= 5, outcomes
    assert set(outcomes) <= {Outcome.ASSIGNED, Outcome.FAILED}, outcomes
    assert all(len(submissions(mock, row["order_number"])) <= 1 for row in orders)
    assert any(event["event"] == "step_retry" for event in logs)


async def test_with_one_call_in_ten_failing_a_bulk_run_assigns_every_eligible_row_once(
    mock: MockServer, tmp_path: Path, agent_settings: MakeSettings
) -> None:
    # Given 40 eligible book orders and a portal that fails one JSON call in ten
    file = book_csv(tmp_path / "orders.csv", 40)
    rows = book_rows(40)
    mock.set_faults(json_error_rate=0.10, json_error_applied_fraction=0.5)
    # With one re-submission (the default) a row ends failed-with-advice when its submission and
    # the one re-submission both fail unapplied (about 1 row in 300 here; 9 runs of this test
    # saw two such rows in one run, which failed it). Two are what such a portal calls for.
    target = Target.from_settings(resilient_settings(agent_settings, resubmits=2))
    # When they run in bulk with two workers
    summary = await run_bulk(target, file, load_orders(file), BulkOptions(workers=2))
    # Then every row ends assigned and every order was submitted exactly once
    with Ledger.open(target.settings.state_dir) as ledger:
        unassigned = [
            f"{entry.order_number}: {entry.status}: {entry.detail}"
            for entry in ledger.results(summary.run_id)
            if entry.status != "assigned"
        ]
    # (Under a loaded machine one row in 40 may still end failed-with-advice: never a wrong "no".)
    # Each such row's whole detail is printed: it says which read or wait after Yes fell short.
    if summary.counts.get("assigned", 0) < 39:
        pytest.fail("rows not assigned:\n" + "\n".join(unassigned), pytrace=False)
    assert set(summary.counts) <= {"assigned", "failed"}, unassigned
    assert all(len(submissions(mock, row["order_number"])) <= 1 for row in rows)
