"""pytest plugin `ccw_agent`: the portal, a signed-in page and the page objects as fixtures.

Registered through the `pytest11` entry point, so any suite in an environment where ccw-agent is
installed gets it. It builds on pytest-playwright-asyncio: the browser is its `browser`, every
context comes from its `new_context` (so `--headed`, `--tracing`, `--video`, `--output` work as
documented there), and the page fixtures are async.

Where the portal is: the bundled mock, started once per session on 127.0.0.1 (port 0), unless
`--ccw-base-url` names another portal. Against the mock the session signs in as the mock's demo
user; against another portal with CCW_USERNAME, CCW_PASSWORD and CCW_TOTP_SECRET (agent
settings, environment or .env). The sign-in happens once per session; every test gets a fresh
context from the saved storage state.

Event loop: the browser lives in pytest-asyncio's session loop, so every async fixture here runs
there, and an async test that uses one of these fixtures is marked
`asyncio(loop_scope="session")` (one whose own marker names another loop scope is refused at
setup). A suite therefore writes `async def test_x(ccw_session): ...` in pytest-asyncio's strict
or auto mode alike.

Safety, in two places. At setup, a test marked `mutating`, and any test using the portal that is
not marked `readonly`, is refused against anything but the mock unless `--ccw-allow-mutations` is
given. At the click, every browser and context handed out here (pytest-playwright-asyncio's own
`browser`, `context` and `page` included) is registered with pages.guard, so that the irreversible
Yes is refused, whatever path a test took to it (page objects, flows, `getfixturevalue`), in a
`readonly` test always, and against a portal other than the bundled mock unless
`--ccw-allow-mutations` is given.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeGuard
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page
from pydantic import SecretStr, ValidationError

from agent.browser import launch_args, resolve_executable
from agent.settings import Settings, check_env_file
from flows.hosts import CredentialHosts, is_loopback
from flows.session import Credentials, PortalSession
from flows.signin import ensure_signed_in
from flows.view import NotFound, open_assignments
from mock_site.data import USERS
from mock_site.releases import DEFAULT_RELEASE, RELEASES
from mock_site.server import MockServer
from pages.assignments import SmartAccountAssignmentPage
from pages.base import DEFAULT_TIMEOUT_MS, WATCH_SCRIPT
from pages.errors import BrowserNotFound, ConfigError
from pages.guard import gate
from pages.header import Header
from pages.labels import Labels, labels

MOCK_SEED = 1234
# The bundled mock answers in milliseconds: a wait that takes a third of the portal's default
# there has found a defect, and a test says so sooner.
MOCK_TIMEOUT_MS = int(DEFAULT_TIMEOUT_MS // 3)
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
# An async test using any of these runs in the session's event loop, the browser's.
CCW_FIXTURES = PORTAL_FIXTURES | {"ccw_portal", "ccw_mock"}
LOOP_SCOPE: Final = "session"
MARKERS = (
    "readonly: only reads the CCW portal; allowed against any portal",
    "mutating: changes orders on the CCW portal; against anything but the bundled mock only "
    "with --ccw-allow-mutations",
)


# The node id of the running test when it is marked readonly; asked at every Yes.
_READONLY_TEST = pytest.StashKey[str | None]()


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


# Inside pytest-asyncio's own wrapper (trylast: innermost), so that the marker is there when
# pytest-asyncio turns the coroutine into a test it runs, in strict mode as in auto mode.
# Inside pytest-asyncio's own wrapper (trylast: innermost), so that the marker is there when
# pytest-asyncio turns the coroutine into a test it runs, in strict mode as in auto mode.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """Run an async test that uses the portal in the session's event loop, the browser's,
    unless it names a loop scope itself."""
    collected = yield
    items = collected if isinstance(collected, list) else [collected]
    for item in items:
        if _uses_the_portal_async(item) and _loop_scope_asked(item) is None:
            item.add_marker(pytest.mark.asyncio(loop_scope=LOOP_SCOPE), append=False)
    return collected


def _uses_the_portal_async(item: object) -> TypeGuard[pytest.Function]:
    return (
        isinstance(item, pytest.Function)
        and inspect.iscoroutinefunction(item.obj)
        and bool(CCW_FIXTURES & set(item.fixturenames))
    )


def _loop_scope_asked(item: pytest.Item) -> str | None:
    """The loop scope the test's own asyncio marker names, if any."""
    chosen = item.get_closest_marker("asyncio")
    if chosen is None:
        return None
    scope = chosen.kwargs.get("loop_scope") or chosen.kwargs.get("scope")
    return None if scope is None else str(scope)


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
    item.config.stash[_READONLY_TEST] = item.nodeid if readonly else None
    asked = _loop_scope_asked(item) if _uses_the_portal_async(item) else None
    if asked not in (None, LOOP_SCOPE):
        # Playwright's objects answer on the loop that made them: it would fail on every await.
        pytest.fail(
            f"{item.nodeid} asks for a {asked}-scoped event loop, but the ccw_ fixtures run in "
            f"the session's loop, the browser's: drop loop_scope, or make it \"{LOOP_SCOPE}\"",
            pytrace=False,
        )
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
    """Give pytest-playwright-asyncio our Chromium unless something already chose an executable.

    Done on the value rather than by overriding `browser_type_launch_args`, so that it composes
    with any conftest that overrides that fixture, whichever plugin pytest loaded first.
    """
    value = yield
    if isinstance(value, Browser | BrowserContext):
        # Whatever fixture made it (ours, pytest-playwright-asyncio's, a conftest's): its pages'
        # Yes asks the plugin first.
        gate(value, _submission_policy(request.config))
    if fixturedef.argname == "browser_type_launch_args" and isinstance(value, dict):
        browsers = request.config.getoption("browser", None) or ["chromium"]
        if browsers == ["chromium"] and not value.keys() & {"executable_path", "channel"}:
            try:
                # A headless shell for headless runs, as the agent's own launch picks.
                headless = bool(value.get("headless", True))
                ours = launch_args(resolve_executable(headless=headless))
            except BrowserNotFound:
                return value  # Playwright's own Chromium, or its own error naming what to install
            ours.pop("headless")  # --headed stays pytest-playwright-asyncio's choice
            for key, setting in ours.items():
                value.setdefault(key, setting)
    return value


