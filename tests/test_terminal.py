"""What a person sees on a terminal: the bulk progress line at 80 columns, doctor's table at 80
columns and in full width off a terminal, `--version`, and a default in every `--help`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
import typer
from rich.console import Console
from typer.testing import CliRunner

from agent.bulk.progress import RichObserver
from agent.cli import app
from agent.doctor import Candidate, DoctorReport, LabelCheck, print_report
from agent.output import for_output

OUTCOMES = (
    "assigned",
    "already_assigned",
    "not_eligible",
    "smart_account_pending",
    "smart_account_ambiguous",
    "virtual_account_not_found",
    "order_not_found",
    "failed",
)


@pytest.fixture
def observer() -> Iterator[RichObserver]:
    shown = Console(file=io.StringIO(), width=80, force_terminal=True)
    watching = RichObserver(shown)
    yield watching
    watching.stop()
    structlog.reset_defaults()


def rendered(observer: RichObserver, width: int) -> list[str]:
    screen = Console(file=io.StringIO(), width=width, record=True, color_system="truecolor")
    screen.print(observer.progress.get_renderable())
    return screen.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 120])
def test_the_progress_line_keeps_bar_count_rate_and_eta_whatever_the_outcomes(
    observer: RichObserver, width: int
) -> None:
    # Given a run of 1,000 rows that has met every outcome once
    observer.start(run_id="r", total=1000, done={}, workers=4)
    for outcome in OUTCOMES:
        observer.row_done("110000001", outcome, "")
    # When the progress is drawn on a terminal of this width
    first, *rest = rendered(observer, width)
    # Then the first line holds a visible bar, done/total, a rate and the ETA, uncut
    assert "━" * 10 in first
    assert "8/1000" in first
    assert "/min" in first
    assert "eta" in first
    assert len(first) <= width and "…" not in first
    # and every outcome's count is on the lines below, none of them cut
    below = " ".join(line.strip() for line in rest)
    for outcome in OUTCOMES:
        assert f"{outcome} 1" in below.replace("\n", "")
    assert all(len(line) <= width for line in rest)


def test_the_outcome_counts_follow_the_rows_done(observer: RichObserver) -> None:
    # Given a resumed run with 3 rows assigned earlier
    observer.start(run_id="r", total=10, done={"assigned": 3}, workers=2)
    # When two more rows end
    observer.row_done("110000002", "assigned", "")
    observer.row_done("110000004", "not_eligible", "")
    # Then the line counts five done and the counts add them up
    lines = rendered(observer, 80)
    assert "5/10" in lines[0]
    assert "assigned 4 · not_eligible 1" in lines[1]


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("ccw-agent ")
    assert any(char.isdigit() for char in result.output)


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every command under a group (typer's own click), sub-groups' commands included."""
    found: list[tuple[str, Any]] = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if hasattr(command, "commands"):
            found += _commands(command, f"{prefix}{name} ")
    return found


# The commands of many orders, whose every option changes what a long run does: each option
# says what happens without it, even when that is "nothing" (the whole file, no cap).
SAY_WHAT_OMITTING_DOES = ("bulk", "audit", "report export")


def test_every_option_that_takes_a_value_shows_its_default_in_help() -> None:
    # Given every command of the CLI
    root = typer.main.get_command(app)
    unshown = []
    for name, command in _commands(root):
        for param in command.params:
            # Flags are off unless given; a required option has no default to show.
            if param.param_type_name != "option" or param.is_flag or param.required:
                continue
            has_default = param.default is not None or name not in SAY_WHAT_OMITTING_DOES
            shows = param.show_default is not False and (
                has_default or isinstance(param.show_default, str)
            )
            if not shows:
                unshown.append(f"{name} {param.opts[0]}")
    # Then every option that takes a value says what it is without it
    assert unshown == []
    assert "audit" in dict(_commands(root))


def test_bulk_help_shows_the_workers_default() -> None:
    result = CliRunner().invoke(app, ["bulk", "--help"], env={"COLUMNS": "80", "TERM": "dumb"})
    assert result.exit_code == 0
    # (the help's frame cut out: a default may be wrapped over two lines of its column)
    words = " ".join(result.output.replace("│", " ").split())
    assert "[default: (2, or CCW_WORKERS)]" in words


def doctor_report() -> DoctorReport:
    """A report with the longest keys and a long "on screen" text, as a renamed portal gives."""
    checks = [
        LabelCheck(
            step=4,
            key="column_virtual_account",
            role="columnheader",
            label="Virtual Account",
            needed=True,
            status="found",
            shown="Virtual Account",
        ),
        LabelCheck(
            step=5,
            key="select_existing_account",
            role="combobox",
            label="Select an Existing Account",
            needed=True,
            status="substituted",
            note="went on with Find an existing account",
            candidates=[Candidate(name="Find an existing account", score=0.83)],
        ),
    ]
    return DoctorReport(portal="ccw.example", order="110000001", checks=checks)


def test_doctor_table_keeps_every_label_whole_at_80_columns() -> None:
    # Given an 80-column terminal
    screen = Console(file=io.StringIO(), width=80, record=True, color_system=None)
    # When the doctor's report is printed on it
    print_report(screen, doctor_report())
    text = screen.export_text()
    # Then every line fits, no cell is cut, and each label's key is whole on its line
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text
    assert "column_virtual_account" in text
    assert "select_existing_account" in text


def test_doctor_table_off_a_terminal_is_printed_in_full_width() -> None:
    # Given output to a file (not a terminal), as in `ccw-agent doctor ... > report.txt`
    stream = io.StringIO()
    piped = Console(file=stream, width=80)
    assert not piped.is_terminal
    # When the report is printed through the console chosen for output
    print_report(for_output(piped), doctor_report())
    lines = stream.getvalue().splitlines()
    # Then each check stays on one line with its whole text, wider than 80 columns
    row = next(line for line in lines if "select_existing_account" in line)
    assert "Select an Existing Account" in row
    assert "went on with Find an existing account; closest: Find an existing account" in row
    assert len(row) > 80


def test_a_terminal_keeps_its_own_console() -> None:
    terminal = Console(file=io.StringIO(), width=80, force_terminal=True)
    assert for_output(terminal) is terminal
