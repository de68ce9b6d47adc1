"""Credentials are typed only on allowed sign-on hosts, over https except on this machine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fake_signon import FakeSignOn
from helpers import AgentCli, portal_session
from playwright.async_api import Browser, BrowserType, Page, expect
from pydantic import SecretStr, ValidationError
from structlog.testing import capture_logs

from agent.settings import Settings, warn_if_env_file_redirects
from flows.hosts import CredentialHosts, parse_host_patterns
from flows.session import Credentials
from flows.signin import sign_in
from mock_site.server import MockServer
from pages.errors import CredentialHostRefused, LoginFailed, StepFailed

SOMEONE = Credentials(username="someone@example.com", password=SecretStr("Off-List-Password-5"))
PORTAL = "https://apps.cisco.com/Commerce/home"


# --- the allowlist ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://apps.cisco.com/Commerce/signon",
        "https://id.cisco.com/signin",
        "https://cloudsso.cisco.com/as/authorization.oauth2",
        "https://login.corp.example/sso",
        "https://deep.sso.corp.example/",
        "http://127.0.0.5:8080/signon",
        "http://localhost/signon",
        "http://[::1]:9000/signon",
    ],
)
def test_credentials_may_go_to_the_portal_cisco_and_configured_hosts(url: str) -> None:
    hosts = CredentialHosts.for_portal(
        PORTAL, parse_host_patterns("login.corp.example, *.corp.example")
    )
    hosts_with_loopback = CredentialHosts(
        (*hosts.patterns, *parse_host_patterns("127.0.0.5 localhost ::1"))
    )
    hosts_with_loopback.check(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://id.cisco.com.evil.example/signin",
            "is on id.cisco.com.evil.example, which is not",
        ),
        ("https://corp.example/", "is on corp.example, which is not"),
        ("https://tenant.okta.com/", "add it to CCW_ALLOWED_HOSTS"),
        ("https://id.cisco.com@evil.example/", "is on evil.example"),
        ("http://id.cisco.com/signin", "plain http"),
        ("about:blank", "not on a web page"),
    ],
)
def test_credentials_never_go_elsewhere_or_over_plain_http(url: str, message: str) -> None:
    hosts = CredentialHosts.for_portal(PORTAL, parse_host_patterns("*.corp.example"))
    with pytest.raises(CredentialHostRefused, match=message.replace(".", r"\.")):
        hosts.check(url)


def test_a_refusal_is_a_sign_in_failure() -> None:
    assert issubclass(CredentialHostRefused, LoginFailed)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://login.corp.example", "not a URL"),
        ("login.corp.example:443", "without a port"),
        ("*.com", "too wide"),
        ("bad_host!", "not a host name"),
    ],
)
def test_allowed_hosts_setting_refuses_what_is_not_a_host(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("CCW_ALLOWED_HOSTS", value)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)


def test_allowed_hosts_setting_reads_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCW_ALLOWED_HOSTS", " Login.Corp.Example., *.sso.example ,10.0.0.7")
    monkeypatch.setenv("CCW_BASE_URL", "https://ccw-staging.example/Commerce/home")
    settings = Settings(_env_file=None)
    assert settings.credential_hosts.patterns == (
        "ccw-staging.example",
        "id.cisco.com",
        "sso.cisco.com",
        "cloudsso.cisco.com",
        "login.corp.example",
        "*.sso.example",
        "10.0.0.7",
    )


# --- a sign-on page off the list gets nothing -----------------------------------------------------


@pytest.fixture
def off_list(fake_signon: Callable[..., FakeSignOn]) -> FakeSignOn:
    """A sign-on page on 127.0.0.2: this machine, but not the portal's host nor a listed one."""
    return fake_signon("127.0.0.2")


@pytest.fixture
def redirecting(
    off_list: FakeSignOn, fake_signon: Callable[..., FakeSignOn]
) -> tuple[FakeSignOn, str]:
    """The off-list sign-on page, and a portal on 127.0.0.1 whose home redirects there."""
    return off_list, fake_signon(home_redirect=off_list.url("/signon")).url()


async def test_a_sign_on_page_on_another_host_gets_nothing_typed(
    page: Page, redirecting: tuple[FakeSignOn, str]
) -> None:
    signon, portal = redirecting
    session = portal_session(page, portal, credentials=SOMEONE, timeout_ms=5_000)

    with pytest.raises(CredentialHostRefused, match=r"127\.0\.0\.2.*CCW_ALLOWED_HOSTS"):
        await sign_in(session)

    assert page.url.startswith(signon.url("/signon"))
    await expect(page.get_by_role("textbox", name="Email")).to_have_value("")
    assert signon.typed == [] and signon.posts == []


