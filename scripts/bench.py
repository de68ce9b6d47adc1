"""`make bench`: the agent against a bare replay on the bundled mock, by release, latency, workers.

For each release of the mock (classic and legacy by default) and each latency profile (0 ms, and
300 ms ±50% per JSON call) it runs, on a fresh mock each time and on the same orders: the bare
replay (scripts/bare_replay.py: one sign-on, the ten steps with the fewest calls a script could
make on that release's markup, no checks) as the baseline, at 0 ms that replay again with the
agent's pop-up handler on its page (what the guard alone costs), then `bulk` with 1, 2, 4 and 8
workers.
It prints and writes docs/bench.md: s/order (median row, and wall/N), orders/min, the ratio to the
baseline, the speed-up over 1 worker, the peak PSS of the whole process tree (Python, the
Playwright driver and Chromium) and per added worker, sign-ons per run, the latency floor (the
latency the mock imposed per order), and the browser calls per order (every message the Python
side sends to the Playwright driver). Then, per run of the agent: the median time of each step
(from the agent's own `step` log events), the same steps side by side with the replay's (time and
calls per step number), and where the time goes: the event loop's lag (a task
that sleeps 10 ms and records how late it wakes), the time spent in ledger commits, the CPU time
of each part of the process tree, and the start-up and tail of the run. It asserts nothing: the
figures are the machine's, and the header says how loaded the machine was.

Usage: python scripts/bench.py [--releases classic,legacy] [--orders N] [--latency-orders N]
                               [--workers 1,2,4,8] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

# Private, and the one place every message to the driver goes through: the bench counts there.
from playwright._impl.connection import Connection
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_replay import REPLAYS, ReplayRow, replay, sign_on  # noqa: E402
from proctree import part_of, pss_kib, tree  # noqa: E402

from agent.browser import open_browser  # noqa: E402
from agent.bulk import load_orders  # noqa: E402
from agent.bulk.ledger import Ledger  # noqa: E402
from agent.bulk.progress import LogObserver  # noqa: E402
from agent.bulk.run import BulkOptions, run_bulk  # noqa: E402
from agent.runner import Target  # noqa: E402
from agent.settings import Settings  # noqa: E402
from mock_site.data import USERS, book_rows  # noqa: E402
from mock_site.faults import Faults  # noqa: E402
from mock_site.server import MockServer  # noqa: E402
from pages.labels import labels  # noqa: E402
from pages.popups import install_popup_handlers  # noqa: E402

SAMPLE_S = 0.5
LAG_TICK_S = 0.01
PROFILES = {
    "0 ms": Faults(),
    "300 ms ±50%": Faults(json_latency_ms=300, json_jitter_ms=150),
}
TARGETS = (
    "Targets: the agent with 1 worker ≤ 1.25× the replay at 0 ms and ≤ 1.1× at 300 ms (median "
    "row); 4 workers ≥ 3.2× one under latency; ≤ 90 MiB PSS per added worker."
)
RATIO_TARGETS = {"0 ms": 1.25, "300 ms ±50%": 1.1}
LEDGER_WRITES = (
    "mark_in_flight",
    "claim_order",
    "mark_submitting",
    "record_attempt_error",
    "record_result",
)
CLOCK_TICK_S = 1 / os.sysconf("SC_CLK_TCK")
CPU_PARTS = (
    "Python event loop",
    "other Python threads",
    "Playwright driver",
    "Chromium browser",
    "Chromium renderers",
    "Chromium GPU and utility",
)


# --- what the bench counts in its own process ----------------------------------------------------


class DriverCalls:
    """Every message the Python side sends to the Playwright driver (`calls`: those the caller
    waits on, all but the fire-and-forget ones: `__waitInfo__` of the client's instrumentation
    and the `...NoReply` methods, such as the call stack sent beside every call while a trace
    records)."""

    messages = 0
    calls = 0
    # Calls by the step the agent had bound in its log context when it made them (0: none).
    by_step: dict[int, int] = defaultdict(int)

    @classmethod
    def install(cls) -> None:
        original = Connection.send_message_to_server

        def counting(
            self: Connection, obj: Any, method: str, params: Any, options: dict[str, Any]
        ) -> Any:
            cls.messages += 1
            if method != "__waitInfo__" and not method.endswith("NoReply"):
                cls.calls += 1
                cls.by_step[int(structlog.contextvars.get_contextvars().get("step") or 0)] += 1
            return original(self, obj, method, params, options)

        Connection.send_message_to_server = counting  # type: ignore[method-assign]

    @classmethod
    def now(cls) -> tuple[int, int]:
        return cls.calls, cls.messages


class LedgerTime:
    """Seconds spent in the ledger's committed writes (each a synchronous SQLite commit)."""

    seconds = 0.0
    commits = 0

    @classmethod
    def install(cls) -> None:
        for name in LEDGER_WRITES:
            setattr(Ledger, name, cls._timed(getattr(Ledger, name)))

    @classmethod
    def _timed(cls, write: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return write(*args, **kwargs)
            finally:
                cls.seconds += time.perf_counter() - started
                cls.commits += 1

        return timed

    @classmethod
    def reset(cls) -> None:
        cls.seconds, cls.commits = 0.0, 0


class Events:
    """The agent's log events as they happen: step durations, rows started and done per worker.
    Warnings and errors are still written (JSON, to stderr); the rest is dropped."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.steps: dict[tuple[int, str], list[float]] = defaultdict(list)
        self.started: dict[str, list[float]] = defaultdict(list)
        self.done: dict[str, list[float]] = defaultdict(list)

    def __call__(
        self, _logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event = event_dict.get("event")
        worker = str(event_dict.get("worker", ""))
        if event == "step" and event_dict.get("status") == "ok":
            self.steps[(int(event_dict["step"]), str(event_dict["name"]))].append(
                float(event_dict["duration_ms"])
            )
        elif event == "bulk_row_started":
            self.started[worker].append(time.perf_counter())
        elif event == "bulk_row_done":
            self.done[worker].append(time.perf_counter())
        if method in ("warning", "error", "critical", "exception"):
            return event_dict
        raise structlog.DropEvent


EVENTS = Events()


class ReplaySteps:
    """The replay's time per step number (ms, one entry per order) from its marks; the step is
    bound in the log context meanwhile, so that DriverCalls counts its calls by step too."""

    def __init__(self) -> None:
        self.steps: dict[tuple[int, str], list[float]] = defaultdict(list)
        self._open: tuple[int, float] | None = None

    def __call__(self, step: int) -> None:
        now = time.perf_counter()
        if self._open is not None:
            number, since = self._open
            self.steps[(number, "")].append((now - since) * 1000)
        self._open = (step, now) if step else None
        if step:
            structlog.contextvars.bind_contextvars(step=step)
        else:
            structlog.contextvars.unbind_contextvars("step")


def configure_capture() -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            EVENTS,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


class LoopLag:
    """A task that sleeps 10 ms again and again and records how late it wakes: the time the event
    loop was kept from running it (synchronous work, or the CPU taken by other processes)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(LAG_TICK_S)
            self.lags.append(max(0.0, time.perf_counter() - started - LAG_TICK_S))

    def quantile_ms(self, q: float) -> float:
        if not self.lags:
            return float("nan")
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def total_s(self) -> float:
        return sum(self.lags)


# --- the process tree: memory and CPU ------------------------------------------------------------


def _stat(path: Path) -> list[str] | None:
    """The fields of a /proc stat file after the command name (state is [0], ppid [1])."""
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cpu_s(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) * CLOCK_TICK_S


class ProcessTree:
    """The peak PSS of this process and all its descendants, and the CPU seconds each part of the
    tree used, sampled on a thread (a process's CPU is counted up to its last sample)."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._cpu: dict[int, tuple[str, float]] = {}
        self._base: dict[int, float] = {}
        self._parts: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessTree:
        self._base = {pid: cpu for pid, (_, cpu) in self._sample_cpu().items()}
        self._base_main = self._main_thread_s()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._main = self._main_thread_s() - self._base_main
        self._cpu.update(self._sample_cpu())

    @staticmethod
    def _main_thread_s() -> float:
        pid = os.getpid()
        fields = _stat(Path(f"/proc/{pid}/task/{pid}/stat"))
        return _cpu_s(fields) if fields else 0.0

    def _sample_cpu(self) -> dict[int, tuple[str, float]]:
        me = os.getpid()
        found: dict[int, tuple[str, float]] = {}
        for pid in tree(me):
            fields = _stat(Path(f"/proc/{pid}/stat"))
            if fields is None:
                continue
            # A process is named once, while its command line can still be read.
            part = self._parts.get(pid) or ("Python" if pid == me else part_of(pid))
            if part:
                self._parts[pid] = part
                found[pid] = (part, _cpu_s(fields))
        return found

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            pids = tree(os.getpid())
            self.peak_kib = max(self.peak_kib, sum(pss_kib(pid) for pid in pids))
            self._cpu.update(self._sample_cpu())

    @property
    def mib(self) -> float:
        return self.peak_kib / 1024

    def cpu_by_part(self) -> dict[str, float]:
        parts: dict[str, float] = defaultdict(float)
        for pid, (part, cpu) in self._cpu.items():
            used = cpu - self._base.get(pid, 0.0)
            if part == "Python":
                parts["Python event loop"] += self._main
                parts["other Python threads"] += used - self._main
            elif part:
                parts[part] += used
        return dict(parts)


# --- one run -------------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    workers: int
    orders: int
    wall_s: float
    durations: list[float]
    pss_mib: float
    sign_ons: int
    floor_s: float
    calls: int
    messages: int
    outcomes: dict[str, int] = field(default_factory=dict)
    steps: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    step_calls: dict[int, int] = field(default_factory=dict)
    lag: LoopLag | None = None
    ledger_s: float = 0.0
    commits: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    load: float = 0.0

    @property
    def median_s(self) -> float:
        return float(statistics.median(self.durations)) if self.durations else float("nan")

    @property
    def slowest_s(self) -> float:
        return max(self.durations) if self.durations else float("nan")

    @property
    def per_order_s(self) -> float:
        return self.wall_s / self.orders

    @property
    def per_minute(self) -> float:
        return self.orders / self.wall_s * 60


def _floor(server: MockServer, orders: int) -> float:
    imposed: dict[str, int] = server.stats()["imposed_latency_ms"]
    return (imposed.get("page", 0) + imposed.get("json", 0)) / 1000 / orders


def _phases(started: float, ended: float) -> dict[str, float]:
    """Start-up (to the first row), ramp (to the last worker's first row), rows (first row started
    to last row done), tail (first worker out of rows to the last row done), close (to the end)."""
    firsts = [min(times) for times in EVENTS.started.values() if times]
    lasts = [max(times) for times in EVENTS.done.values() if times]
    if not firsts or not lasts:
        return {}
    return {
        "start-up": min(firsts) - started,
        "ramp": max(firsts) - min(firsts),
        "rows": max(lasts) - min(firsts),
        "tail": max(lasts) - min(lasts),
        "close": ended - max(lasts),
    }


async def bench_replay(
    release: str, faults: Faults, count: int, *, guarded: bool = False
) -> Figures:
    """The bare replay; `guarded`: with the agent's own pop-up handler on its page instead of
    the release's (Playwright checks a handler's locator before every action, two round trips
    to the page each: what the agent's guard against pop-ups costs a script that has it)."""
    server = MockServer(seed=7, faults=faults, release=release).start()
    user = USERS[0]
    words = labels()
    rows = [
        ReplayRow(r["order_number"], r["domain"], r["virtual_account"]) for r in book_rows(count)
    ]
    load = os.getloadavg()[0]
    marks = ReplaySteps()
    try:
        with ProcessTree() as tree:
            async with open_browser() as browser:
                DriverCalls.by_step.clear()
                before = DriverCalls.now()
                context = await browser.new_context()
                page = await context.new_page()
                await sign_on(page, server.home_url, user.email, user.password, words)
                if guarded:
                    await install_popup_handlers(page, words)
                async with LoopLag() as lag:
                    started = time.perf_counter()
                    durations = await replay(
                        page, rows, words, release, marks, own_handlers=not guarded
                    )
                    wall = time.perf_counter() - started
                await context.close()
                calls, messages = (a - b for a, b in zip(DriverCalls.now(), before, strict=True))
        stats = server.stats()
        return Figures(
            "replay + the agent's pop-up guard" if guarded else "bare replay",
            1,
            count,
            wall,
            durations,
            tree.mib,
            stats["logins"],
            _floor(server, count),
            calls,
            messages,
            {"submitted": stats["submissions"]},
            steps=dict(marks.steps),
            step_calls=dict(DriverCalls.by_step),
            lag=lag,
            cpu=tree.cpu_by_part(),
            load=load,
        )
    finally:
        server.stop()


async def bench_agent(release: str, faults: Faults, count: int, workers: int) -> Figures:
    server = MockServer(seed=7, faults=faults, release=release).start()
    user = USERS[0]
    load = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="ccw-bench-") as folder:
            file = Path(folder) / "orders.csv"
            with file.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["order_number", "search_by", "smart_account", "virtual_account"])
                for row in book_rows(count):
                    writer.writerow(
                        [row["order_number"], "domain", row["domain"], row["virtual_account"]]
                    )
            settings = Settings(
                _env_file=None,
                base_url=server.home_url,
                username=user.email,
                password=SecretStr(user.password),
                state_dir=Path(folder) / "state",
            )
            report = Path(folder) / "report.json"
            EVENTS.reset()
            LedgerTime.reset()
            DriverCalls.by_step.clear()
            before = DriverCalls.now()
            with ProcessTree() as tree:
                async with LoopLag() as lag:
                    started = time.perf_counter()
                    summary = await run_bulk(
                        Target.from_settings(settings),
                        file,
                        load_orders(file),
                        BulkOptions(workers=workers, reports=(report,)),
                        observer=LogObserver(),
                    )
                    ended = time.perf_counter()
            calls, messages = (a - b for a, b in zip(DriverCalls.now(), before, strict=True))
            rows = json.loads(report.read_text(encoding="utf-8"))["rows"]
            durations = [float(r["duration_s"]) for r in rows if r.get("duration_s")]
        stats = server.stats()
        return Figures(
            f"agent, {workers} worker{'s' if workers > 1 else ''}",
            workers,
            count,
            ended - started,
            durations,
            tree.mib,
            stats["logins"],
            _floor(server, count),
            calls,
            messages,
            dict(summary.counts),
            steps=dict(EVENTS.steps),
            step_calls=dict(DriverCalls.by_step),
            lag=lag,
            ledger_s=LedgerTime.seconds,
            commits=LedgerTime.commits,
            cpu=tree.cpu_by_part(),
            phases=_phases(started, ended),
            load=load,
        )
    finally:
        server.stop()


