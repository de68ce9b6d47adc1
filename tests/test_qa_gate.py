"""The QA gate sits at the irreversible Yes: whatever path a test takes to it, a readonly test, or
any test against a portal other than the bundled mock without --ccw-allow-mutations, submits
nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from helpers import submissions
from playwright.async_api import Page

from mock_site.server import MockServer
from pages.errors import MutationRefused
from pages.guard import check_submission, gate

pytest_plugins = ["pytester"]

DEMO = ("demo.partner@northwind.example", "Northwind-Demo-1")

# Three ways past the setup check: the flows on a readonly test's own page, a session taken
# through request.getfixturevalue in a helper fixture, and pytest-playwright-asyncio's `page`.
BYPASSES = """
import pytest
from flows.assign import assign_smart_account
from flows.models import AssignRequest, SearchBy
from flows.session import Credentials, PortalSession
from flows.signin import ensure_signed_in
from pages.errors import MutationRefused
from pages.labels import labels
from pydantic import SecretStr


def request_for(order):
    return AssignRequest(
        order_number=order, search_by=SearchBy.DOMAIN,
        smart_account="acme.example", virtual_account="DEFAULT",
    )


def own_session(page, base_url):
    # Built by hand: no fixture's before_submit hook stands in the way.
    return PortalSession(
        page=page, base_url=base_url, labels=labels(), timeout_ms=10_000,
        credentials=Credentials(username="{user}", password=SecretStr("{password}")),
    )


@pytest.mark.readonly
async def test_readonly_drives_the_flows_on_its_own_page(ccw_page, ccw_portal):
    session = own_session(ccw_page, ccw_portal.base_url)
    await ensure_signed_in(session)
    with pytest.raises(MutationRefused, match="marked readonly"):
        await assign_smart_account(session, request_for("110000001"))


@pytest.fixture
def a_session(request):
    return request.getfixturevalue("ccw_session")


@pytest.mark.asyncio(loop_scope="session")
async def test_unmarked_takes_the_session_through_getfixturevalue(a_session):
    session = a_session
    await ensure_signed_in(session)
    with pytest.raises(MutationRefused, match="not the bundled mock"):
        await assign_smart_account(session, request_for("110000003"))


@pytest.mark.asyncio(loop_scope="session")
async def test_unmarked_uses_the_browser_plugin_s_own_page(page, pytestconfig):
    session = own_session(page, pytestconfig.getoption("ccw_base_url"))
    await ensure_signed_in(session)
    with pytest.raises(MutationRefused, match="not the bundled mock"):
        await assign_smart_account(session, request_for("110000007"))
"""


@pytest.mark.browser
def test_every_bypass_of_the_setup_check_submits_nothing(
    pytester: pytest.Pytester, mock: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a portal the plugin does not know as its own mock, and no --ccw-allow-mutations
    monkeypatch.setenv("CCW_USERNAME", DEMO[0])
    monkeypatch.setenv("CCW_PASSWORD", DEMO[1])
    pytester.makepyfile(BYPASSES.replace("{user}", DEMO[0]).replace("{password}", DEMO[1]))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = session\n")

    # When the suite runs
    result = pytester.runpytest_subprocess(
        f"--ccw-base-url={mock.home_url}", "-p", "no:cacheprovider"
    )

    # Then each test saw the Yes refused, and the portal recorded no submission
    result.assert_outcomes(passed=3)
    for order in ("110000001", "110000003", "110000007"):
        assert submissions(mock, order) == [], order


# --- the registry itself, without a browser -------------------------------------------------------


@dataclass(eq=False)
class FakeBrowser:
    pass


@dataclass(eq=False)
class FakeContext:
    browser: FakeBrowser | None = field(default_factory=FakeBrowser)


@dataclass(eq=False)
class FakePage:
    context: FakeContext = field(default_factory=FakeContext)
    url: str = "https://apps.example/Commerce/home"


def as_page(fake: FakePage) -> Page:
    return cast(Page, fake)


def test_a_page_of_an_unregistered_browser_may_submit() -> None:
    check_submission(as_page(FakePage()))  # the agent's own runs register nothing


def test_a_policy_of_the_browser_covers_every_context_of_it() -> None:
    page = FakePage()
    assert page.context.browser is not None
    gate(cast(Any, page.context.browser), lambda url: f"no submissions on {url}")

    with pytest.raises(MutationRefused, match="no submissions on https://apps.example"):
        check_submission(as_page(page))


def test_a_policy_of_a_context_is_asked_with_the_page_s_address() -> None:
    asked: list[str] = []
    page = FakePage(url="http://127.0.0.1:9/Commerce/home")
    gate(cast(Any, page.context), lambda url: asked.append(url) or None)

    check_submission(as_page(page))

    assert asked == ["http://127.0.0.1:9/Commerce/home"]
