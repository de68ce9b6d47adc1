"""The agent layer: settings, browser, saved sessions, logging and the runner's guarantees."""

from __future__ import annotations

import io
import json
import stat
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest
import structlog
from helpers import DEMO_CREDENTIALS, MFA, MakeSettings, credentials_of
from playwright.async_api import Browser
from pydantic import ValidationError

from agent.browser import resolve_executable
from agent.logs import configure_logging
from agent.runner import Target, Worker
from agent.settings import PRODUCTION_HOME, LogFormat, Settings, TraceMode
from flows.models import AssignRequest, Outcome, SearchBy
from flows.session import Credentials
from mock_site.server import MockServer
from pages.errors import BrowserNotFound


@pytest.fixture
async def run_worker(browser: Browser) -> AsyncIterator[list[Worker]]:
    """Workers made by a test, closed afterwards."""
    made: list[Worker] = []
    yield made
    for worker in made:
        await worker.close()


def new_worker(
    browser: Browser, made: list[Worker], settings: Settings, creds: Credentials
) -> Worker:
    worker = Worker(browser, Target.from_settings(settings, creds))
    made.append(worker)
    return worker


def globex_move() -> AssignRequest:
    return AssignRequest(
        order_number="110000002",
        search_by=SearchBy.DOMAIN,
        smart_account="globex.example",
        virtual_account="Production",
    )


# --- settings -------------------------------------------------------------------------------


def test_settings_default_to_the_production_portal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CCW_BASE_URL", "CCW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.base_url == PRODUCTION_HOME
    assert settings.session_file.name == "apps.cisco.com.json"


def test_settings_read_the_environment_and_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCW_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("CCW_WORKERS", "4")
    monkeypatch.setenv("CCW_MAX_SUBMITS_PER_MINUTE", "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.workers == 4
    assert settings.max_submits_per_minute is None
    assert "hunter2-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CCW_BASE_URL", "apps.cisco.com/Commerce", "is not an http(s) URL"),
        ("CCW_BROWSER_ENDPOINT", "localhost:9222", "expected ws://"),
        ("CCW_LOCALE", "xx", "no labels for locale 'xx'"),
        ("CCW_WORKERS", "0", "greater than or equal to 1"),
        ("CCW_TRACE", "sometimes", "off"),
    ],
)
def test_bad_settings_name_the_problem(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_each_state_folder_keeps_one_session_file_per_portal(tmp_path: Path) -> None:
    staging = Settings(
        _env_file=None, base_url="http://127.0.0.1:8765/ccw/home", state_dir=tmp_path
    )  # type: ignore[call-arg]
    assert staging.session_file == tmp_path / "sessions" / "127.0.0.1_8765.json"


# --- browser resolution ------------------------------------------------------------------------


def test_configured_browser_must_exist(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFound, match="does not exist"):
        resolve_executable(tmp_path / "no-chromium")


def test_browser_found_without_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCW_BROWSER_EXECUTABLE", raising=False)
    assert resolve_executable().is_file()


def test_missing_browser_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CCW_BROWSER_EXECUTABLE", raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserNotFound, match="apt-get install -y chromium"):
        resolve_executable()


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_a_headless_run_prefers_a_headless_shell_and_a_visible_one_never_takes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CCW_BROWSER_EXECUTABLE", raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "none"))
    chromium = _executable(tmp_path / "bin" / "chromium")
    shell = _executable(tmp_path / "bin" / "chromium-headless-shell")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))

    assert resolve_executable(headless=True) == shell
    assert resolve_executable(headless=False) == chromium
    shell.unlink()
    assert resolve_executable(headless=True) == chromium  # none installed: the full browser


def test_playwrights_newest_headless_shell_comes_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CCW_BROWSER_EXECUTABLE", raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    _executable(tmp_path / "bin" / "chromium-headless-shell")
    _executable(tmp_path / "chromium_headless_shell-1100" / "chrome-linux" / "headless_shell")
    newest = _executable(
        tmp_path / "chromium_headless_shell-1200" / "chrome-linux" / "headless_shell"
    )
    managed = _executable(tmp_path / "chromium-1200" / "chrome-linux" / "chrome")

    assert resolve_executable(headless=True) == newest
    assert resolve_executable(headless=False) == managed