# --- the report ----------------------------------------------------------------------------------


def _rows_speed_up(one: Figures, run: Figures) -> float:
    """Speed-up over one worker while rows run (first row started to last row done): the run's
    start-up (browser, sign-on) and close, which do not depend on the workers, left out."""
    return one.phases.get("rows", one.wall_s) / run.phases.get("rows", run.wall_s)


def table(
    profile: str, baseline: Figures, runs: list[Figures], guarded: Figures | None = None
) -> list[str]:
    one = next((run for run in runs if run.workers == 1), None)
    lines = [
        f"#### {profile} per JSON call ({baseline.orders} orders)",
        "",
        "| run | s/order (median row) | s/order (slowest row) | s/order (wall/N) | orders/min "
        "| × replay (median row) | × replay (wall/N) | speed-up over 1 worker "
        "| speed-up, rows only | browser calls/order | messages/order | peak PSS MiB "
        "| PSS per added worker MiB | sign-ons | latency floor s/order | outcomes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    replays = [baseline] if guarded is None else [baseline, guarded]
    for run in [*replays, *runs]:
        ratio = run.median_s / baseline.median_s
        throughput = run.per_order_s / baseline.per_order_s
        agent = one is not None and all(run is not r for r in replays)
        speed = f"{one.wall_s / run.wall_s:.2f}×" if one is not None and agent else ""
        rows = f"{_rows_speed_up(one, run):.2f}×" if one is not None and agent else ""
        added = (
            f"{(run.pss_mib - one.pss_mib) / (run.workers - 1):.0f}"
            if one is not None and agent and run.workers > 1
            else ""
        )
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items()))
        lines.append(
            f"| {run.name} | {run.median_s:.2f} | {run.slowest_s:.2f} | {run.per_order_s:.2f} "
            f"| {run.per_minute:.1f} | {ratio:.2f}× | {throughput:.2f}× | {speed} | {rows} "
            f"| {run.calls / run.orders:.0f} | {run.messages / run.orders:.0f} "
            f"| {run.pss_mib:.0f} | {added} | {run.sign_ons} | {run.floor_s:.2f} | {outcomes} |"
        )
    return lines


