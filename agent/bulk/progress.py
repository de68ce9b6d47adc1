"""What a bulk run shows while it works: a progress bar on a terminal, JSON log lines otherwise."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol, TextIO, cast

import structlog
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
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


# The progress line's bar, in cells: with the count, the rate and the times it fits 80 columns.
BAR_WIDTH = 20


class RateColumn(ProgressColumn):
    """Rows per minute, over the last half minute of progress."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("–/min", style="progress.data.speed")
        return Text(f"{speed * 60:.1f}/min", style="progress.data.speed")


class _CountedProgress(Progress):
    """The progress line, and under it the rows per outcome on a line of their own: however
    many outcomes there are, they never push the bar, the count or the ETA off the line."""

    def __init__(self, *columns: ProgressColumn, console: Console) -> None:
        self.counts = Text()  # before Progress draws itself for the first time
        super().__init__(*columns, console=console)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        if self.counts:
            yield self.counts


class RichObserver:
    """A progress line (bar, done/total, rate, elapsed time and ETA) with the counts by outcome
    on a line below it; warnings print above them."""

    def __init__(self, console: Console, log_level: str = "INFO", *, noun: str = "orders") -> None:
        self.console = console
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._task: TaskID | None = None
        self.progress = _CountedProgress(
            SpinnerColumn(),
            TextColumn(f"[bold]{noun}"),
            BarColumn(bar_width=BAR_WIDTH),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
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
        self.progress.counts = self._counts_text()
        self.progress.start()
        self._task = self.progress.add_task("orders", total=total, completed=sum(done.values()))

    def row_done(self, order: str, outcome: str, detail: str) -> None:
        with self._lock:
            self._counts[outcome] += 1
            self.progress.counts = self._counts_text()
        if self._task is not None:
            self.progress.update(self._task, advance=1)

    def stop(self) -> None:
        self.progress.stop()

    def _counts_text(self) -> Text:
        # Wrapped, never cut, when a narrow terminal cannot hold every outcome on one line.
        counts = Text(overflow="fold")
        for index, (outcome, count) in enumerate(sorted(self._counts.items())):
            if index:
                counts.append(" · ")
            counts.append(f"{outcome} {count}", style=status_style(outcome))
        return counts


def summary_table(counts: Mapping[str, int], title: str = "Bulk run") -> Table:
    """Rows per outcome, as the run ends."""
    table = Table(title=title, title_justify="left")
    table.add_column("Outcome")
    table.add_column("Rows", justify="right")
    for outcome, count in sorted(counts.items()):
        table.add_row(Text(outcome, style=status_style(outcome)), str(count))
    table.add_row(Text("total", style="bold"), str(sum(counts.values())))
    return table
