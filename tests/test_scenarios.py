"""The mock's whole scenario table, on every release of the mock: the same outcome everywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from pydantic import SecretStr

from flows.assign import assign_smart_account
from flows.models import AssignRequest, Outcome, SearchBy
from flows.session import Credentials, PortalSession
from mock_site.data import SCENARIOS, Scenario
from mock_site.releases import RELEASES
from mock_site.server import MockServer

pytestmark = pytest.mark.browser

DEMO = Credentials(
    username="demo.partner@northwind.example", password=SecretStr("Northwind-Demo-1")
)


def _asked_number(scenario: Scenario) -> str:
    # The scenario whose point is the Web Order number is asked by it.
    return scenario.web_order if "web order" in scenario.case else scenario.sales_order


@pytest.mark.parametrize("release", list(RELEASES))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.sales_order}-{s.outcome}")
def test_every_scenario_ends_the_same_on_every_release(
    page: Page, base_url: str, mock: MockServer, release: str, scenario: Scenario
) -> None:
    # Given the mock rendering this release
    mock.set_release(release)
    session = PortalSession(page=page, base_url=base_url, credentials=DEMO, timeout_ms=10_000)
    request = AssignRequest(
        order_number=_asked_number(scenario),
        search_by=SearchBy(scenario.search_by),
        smart_account=scenario.smart_account,
        virtual_account=scenario.virtual_account,
    )
    # When the agent works the scenario's order
    result = assign_smart_account(session, request)
    # Then it answers the scenario's outcome, and submits only when it says "assigned"
    assert result.outcome is Outcome(scenario.outcome), result.detail
    snapshot = mock.order(scenario.sales_order)
    submitted = len(snapshot["submissions"]) if snapshot else 0
    assert submitted == (1 if result.outcome is Outcome.ASSIGNED else 0)
    if result.outcome is Outcome.ASSIGNED:
        assert result.after is not None
        assert all(
            line.virtual_account
            and line.virtual_account.casefold() == request.virtual_account.casefold()
            for line in result.after.lines
            if line.eligible
        )
