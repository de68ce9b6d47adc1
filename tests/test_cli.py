"""The command line as a person or a scheduler runs it: a subprocess against the mock portal."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_site.server import MockServer

Run = Callable[..., subprocess.CompletedProcess[str]]
DEMO_USER = ("demo.partner@northwind.example", "Northwind-Demo-1")


@pytest.fixture
def ccw(mock: MockServer, tmp_path: Path) -> Run:
    """Run `ccw-agent ARGS` against the session's mock portal with a private state folder."""

    def run(
        *args: str, user: tuple[str, str] | None = DEMO_USER, **env: str
    ) -> subprocess.CompletedProcess[str]:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("CCW_")}
        environ |= {
            "CCW_BASE_URL": mock.home_url,
            "CCW_STATE_DIR": str(tmp_path / "state"),
            "CCW_RETRY_BACKOFF_S": "0",
            "CCW_LOG_FORMAT": "json",
            "COLUMNS": "200",
            **env,
        }
        if user is not None:
            environ |= {"CCW_USERNAME": user[0], "CCW_PASSWORD": user[1]}
        return subprocess.run(
            [sys.executable, "-m", "agent", *args],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.mark.browser
def test_assign_moves_a_holding_order_and_exits_0(ccw: Run, mock: MockServer) -> None:
    done = ccw(
        "assign",
        "110000002",
        "--domain",
        "globex.example",
        "--virtual-account",
        "Production",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "assigned"
    order = mock.order("110000002")
    assert order is not None
    assert {line["virtual_account"] for line in order["lines"]} == {"Production"}


@pytest.mark.browser
def test_show_prints_the_assignment_and_the_articles_advice(ccw: Run) -> None:
    done = ccw("show", "110000006")
    assert done.returncode == 0, done.stderr
    assert "Export Hold" in done.stdout
    assert "export hold" in done.stdout.lower() and "ships" in done.stdout


@pytest.mark.browser
def test_show_of_an_order_outside_the_users_access_is_not_found(ccw: Run) -> None:
    done = ccw("show", "110000011")
    assert done.returncode == 1
    assert "order_not_found" in done.stdout


@pytest.mark.browser
def test_not_eligible_quotes_the_portal_and_exits_1(ccw: Run) -> None:
    done = ccw("assign", "110000004", "--domain", "acme.example", "--virtual-account", "DEFAULT")
    assert done.returncode == 1
    assert "not_eligible" in done.stdout
    assert "Shipped" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["110000001", "--virtual-account", "DEFAULT"], "exactly one of --domain"),
        (
            [
                "110000001",
                "--domain",
                "a.example",
                "--email",
                "x@a.example",
                "--virtual-account",
                "D",
            ],
            "exactly one of --domain",
        ),
        (["11-0001", "--domain", "acme.example", "--virtual-account", "DEFAULT"], "ORDER:"),
    ],
)
def test_bad_options_exit_2_before_any_browser_starts(
    ccw: Run, mock: MockServer, args: list[str], message: str
) -> None:
    done = ccw("assign", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert mock.stats()["requests"] == 0


@pytest.mark.browser
def test_without_credentials_or_session_the_user_is_told_to_log_in(ccw: Run) -> None:
    done = ccw("show", "110000001", user=None)
    assert done.returncode == 4
    assert "ccw-agent login" in done.stderr


@pytest.mark.browser
def test_login_saves_a_private_session_that_later_runs_reuse(
    ccw: Run, mock: MockServer, tmp_path: Path
) -> None:
    done = ccw("login")
    assert done.returncode == 0, done.stderr
    sessions = list((tmp_path / "state" / "sessions").glob("*.json"))
    assert len(sessions) == 1
    assert stat.S_IMODE(sessions[0].stat().st_mode) == 0o600

    shown = ccw("show", "110000003", user=None)

    assert shown.returncode == 0, shown.stderr
    assert "DC West" in shown.stdout
    assert mock.stats()["logins"] == 1


@pytest.mark.browser
def test_internal_users_are_refused_unless_licensing_support(ccw: Run, mock: MockServer) -> None:
    internal = ("licensing.support@cisco.com", "Internal-Support-1")
    args = ("assign", "110000001", "--domain", "acme.example", "--virtual-account", "DEFAULT")

    refused = ccw(*args, user=internal)
    allowed = ccw(*args, "--internal-licensing-support", user=internal)

    assert refused.returncode == 1
    assert "refused_internal_user" in refused.stdout
    assert allowed.returncode == 0, allowed.stderr
    order = mock.order("110000001")
    assert order is not None and len(order["submissions"]) == 1


@pytest.mark.browser
def test_mock_option_runs_the_readme_example_on_a_fresh_state(tmp_path: Path) -> None:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CCW_")}
    environ["CCW_STATE_DIR"] = str(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "assign",
            "110000002",
            "--domain",
            "globex.example",
            "--virtual-account",
            "Production",
            "--mock",
        ],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "assigned" in done.stdout
    assert not list((tmp_path / "mock" / "sessions").glob("*.json")), "mock sessions are not kept"


def test_show_refuses_what_is_not_an_order_number(ccw: Run, mock: MockServer) -> None:
    done = ccw("show", "abcdef")
    assert done.returncode == 2
    assert "ORDER: 'abcdef' is not an order number" in done.stderr
    assert mock.stats()["requests"] == 0


def test_an_unwritable_report_path_is_refused_before_the_run(
    ccw: Run, mock: MockServer, tmp_path: Path
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_number,search_by,smart_account,virtual_account\n"
        "110000002,domain,globex.example,Production\n",
        encoding="utf-8",
    )
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")

    done = ccw("bulk", str(orders), "--report", str(blocker / "report.csv"))

    assert done.returncode == 2
    assert "is not a writable folder" in done.stderr
    assert mock.stats()["requests"] == 0


@pytest.mark.browser
def test_a_headed_browser_without_a_display_says_what_to_do(ccw: Run) -> None:
    done = ccw("show", "110000001", "--headed", DISPLAY="", WAYLAND_DISPLAY="")
    assert done.returncode == 2
    assert "needs a display" in done.stderr and "xvfb-run" in done.stderr
    assert "Traceback" not in done.stderr
