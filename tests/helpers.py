"""Plain helpers shared by the test modules (import them: `from helpers import ...`).

- the mock's users: `DEMO`, `MFA`, `mock_user(email)`, `credentials_of(user)`, `DEMO_CREDENTIALS`;
- bulk input files: `write_csv(path, rows)`, `book_csv(path, count)`;
- the agent: `MakeSettings` (the type of the `agent_settings` fixture), `portal_session(page, url)`,
  `AgentCli` (the agent's command line in a subprocess; the `agent_cli` fixture is one bound to
  the session's mock and the Chromium path, see conftest.py), `submissions(mock, order)`;
- the mock itself: `MockClient` (its HTTP API with a session cookie), `run_mock_module(...)`
  (`python -m mock_site`), and the two Playwright steps every test of its screens repeats,
  `sign_on(page)` and `search(page, number)`.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from playwright.async_api import Page
from pydantic import SecretStr

from agent.pytest_plugin import MOCK_TIMEOUT_MS
from agent.settings import Settings
from flows.session import Credentials, PortalSession, SessionHooks
from mock_site.data import USERS, User, book_rows
from mock_site.server import MockServer

# --- the mock's users ---------------------------------------------------------------------------


def mock_user(email: str) -> User:
    """The mock's user with this email (mock_site/data.py lists them)."""
    return next(user for user in USERS if user.email == email)


DEMO = mock_user("demo.partner@northwind.example")
"""The partner user of the README and the docs: password only, may assign most orders."""
MFA = mock_user("mfa.partner@northwind.example")
"""A partner user whose sign-in asks for a one-time code (`MFA.totp_secret`)."""


def credentials_of(user: User) -> Credentials:
    """The agent's sign-in for a mock user, with its TOTP secret when it has one."""
    return Credentials(
        username=user.email,
        password=SecretStr(user.password),
        totp_secret=SecretStr(user.totp_secret) if user.totp_secret else None,
    )


DEMO_CREDENTIALS = credentials_of(DEMO)


# --- bulk input files ---------------------------------------------------------------------------

BULK_HEADER = ("order_number", "search_by", "smart_account", "virtual_account", "reference")


def write_csv(
    path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = BULK_HEADER
) -> Path:
    """A bulk input file at `path`: `header`, then each row padded with empty cells to its width."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([*row, *[""] * (len(header) - len(row))] for row in rows)
    return path


def book_csv(path: Path, count: int, *, references: bool = False) -> Path:
    """The mock book's first `count` orders, each to its own target by domain; `references` adds
    a reference `PO-<n>` (n from 0) to every row."""
    rows = [
        [b["order_number"], "domain", b["domain"], b["virtual_account"]]
        + ([f"PO-{n}"] if references else [])
        for n, b in enumerate(book_rows(count))
    ]
    return write_csv(path, rows)


# --- the agent ----------------------------------------------------------------------------------


class MakeSettings(Protocol):
    """The `agent_settings` fixture: agent settings for the session's mock (see conftest.py)."""

    def __call__(self, *, user: User | None = None, **changes: Any) -> Settings: ...


HOOKS = frozenset(hook.name for hook in fields(SessionHooks))


def portal_session(page: Page, base_url: str, **changes: Any) -> PortalSession:
    """A session on `page` for the demo user, every wait 10 s; `changes` replace any field or
    any hook (SessionHooks) by its name."""
    hooks = {name: changes.pop(name) for name in HOOKS if name in changes}
    given: dict[str, Any] = {
        "credentials": DEMO_CREDENTIALS,
        "timeout_ms": MOCK_TIMEOUT_MS,
        **changes,
    }
    return PortalSession(page=page, base_url=base_url, hooks=SessionHooks(**hooks), **given)