def step_table(runs: list[Figures]) -> list[str]:
    names = sorted({key for run in runs for key in run.steps})
    if not names:
        return []
    one = runs[0]
    lines = [
        "Time per step of the agent, median ms (from its `step` log events), and the browser "
        f"calls per order made in each step number ({one.workers} worker; calls outside any step, "
        "such as the browser's start and each worker's context, under 0):",
        "",
        "| step | " + " | ".join(f"{run.workers} w, ms" for run in runs) + " | calls/order |",
        "|---" * (len(runs) + 2) + "|",
    ]
    counted: set[int] = set()
    for number, name in names:
        cells = [
            f"{statistics.median(run.steps[(number, name)]):.0f}"
            if run.steps.get((number, name))
            else ""
            for run in runs
        ]
        calls = "" if number in counted else f"{one.step_calls.get(number, 0) / one.orders:.0f}"
        counted.add(number)
        lines.append(f"| {number}. {name} | " + " | ".join(cells) + f" | {calls} |")
    outside = one.step_calls.get(0, 0) / one.orders
    lines.append("| 0. outside the steps | " + " | ".join("" for _ in runs) + f" | {outside:.0f} |")
    return lines


def against_replay(baseline: Figures, one: Figures) -> list[str]:
    """Per step number, the agent with one worker against the replay's own actions for that
    step, in the same run: median ms per order, and browser calls per order."""
    numbers = sorted({number for number, _name in one.steps} | {n for n, _ in baseline.steps})
    if not baseline.steps or not numbers:
        return []

    def ms(run: Figures, number: int) -> float | None:
        parts = [statistics.median(v) for (n, _), v in run.steps.items() if n == number and v]
        return sum(parts) if parts else None

    def calls(run: Figures, number: int) -> float:
        return run.step_calls.get(number, 0) / run.orders

    lines = [
        "The same steps side by side: the agent with 1 worker, and the replay's own actions for "
        "each step (scripts/bare_replay.py marks where each starts), median ms per order (the "
        "agent's sub-steps of one number added) and browser calls per order. The agent waits "
        "for each answer at the end of the step that asked for it; the replay waits for it in "
        "its next action, one step later.",
        "",
        "| step | replay, ms | agent, ms | agent − replay, ms | replay calls | agent calls |",
        "|---|---|---|---|---|---|",
    ]
    totals = [0.0, 0.0]
    for number in numbers:
        mine, theirs = ms(one, number), ms(baseline, number)
        totals[0] += theirs or 0.0
        totals[1] += mine or 0.0
        gap = f"{mine - theirs:+.0f}" if mine is not None and theirs is not None else ""
        lines.append(
            f"| {number} | {'' if theirs is None else f'{theirs:.0f}'} | "
            f"{'' if mine is None else f'{mine:.0f}'} | {gap} | "
            f"{calls(baseline, number):.0f} | {calls(one, number):.0f} |"
        )
    lines.append(
        f"| all steps | {totals[0]:.0f} | {totals[1]:.0f} | {totals[1] - totals[0]:+.0f} | "
        f"{sum(calls(baseline, n) for n in numbers):.0f} | "
        f"{sum(calls(one, n) for n in numbers):.0f} |"
    )
    return lines


