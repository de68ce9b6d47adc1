"""Peak memory of a large bulk file without a browser: validation, ledger, the row feed, report.

Generates a CSV of N mock book orders (the book's 1,200 targets, repeated under distinct order
numbers), then goes through what `ccw-agent bulk` does with a file before and around the
browser: the streaming scan and check, ingestion into a new run of the ledger, the feed that
hands rows to workers, a result recorded per row as a worker records it (in flight, the claim of
its Sales Order, the result with the order's before and after views), and the CSV and JSON
reports streamed from the ledger. It prints the time and the peak resident memory (ru_maxrss)
after each phase; the browser's own memory is measured by `scripts/bench.py`.

    .venv/bin/python scripts/bench_memory.py [--rows 100000] [--no-results] [--json]

The ledger goes to /dev/shm when there is one, so that the per-row fsync of a durable ledger
measures memory rather than the disk.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from agent.bulk.csv_input import OrderFile
from agent.bulk.ledger import Ledger
from agent.bulk.report import write_run_report
from agent.bulk.run import BulkOptions
from flows.models import AssignResult, LineAssignment, OrderView, Outcome
from mock_site.data import book_rows

FIRST_ORDER = 3_000_000_001
HEADER = ["order_number", "search_by", "smart_account", "virtual_account", "reference"]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_orders(path: Path, count: int) -> None:
    book = book_rows()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(count):
            row = book[i % len(book)]
            number = str(FIRST_ORDER + i)
            writer.writerow([number, "domain", row["domain"], row["virtual_account"], f"PO-{i}"])


def view(order: str, account: str, virtual_account: str) -> OrderView:
    lines = tuple(
        LineAssignment(
            line=f"{n}.0",
            product="C9300-24T",
            smart_account=account,
            virtual_account=virtual_account,
            domain=None,
            eligibility="Eligible",
        )
        for n in (1, 2, 3)
    )
    return OrderView(order_number=order, sales_order=order, status="Booked", lines=lines)


def phases(rows: int, record: bool, folder: Path) -> Iterator[tuple[str, float]]:
    source = folder / "orders.csv"
    write_orders(source, rows)
    yield f"generate {rows} rows ({source.stat().st_size / 2**20:.1f} MiB)", 0.0

    started = time.perf_counter()
    orders = OrderFile.scan(source)
    orders.check()
    yield "validate (streaming scan and check)", time.perf_counter() - started

    state = folder / "state"
    with Ledger.open(state) as ledger:
        started = time.perf_counter()
        run_id = ledger.start_run(
            input_path=source,
            input_sha256=orders.sha256,
            rows=orders.items(),
            options=BulkOptions().outcome_options("https://ccw.example/"),
        )
        yield "ingest into the ledger", time.perf_counter() - started

        started = time.perf_counter()
        fed = 0
        for pending in ledger.iter_pending(run_id):
            fed += 1
            if not record:
                continue
            row = pending.row
            ledger.mark_in_flight(run_id, row.row)
            ledger.claim_order(run_id, row.row, row.order_number, row.order_number)
            ledger.record_result(
                run_id,
                row.row,
                AssignResult(
                    order_number=row.order_number,
                    outcome=Outcome.ASSIGNED,
                    detail=f"Lines 1.0, 2.0, 3.0 now carry {row.target_text()}.",
                    before=view(row.order_number, "Northwind Holding", "DEFAULT"),
                    after=view(row.order_number, row.smart_account, row.virtual_account),
                    duration_s=1.0,
                ),
            )
        what = "record a result per row" if record else "feed every row (no results)"
        yield f"{what}: {fed} rows", time.perf_counter() - started

        started = time.perf_counter()
        reports = [folder / "report.csv", folder / "report.json"]
        counts = write_run_report(ledger, run_id, reports)
        size = sum(path.stat().st_size for path in reports) / 2**20
        yield f"report CSV and JSON ({size:.1f} MiB, {dict(counts)})", time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-results", action="store_true", help="feed rows, record nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() else None
    figures: list[dict[str, object]] = []
    print(f"{'phase':<70} {'s':>7} {'peak RSS MiB':>13}", file=sys.stderr)
    print(f"{'after imports':<70} {'':>7} {peak_mib():>13.0f}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ccw-bench-memory-", dir=base) as folder:
        for name, seconds in phases(args.rows, not args.no_results, Path(folder)):
            peak = peak_mib()
            figures.append({"phase": name, "seconds": round(seconds, 2), "peak_rss_mib": peak})
            print(f"{name:<70} {seconds:>7.1f} {peak:>13.0f}", file=sys.stderr)
    if args.json:
        print(json.dumps({"rows": args.rows, "peak_rss_mib": peak_mib(), "phases": figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
