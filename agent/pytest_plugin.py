"""pytest plugin `ccw_agent`: the portal, a signed-in page and the page objects as fixtures.

Registered through the `pytest11` entry point, so any suite in an environment where ccw-agent is
installed gets it. It builds on pytest-playwright: the browser is pytest-playwright's `browser`,
every context comes from its `new_context` (so `--headed`, `--tracing`, `--video`, `--output`
work as documented there).

Where the portal is: the bundled mock, started once per session on 127.0.0.1 (port 0), unless
`--ccw-base-url` names another portal. Against the mock the session signs in as the mock's demo
user; against another portal with CCW_USERNAME, CCW_PASSWORD and CCW_TOTP_SECRET (agent
settings, environment or .env). The sign-in happens once per session; every test gets a fresh
context from the saved storage state.

Safety: a test marked `mutating`, and any test using the portal that is not marked `readonly`,
is refused against anything but the mock unless `--ccw-allow-mutations` is given. A `readonly`
test's `ccw_session` refuses the irreversible Yes of an assignment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from pydantic import SecretStr, ValidationError

from agent.browser import launch_args, resolve_executable
from agent.settings import Settings
from flows.hosts import CredentialHosts
from flows.session import Credentials, PortalSession
from flows.signin import ensure_signed_in
from flows.view import NotFound, open_assignments
from mock_site.data import USERS
from mock_site.releases import DEFAULT_RELEASE, RELEASES
from mock_site.server import MockServer
from pages.assignments import SmartAccountAssignmentPage
from pages.errors import BrowserNotFound
from pages.header import Header
from pages.labels import Labels, labels

MOCK_SEED = 1234
MOCK_TIMEOUT_MS = 10_000
# Markers are refused or allowed by the fixtures a test uses: these touch the portal.
PORTAL_FIXTURES = frozenset(
    {
        "ccw_storage_state",
        "ccw_context",
        "ccw_page",
        "ccw_session",
        "ccw_header",
        "ccw_open_order",
    }
)
MARKERS = (
    "readonly: only reads the CCW portal; allowed against any portal",
    "mutating: changes orders on the CCW portal; against anything but the bundled mock only "
    "with --ccw-allow-mutations",
)


class ReadOnlyViolation(Exception):
    """A test marked readonly reached the irreversible Yes of an assignment."""


@dataclass(frozen=True)
class CcwPortal:
    """The portal this test session drives: where it is, whether it is the mock, its labels."""

    base_url: str
    is_mock: bool
    labels: Labels
    credentials: Credentials | None
    timeout_ms: float
    allow_mutations: bool
    credential_hosts: CredentialHosts | None = None
    mock: MockServer | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ccw_agent", "ccw-agent portal fixtures")
    group.addoption(
        "--ccw-base-url",
        default=None,
        metavar="URL",
        help="CCW home page to test against (default: the bundled mock, started for the session; "
        "credentials from CCW_USERNAME, CCW_PASSWORD, CCW_TOTP_SECRET)",
    )
    group.addoption(
        "--ccw-release",
        default=None,
        choices=list(RELEASES),
        help=f"layout release of the bundled mock (default {DEFAULT_RELEASE}); mock only",
    )
    group.addoption(
        "--ccw-allow-mutations",
        action="store_true",
        default=False,
        help="run tests marked mutating (and unmarked portal tests) against a portal that is "
        "not the bundled mock",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if config.getoption("ccw_release") and config.getoption("ccw_base_url"):
        raise pytest.UsageError(
            "--ccw-release chooses a layout of the bundled mock; it cannot be used with "
            "--ccw-base-url"
        )


def _is_mock(config: pytest.Config) -> bool:
    return not config.getoption("ccw_base_url")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip mock-only tests and refuse unsafe ones off the mock, before any fixture runs."""
    fixtures = set(getattr(item, "fixturenames", ()))
    readonly = item.get_closest_marker("readonly") is not None
    mutating = item.get_closest_marker("mutating") is not None
    if readonly and mutating:
        pytest.fail(f"{item.nodeid} is marked both readonly and mutating", pytrace=False)
    if _is_mock(item.config):
        return
    if "ccw_mock" in fixtures:
        pytest.skip("uses ccw_mock: runs against the bundled mock only (no --ccw-base-url)")
    touches_portal = mutating or bool(fixtures & PORTAL_FIXTURES)
    if touches_portal and not readonly and not item.config.getoption("ccw_allow_mutations"):
        kind = "marked mutating" if mutating else "not marked readonly"
        pytest.fail(
            f"refused: {item.nodeid} is {kind} and the portal "
            f"{item.config.getoption('ccw_base_url')} is not the bundled mock; "
            "mark it readonly if it only reads, or pass --ccw-allow-mutations",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
    """Give pytest-playwright our Chromium unless something already chose an executable.

    Done on the value rather than by overriding `browser_type_launch_args`, so that it composes
    with any conftest that overrides that fixture, whichever plugin pytest loaded first.
    """
    value = yield
    if fixturedef.argname == "browser_type_launch_args" and isinstance(value, dict):
        browsers = request.config.getoption("browser", None) or ["chromium"]
        if browsers == ["chromium"] and not value.keys() & {"executable_path", "channel"}:
            try:
                ours = launch_args(resolve_executable())
            except BrowserNotFound:
                return value  # Playwright's own Chromium, or its own error naming what to install
            ours.pop("headless")  # --headed stays pytest-playwright's choice
            for key, setting in ours.items():
                value.setdefault(key, setting)
    return value


def _real_portal(config: pytest.Config, base_url: str) -> CcwPortal:
    try:
        settings = Settings(base_url=base_url)
    except ValidationError as exc:
        raise pytest.UsageError(f"ccw-agent settings: {exc}") from None
    credentials = None
    if settings.username and settings.password:
        credentials = Credentials(
            username=settings.username,
            password=settings.password,
            totp_secret=settings.totp_secret,
        )
    return CcwPortal(
        base_url=settings.base_url,
        is_mock=False,
        labels=labels(settings.locale),
        credentials=credentials,
        timeout_ms=settings.timeout_ms,
        allow_mutations=bool(config.getoption("ccw_allow_mutations")),
        credential_hosts=settings.credential_hosts,
    )


@pytest.fixture(scope="session")
def ccw_portal(pytestconfig: pytest.Config) -> Iterator[CcwPortal]:
    """The portal of this session; starts the bundled mock unless --ccw-base-url is given."""
    base_url = pytestconfig.getoption("ccw_base_url")
    if base_url:
        yield _real_portal(pytestconfig, base_url)
        return
    release = pytestconfig.getoption("ccw_release") or DEFAULT_RELEASE
    server = MockServer(
        host="127.0.0.1", port=0, seed=MOCK_SEED, control=True, release=release
    ).start()
    demo = USERS[0]
    try:
        yield CcwPortal(
            base_url=server.home_url,
            is_mock=True,
            labels=labels(),
            credentials=Credentials(username=demo.email, password=SecretStr(demo.password)),
            timeout_ms=MOCK_TIMEOUT_MS,
            allow_mutations=True,
            mock=server,
        )
    finally:
        server.stop()


@pytest.fixture
def ccw_mock(ccw_portal: CcwPortal) -> MockServer:
    """The bundled mock's control (faults, releases, orders, stats), reset before the test.

    Tests that use it are skipped against any other portal.
    """
    if ccw_portal.mock is None:
        pytest.skip("uses ccw_mock: runs against the bundled mock only (no --ccw-base-url)")
    ccw_portal.mock.reset()
    return ccw_portal.mock


def _session(portal: CcwPortal, page: Page) -> PortalSession:
    return PortalSession(
        page=page,
        base_url=portal.base_url,
        labels=portal.labels,
        credentials=portal.credentials,
        timeout_ms=portal.timeout_ms,
        credential_hosts=portal.credential_hosts,
    )


@pytest.fixture(scope="session")
def ccw_storage_state(
    ccw_portal: CcwPortal,
    browser: Browser,
    browser_context_args: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A file of Playwright storage state signed in to the portal, made once per session."""
    if ccw_portal.credentials is None:
        pytest.fail(
            f"no credentials for {ccw_portal.base_url}: set CCW_USERNAME and CCW_PASSWORD "
            "(and CCW_TOTP_SECRET when the account uses one-time codes)",
            pytrace=False,
        )
    context = browser.new_context(**browser_context_args)
    try:
        ensure_signed_in(_session(ccw_portal, context.new_page()))
        path = tmp_path_factory.mktemp("ccw") / "storage-state.json"
        context.storage_state(path=path)
    finally:
        context.close()
    return path


@pytest.fixture
def ccw_context(
    request: pytest.FixtureRequest,
    ccw_portal: CcwPortal,
    ccw_storage_state: Path,
    new_context: Callable[..., BrowserContext],
) -> BrowserContext:
    """A fresh browser context signed in to the portal (the mock is reset first)."""
    if ccw_portal.is_mock:
        request.getfixturevalue("ccw_mock")  # one reset per test, whoever asks first
    return new_context(storage_state=ccw_storage_state)


@pytest.fixture
def ccw_page(ccw_context: BrowserContext) -> Page:
    """A page of `ccw_context`, still blank: flows and `ccw_header` open the portal."""
    return ccw_context.new_page()


@pytest.fixture
def ccw_session(
    request: pytest.FixtureRequest, ccw_portal: CcwPortal, ccw_page: Page
) -> PortalSession:
    """The flows' PortalSession on `ccw_page`; a readonly test's session never clicks Yes."""
    session = _session(ccw_portal, ccw_page)
    if request.node.get_closest_marker("readonly") is not None:

        def refuse() -> None:
            raise ReadOnlyViolation(f"{request.node.nodeid} is marked readonly but submitted")

        session.before_submit = refuse
    return session


@pytest.fixture
def ccw_header(ccw_session: PortalSession) -> Header:
    """The portal's home opened and its header waited for (signed in)."""
    ensure_signed_in(ccw_session)
    return Header(ccw_session.page, ccw_session.labels, ccw_session.timeout_ms).wait()


@pytest.fixture
def ccw_open_order(
    ccw_session: PortalSession,
) -> Callable[[str], SmartAccountAssignmentPage]:
    """Open an order's Smart Account Assignment screen: `ccw_open_order("110000001")`.

    Fails the test with the portal's words when the order is not found.
    """

    def open_order(number: str) -> SmartAccountAssignmentPage:
        ensure_signed_in(ccw_session)
        opened = open_assignments(ccw_session, number)
        if isinstance(opened, NotFound):
            pytest.fail(opened.detail, pytrace=False)
        return opened.screen

    return open_order
