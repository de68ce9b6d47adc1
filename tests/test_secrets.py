"""No secret anywhere: log lines, error messages, the ledger and reports, traces; private files."""

from __future__ import annotations

import io
import json
import os
import stat
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pyotp
import pytest
import structlog
from fake_signon import FakeSignOn
from helpers import (
    DEMO,
    DEMO_CREDENTIALS,
    MFA,
    AgentCli,
    MakeSettings,
    credentials_of,
    mock_user,
    portal_session,
    write_csv,
)
from playwright.async_api import Browser, Page, expect
from pydantic import SecretStr, ValidationError

from agent.files import write_private
from agent.logs import configure_logging
from agent.runner import Target, Worker
from agent.session import SessionStore
from agent.settings import LogFormat, Settings, TraceMode
from agent.traces import scrub_trace
from flows.models import AssignRequest, Outcome, SearchBy
from flows.session import Credentials
from flows.signin import sign_in
from mock_site.server import MockServer
from pages.errors import StepFailed, first_line
from pages.secrets import (
    REDACTED,
    normalize_totp_secret,
    one_time_code,
    redact,
    redact_value,
    register,
)

SHORT_MFA_USER = mock_user("mfa.short@northwind.example")


def private_tree(root: Path) -> list[str]:
    """Every file under `root` that is not 0600 and every folder that is not 0700."""
    wrong = []
    for path in [root, *root.rglob("*")]:
        want = 0o700 if path.is_dir() else 0o600
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != want:
            wrong.append(f"{path.relative_to(root.parent)}: {mode:o}")
    return wrong


def text_of(path: Path) -> str:
    """A file's bytes as text; a zip's entries decoded one by one."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return path.read_bytes().decode("utf-8", "replace")


# --- redaction by value ---------------------------------------------------------------------------


def test_a_registered_value_is_redacted_wherever_it_appears() -> None:
    register('Pa$$ "quoted" word')
    text = 'fill("Pa$$ \\"quoted\\" word") and Pa%24%24+%22quoted%22+word and Pa$$ "quoted" word'
    assert redact(text) == f'fill("{REDACTED}") and {REDACTED} and {REDACTED}'


def test_a_one_time_code_is_redacted_only_as_a_whole_number() -> None:
    register("493817")
    assert redact("code 493817, order 1493817, 4938170") == (
        f"code {REDACTED}, order 1493817, 4938170"
    )


def test_nested_values_and_objects_are_redacted() -> None:
    register("nested-secret-value")
    value = {"a": ["x", ("nested-secret-value",)], "b": {"c": ValueError("nested-secret-value")}}
    assert redact_value(value) == {"a": ["x", (REDACTED,)], "b": {"c": REDACTED}}


def test_log_lines_carry_no_secret_value_in_any_field_or_traceback() -> None:
    register("Log-Line-Secret-1")
    out = io.StringIO()
    configure_logging("INFO", LogFormat.JSON, stream=out)
    log = structlog.get_logger()
    log.warning(
        "attempt_failed", error='fill("Log-Line-Secret-1")', extra={"deep": ["Log-Line-Secret-1"]}
    )
    try:
        raise RuntimeError("typed Log-Line-Secret-1 into the field")
    except RuntimeError:
        log.exception("crashed")
    structlog.reset_defaults()

    written = out.getvalue()
    assert "Log-Line-Secret-1" not in written
    first, second = (json.loads(line) for line in written.splitlines())
    assert first["error"] == f'fill("{REDACTED}")'
    assert first["extra"] == {"deep": [REDACTED]}
    assert f"typed {REDACTED} into the field" in second["exception"]


def test_error_text_is_clean_even_for_a_secret_registered_later() -> None:
    error = StepFailed(1, "sign_in", "quoted Later-Registered-9 in its message")
    register("Later-Registered-9")
    assert "Later-Registered-9" not in str(error)
    assert "Later-Registered-9" not in first_line(RuntimeError("x Later-Registered-9"))


# --- TOTP secrets as identity providers issue them ----------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["NWMFASHORT234567", "nwmf asho rt23 4567", "NWMFASHORT234567======", " nwmfashort234567 "],
)
def test_an_80_bit_totp_secret_is_accepted_in_any_spelling(given: str) -> None:
    settings = Settings(_env_file=None, totp_secret=given)  # type: ignore[call-arg]

    assert settings.totp_secret is not None
    assert settings.totp_secret.get_secret_value() == "NWMFASHORT234567"
    assert normalize_totp_secret(given) == "NWMFASHORT234567"
    code = one_time_code(given)
    assert len(code) == 6 and code.isdigit()


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("NWMFASHORT23456", "too short"),
        ("NWMFASHORT23456!", "not base32"),
        ("NWMFASHORT234567A", "not a whole base32 secret"),
    ],
)
def test_an_unusable_totp_secret_is_refused_without_repeating_it(given: str, why: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, totp_secret=given)  # type: ignore[call-arg]
    assert why in str(refused.value)
    assert given not in str(refused.value)


async def test_signing_in_with_a_16_character_totp_secret(
    page: Page, base_url: str, mock: MockServer
) -> None:
    assert SHORT_MFA_USER.totp_secret is not None and len(SHORT_MFA_USER.totp_secret) == 16
    secret = SHORT_MFA_USER.totp_secret.lower()
    spaced = " ".join(secret[i : i + 4] for i in range(0, 16, 4))  # as an authenticator shows it
    credentials = Credentials(
        username=SHORT_MFA_USER.email,
        password=SecretStr(SHORT_MFA_USER.password),
        totp_secret=SecretStr(spaced),
    )
    session = portal_session(page, base_url, credentials=credentials)

    assert await sign_in(session) == SHORT_MFA_USER.email
    assert mock.stats()["logins_by_user"] == {SHORT_MFA_USER.email: 1}


# --- a sign-on form that fails while typing -------------------------------------------------------

DISABLED_FIELD_PASSWORD = "Disabled-Field-Pw-7"


def test_a_password_field_that_stays_disabled_fails_without_quoting_the_password(
    tmp_path: Path, agent_cli: AgentCli, fake_signon: Callable[..., FakeSignOn]
) -> None:
    """The audit's case: `login` against a sign-on page whose Password field is disabled."""
    signon = fake_signon(password_disabled=True)
    done = agent_cli(
        "login",
        user=None,
        CCW_BASE_URL=signon.url(),
        CCW_USERNAME="someone@example.com",
        CCW_PASSWORD=DISABLED_FIELD_PASSWORD,
        CCW_TIMEOUT_MS="2000",
        CCW_ATTEMPTS="1",
    )

    assert done.returncode == 3, done.stderr
    assert "the Password field did not become editable" in done.stderr
    assert DISABLED_FIELD_PASSWORD not in done.stdout + done.stderr
    assert "Call log" not in done.stderr
    assert not signon.typed[1:], "only the email was typed"
    written = [path for path in (tmp_path / "state").rglob("*") if path.is_file()]
    assert written, "the failed attempt left a screenshot and a trace"
    assert not [path for path in written if DISABLED_FIELD_PASSWORD in text_of(path)]


