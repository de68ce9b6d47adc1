"""A QA suite built on the ccw_agent pytest plugin alone: no conftest, no import of the tests.

Runs against the bundled mock by default (`pytest examples/qa`); the readonly tests run against
another portal too (`pytest examples/qa -m readonly --ccw-base-url URL`), given orders it holds.
The tests are coroutines: the plugin runs them in the browser's event loop, no marker needed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from agent.doctor import diagnose
from flows.assign import assign_smart_account
from flows.models import AssignRequest, Outcome, SearchBy
from flows.session import PortalSession
from flows.view import view_assignment
from mock_site.server import MockServer
from pages.assignments import SmartAccountAssignmentPage
from pages.header import Header

pytestmark = pytest.mark.browser

DEMO_USER = "demo.partner@northwind.example"


@pytest.mark.readonly
async def test_an_order_shows_its_lines_and_their_accounts(
    ccw_header: Header, ccw_open_order: Callable[[str], Awaitable[SmartAccountAssignmentPage]]
) -> None:
    # given the signed-in header
    assert await ccw_header.signed_in_email() == DEMO_USER
    # when the assignments of an order held by Northwind Holding are opened
    screen = await ccw_open_order("110000002")
    # then every line names that account and may be assigned
    lines = await screen.lines()
    assert [line.smart_account for line in lines] == ["Northwind Holding", "Northwind Holding"]
    assert all(screen.line_is_eligible(line) for line in lines)
    assert await screen.assign_disabled_reason() is None


@pytest.mark.readonly
async def test_a_dry_run_says_what_it_would_assign_and_changes_nothing(
    ccw_session: PortalSession,
) -> None:
    request = AssignRequest(
        order_number="110000001",
        search_by=SearchBy.DOMAIN,
        smart_account="acme.example",
        virtual_account="Campus-Network",
        dry_run=True,
    )
    result = await assign_smart_account(ccw_session, request)
    assert result.outcome is Outcome.WOULD_ASSIGN, result.detail
    assert result.after is None or result.after == result.before


@pytest.mark.mutating
async def test_an_assignment_moves_the_lines_and_releases_the_hold(
    ccw_session: PortalSession, ccw_mock: MockServer
) -> None:
    request = AssignRequest(
        order_number="80000001",
        search_by=SearchBy.DOMAIN,
        smart_account="acme.example",
        virtual_account="Campus-Network",
    )
    result = await assign_smart_account(ccw_session, request)
    assert result.outcome is Outcome.ASSIGNED, result.detail
    order = ccw_mock.order("110000001")
    assert order is not None and order["holds"] == []
    assert {line["virtual_account"] for line in order["lines"]} == {"Campus-Network"}
    assert ccw_mock.stats()["submissions"] == 1


@pytest.mark.readonly
async def test_a_failing_search_is_tried_again_until_the_order_shows(
    ccw_session: PortalSession, ccw_mock: MockServer
) -> None:
    # given a portal whose next two searches answer 500
    ccw_mock.set_faults(fail_next=[{"path_contains": "/api/search", "count": 2}])
    # when the order is viewed
    result = await view_assignment(ccw_session, "110000006")
    # then the flow recovered in place and read it, on the session's saved sign-in
    assert result.view is not None, result.detail
    assert [line.line for line in result.view.lines] == ["1.0", "2.0"]
    assert ccw_mock.stats()["logins_by_user"] == {}


@pytest.mark.readonly
@pytest.mark.parametrize("release", ["ledger", "compact"])
async def test_another_release_reads_the_same_order(
    ccw_session: PortalSession, ccw_mock: MockServer, release: str
) -> None:
    ccw_mock.set_release(release)
    result = await view_assignment(ccw_session, "110000002")
    assert result.view is not None, result.detail
    assert {line.smart_account for line in result.view.lines} == {"Northwind Holding"}
    assert ccw_mock.stats()["release"] == release


@pytest.mark.readonly
async def test_the_portal_shows_every_label_the_agent_needs(ccw_session: PortalSession) -> None:
    # The doctor walks steps 1-8 read-only, on the session's saved sign-in
    report = await diagnose(ccw_session, "110000002")
    assert report.ok, [check for check in report.checks if not check.ok]
