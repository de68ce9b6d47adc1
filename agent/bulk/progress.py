"""What a bulk run shows while it works: a progress bar on a terminal, JSON log lines otherwise."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Protocol, TextIO, cast

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from agent.bulk.statuses import status_style
from agent.logs import configure_logging, printable
from agent.settings import LogFormat

log = structlog.get_logger(__name__)


class BulkObserver(Protocol):
    """Told about a bulk run as it goes; called from worker threads, so implementations lock."""

    def notice(self, message: str) -> None: ...

    def start(self, *, run_id: str, total: int, done: Mapping[str, int], workers: int) -> None: ...

    def row_done(self, order: str, outcome: str, detail: str) -> None: ...

    def stop(self) -> None: ...


class LogObserver:
    """JSON log lines (run_id and order are bound by the runner's context variables)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0

    def notice(self, message: str) -> None:
        log.warning("bulk_notice", message=message)

    def start(self, *, run_id: str, total: int, done: Mapping[str, int], workers: int) -> None:
        self._total = total
        self._done = sum(done.values())
        log.info("bulk_progress", done=self._done, total=total, workers=workers)

    def row_done(self, order: str, outcome: str, detail: str) -> None:
        with self._lock:
            self._done += 1
            done = self._done
        log.info("bulk_row_done", outcome=outcome, detail=detail, done=done, total=self._total)

    def stop(self) -> None:
        return None


class _ConsoleStream:
    """A text stream that prints whole lines above a live progress bar."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self.console.print(Text.from_ansi(line))
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return True


class RichObserver:
    """A progress bar with counts by outcome and an ETA; warnings print above it."""

    def __init__(self, console: Console, log_level: str = "INFO") -> None:
        self.console = console
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._task: TaskID | None = None
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]orders"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=console,
        )
        # Step-by-step lines would bury the bar; warnings and errors still show above it.
        level = "DEBUG" if log_level == "DEBUG" else "WARNING"
        # cast: structlog only calls write() and flush() on it, which is all this stream has.
        stream = cast(TextIO, _ConsoleStream(console))
        configure_logging(level, LogFormat.CONSOLE, stream=stream)

    def notice(self, message: str) -> None:
        self.console.print(Text(printable(message), style="yellow"))

    def start(self, *, run_id: str, total: int, done: Mapping[str, int], workers: int) -> None:
        self._counts.update(done)
        self.console.print(
            Text(
                f"run {run_id}: {total} rows, {sum(done.values())} already done, "
                f"{workers} worker{'s' if workers != 1 else ''}",
                style="dim",
            )
        )
        self._progress.start()
        self._task = self._progress.add_task(
            "orders", total=total, completed=sum(done.values()), counts=self._counts_text()
        )

    def row_done(self, order: str, outcome: str, detail: str) -> None:
        with self._lock:
            self._counts[outcome] += 1
            counts = self._counts_text()
        if self._task is not None:
            self._progress.update(self._task, advance=1, counts=counts)

    def stop(self) -> None:
        self._progress.stop()

    def _counts_text(self) -> str:
        return " · ".join(
            f"[{status_style(outcome)}]{outcome} {count}[/]"
            for outcome, count in sorted(self._counts.items())
        )


def summary_table(counts: Mapping[str, int]) -> Table:
    """Rows per outcome, as the run ends."""
    table = Table(title="Bulk run", title_justify="left")
    table.add_column("Outcome")
    table.add_column("Rows", justify="right")
    for outcome, count in sorted(counts.items()):
        table.add_row(Text(outcome, style=status_style(outcome)), str(count))
    table.add_row(Text("total", style="bold"), str(sum(counts.values())))
    return table