def where_table(baseline: Figures, runs: list[Figures]) -> list[str]:
    every = [baseline, *runs]
    head = "| | " + " | ".join("replay" if r is baseline else f"{r.workers} w" for r in every)
    lines = [
        "Where the time goes (CPU s/order by part of the process tree; the event loop's lag; "
        "phases of the run in s):",
        "",
        head + " |",
        "|---" * (len(every) + 1) + "|",
    ]

    def row(label: str, cell: Callable[[Figures], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(run) for run in every) + " |")

    row("load (1 min) at start", lambda r: f"{r.load:.2f}")
    for part in CPU_PARTS:
        row(f"CPU: {part}", lambda r, p=part: f"{r.cpu.get(p, 0.0) / r.orders:.2f}")
    row("CPU: all, s/order", lambda r: f"{sum(r.cpu.values()) / r.orders:.2f}")
    row(
        "CPU: cores busy (of 2)",
        lambda r: f"{sum(r.cpu.values()) / max(r.wall_s, 1e-9):.2f}",
    )
    row("loop lag p50 ms", lambda r: f"{r.lag.quantile_ms(0.5):.1f}" if r.lag else "")
    row("loop lag p99 ms", lambda r: f"{r.lag.quantile_ms(0.99):.0f}" if r.lag else "")
    row("loop lag max ms", lambda r: f"{r.lag.quantile_ms(1.0):.0f}" if r.lag else "")
    row(
        "loop lag, % of the run",
        lambda r: f"{100 * r.lag.total_s / max(r.wall_s, 1e-9):.0f}" if r.lag else "",
    )
    row(
        "ledger commits: ms each / s per order",
        lambda r: (
            f"{1000 * r.ledger_s / r.commits:.1f} / {r.ledger_s / r.orders:.3f}"
            if r.commits
            else ""
        ),
    )
    for phase in ("start-up", "ramp", "rows", "tail", "close"):
        row(f"phase: {phase}", lambda r, p=phase: f"{r.phases[p]:.1f}" if p in r.phases else "")
    return lines