@dataclass(frozen=True)
class AgentCli:
    """`python -m agent ARGS` in a subprocess, as a person or a scheduler runs it.

    It runs in `cwd` (away from any .env of the project) with its state in `cwd/state`, no retry
    backoff, JSON log lines and a wide console; `base_url` and `chromium` go to CCW_BASE_URL and
    CCW_BROWSER_EXECUTABLE when given; `user` (default the demo user, None for none) to
    CCW_USERNAME and CCW_PASSWORD. Keyword arguments are further environment variables and win
    over all of these. No CCW_ variable of the test's own environment reaches the agent.
    """

    cwd: Path
    base_url: str | None = None
    chromium: Path | None = None

    def env(self, *, user: User | None = DEMO, **env: str) -> dict[str, str]:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("CCW_")}
        environ |= {
            "CCW_STATE_DIR": str(self.cwd / "state"),
            "CCW_RETRY_BACKOFF_S": "0",
            "CCW_LOG_FORMAT": "json",
            "COLUMNS": "200",
        }
        if self.base_url is not None:
            environ["CCW_BASE_URL"] = self.base_url
        if self.chromium is not None:
            environ["CCW_BROWSER_EXECUTABLE"] = str(self.chromium)
        if user is not None:
            environ |= {"CCW_USERNAME": user.email, "CCW_PASSWORD": user.password}
        return environ | env

    @staticmethod
    def command(*args: str | Path) -> list[str]:
        return [sys.executable, "-m", "agent", *(str(arg) for arg in args)]

    def __call__(
        self, *args: str | Path, user: User | None = DEMO, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env=self.env(user=user, **env),
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def submissions(mock: MockServer, order: str) -> list[dict[str, Any]]:
    """Every assignment the mock received for this order (by Sales Order or Web Order)."""
    found = mock.order(order)
    assert found is not None, f"the mock has no order {order}"
    return list(found["submissions"])


# --- the mock -----------------------------------------------------------------------------------


class MockClient:
    """A cookie-keeping JSON client for the mock's HTTP API; it does not follow redirects."""

    def __init__(self, server: MockServer) -> None:
        parts = urlsplit(server.url)
        self.host, self.port = parts.hostname or "", parts.port or 80
        self.cookie = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        """Status, headers (lower-case names) and body: parsed when JSON, else bytes."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        payload = None if body is None else json.dumps(body)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        head = {k.lower(): v for k, v in resp.getheaders()}
        if "set-cookie" in head:
            self.cookie = head["set-cookie"].split(";")[0]
        is_json = head.get("content-type", "").startswith("application/json")
        return resp.status, head, json.loads(raw) if is_json else raw

    def get(self, path: str) -> tuple[int, Any]:
        status, _, body = self.call("GET", path)
        return status, body

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        status, _, data = self.call("POST", path, {} if body is None else body)
        return status, data

    def sign_in(self, email: str = DEMO.email, password: str = DEMO.password) -> MockClient:
        """Sign in with a password alone (a user without one-time codes)."""
        status, body = self.post("/signon/api/password", {"email": email, "password": password})
        assert status == 200 and body["next_step"] == "done", body
        return self

    def assign(self, order: str, domain: str, va: str) -> tuple[int, Any]:
        body = {"domain": domain, "virtual_account": va, "terms_accepted": True}
        return self.post(f"/api/orders/{order}/assign", body)


def run_mock_module(*args: str, ask: str) -> tuple[str, Any]:
    """Start `python -m mock_site --port 0 ARGS`, GET `ask` from it, stop it: the line it printed
    first (it names the home URL) and the JSON answer."""
    command = [sys.executable, "-m", "mock_site", "--port", "0", *args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            parts = urlsplit(line.split()[3])
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
            conn.request("GET", ask)
            answer = json.loads(conn.getresponse().read())
            conn.close()
        finally:
            proc.terminate()
    return line, answer


async def sign_on(page: Page, email: str = DEMO.email, password: str = DEMO.password) -> None:
    """Type an email and a password into the mock's (English) sign-on page and verify them."""
    await page.get_by_role("textbox", name="Email").fill(email)
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("textbox", name="Password").fill(password)
    await page.get_by_role("button", name="Verify").click()


async def search(page: Page, number: str) -> None:
    """Search an order number with the header's Global Search (Enter does not search)."""
    await page.get_by_role("searchbox", name="Global Search").fill(number)
    await page.get_by_role("button", name="Search").click()