async def test_a_failed_attempt_records_no_secret_for_the_ledger_or_the_report(
    browser: Browser, agent_settings: MakeSettings, fake_signon: Callable[..., FakeSignOn]
) -> None:
    """Bulk runs take the ledger's last_error and the report's detail from these two texts."""
    credentials = Credentials(
        username="someone@example.com", password=SecretStr(DISABLED_FIELD_PASSWORD)
    )
    signon = fake_signon(password_disabled=True)
    settings = agent_settings(base_url=signon.url(), attempts=1, timeout_ms=2_000)
    worker = Worker(browser, Target.from_settings(settings, credentials))
    attempt_errors: list[str] = []
    worker.on_attempt_failed = attempt_errors.append
    try:
        result = await worker.assign(
            AssignRequest(
                order_number="110000002",
                search_by=SearchBy.DOMAIN,
                smart_account="globex.example",
                virtual_account="Production",
            )
        )
    finally:
        await worker.close()

    assert result.outcome is Outcome.FAILED
    assert "Password field" in result.detail and attempt_errors
    assert DISABLED_FIELD_PASSWORD not in result.detail + "".join(attempt_errors)


# --- traces and artifacts -------------------------------------------------------------------------


@pytest.fixture
async def made_workers(browser: Browser) -> AsyncIterator[list[Worker]]:
    made: list[Worker] = []
    yield made
    for worker in made:
        await worker.close()


