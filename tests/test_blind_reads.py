"""No business "no" from a screen the agent cannot read: such a screen is a failure, with evidence.

Each test rewrites one JSON answer of the mock on its way to the page, so that the screen shows
something the reference does not describe, and checks that the agent says it could not read it
instead of answering order_not_found, not_eligible or smart_account_not_found.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import DEMO, MakeSettings, portal_session
from playwright.async_api import Browser, Page, Route

from agent.runner import Target, Worker
from agent.settings import Settings, TraceMode
from flows.assign import assign_smart_account
from flows.models import AssignRequest, Outcome, SearchBy
from flows.session import PortalSession
from flows.view import view_assignment
from mock_site.server import MockServer
from pages.errors import StepFailed


async def rewrite(page: Page, pattern: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Let the mock answer, then change its JSON before the page sees it."""

    async def handle(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        change(body)
        await route.fulfill(response=response, json=body)

    await page.route(pattern, handle)


def quick_session(page: Page, base_url: str) -> PortalSession:
    """The demo user's session with short waits and one run per step."""
    return portal_session(page, base_url, timeout_ms=3_000, step_attempts=1)


def worker_settings(agent_settings: MakeSettings, **changes: Any) -> Settings:
    """Quick settings for a Worker on the mock: one run per step, short waits."""
    return agent_settings(user=DEMO, timeout_ms=5_000, step_attempts=1, **changes)


def ask(order: str, domain: str, va: str) -> AssignRequest:
    return AssignRequest(
        order_number=order, search_by=SearchBy.DOMAIN, smart_account=domain, virtual_account=va
    )


async def test_results_without_a_readable_order_number_are_not_order_not_found(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given search results whose links carry no order number and no "No results found"
    def unnamed(body: dict[str, Any]) -> None:
        for match in body["results"]:
            match["number"] = "Open"

    await rewrite(page, "**/api/search?*", unnamed)
    # When the agent looks for an order that is there, then it fails instead of saying "not found"
    with pytest.raises(StepFailed, match=r"step 2 \(global_search\)"):
        await assign_smart_account(
            quick_session(page, base_url), ask("110000002", "globex.example", "Production")
        )


async def test_a_disabled_assign_button_without_a_reason_is_not_not_eligible(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given a shipped order whose screen disables Assign Smart Account but says nothing why
    def silent(body: dict[str, Any]) -> None:
        body["reason"] = ""

    await rewrite(page, "**/api/orders/*/assignments", silent)
    with pytest.raises(StepFailed, match="gives no reason"):
        await assign_smart_account(
            quick_session(page, base_url), ask("110000004", "globex.example", "DEFAULT")
        )


async def test_accounts_without_a_readable_domain_are_a_failure_with_evidence(
    browser: Browser, mock: MockServer, agent_settings: MakeSettings
) -> None:
    # Given Smart Account results that show no Domain Identifier
    def no_domain(body: dict[str, Any]) -> None:
        for account in body["accounts"]:
            account["domain"] = ""

    settings = worker_settings(agent_settings, attempts=1, trace=TraceMode.ON_FAILURE)
    worker = Worker(browser, Target.from_settings(settings))
    try:
        session = await worker._open()
        await rewrite(session.page, "**/api/smart-accounts?*", no_domain)
        # When the agent searches the domain
        result = await worker.assign(ask("110000002", "globex.example", "Production"))
    finally:
        await worker.close()
    # Then it answers failed, says why, and keeps a screenshot and a trace; nothing was submitted
    assert result.outcome is Outcome.FAILED, result.detail
    assert "without a Domain Identifier the agent can read" in result.detail
    assert {Path(path).suffix for path in result.artifacts} >= {".png", ".zip"}
    snapshot = mock.order("110000002")
    assert snapshot and snapshot["submissions"] == []


async def test_an_eligibility_the_agent_cannot_read_is_not_not_eligible(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given an assignment table whose Eligibility cells show nothing readable
    def blank(body: dict[str, Any]) -> None:
        for line in body["lines"]:
            line["eligibility"] = ""

    await rewrite(page, "**/api/orders/*/assignments", blank)
    with pytest.raises(StepFailed, match="cannot read as eligible or not"):
        await assign_smart_account(
            quick_session(page, base_url), ask("110000002", "globex.example", "Production")
        )


async def test_words_beside_a_disabled_button_that_give_no_reason_are_not_not_eligible(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given a disabled Assign Smart Account next to a note that is no reason
    def count_only(body: dict[str, Any]) -> None:
        body["reason"] = "2 lines"

    await rewrite(page, "**/api/orders/*/assignments", count_only)
    with pytest.raises(StepFailed, match="gives no reason"):
        await assign_smart_account(
            quick_session(page, base_url), ask("110000004", "globex.example", "DEFAULT")
        )


async def test_a_no_read_after_a_possible_submission_is_a_failure_not_a_business_answer(
    browser: Browser, mock: MockServer, agent_settings: MakeSettings
) -> None:
    # Given a submit answered with an error, after which the portal disables assignment
    settings = worker_settings(agent_settings, attempts=2, resubmits=0, trace=TraceMode.OFF)
    submitted: list[bool] = []

    def after_step(number: int, name: str) -> None:
        if number == 9 and not submitted:
            submitted.append(True)
            mock.set_faults(fail_next=[{"path_contains": "/assign", "count": 1}])

    def disabled_once_submitted(body: dict[str, Any]) -> None:
        if submitted:
            body["can_assign"] = False
            body["reason"] = "Smart Account assignment is not available: an update is pending."

    worker = Worker(browser, Target.from_settings(settings), on_step=after_step)
    try:
        session = await worker._open()
        await rewrite(session.page, "**/api/orders/*/assignments", disabled_once_submitted)
        # When the order is worked
        result = await worker.assign(ask("110000002", "globex.example", "Production"))
    finally:
        await worker.close()
    # Then the later look's "not eligible" is not the answer: the order needs a person's check
    assert result.outcome is Outcome.FAILED, result.detail
    assert "re-read answered not_eligible" in result.detail
    assert "ccw-agent show 110000002" in result.detail


async def test_an_order_link_on_screen_before_the_search_is_not_taken_for_its_results(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given a portal whose header always shows a link to a recent order, and slow searches
    await page.add_init_script(
        """document.addEventListener('DOMContentLoaded', () => {
             const recent = document.createElement('a');
             recent.href = '#recent';
             recent.textContent = 'Recent order 110000003';
             document.body.prepend(recent);
           });"""
    )
    mock.set_faults(json_latency_ms=700)
    # When another order is looked up, then the agent waits for the search's own answer
    viewed = await view_assignment(quick_session(page, base_url), "110000002")
    assert viewed.found, viewed.detail
    assert viewed.view is not None and viewed.view.sales_order == "110000002"


async def test_a_web_order_listed_under_its_sales_order_link_is_found(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given a portal that names each match's link by the Sales Order and shows the Web Order
    # searched beside it
    def by_sales_order(body: dict[str, Any]) -> None:
        for match in body["results"]:
            match["end_customer"] = f"{match['end_customer']} (Web Order {match['number']})"
            match["number"] = match["sales_order"]

    await rewrite(page, "**/api/search?*", by_sales_order)
    # When the Web Order is looked up, then its entry is the answer, not "listed only"
    viewed = await view_assignment(quick_session(page, base_url), "80000012")
    assert viewed.found, viewed.detail
    assert viewed.view is not None and viewed.view.sales_order == "110000012"
