"""The mock's whole scenario table, on every release of the mock and in French: the same outcome
everywhere."""

from __future__ import annotations

import pytest
from helpers import portal_session
from playwright.async_api import Page

from flows.assign import assign_smart_account
from flows.models import AssignRequest, Outcome, SearchBy
from mock_site.data import SCENARIOS, Scenario
from mock_site.releases import REFERENCE_RELEASES
from mock_site.server import MockServer
from pages.labels import Labels, labels


def _asked_number(scenario: Scenario) -> str:
    # The scenario whose point is the Web Order number is asked by it.
    return scenario.web_order if "web order" in scenario.case else scenario.sales_order


# Not the renamed release: there the agent needs a label file (tests/test_doctor.py).
@pytest.mark.parametrize("release", REFERENCE_RELEASES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.sales_order}-{s.outcome}")
async def test_every_scenario_ends_the_same_on_every_release(
    page: Page, base_url: str, mock: MockServer, release: str, scenario: Scenario
) -> None:
    # Given the mock rendering this release
    mock.set_release(release)
    # When the agent works the scenario's order, then it ends as the scenario says
    await works_out_as_the_table_says(page, base_url, mock, scenario, labels("en"))


# French costs a run of the table per release; the classic layout is the one the French portal
# is checked on, the other layouts being the same words arranged differently.
@pytest.mark.parametrize("release", ["classic"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.sales_order}-{s.outcome}")
async def test_every_scenario_ends_the_same_in_french(
    page: Page, base_url: str, mock: MockServer, release: str, scenario: Scenario
) -> None:
    # Given the mock in French (a few controls left in English), rendering this release
    mock.set_release(release)
    mock.set_locale("fr")
    # When the agent looks for the French labels, then it ends as the scenario says
    await works_out_as_the_table_says(page, base_url, mock, scenario, labels("fr"))


async def works_out_as_the_table_says(
    page: Page, base_url: str, mock: MockServer, scenario: Scenario, words: Labels
) -> None:
    session = portal_session(page, base_url, labels=words)
    request = AssignRequest(
        order_number=_asked_number(scenario),
        search_by=SearchBy(scenario.search_by),
        smart_account=scenario.smart_account,
        virtual_account=scenario.virtual_account,
    )
    result = await assign_smart_account(session, request)
    # It answers the scenario's outcome, and submits only when it says "assigned"
    assert result.outcome is Outcome(scenario.outcome), result.detail
    snapshot = mock.order(scenario.sales_order)
    if result.before is not None and snapshot is not None:
        # the Order Details facts are read whole, whatever elements or line they share
        assert (result.before.sales_order, result.before.status) == (
            snapshot["sales_order"],
            snapshot["status"],
        )
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