def _submission_policy(config: pytest.Config) -> Callable[[str], str | None]:
    """Why the irreversible Yes must not be clicked on a page at `url` now, or None."""

    def refusal(url: str) -> str | None:
        readonly = config.stash.get(_READONLY_TEST, None)
        if readonly:
            return f"{readonly} is marked readonly"
        if config.getoption("ccw_allow_mutations"):
            return None
        base_url = config.getoption("ccw_base_url")
        if base_url:
            return (
                f"the portal {base_url} is not the bundled mock; pass --ccw-allow-mutations "
                "to let tests change its orders"
            )
        # The bundled mock is served on this machine only: a page elsewhere is not the mock.
        host = urlsplit(url).hostname or ""
        if not is_loopback(host):
            return (
                f"the page is on {host or url}, not on the bundled mock; pass "
                "--ccw-allow-mutations to let tests change orders there"
            )
        return None

    return refusal


def _real_portal(config: pytest.Config, base_url: str) -> CcwPortal:
    try:
        check_env_file()
        settings = Settings(base_url=base_url)
    except ConfigError as exc:
        raise pytest.UsageError(f"ccw-agent settings: {exc}") from None
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
        labels=settings.labels,  # the locale's, with CCW_LABELS_FILE on top, as for the agent
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


@pytest.fixture
def _ccw_fresh_mock(request: pytest.FixtureRequest, ccw_portal: CcwPortal) -> None:
    """On the mock, reset it once per test, whichever fixture asks first."""
    if ccw_portal.is_mock:
        request.getfixturevalue("ccw_mock")


def _session(portal: CcwPortal, page: Page) -> PortalSession:
    return PortalSession(
        page=page,
        base_url=portal.base_url,
        labels=portal.labels,
        credentials=portal.credentials,
        timeout_ms=portal.timeout_ms,
        credential_hosts=portal.credential_hosts,
    )


@pytest_asyncio.fixture(scope="session", loop_scope=LOOP_SCOPE)
async def ccw_storage_state(
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
    context = await browser.new_context(**browser_context_args)
    try:
        await ensure_signed_in(_session(ccw_portal, await context.new_page()))
        path = tmp_path_factory.mktemp("ccw") / "storage-state.json"
        await context.storage_state(path=path)
    finally:
        await context.close()
    return path


@pytest_asyncio.fixture(loop_scope=LOOP_SCOPE)
async def ccw_context(
    _ccw_fresh_mock: None,
    ccw_storage_state: Path,
    new_context: Callable[..., Awaitable[BrowserContext]],
) -> BrowserContext:
    """A fresh browser context signed in to the portal (the mock is reset first). Its documents
    keep when they last changed, as the agent's do, for waits that watch the page."""
    context = await new_context(storage_state=ccw_storage_state)
    await context.add_init_script(WATCH_SCRIPT)
    return context


@pytest_asyncio.fixture(loop_scope=LOOP_SCOPE)
async def ccw_page(ccw_context: BrowserContext) -> Page:
    """A page of `ccw_context`, still blank: flows and `ccw_header` open the portal."""
    return await ccw_context.new_page()


@pytest.fixture
def ccw_session(
    request: pytest.FixtureRequest, ccw_portal: CcwPortal, ccw_page: Page
) -> PortalSession:
    """The flows' PortalSession on `ccw_page`; a readonly test's session never clicks Yes."""
    session = _session(ccw_portal, ccw_page)
    if request.node.get_closest_marker("readonly") is not None:

        async def refuse() -> None:
            raise ReadOnlyViolation(f"{request.node.nodeid} is marked readonly but submitted")

        session.hooks.before_submit = refuse
    return session


@pytest_asyncio.fixture(loop_scope=LOOP_SCOPE)
async def ccw_header(ccw_session: PortalSession) -> Header:
    """The portal's home opened and its header waited for (signed in)."""
    await ensure_signed_in(ccw_session)
    return await Header(ccw_session.page, ccw_session.labels).wait()


@pytest.fixture
def ccw_open_order(
    ccw_session: PortalSession,
) -> Callable[[str], Awaitable[SmartAccountAssignmentPage]]:
    """Open an order's Smart Account Assignment screen: `await ccw_open_order("110000001")`.

    Fails the test with the portal's words when the order is not found.
    """

    async def open_order(number: str) -> SmartAccountAssignmentPage:
        await ensure_signed_in(ccw_session)
        opened = await open_assignments(ccw_session, number)
        if isinstance(opened, NotFound):
            pytest.fail(opened.detail, pytrace=False)
        return opened.screen

    return open_order
