"""Measure bulk runs on the mock portal: throughput, the latency floor, and memory, by worker count.

Usage: python scripts/bench_bulk.py [--orders N] [--workers 1,2,4] [--profiles portal-like,none]
Prints a Markdown table; asserts nothing (figures depend on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from agent.bulk import load_orders
from agent.bulk.progress import LogObserver
from agent.bulk.run import BulkOptions, run_bulk
from agent.logs import configure_logging
from agent.runner import Target
from agent.settings import LogFormat, Settings
from mock_site.data import USERS, book_rows
from mock_site.faults import PROFILES
from mock_site.server import MockServer

SAMPLE_S = 0.5


@dataclass
class Figures:
    profile: str
    workers: int
    orders: int
    wall_s: float
    floor_s: float
    outcomes: dict[str, int]
    chromium_mib: float
    drivers_mib: float
    python_mib: float

    def row(self) -> str:
        per_minute = self.orders / self.wall_s * 60
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"| {self.profile} | {self.workers} | {self.orders} | {self.wall_s:.1f} | "
            f"{per_minute:.1f} | {self.wall_s / self.orders:.2f} | {self.floor_s:.1f} | "
            f"{self.chromium_mib:.0f} | {self.drivers_mib:.0f} | {self.python_mib:.0f} | "
            f"{outcomes} |"
        )


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(status.parent.name)] = int(fields[1])
    found, frontier = [], [root]
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


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class MemorySampler:
    """Peak PSS of the Chromium processes and the Playwright drivers below us; our own RSS."""

    def __init__(self) -> None:
        self.chromium = self.drivers = self.python = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            chromium = drivers = 0
            for pid in _descendants(os.getpid()):
                try:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                    command = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if "chrom" in name:
                    chromium += _pss_kib(pid)
                elif b"run-driver" in command:
                    drivers += _pss_kib(pid)
            self.chromium = max(self.chromium, chromium)
            self.drivers = max(self.drivers, drivers)
            self.python = max(self.python, _rss_kib(os.getpid()))


def bench(profile: str, workers: int, orders: int) -> Figures:
    server = MockServer(seed=7, faults=PROFILES[profile]).start()
    user = USERS[0]
    try:
        with tempfile.TemporaryDirectory(prefix="ccw-bench-") as folder:
            file = Path(folder) / "orders.csv"
            with file.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["order_number", "search_by", "smart_account", "virtual_account"])
                for row in book_rows(orders):
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
            started = time.perf_counter()
            with MemorySampler() as memory:
                summary = asyncio.run(
                    run_bulk(
                        Target.from_settings(settings),
                        file,
                        load_orders(file),
                        BulkOptions(workers=workers),
                        observer=LogObserver(),
                    )
                )
            wall = time.perf_counter() - started
        imposed = server.stats()["imposed_latency_ms"]
        floor = (imposed["page"] + imposed["json"]) / 1000 / workers
    finally:
        server.stop()
    return Figures(
        profile,
        workers,
        orders,
        wall,
        floor,
        dict(summary.counts),
        memory.chromium / 1024,
        memory.drivers / 1024,
        memory.python / 1024,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--profiles", default="portal-like,none")
    args = parser.parse_args()
    configure_logging("ERROR", LogFormat.JSON)
    print(
        f"bulk benchmark, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        "| profile | workers | orders | wall s | orders/min | s/order | latency floor s "
        "| Chromium PSS MiB | drivers PSS MiB | Python RSS MiB | outcomes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for profile in args.profiles.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            print(bench(profile, workers, args.orders).row(), flush=True)


if __name__ == "__main__":
    main()