# Per release and profile: the bare replay, the agent's runs, the guarded replay (0 ms only).
Results = dict[tuple[str, str], tuple[Figures, list[Figures], Figures | None]]


async def main_async(args: argparse.Namespace) -> list[str]:
    workers = [int(w) for w in args.workers.split(",")]
    releases = [name.strip() for name in args.releases.split(",")]
    results: Results = {}
    load = os.getloadavg()
    out = [
        "# Benchmark: the agent against a bare replay",
        "",
        f"Written by `make bench` (scripts/bench.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"the bundled mock portal ({', '.join(releases)} releases) in the same process. Load "
        f"average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min); "
        "LOAD_AT_END.",
        "",
        TARGETS,
        "",
        "Browser calls are the messages the Python side sends to the Playwright driver that wait "
        "for an answer (each a round trip); messages add the client's fire-and-forget ones (its "
        "instrumentation, and the call stack sent beside each call while a trace records). The "
        "replay's are counted from its sign-on, the agent's over the whole "
        "run (browser start, sign-on, contexts), both divided by the orders.",
        "",
    ]
    for release in releases:
        out += [f"## {release}", ""]
        for profile, faults in PROFILES.items():
            count = args.latency_orders if faults.json_latency_ms else args.orders
            print(f"{release}, {profile}: bare replay, {count} orders", file=sys.stderr, flush=True)
            baseline = await bench_replay(release, faults, count)
            guarded = None
            if not faults.json_latency_ms:
                # Where a click costs a few milliseconds, the guard's share of the gap shows.
                print(f"{release}, {profile}: guarded replay", file=sys.stderr, flush=True)
                guarded = await bench_replay(release, faults, count, guarded=True)
            runs = []
            for n in workers:
                print(f"{release}, {profile}: agent, {n} workers", file=sys.stderr, flush=True)
                runs.append(await bench_agent(release, faults, count, n))
            section = [
                *table(profile, baseline, runs, guarded),
                "",
                *step_table(runs),
                "",
                *against_replay(baseline, runs[0]),
                "",
                *where_table(baseline, runs),
                "",
            ]
            print("\n".join(section), flush=True)
            out += section
            results[(release, profile)] = (baseline, runs, guarded)
    end = os.getloadavg()
    out = [
        line.replace("LOAD_AT_END", f"at the end: {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}")
        for line in out
    ]
    return out + ["## Against the targets", "", *verdicts(results), ""]


