"""Text is data: markup and terminal escapes from the user, a file or the portal are printed as
text, never obeyed, and never keep a result from being printed."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from agent.bulk.report import ReportRow, read_report, write_report
from agent.logs import configure_logging, printable
from agent.settings import LogFormat
from mock_site import data
from mock_site.server import MockServer

Run = Callable[..., subprocess.CompletedProcess[str]]
DEMO = ("demo.partner@northwind.example", "Northwind-Demo-1")
MARKUP = "[/][bold]"
# Retitles the terminal, clears it, and colours what follows.
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m"
HOSTILE_ACCOUNT = f"{MARKUP}Hostile {ESCAPES}Corp"
HOSTILE_PRODUCT = f"C9300-24T{ESCAPES}[/]"


def terminal_safe(text: str) -> bool:
    return not any(ch in text for ch in "\x1b\x07\x9b\x9d")


@pytest.fixture(scope="module")
def hostile_mock() -> Iterator[MockServer]:
    """A mock portal whose account name and product names carry markup and escapes."""
    patch = pytest.MonkeyPatch()
    account = data.SmartAccount(HOSTILE_ACCOUNT, "hostile.example", "Active", ("Production",))
    patch.setattr(data, "SMART_ACCOUNTS", (*data.SMART_ACCOUNTS, account))
    original = data.initial_orders

    def orders() -> list[data.Order]:
        made = original()
        for order in made:
            if order.sales_order == "110000002":
                order.lines = [
                    dataclasses.replace(line, product=HOSTILE_PRODUCT) for line in order.lines
                ]
        return made

    patch.setattr(data, "initial_orders", orders)
    server = MockServer(host="127.0.0.1", port=0, seed=0, control=True).start()
    try:
        yield server
    finally:
        server.stop()
        patch.undo()


def cli(base_url: str, tmp_path: Path) -> Run:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("CCW_")}
        environ |= {
            "CCW_BASE_URL": base_url,
            "CCW_STATE_DIR": str(tmp_path / "state"),
            "CCW_RETRY_BACKOFF_S": "0",
            "CCW_LOG_FORMAT": "json",
            "CCW_USERNAME": DEMO[0],
            "CCW_PASSWORD": DEMO[1],
            "COLUMNS": "300",
        }
        return subprocess.run(
            [sys.executable, "-m", "agent", *args],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def offline(tmp_path: Path) -> Run:
    """The CLI for what it refuses before it reaches any portal."""
    return cli("http://127.0.0.1:9/Commerce/home", tmp_path)


# --- no portal needed: arguments, CSV cells, report paths -----------------------------------------


def test_an_order_argument_with_markup_is_refused_and_quoted(offline: Run) -> None:
    done = offline("show", "[/]")

    assert done.returncode == 2
    assert "'[/]' is not an order number" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_csv_column_with_markup_is_quoted_in_the_list_of_problems(
    offline: Run, tmp_path: Path
) -> None:
    file = tmp_path / "in.csv"
    with file.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["order_number", "search_by", "smart_account", "virtual_account"])
        writer.writerow(["[/]12", "[bold]domian", "[red]x[/]", ""])

    done = offline("bulk", str(file), "--dry-run")

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "[bold]domian" in done.stderr
    assert "[/]12" in done.stderr


@pytest.mark.parametrize("name", ["[/]r.csv", "[bold]r.txt"])
def test_a_report_path_with_markup_is_named_as_it_is(
    offline: Run, tmp_path: Path, name: str
) -> None:
    file = tmp_path / "in.csv"
    file.write_text("order_number,search_by,smart_account,virtual_account\n", encoding="utf-8")

    report = tmp_path / name
    if report.suffix == ".csv":
        report.mkdir(parents=True)  # refused as a folder; a .txt for its suffix

    done = offline("bulk", str(file), "--report", str(report))

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert name in done.stderr


# --- the functions every printed text goes through ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x1b]0;title\x07b", "ab"),
        ("x\x1b[2Jy", "xy"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("c\x9b31md", "cd"),
        ("link\x1b]8;;http://x\x1b\\here\x1b]8;;\x1b\\", "linkhere"),
        ("bi\u202edi", "bidi"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("César [bold] stays text", "César [bold] stays text"),
    ],
)
def test_printable_removes_every_escape_and_control(raw: str, clean: str) -> None:
    assert printable(raw) == clean


def test_the_console_log_renderer_gets_no_escape_from_a_field() -> None:
    out = io.StringIO()
    configure_logging("INFO", LogFormat.CONSOLE, stream=out)
    try:
        structlog.get_logger("t").warning("portal_said", detail=f"{ESCAPES}boom")
    finally:
        configure_logging("INFO", LogFormat.JSON)

    assert "boom" in out.getvalue()
    assert "\x1b]0" not in out.getvalue() and "\x1b[2J" not in out.getvalue()


def test_reports_keep_markup_as_text_and_drop_escapes(tmp_path: Path) -> None:
    row = ReportRow(
        row=2,
        order_number="110000002",
        search_by="account_name",
        smart_account=HOSTILE_ACCOUNT,
        virtual_account="Production",
        expect_domain="",
        reference="'=SUM(1)",
        outcome="failed",
        detail=f"portal said {ESCAPES}no",
        before="",
        after="",
        attempts=1,
        duration_s=1.0,
        artifacts=(),
    )

    write_report([tmp_path / "r.csv", tmp_path / "r.json", tmp_path / "r.html"], [row])

    for name in ("r.csv", "r.json", "r.html"):
        assert terminal_safe((tmp_path / name).read_text(encoding="utf-8-sig")), name
    (back,) = read_report(tmp_path / "r.csv")
    assert back.smart_account == "[/][bold]Hostile Corp"
    assert back.reference == "'=SUM(1)"  # read back exactly: the escape stays an escape


# --- the portal's words ---------------------------------------------------------------------------


@pytest.mark.browser
def test_show_prints_hostile_products_as_plain_text(
    hostile_mock: MockServer, tmp_path: Path
) -> None:
    hostile_mock.reset()

    done = cli(hostile_mock.home_url, tmp_path)("show", "110000002")

    assert done.returncode == 0, done.stderr
    assert "C9300-24T[/]" in done.stdout
    assert terminal_safe(done.stdout) and terminal_safe(done.stderr)


@pytest.mark.browser
def test_an_account_name_with_markup_is_assigned_once_and_the_result_printed(
    hostile_mock: MockServer, tmp_path: Path
) -> None:
    hostile_mock.reset()
    run = cli(hostile_mock.home_url, tmp_path)

    done = run(
        "assign", "110000002", "--domain", "hostile.example", "--virtual-account", "Production"
    )

    assert done.returncode == 0, done.stderr
    assert "assigned" in done.stdout
    assert "[/][bold]Hostile" in done.stdout
    assert terminal_safe(done.stdout) and terminal_safe(done.stderr)
    order = hostile_mock.order("110000002")
    assert order is not None and len(order["submissions"]) == 1


@pytest.mark.browser
def test_json_output_carries_no_escape_sequence(hostile_mock: MockServer, tmp_path: Path) -> None:
    hostile_mock.reset()

    done = cli(hostile_mock.home_url, tmp_path)("show", "110000002", "--json")

    assert done.returncode == 0, done.stderr
    assert "\\u001b" not in done.stdout and terminal_safe(done.stdout)
    products = {line["product"] for line in json.loads(done.stdout)["view"]["lines"]}
    assert products == {"C9300-24T[/]"}