def test_a_configured_headless_shell_is_refused_for_a_visible_browser(tmp_path: Path) -> None:
    shell = _executable(tmp_path / "chromium-headless-shell")

    assert resolve_executable(shell, headless=True) == shell
    with pytest.raises(BrowserNotFound, match="needs a full Chromium") as caught:
        resolve_executable(shell, headless=False)
    assert str(shell) in str(caught.value)


# --- logging ----------------------------------------------------------------------------------


def test_json_logs_redact_secret_fields() -> None:
    out = io.StringIO()
    configure_logging("INFO", LogFormat.JSON, stream=out)
    with structlog.contextvars.bound_contextvars(run_id="r1", order="110000001"):
        structlog.get_logger().info("signing_in", password="hunter2", step=1)
    line = json.loads(out.getvalue())
    assert line["password"] == "[redacted]"
    assert (line["run_id"], line["order"], line["step"]) == ("r1", "110000001", 1)
    structlog.reset_defaults()


# --- the runner against the mock --------------------------------------------------------------


async def test_a_saved_session_is_reused_by_the_next_run(
    browser: Browser, run_worker: list[Worker], mock: MockServer, agent_settings: MakeSettings
) -> None:
    settings = agent_settings(trace=TraceMode.OFF)
    first = new_worker(browser, run_worker, settings, DEMO_CREDENTIALS)
    assert (await first.assign(globex_move())).outcome is Outcome.ASSIGNED
    await first.close()
    session_file = settings.session_file
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600

    second = new_worker(browser, run_worker, settings, DEMO_CREDENTIALS)
    assert (await second.assign(globex_move())).outcome is Outcome.ALREADY_ASSIGNED
    assert mock.stats()["logins"] == 1


async def test_a_500_after_a_submit_that_went_through_is_read_as_assigned_in_place(
    browser: Browser, run_worker: list[Worker], mock: MockServer, agent_settings: MakeSettings
) -> None:
    def after_step(number: int, name: str) -> None:
        # Armed once the terms are accepted, so the next call to the assign endpoint is the submit.
        if (number, name) == (9, "accept_terms_and_submit") and not mock.order("110000002")[
            "submissions"
        ]:  # type: ignore[index]
            mock.set_faults(fail_next=[{"path_contains": "/assign", "count": 1, "when": "after"}])

    worker = Worker(
        browser, Target.from_settings(agent_settings(), DEMO_CREDENTIALS), on_step=after_step
    )
    run_worker.append(worker)

    result = await worker.assign(globex_move())

    # The re-read after the error shows the target: one attempt, one submission, no artifacts.
    assert result.outcome is Outcome.ASSIGNED
    assert result.attempts == 1
    assert "answered the submission with an error" in result.detail
    order = mock.order("110000002")
    assert order is not None and len(order["submissions"]) == 1
    assert result.artifacts == ()


async def test_a_failure_that_outlives_the_retries_is_failed_with_artifacts(
    browser: Browser, run_worker: list[Worker], mock: MockServer, agent_settings: MakeSettings
) -> None:
    mock.set_faults(json_error_rate=1.0)
    worker = new_worker(browser, run_worker, agent_settings(attempts=2), DEMO_CREDENTIALS)

    result = await worker.assign(globex_move())

    assert result.outcome is Outcome.FAILED
    assert result.attempts == 2
    assert "Something went wrong" in result.detail
    assert len([p for p in result.artifacts if p.endswith(".png")]) == 2
    order = mock.order("110000002")
    assert order is not None and order["submissions"] == []


async def test_no_new_attempt_starts_once_the_orders_time_budget_is_spent(
    browser: Browser, run_worker: list[Worker], mock: MockServer, agent_settings: MakeSettings
) -> None:
    # Given a portal that fails every call and an order budget shorter than one attempt
    mock.set_faults(json_error_rate=1.0)
    # (0.1 s: the headless shell can fail a first attempt on the mock in under half a second.)
    settings = agent_settings(attempts=3, step_attempts=1, order_budget_s=0.1)
    worker = new_worker(browser, run_worker, settings, DEMO_CREDENTIALS)
    # When the order is worked, then it fails after the one attempt the budget allowed
    result = await worker.assign(globex_move())
    assert result.outcome is Outcome.FAILED
    assert result.attempts == 1


