"""Soak: one long bulk run on the mock with its faults on, stopped half way and resumed.

Runs `ccw-agent bulk` (a process of its own, as cron runs it) on N orders of the mock book, with
10% server errors of which half commit before they fail (ghost commits), feedback surveys,
100 ms ± 50% latency on every page and call, and sessions that expire every few minutes. Half way
it sends SIGTERM, then runs the same command with --resume. It then checks, and prints:

- every order ended on its target (assigned, already_assigned) or with an honest outcome;
- no order was submitted twice;
- the ledger and the CSV and JSON reports agree row for row;
- the sign-ins: one per session expiry, shared by all workers, not one per worker;
- memory is flat: the peak PSS of the agent's process tree (Python, driver, Chromium) in the
  last fifth of the orders is within 10% of its peak in the second fifth.

    .venv/bin/python scripts/soak.py [--orders 1000] [--workers 4] [--ttl 180] [--write-docs]
                                     [--release classic] [--json] [--no-memory-check]

Exit 0 when every check holds. `--write-docs` writes the figures to docs/soak.md. SOAK_DIR names
a folder to keep the run's work folder in (its agent.log, ledger and reports), after the run too.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from proctree import part_of, pss_kib, tree

from mock_site.data import USERS, book_rows
from mock_site.server import MockServer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "soak.md"
ON_TARGET = {"assigned", "already_assigned"}
# Outcomes that are honest ends for a book order under faults: a system failure left after the
# retries (with its evidence), never a wrong business answer.
HONEST = {"failed"}
MEMORY_TOLERANCE = 1.10
SAMPLE_EVERY_S = 0.5


def faults(ttl_s: float) -> dict[str, Any]:
    return {
        "page_latency_ms": 100,
        "page_jitter_ms": 50,
        "json_latency_ms": 100,
        "json_jitter_ms": 50,
        "json_error_rate": 0.10,
        "json_error_applied_fraction": 0.5,
        "survey_probability": 0.05,
        "session_ttl_s": ttl_s,
    }


@dataclass
class Watch:
    """The rows done so far (from the agent's JSON log lines) and PSS samples against them."""

    done: int = 0
    samples: list[tuple[int, int]] = field(default_factory=list)  # (rows done, PSS KiB)
    # The same by part of the tree (the agent's Python, the driver, Chromium's processes), to
    # tell whose memory grows: (rows done, {part: PSS KiB}).
    parts: list[tuple[int, dict[str, int]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def read_log(self, stream: Any, log: Any) -> None:
        for line in stream:
            log.write(line)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "bulk_started":
                with self.lock:
                    self.done = event["rows"] - event["to_do"]
            elif event.get("event") == "bulk_row_done":
                with self.lock:
                    self.done += 1

    def sample(self, pid: int, running: threading.Event) -> None:
        while running.is_set():
            by_part: dict[str, int] = {}
            for p in tree(pid):
                name = "agent Python" if p == pid else part_of(p)
                by_part[name] = by_part.get(name, 0) + pss_kib(p)
            with self.lock:
                self.samples.append((self.done, sum(by_part.values())))
                self.parts.append((self.done, by_part))
            time.sleep(SAMPLE_EVERY_S)

    def peak_mib(self, low: int, high: int, *, of: str | None = None) -> float:
        """The peak PSS while rows low..high-1 were done: of the whole tree, or of one part."""
        if of is None:
            inside = [kib for done, kib in self.samples if low <= done < high]
        else:
            inside = [parts.get(of, 0) for done, parts in self.parts if low <= done < high]
        return max(inside, default=0) / 1024

    def part_names(self) -> list[str]:
        return sorted({name for _done, parts in self.parts for name in parts if name})


def run_agent(
    args: list[str], env: dict[str, str], watch: Watch, log: Any, out: Any, stop_at: int | None
) -> int:
    """Run the agent, sampling its memory; SIGTERM it once `stop_at` rows are done."""
    command = [sys.executable, "-m", "agent", *args]
    # Its log lines (stderr) are read as they come; what it prints for a person goes to `out`,
    # so that this script's own output (its figures, as JSON with --json) stays its own.
    with subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        running = threading.Event()
        running.set()
        reader = threading.Thread(target=watch.read_log, args=(proc.stderr, log), daemon=True)
        sampler = threading.Thread(target=watch.sample, args=(proc.pid, running), daemon=True)
        reader.start()
        sampler.start()
        stopped = False
        while proc.poll() is None:
            if stop_at is not None and not stopped and watch.done >= stop_at:
                proc.send_signal(signal.SIGTERM)
                stopped = True
            time.sleep(0.2)
        running.clear()
        reader.join(timeout=10)
        sampler.join(timeout=10)
        return proc.returncode


def ledger_rows(state: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(state / "ledger.sqlite3") as db:
        found = db.execute(
            "SELECT row_number, status FROM rows WHERE run_id = "
            "(SELECT id FROM runs ORDER BY started_at DESC LIMIT 1) ORDER BY row_number"
        ).fetchall()
    return [(int(row), str(status)) for row, status in found]


def report_rows(csv_path: Path, json_path: Path) -> tuple[list[tuple[int, str]], ...]:
    with csv_path.open(encoding="utf-8-sig", newline="") as stream:
        from_csv = [(int(r["row"]), r["outcome"]) for r in csv.DictReader(stream)]
    document = json.loads(json_path.read_text(encoding="utf-8"))
    from_json = [(int(r["row"]), r["outcome"]) for r in document["rows"]]
    return from_csv, from_json


def report_details(csv_path: Path) -> dict[int, str]:
    """The report's detail of each row, by row number."""
    with csv_path.open(encoding="utf-8-sig", newline="") as stream:
        return {int(r["row"]): r["detail"] for r in csv.DictReader(stream)}


READING = "## Reading the figures"


def kept_reading() -> str:
    """The written reading of the figures at the end of the last docs/soak.md, kept as it is."""
    try:
        text = DOCS.read_text(encoding="utf-8")
    except OSError:
        return ""
    at = text.find(READING)
    return "" if at < 0 else "\n" + text[at:].rstrip("\n") + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--ttl", type=float, default=180.0, help="session lifetime, seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--release", default="classic", help="release of the mock (see mock_site/releases.py)"
    )
    parser.add_argument("--write-docs", action="store_true", help=f"write {DOCS.name}")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--no-memory-check",
        action="store_true",
        help="report memory without judging it (a short run measures the browser's warm-up)",
    )
    args = parser.parse_args()
    n = args.orders
    demo = USERS[0]
    mock = MockServer(host="127.0.0.1", port=0, seed=args.seed, control=True).start()
    try:
        mock.set_release(args.release)
        mock.set_faults(**faults(args.ttl))
        keep_in = os.environ.get("SOAK_DIR")
        # Kept after the run when SOAK_DIR names where to put it (its agent.log, ledger, reports).
        work = Path(tempfile.mkdtemp(prefix="ccw-soak-", dir=keep_in))
        try:
            orders = work / "soak.csv"
            with orders.open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["order_number", "search_by", "smart_account", "virtual_account"])
                targets = book_rows(n)
                for row in targets:
                    writer.writerow(
                        [row["order_number"], "domain", row["domain"], row["virtual_account"]]
                    )
            env = {k: v for k, v in os.environ.items() if not k.startswith("CCW_")}
            env |= {
                "CCW_BASE_URL": mock.home_url,
                "CCW_STATE_DIR": str(work / "state"),
                "CCW_USERNAME": demo.email,
                "CCW_PASSWORD": demo.password,
                "CCW_LOG_FORMAT": "json",
                "CCW_RETRY_BACKOFF_S": "0.2",
            }
            for key in ("CCW_BROWSER_EXECUTABLE",):
                if key in os.environ:
                    env[key] = os.environ[key]
            reports = [work / "report.csv", work / "report.json"]
            bulk = ["bulk", str(orders), "--workers", str(args.workers)]
            bulk += [part for path in reports for part in ("--report", str(path))]
            watch = Watch()
            started = time.monotonic()
            with (
                (work / "agent.log").open("w", encoding="utf-8") as log,
                (work / "agent.out").open("w", encoding="utf-8") as out,
            ):
                first = run_agent(bulk, env, watch, log, out, stop_at=n // 2)
                resumed_at = watch.done
                second = run_agent([*bulk, "--resume"], env, watch, log, out, stop_at=None)
            elapsed = time.monotonic() - started
            figures = check(mock, targets, work, reports, watch, args, n, elapsed)
            figures |= {"first_exit": first, "second_exit": second, "resumed_at": resumed_at}
            figures["checks"]["interrupted_then_resumed"] = first == 130 and second in (0, 1, 3)
        finally:
            if keep_in is None:
                shutil.rmtree(work, ignore_errors=True)
            else:
                print(f"soak: work folder kept: {work}", file=sys.stderr)
    finally:
        mock.stop()
    if args.no_memory_check:
        figures["checks"] = {
            k: v for k, v in figures["checks"].items() if not k.startswith("memory")
        }
    ok = all(figures["checks"].values())
    print_figures(figures)
    if args.json:
        print(json.dumps(figures, indent=2))
    if args.write_docs:
        DOCS.write_text(markdown(figures) + kept_reading(), encoding="utf-8")
        print(f"wrote {DOCS.relative_to(ROOT)}", file=sys.stderr)
    return 0 if ok else 1


def check(
    mock: MockServer,
    targets: list[dict[str, str]],
    work: Path,
    reports: list[Path],
    watch: Watch,
    args: argparse.Namespace,
    n: int,
    elapsed: float,
) -> dict[str, Any]:
    from_csv, from_json = report_rows(*reports)
    details = report_details(reports[0])
    ledger = ledger_rows(work / "state")
    outcomes = dict(from_csv)
    counts: dict[str, int] = {}
    wrong, twice = [], []
    for index, target in enumerate(targets):
        outcome = outcomes.get(index + 2, "missing")
        counts[outcome] = counts.get(outcome, 0) + 1
        order = mock.order(target["order_number"]) or {}
        if len(order.get("submissions", [])) > 1:
            twice.append(target["order_number"])
        eligible = [line for line in order.get("lines", []) if not line.get("entitled")]
        on_target = all(
            line.get("domain") == target["domain"]
            and line.get("virtual_account") == target["virtual_account"]
            for line in eligible
        )
        # A failure is honest when it is one (the portal does not show the target either); an
        # outcome on target must be true on the portal.
        if on_target != (outcome in ON_TARGET) or outcome not in ON_TARGET | HONEST:
            wrong.append(target["order_number"])
    stats = mock.stats()
    expiries = math.ceil(elapsed / args.ttl)
    # A fifth of the orders each: the second fifth against the last one (200-400 and 800-1000).
    early = watch.peak_mib(n // 5, 2 * n // 5)
    late = watch.peak_mib(n - n // 5, n + 1)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "orders": n,
        "release": args.release,
        "workers": args.workers,
        "session_ttl_s": args.ttl,
        "faults": faults(args.ttl),
        "elapsed_s": round(elapsed, 1),
        "orders_per_minute": round(n / elapsed * 60, 1),
        "outcomes": dict(sorted(counts.items())),
        "submissions": stats["submissions"],
        "logins": stats["logins"],
        "session_expiries": expiries,
        "peak_pss_mib": {
            f"orders {n // 5}-{2 * n // 5}": round(early, 1),
            f"orders {n - n // 5}-{n}": round(late, 1),
        },
        "samples": len(watch.samples),
        # The peak PSS of each tenth of the run, to show the shape, not only two points.
        "peak_pss_mib_by_tenth": [
            round(watch.peak_mib(n * i // 10, n * (i + 1) // 10 + (i == 9)), 1) for i in range(10)
        ],
        "peak_pss_mib_by_tenth_and_part": {
            name: [
                round(watch.peak_mib(n * i // 10, n * (i + 1) // 10 + (i == 9), of=name), 1)
                for i in range(10)
            ]
            for name in watch.part_names()
        },
        "checks": {
            "every order on target, or failed and off target on the portal too": not wrong,
            "no order submitted twice": not twice,
            "ledger and reports agree row for row": ledger == from_csv == from_json,
            # One sign-in per expiry at most, plus the first, plus one after the resume.
            "one sign-in per expiry, shared by the workers": stats["logins"] <= expiries + 2,
            "memory flat (late peak within 10% of early peak)": early > 0
            and late <= early * MEMORY_TOLERANCE,
        },
        "wrong": wrong[:20],
        # Why each order not on its target ended as it did, in the report's words.
        "off_target": [
            {"order": t["order_number"], "outcome": outcomes.get(i + 2), "detail": details[i + 2]}
            for i, t in enumerate(targets)
            if outcomes.get(i + 2) not in ON_TARGET and i + 2 in details
        ][:20],
        "submitted_twice": twice[:20],
    }


def print_figures(figures: dict[str, Any]) -> None:
    out = sys.stderr
    print(
        f"soak: {figures['orders']} orders, {figures['workers']} workers, "
        f"release {figures['release']}",
        file=out,
    )
    for key in ("elapsed_s", "orders_per_minute", "outcomes", "submissions", "logins"):
        print(f"  {key}: {figures[key]}", file=out)
    print(f"  session expiries (elapsed / ttl): {figures['session_expiries']}", file=out)
    print(f"  peak PSS MiB: {figures['peak_pss_mib']}", file=out)
    print(f"  peak PSS MiB by tenth of the run: {figures['peak_pss_mib_by_tenth']}", file=out)
    for name, tenths in figures["peak_pss_mib_by_tenth_and_part"].items():
        print(f"    {name}: {tenths}", file=out)
    for name, held in figures["checks"].items():
        print(f"  [{'ok' if held else 'FAILED'}] {name}", file=out)


def markdown(figures: dict[str, Any]) -> str:
    f = figures
    checks = "\n".join(
        f"| {name} | {'holds' if held else '**fails**'} |" for name, held in f["checks"].items()
    )
    outcomes = ", ".join(f"{k} {v}" for k, v in f["outcomes"].items())
    off_target = (
        "\n".join(
            f"- {row['order']} ({row['outcome']}): {row['detail']}"
            for row in f.get("off_target", [])
        )
        or "- none"
    )
    pss = "; ".join(f"{k}: {v} MiB" for k, v in f["peak_pss_mib"].items())
    tenths = ", ".join(f"{v:g}" for v in f["peak_pss_mib_by_tenth"])
    by_part = "".join(
        f"| of it {name}, MiB | {', '.join(f'{v:g}' for v in tenths)} |\n"
        for name, tenths in f.get("peak_pss_mib_by_tenth_and_part", {}).items()
    )
    knobs = ", ".join(f"`{k}={v}`" for k, v in f["faults"].items())
    return f"""# Soak

`make soak` (`scripts/soak.py`) runs one bulk run of {f["orders"]} orders of the mock book with
the mock's faults on, stops it with SIGTERM half way (after {f["resumed_at"]} rows) and resumes
it, then checks what an operator of a nightly job needs to trust. A 100-order version runs in
`make test` (`tests/test_soak.py`). The figures below are the last run's, as the script wrote
them ({f["date"]}; the mock's `{f["release"]}` release on this machine, {f["workers"]} workers, one
Chromium).

Faults: {knobs}: 10% of the portal's calls fail, half of the failed submissions commit first
(ghost commits), surveys appear, every request waits 100 ms ± 50%, sessions expire every
{f["session_ttl_s"]:g} s.

| figure | value |
| --- | --- |
| orders | {f["orders"]} |
| time | {f["elapsed_s"]} s ({f["orders_per_minute"]} orders a minute) |
| outcomes | {outcomes} |
| submissions the mock received | {f["submissions"]} |
| sign-ins / session expiries | {f["logins"]} / {f["session_expiries"]} |
| peak PSS of the agent's processes (Python, driver, Chromium) | {pss} |
| the same by tenth of the run, MiB | {tenths} |
{by_part}| exit codes (stopped, resumed) | {f["first_exit"]}, {f["second_exit"]} |

| check | result |
| --- | --- |
{checks}

Orders not on their target, in the report's words:

{off_target}

How each is checked: the mock's own record of every order (its lines and every submission it
received) against the input's targets; the ledger's rows against the CSV and JSON reports; the
mock's count of sign-ins against the number of session lifetimes the run lasted (one sign-in
per expiry, taken by one worker while the others wait and adopt the saved session); the PSS of
the agent's process and all its children, read from /proc every {SAMPLE_EVERY_S:g} s.
"""


if __name__ == "__main__":
    raise SystemExit(main())