async def test_kept_traces_hold_no_session_cookie_and_artifacts_are_private(
    browser: Browser, made_workers: list[Worker], agent_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = agent_settings(trace=TraceMode.ALWAYS)
    worker = Worker(browser, Target.from_settings(settings, DEMO_CREDENTIALS))
    made_workers.append(worker)

    result = await worker.assign(
        AssignRequest(
            order_number="110000002",
            search_by=SearchBy.DOMAIN,
            smart_account="globex.example",
            virtual_account="Production",
        )
    )
    await worker.close()

    assert result.outcome is Outcome.ASSIGNED
    state = json.loads(settings.session_file.read_text(encoding="utf-8"))
    session_cookie = next(c["value"] for c in state["cookies"] if c["name"] == "ccw_session")
    traces = list(settings.artifacts_path.glob("*.zip"))
    assert traces
    for trace in traces:
        assert session_cookie not in text_of(trace), trace.name
    with zipfile.ZipFile(next(t for t in traces if t.name.endswith("-trace.zip"))) as archive:
        network = [json.loads(line) for line in archive.read("trace.network").splitlines()]
    headers = [
        header
        for entry in network
        for header in entry["snapshot"]["request"]["headers"]
        if header["name"].lower() == "cookie"
    ]
    assert headers, "the portal's calls after the sign-in are in the trace"
    assert {header["value"] for header in headers} == {REDACTED}
    assert private_tree(tmp_path / "state") == []


async def test_a_trace_after_a_failed_sign_in_holds_neither_password_nor_code(
    browser: Browser,
    made_workers: list[Worker],
    mock: MockServer,
    agent_settings: MakeSettings,
    tmp_path: Path,
) -> None:
    assert MFA.totp_secret is not None
    # The password is accepted, then the code's answer fails: both fields were typed into.
    mock.set_faults(fail_next=[{"path_contains": "/signon/api/code", "count": 1, "when": "before"}])
    settings = agent_settings(trace=TraceMode.ON_FAILURE, attempts=1)
    worker = Worker(browser, Target.from_settings(settings, credentials_of(MFA)))
    made_workers.append(worker)

    with pytest.raises(Exception, match="Something went wrong"):
        await worker.call("login", sign_in)
    await worker.close()

    kept = list(settings.artifacts_path.iterdir())
    assert {path.suffix for path in kept} == {".png", ".zip"}
    totp = pyotp.TOTP(MFA.totp_secret)
    now = int(time.time())
    codes = {totp.at(moment) for moment in range(now - 120, now + 60, 30)}
    for trace in (path for path in kept if path.suffix == ".zip"):
        text = text_of(trace)
        assert MFA.password not in text, trace.name
        assert not [code for code in codes if f'"{code}"' in text], trace.name
    assert private_tree(tmp_path / "state") == []


async def test_the_sign_on_password_field_shows_dots(
    page: Page, base_url: str, mock: MockServer
) -> None:
    """What a screenshot of the sign-on page can show of a typed password."""
    await page.goto(base_url)
    await page.get_by_role("textbox", name="Email").fill(DEMO.email)
    await page.get_by_role("button", name="Next").click()
    password = page.get_by_role("textbox", name="Password")
    await expect(password).to_have_attribute("type", "password")


def test_a_trace_archive_is_rewritten_without_credentials(tmp_path: Path) -> None:
    register("Typed-Into-A-Snapshot-3")
    request = {
        "headers": [
            {"name": "Cookie", "value": "sid=abc"},
            {"name": "Authorization", "value": "Bearer xyz"},
            {"name": "Accept", "value": "*/*"},
        ],
        "cookies": [{"name": "sid", "value": "abc"}],
    }
    response = {"headers": [{"name": "set-cookie", "value": "sid=def; HttpOnly"}], "cookies": []}
    entry = {"type": "resource-snapshot", "snapshot": {"request": request, "response": response}}
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("trace.network", json.dumps(entry) + "\n")
        archive.writestr("trace.trace", '{"value":"Typed-Into-A-Snapshot-3"}\n')
        archive.writestr("resources/shot.jpeg", b"\xff\xd8\xff binary")
    os.chmod(trace, 0o644)

    scrub_trace(trace)

    with zipfile.ZipFile(trace) as archive:
        scrubbed = json.loads(archive.read("trace.network"))["snapshot"]
        assert archive.read("trace.trace") == b'{"value":"[redacted]"}\n'
        assert archive.read("resources/shot.jpeg") == b"\xff\xd8\xff binary"
    assert [h["value"] for h in scrubbed["request"]["headers"]] == [REDACTED, REDACTED, "*/*"]
    assert scrubbed["request"]["cookies"] == [{"name": "sid", "value": REDACTED}]
    assert scrubbed["response"]["headers"][0]["value"] == REDACTED
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600


# --- private files --------------------------------------------------------------------------------


def test_private_files_are_replaced_atomically_and_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "state.json"
    old_umask = os.umask(0)
    try:
        write_private(target, b"one")
        write_private(target, b"two")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"two"
    assert [path.name for path in target.parent.iterdir()] == ["state.json"]
    assert private_tree(tmp_path / "a") == []


def test_cookie_values_of_a_saved_session_are_redacted(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions" / "portal.json")
    cookie = "SessionCookieValue-0123456789"
    write_private(store.path, json.dumps({"cookies": [{"name": "sid", "value": cookie}]}).encode())

    assert store.load() is not None
    assert redact(f"Cookie: sid={cookie}") == f"Cookie: sid={REDACTED}"
    assert redact("consent=accepted") == "consent=accepted", "short flags are not secrets"


def test_every_file_and_folder_the_command_writes_is_private(
    tmp_path: Path, agent_cli: AgentCli
) -> None:
    orders = write_csv(
        tmp_path / "orders.csv", [["110000002", "domain", "globex.example", "Production"]]
    )
    reports = tmp_path / "reports"
    done = agent_cli("bulk", orders, "--trace", "--report", reports / "report.csv")

    assert done.returncode == 0, done.stderr
    assert (reports / "report.csv").is_file()
    assert private_tree(tmp_path / "state") == []
    assert private_tree(reports) == []