async def test_a_host_added_to_the_list_gets_the_credentials(
    page: Page, redirecting: tuple[FakeSignOn, str]
) -> None:
    signon, portal = redirecting
    session = portal_session(
        page,
        portal,
        credentials=SOMEONE,
        timeout_ms=3_000,
        credential_hosts=CredentialHosts.for_portal(portal, parse_host_patterns("127.0.0.2")),
    )

    with pytest.raises(StepFailed, match="signing in did not complete"):
        await sign_in(session)  # the fake page never signs anyone in: what was typed is the point

    assert {entry["field"] for entry in signon.typed} >= {"email", "password"}


@pytest.fixture
async def named_hosts_browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> AsyncIterator[Browser]:
    """A browser for which signon.example is 127.0.0.2: a host that is not this machine by name."""
    args = [
        *browser_type_launch_args.get("args", []),
        "--host-resolver-rules=MAP signon.example 127.0.0.2",
    ]
    browser = await browser_type.launch(**{**browser_type_launch_args, "args": args})
    yield browser
    await browser.close()


async def test_plain_http_off_this_machine_gets_nothing_even_when_allowed(
    named_hosts_browser: Browser, off_list: FakeSignOn, fake_signon: Callable[..., FakeSignOn]
) -> None:
    portal = fake_signon(home_redirect=f"http://signon.example:{off_list.port}/signon")
    page = await named_hosts_browser.new_page()
    session = portal_session(
        page,
        portal.url(),
        credentials=SOMEONE,
        timeout_ms=5_000,
        credential_hosts=CredentialHosts.for_portal(
            portal.url(), parse_host_patterns("signon.example")
        ),
    )
    with pytest.raises(CredentialHostRefused, match="signon.example is plain http"):
        await sign_in(session)
    assert off_list.typed == [] and off_list.posts == []


# --- the command line -----------------------------------------------------------------------------


def test_login_refuses_an_off_list_sign_on_page_with_exit_4(
    redirecting: tuple[FakeSignOn, str], agent_cli: AgentCli
) -> None:
    signon, portal = redirecting
    done = agent_cli(
        "login",
        user=None,
        CCW_BASE_URL=portal,
        CCW_USERNAME=SOMEONE.username,
        CCW_PASSWORD=SOMEONE.password.get_secret_value(),
        CCW_TIMEOUT_MS="5000",
    )

    assert done.returncode == 4, done.stderr
    assert "127.0.0.2" in done.stderr and "CCW_ALLOWED_HOSTS" in done.stderr
    assert signon.typed == [] and signon.posts == []


def test_a_dot_env_that_decides_where_credentials_go_is_warned_about(
    mock: MockServer, tmp_path: Path, chromium_executable: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"CCW_BASE_URL={mock.home_url}\nCCW_ALLOWED_HOSTS=login.corp.example\n", encoding="utf-8"
    )
    # No CCW_BASE_URL in the environment: the .env file's is the one in effect.
    agent = AgentCli(tmp_path, chromium=chromium_executable)

    from_file = agent("show", "110000003")
    from_environment = agent(
        "show",
        "110000003",
        CCW_BASE_URL=mock.home_url,
        CCW_ALLOWED_HOSTS="login.corp.example",
    )

    assert from_file.returncode == 0, from_file.stderr
    warned = [line for line in from_file.stderr.splitlines() if "env_file_sets" in line]
    assert len(warned) == 2
    assert "CCW_BASE_URL" in warned[0] and "CCW_ALLOWED_HOSTS" in warned[1]
    assert from_environment.returncode == 0, from_environment.stderr
    assert "env_file_sets" not in from_environment.stderr


@pytest.mark.parametrize(
    "line",
    ["CCW_BASE_URL=https://elsewhere.example/home", f"CCW_BASE_URL={PORTAL}", "CCW_ALLOWED_HOSTS="],
)
def test_a_dot_env_value_not_in_effect_or_the_default_is_not_warned_about(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, line: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(line + "\n", encoding="utf-8")
    monkeypatch.delenv("CCW_BASE_URL", raising=False)
    monkeypatch.delenv("CCW_ALLOWED_HOSTS", raising=False)
    settings = Settings(_env_file=None, base_url=PORTAL)

    with capture_logs() as logs:
        assert warn_if_env_file_redirects(settings, env_file) == []
    assert logs == []