async def test_no_secret_reaches_a_log_line_or_a_trace(
    browser: Browser, run_worker: list[Worker], mock: MockServer, agent_settings: MakeSettings
) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", LogFormat.JSON, stream=out)
    settings = agent_settings(trace=TraceMode.ALWAYS)
    worker = new_worker(browser, run_worker, settings, credentials_of(MFA))
    assert MFA.totp_secret is not None
    totp = pyotp.TOTP(MFA.totp_secret)

    result = await worker.assign(globex_move())
    await worker.close()
    structlog.reset_defaults()

    assert result.outcome is Outcome.ASSIGNED
    assert mock.stats()["logins"] == 1
    traces = list(settings.artifacts_path.glob("*.zip"))
    assert traces, "trace=always keeps a trace of the order"
    secrets = {MFA.password, MFA.totp_secret}
    secrets |= {totp.at(moment) for moment in _recent_times()}  # every code valid during the run
    blobs = [out.getvalue()]
    for trace in traces:
        with zipfile.ZipFile(trace) as archive:
            blobs += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    # A code is six digits, which timestamps contain by chance: look for it as a typed value.
    leaked = {
        secret
        for secret in secrets
        for blob in blobs
        if (f'"{secret}"' if secret.isdigit() else secret) in blob
    }
    assert not leaked


def _recent_times() -> list[int]:
    """Unix times covering the one-time codes valid during the last few minutes."""
    now = int(time.time())
    return list(range(now - 120, now + 60, 30))


async def test_workers_share_one_sign_in_even_after_the_session_expires(
    browser: Browser, run_worker: list[Worker], mock: MockServer, agent_settings: MakeSettings
) -> None:
    target = Target.from_settings(agent_settings(trace=TraceMode.OFF), DEMO_CREDENTIALS)
    first, second = Worker(browser, target), Worker(browser, target, name="worker-2")
    run_worker += [first, second]

    def request(order: str, domain: str, va: str) -> AssignRequest:
        return AssignRequest(
            order_number=order, search_by=SearchBy.DOMAIN, smart_account=domain, virtual_account=va
        )

    moved = await first.assign(request("110000002", "globex.example", "Production"))
    assert moved.outcome is Outcome.ASSIGNED
    moved = await second.assign(request("110000001", "acme.example", "Campus-Network"))
    assert moved.outcome is Outcome.ASSIGNED
    assert mock.stats()["logins"] == 1

    mock.set_faults(expire_sessions_now=True)
    moved = await first.assign(request("110000006", "acme.example", "DEFAULT"))
    assert moved.outcome is Outcome.ASSIGNED
    moved = await second.assign(request("110000010", "acme.example", "lab Sandbox"))
    assert moved.outcome is Outcome.ASSIGNED

    # The first worker signed in again; the second took its saved session instead of a third login.
    assert mock.stats()["logins"] == 2


async def test_after_an_unconfirmed_submit_a_retry_only_looks(
    browser: Browser, run_worker: list[Worker], mock: MockServer, agent_settings: MakeSettings
) -> None:
    """The portal failed the Yes: whether it took it is unknown, so it is never clicked again."""

    def after_step(number: int, name: str) -> None:
        if number == 9:
            mock.set_faults(fail_next=[{"path_contains": "/assign", "count": 1, "when": "before"}])

    settings = agent_settings(step_attempts=2, resubmits=0)
    worker = Worker(browser, Target.from_settings(settings, DEMO_CREDENTIALS), on_step=after_step)
    run_worker.append(worker)

    result = await worker.assign(globex_move())

    assert result.outcome is Outcome.FAILED
    assert "not submitted again" in result.detail
    assert "ccw-agent show 110000002" in result.detail
    assert result.attempts == 2
    order = mock.order("110000002")
    assert order is not None and order["submissions"] == []
