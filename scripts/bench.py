"""`make bench`: the agent against a bare replay on the bundled mock, by latency and worker count.

For each latency profile (0 ms, and 300 ms ±50% per JSON call) it runs, on a fresh mock each time
and on the same orders: the bare replay (scripts/bare_replay.py: one sign-on, the ten steps by role
and name, no checks) as the baseline, then `bulk` with 1, 2, 4 and 8 workers. It prints and
writes docs/bench.md: s/order (median row, and wall/N), orders/min, the ratio to the baseline,
the speed-up over 1 worker, the peak PSS of the whole process tree (Python, the Playwright driver
and Chromium) and per added worker, sign-ons per run, and the latency floor (the latency the mock
imposed per order). It asserts nothing: the figures are the machine's.

Usage: python scripts/bench.py [--orders N] [--latency-orders N] [--workers 1,2,4,8] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_replay import ReplayRow, replay, sign_on  # noqa: E402

from agent.browser import open_browser  # noqa: E402
from agent.bulk import load_orders  # noqa: E402
from agent.bulk.progress import LogObserver  # noqa: E402
from agent.bulk.run import BulkOptions, run_bulk  # noqa: E402
from agent.logs import configure_logging  # noqa: E402
from agent.runner import Target  # noqa: E402
from agent.settings import LogFormat, Settings  # noqa: E402
from mock_site.data import USERS, book_rows  # noqa: E402
from mock_site.faults import Faults  # noqa: E402
from mock_site.server import MockServer  # noqa: E402
from pages.labels import labels  # noqa: E402

SAMPLE_S = 0.2
PROFILES = {
    "0 ms": Faults(),
    "300 ms ±50%": Faults(json_latency_ms=300, json_jitter_ms=150),
}
TARGETS = (
    "Targets: the agent with 1 worker ≤ 1.25× the replay at 0 ms and ≤ 1.1× at 300 ms (median "
    "row); 4 workers ≥ 3.2× one under latency; ≤ 90 MiB PSS per added worker."
)
RATIO_TARGETS = {"0 ms": 1.25, "300 ms ±50%": 1.1}


def _tree(root: int) -> list[int]:
    """`root` and every process below it."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(status.parent.name)] = int(status.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakPss:
    """The peak PSS of this process and all its descendants, sampled on a thread."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakPss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            total = sum(_pss_kib(pid) for pid in _tree(os.getpid()))
            self.peak_kib = max(self.peak_kib, total)

    @property
    def mib(self) -> float:
        return self.peak_kib / 1024


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
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return float(statistics.median(self.durations)) if self.durations else float("nan")

    @property
    def per_order_s(self) -> float:
        return self.wall_s / self.orders

    @property
    def per_minute(self) -> float:
        return self.orders / self.wall_s * 60


def _floor(server: MockServer, orders: int) -> float:
    imposed: dict[str, int] = server.stats()["imposed_latency_ms"]
    return (imposed.get("page", 0) + imposed.get("json", 0)) / 1000 / orders


async def bench_replay(faults: Faults, count: int) -> Figures:
    server = MockServer(seed=7, faults=faults).start()
    user = USERS[0]
    words = labels()
    rows = [
        ReplayRow(r["order_number"], r["domain"], r["virtual_account"]) for r in book_rows(count)
    ]
    try:
        with PeakPss() as memory:
            async with open_browser() as browser:
                context = await browser.new_context()
                page = await context.new_page()
                await sign_on(page, server.home_url, user.email, user.password, words)
                started = time.perf_counter()
                durations = await replay(page, rows, words)
                wall = time.perf_counter() - started
                await context.close()
        stats = server.stats()
        return Figures(
            "bare replay",
            1,
            count,
            wall,
            durations,
            memory.mib,
            stats["logins"],
            _floor(server, count),
            {"submitted": stats["submissions"]},
        )
    finally:
        server.stop()


async def bench_agent(faults: Faults, count: int, workers: int) -> Figures:
    server = MockServer(seed=7, faults=faults).start()
    user = USERS[0]
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
            with PeakPss() as memory:
                started = time.perf_counter()
                summary = await run_bulk(
                    Target.from_settings(settings),
                    file,
                    load_orders(file),
                    BulkOptions(workers=workers, reports=(report,)),
                    observer=LogObserver(),
                )
                wall = time.perf_counter() - started
            rows = json.loads(report.read_text(encoding="utf-8"))["rows"]
            durations = [float(r["duration_s"]) for r in rows if r.get("duration_s")]
        stats = server.stats()
        return Figures(
            f"agent, {workers} worker{'s' if workers > 1 else ''}",
            workers,
            count,
            wall,
            durations,
            memory.mib,
            stats["logins"],
            _floor(server, count),
            dict(summary.counts),
        )
    finally:
        server.stop()


def table(profile: str, baseline: Figures, runs: list[Figures]) -> list[str]:
    one = next((run for run in runs if run.workers == 1), None)
    lines = [
        f"### {profile} per JSON call ({baseline.orders} orders)",
        "",
        "| run | s/order (median row) | s/order (wall/N) | orders/min | × replay (median row) "
        "| × replay (wall/N) | speed-up over 1 worker | peak PSS MiB | PSS per added worker MiB "
        "| sign-ons | latency floor s/order | outcomes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in [baseline, *runs]:
        ratio = run.median_s / baseline.median_s
        throughput = run.per_order_s / baseline.per_order_s
        speed = "" if one is None or run is baseline else f"{one.wall_s / run.wall_s:.2f}×"
        added = (
            f"{(run.pss_mib - one.pss_mib) / (run.workers - 1):.0f}"
            if one is not None and run is not baseline and run.workers > 1
            else ""
        )
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items()))
        lines.append(
            f"| {run.name} | {run.median_s:.2f} | {run.per_order_s:.2f} | {run.per_minute:.1f} "
            f"| {ratio:.2f}× | {throughput:.2f}× | {speed} | {run.pss_mib:.0f} | {added} "
            f"| {run.sign_ons} "
            f"| {run.floor_s:.2f} | {outcomes} |"
        )
    return lines


async def main_async(args: argparse.Namespace) -> list[str]:
    workers = [int(w) for w in args.workers.split(",")]
    results: dict[str, tuple[Figures, list[Figures]]] = {}
    out = [
        "# Benchmark: the agent against a bare replay",
        "",
        f"Written by `make bench` (scripts/bench.py) on {datetime.now(UTC):%Y-%m-%d}: "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        "the bundled mock portal (classic release) in the same process.",
        "",
        TARGETS,
        "",
    ]
    for profile, faults in PROFILES.items():
        count = args.latency_orders if faults.json_latency_ms else args.orders
        print(f"{profile}: bare replay, {count} orders", file=sys.stderr, flush=True)
        baseline = await bench_replay(faults, count)
        runs = []
        for n in workers:
            print(f"{profile}: agent, {n} workers", file=sys.stderr, flush=True)
            runs.append(await bench_agent(faults, count, n))
        out += [*table(profile, baseline, runs), ""]
        print("\n".join(out[-len(runs) - 6 :]), flush=True)
        results[profile] = (baseline, runs)
    return out + ["## Against the targets", "", *verdicts(results), ""]


def _verdict(what: str, value: float, target: float, unit: str, *, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    bound = "≤" if at_most else "≥"
    gap = "" if met else f", missed by {abs(value - target):.2f}{unit}"
    return (
        f"- {what}: {value:.2f}{unit} (target {bound} {target:g}{unit}): "
        f"{'met' if met else 'not met'}{gap}"
    )


def verdicts(results: dict[str, tuple[Figures, list[Figures]]]) -> list[str]:
    lines = []
    for profile, (baseline, runs) in results.items():
        one = next((run for run in runs if run.workers == 1), None)
        if one is not None and profile in RATIO_TARGETS:
            ratio = one.median_s / baseline.median_s
            lines.append(
                _verdict(
                    f"{profile}, 1 worker against the replay (median row)",
                    ratio,
                    RATIO_TARGETS[profile],
                    "×",
                    at_most=True,
                )
            )
        four = next((run for run in runs if run.workers == 4), None)
        if one is not None and four is not None and profile != "0 ms":
            lines.append(
                _verdict(
                    f"{profile}, 4 workers against 1 (wall)",
                    one.wall_s / four.wall_s,
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
                    f"{profile}, PSS per added worker (largest of the runs)",
                    max(added),
                    90,
                    " MiB",
                    at_most=True,
                )
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=24, help="orders per run at 0 ms")
    parser.add_argument("--latency-orders", type=int, default=24, help="orders per run at 300 ms")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--out", type=Path, default=Path("docs/bench.md"))
    args = parser.parse_args()
    configure_logging("ERROR", LogFormat.JSON)
    lines = asyncio.run(main_async(args))
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