def _verdict(what: str, value: float, target: float, unit: str, *, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    bound = "≤" if at_most else "≥"
    missed = abs(value - target)
    by = f"{missed:.2f}{unit}" if missed >= 0.005 else f"under 0.005{unit}"
    gap = "" if met else f", missed by {by}"
    return (
        f"- {what}: {value:.2f}{unit} (target {bound} {target:g}{unit}): "
        f"{'met' if met else 'not met'}{gap}"
    )


def verdicts(results: Results) -> list[str]:
    lines = []
    for (release, profile), (baseline, runs, guarded) in results.items():
        one = next((run for run in runs if run.workers == 1), None)
        if one is not None and profile in RATIO_TARGETS:
            ratio = one.median_s / baseline.median_s
            lines.append(
                _verdict(
                    f"{release}, {profile}, 1 worker against the replay (median row)",
                    ratio,
                    RATIO_TARGETS[profile],
                    "×",
                    at_most=True,
                )
            )
        if one is not None and guarded is not None:
            lines.append(
                f"  - of which the pop-up guard: the replay with the agent's pop-up handler is "
                f"{guarded.median_s / baseline.median_s:.2f}× the bare replay, and the agent "
                f"{one.median_s / guarded.median_s:.2f}× that guarded replay"
            )
        four = next((run for run in runs if run.workers == 4), None)
        if one is not None and four is not None and profile != "0 ms":
            lines.append(
                _verdict(
                    f"{release}, {profile}, 4 workers against 1 (wall)",
                    one.wall_s / four.wall_s,
                    3.2,
                    "×",
                    at_most=False,
                )
            )
            lines.append(
                _verdict(
                    f"{release}, {profile}, 4 workers against 1 (rows only, start-up and close "
                    "left out)",
                    _rows_speed_up(one, four),
                    3.2,
                    "×",
                    at_most=False,
                )
            )
        added = [
            (run.pss_mib - one.pss_mib) / (run.workers - 1)
            for run in runs
            if one is not None and run.workers > 1
        ]
        if added:
            lines.append(
                _verdict(
                    f"{release}, {profile}, PSS per added worker (largest of the runs)",
                    max(added),
                    90,
                    " MiB",
                    at_most=True,
                )
            )
        expected = sum(run.orders for run in [baseline, *runs])
        done = baseline.outcomes.get("submitted", 0) + sum(
            run.outcomes.get("assigned", 0) for run in runs
        )
        lines.append(f"- {release}, {profile}: orders submitted or assigned {done} of {expected}")
    return lines


READING = "## Reading the figures"


def _reading(out: Path) -> list[str]:
    """The written reading of the figures at the end of the last report, kept as it is."""
    try:
        text = out.read_text(encoding="utf-8")
    except OSError:
        return []
    at = text.find(READING)
    return [] if at < 0 else text[at:].rstrip("\n").splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", default=",".join(REPLAYS), help="releases of the mock")
    parser.add_argument("--orders", type=int, default=24, help="orders per run at 0 ms")
    parser.add_argument("--latency-orders", type=int, default=24, help="orders per run at 300 ms")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--out", type=Path, default=Path("docs/bench.md"))
    args = parser.parse_args()
    kept = _reading(args.out)
    configure_capture()
    DriverCalls.install()
    LedgerTime.install()
    lines = asyncio.run(main_async(args))
    args.out.write_text("\n".join([*lines, *kept]) + "\n", encoding="utf-8")
    print(f"written: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
