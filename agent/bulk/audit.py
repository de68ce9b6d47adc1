"""`ccw-agent audit`: where many orders are and why some are stuck, read with steps 1-4 only.

An audit is a bulk run that never opens the Assign dialog: the same ledger (so it resumes), the
same workers, shards, progress and exit codes, and a report of its own with one line per input
row: the order's status, holds, each line's Smart Account and Virtual Account, whether it can be
assigned and, if not, why, the reference article's advice, and, when the file names a target,
whether the order is on it. Its input is a bulk CSV, a bulk report (to prove a run's result) or
a single column of order numbers.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from structlog.contextvars import bound_contextvars

from agent.bulk.cells import order_number as checked_order_number
from agent.bulk.csv_file import Fingerprint, read_records
from agent.bulk.csv_input import InvalidRow, OrderFile
from agent.bulk.html_report import CONTENT_SECURITY_POLICY, STYLE, chart, meanings
from agent.bulk.ledger import INVALID_INPUT, UNFINISHED, OrderRow, RowEntry, UnfinishedRow
from agent.bulk.pool import WorkerPool
from agent.bulk.problems import InvalidCsv, Problem, refused
from agent.bulk.report import (
    REPORT_COLUMNS,
    ReportRow,
    neutralise,
    read_report,
    run_facts,
    summarise_assignment,
)
from agent.bulk.statuses import status_sentence
from agent.bulk.storage import atomic_files, guarded
from agent.exits import Exit
from agent.logs import printable
from agent.output import advice
from agent.runner import Worker
from flows.matching import lines_on_target
from flows.models import OrderView, Outcome
from flows.view import view_assignment
from pages.errors import PortalError, first_line

if TYPE_CHECKING:
    from agent.bulk.ledger import Ledger
    from agent.bulk.progress import BulkObserver
    from agent.bulk.run import BulkOptions
    from agent.bulk.signals import StopRequest
    from agent.runner import Target

log = structlog.get_logger(__name__)

ON_TARGET = "on_target"
NOT_ON_TARGET = "not_on_target"
UNPROVEN = "unproven"
ASSIGNABLE = "assignable"
NOT_ELIGIBLE = Outcome.NOT_ELIGIBLE.value
ORDER_NOT_FOUND = Outcome.ORDER_NOT_FOUND.value
FAILED = Outcome.FAILED.value
# Where a person need not look: on the file's target, or (no target) free to be assigned.
ENDED_WELL = frozenset({ON_TARGET, ASSIGNABLE})
# A single column of order numbers may carry one of these names, or none at all.
ORDER_COLUMN_NAMES = frozenset({"order_number", "order", "orders", "sales_order", "web_order"})
# Outcomes of a bulk report whose "after" the run read once it had proved the account.
_PROVED = frozenset({Outcome.ASSIGNED.value, Outcome.ALREADY_ASSIGNED.value})


# --- the verdict: a pure function of what steps 1-4 showed and the row's target ------------------


@dataclass(frozen=True)
class Verdict:
    """What an audit says of one order, each field a report column."""

    status: str
    on_target: str  # yes, no, unproven; empty without a target
    can_assign: str  # yes, no; empty when the order was not read
    why_not: str
    advice: tuple[str, ...]


def _blocked(view: OrderView) -> str | None:
    """Why the portal would refuse assignment on this order, in its words; None if it would not."""
    if view.assign_disabled_reason is not None:
        return view.assign_disabled_reason
    if not any(line.eligible for line in view.lines):
        reasons = "; ".join(
            f"{line.line}: {line.eligibility or 'not eligible'}" for line in view.lines
        )
        return f"No line is eligible ({reasons or 'the order shows no lines'})."
    return None


def has_target(target: Mapping[str, Any]) -> bool:
    return bool(target.get("smart_account") and target.get("virtual_account"))


def on_target(view: OrderView, target: Mapping[str, Any]) -> str:
    """yes, no or unproven: do the order's lines (its eligible ones, or all when none is) carry
    the target? Only a Domain Identifier identifies an account: a table that shows names only
    proves a match by name, unless a bulk run proved that name to be the target's account."""
    if not has_target(target):
        return ""
    lines = [line for line in view.lines if line.eligible] or list(view.lines)
    search_by = target.get("search_by")
    account = str(target["smart_account"])
    domain = account if search_by == "domain" else (target.get("expect_domain") or None)
    name = account if search_by == "account_name" else None
    va = str(target["virtual_account"])
    if not lines_on_target(lines, name=name, domain=domain, virtual_account=va):
        return "no"
    if domain and all(line.domain for line in lines):
        return "yes"
    proven = target.get("proven_account")
    if proven and lines_on_target(lines, name=str(proven), domain=domain, virtual_account=va):
        return "yes"
    return "unproven"


def judge(view: OrderView | None, target: Mapping[str, Any], *, failed: bool = False) -> Verdict:
    """The audit's verdict on an order read (`view`), not found (None) or never read (`failed`)."""
    if failed:
        return Verdict(FAILED, "", "", "", ())
    if view is None:
        return Verdict(ORDER_NOT_FOUND, "", "", "", ())
    blocked = _blocked(view)
    placed = on_target(view, target)
    notes = tuple(advice(view))
    can = "no" if blocked else "yes"
    if placed == "yes":
        status = ON_TARGET
    elif blocked:
        status = NOT_ELIGIBLE
    elif placed == "unproven":
        status = UNPROVEN
    elif placed == "no":
        status = NOT_ON_TARGET
    else:
        status = ASSIGNABLE
    return Verdict(status, placed, can, blocked or "", notes)


def audit_exit(statuses: Iterable[str]) -> Exit:
    """As `bulk`: 0 when no order needs a person, 3 when one could not be read, else 1."""
    found = set(statuses)
    if FAILED in found:
        return Exit.FAILED
    return Exit.OK if found <= ENDED_WELL else Exit.NEEDS_ATTENTION


# --- the input: a bulk CSV, a bulk report, or one column of order numbers ------------------------


@dataclass(frozen=True)
class AuditInput:
    """An audit's rows with the file's fingerprint and warnings (the runner's OrderSource)."""

    sha256: str
    warnings: tuple[str, ...]
    rows: tuple[OrderRow | InvalidRow, ...]
    problems: tuple[Problem, ...] = ()

    def items(self) -> Iterator[OrderRow | InvalidRow]:
        return iter(self.rows)

    def check(self) -> None:
        if self.problems:
            raise InvalidCsv(self.problems)


def _column_key(cell: str) -> str:
    return "_".join(cell.strip().lower().replace("-", " ").replace("_", " ").split())


def read_audit_input(path: Path) -> AuditInput:
    """Read an audit's file, refusing it (InvalidCsv, naming the file and row) when it is none of
    a bulk CSV, a bulk report (.csv or .json) or a single column of order numbers."""
    if path.suffix.lower() == ".json":
        return _from_report(path)
    fingerprint = Fingerprint()
    records = read_records(path, path.name, fingerprint)
    header = next(records, (1, []))[1]
    names = [_column_key(cell) for cell in header]
    while names and not names[-1]:
        names.pop()  # trailing delimiters
    if names == list(REPORT_COLUMNS):
        return _from_report(path)
    if len(names) == 1:
        return _from_column(path, names[0], header[0].strip())
    return _from_bulk_file(path)


def _from_bulk_file(path: Path) -> AuditInput:
    orders = OrderFile.scan(path)
    rows: list[OrderRow | InvalidRow] = []
    for item in orders.items():
        if isinstance(item, InvalidRow):
            rows.append(item)
            continue
        target = item.model_dump(mode="json", exclude={"row", "order_number", "reference"})
        rows.append(OrderRow(item.row, item.order_number, target, item.reference))
    return AuditInput(orders.sha256, orders.warnings, tuple(rows), orders.problems)


def _from_column(path: Path, name: str, written: str) -> AuditInput:
    """One order number per row; the first row is a header unless it is an order number."""
    fingerprint = Fingerprint()
    records = read_records(path, path.name, fingerprint)
    first_is_order = _is_order_number(written)
    if not first_is_order and name not in ORDER_COLUMN_NAMES:
        raise refused(
            path.name,
            f"has one column, {written!r}, which is neither an order number nor a column of "
            f"them (name it order_number, or give a bulk CSV or a bulk report)",
        )
    rows: list[OrderRow | InvalidRow] = []
    problems: list[Problem] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for number, cells in records:
        if number == 1 and not first_is_order:
            continue
        value = cells[0].strip() if cells else ""
        if not value and not any(cell.strip() for cell in cells):
            continue
        extra = [cell for cell in cells[1:] if cell.strip()]
        problem = None
        if extra:
            problem = f"has {len(cells)} cells but the file has one column"
        else:
            try:
                checked_order_number(value)
            except ValueError as exc:  # the bulk reader's words for the cell
                problem = str(exc)
        if problem is not None:
            found = Problem(path.name, number, "order_number", problem)
            problems.append(found)
            rows.append(InvalidRow(number, {"order_number": value}, (found,)))
            continue
        if value in seen:
            warnings.append(
                f"{path.name} row {number}: order {value} repeats row {seen[value]}; read once"
            )
            continue
        seen[value] = number
        rows.append(OrderRow(number, value))
    if not rows:
        raise refused(path.name, "has no order numbers")
    return AuditInput(fingerprint.sha256.hexdigest(), tuple(warnings), tuple(rows), tuple(problems))


def _is_order_number(text: str) -> bool:
    try:
        checked_order_number(text.strip())
    except ValueError:
        return False
    return True


def _from_report(path: Path) -> AuditInput:
    """A bulk report's rows, each with its target and, where the run assigned the order or found
    it assigned, the account name it read afterwards (the run proved that name by its domain)."""
    rows: list[OrderRow | InvalidRow] = []
    for line in read_report(path):
        if not _is_order_number(line.order_number):
            problem = Problem(path.name, line.row, "order_number", "is not an order number")
            rows.append(InvalidRow(line.row, {"order_number": line.order_number}, (problem,)))
            continue
        rows.append(OrderRow(line.row, line.order_number, _report_target(line), line.reference))
    with guarded("read", path):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return AuditInput(digest, (), tuple(rows))


def _report_target(line: ReportRow) -> dict[str, str | None]:
    target: dict[str, str | None] = {
        "search_by": line.search_by or None,
        "smart_account": line.smart_account or None,
        "virtual_account": line.virtual_account or None,
        "expect_domain": line.expect_domain or None,
    }
    after = line.after
    if line.outcome in _PROVED and after and ";" not in after and " / " in after:
        target["proven_account"] = after.rsplit(" / ", 1)[0]
    return target


# --- the workers: the bulk pool, each row read and never assigned ---------------------------------


class AuditPool(WorkerPool):
    """The bulk run's workers and queue, reading each order with steps 1-4 (view_assignment)."""

    def __init__(
        self,
        target: Target,
        ledger: Ledger,
        run_id: str,
        options: BulkOptions,
        observer: BulkObserver,
        stop: StopRequest,
        workers: int,
    ) -> None:
        super().__init__(target, ledger, run_id, options, observer, stop, workers)
        self.unfinished = ledger.iter_unfinished(run_id)

    async def _take_rows(self, worker: Worker) -> None:
        while not self.stop.drain.is_set():
            pending = next(self.unfinished, None) if self._ledger_open else None
            if pending is None or not await self._read_row(worker, pending):
                return

    async def _read_row(self, worker: Worker, pending: UnfinishedRow) -> bool:
        """One order read start to end; False when the worker must stop taking rows."""
        row = pending.row
        with bound_contextvars(order=row.order_number, row=row.row):
            if not self._commit(self.ledger.mark_in_flight, self.run_id, row.row):
                return False
            log.info("audit_row_started", attempt=pending.attempts + 1)
            failures: list[str] = []
            worker.on_attempt_failed = failures.append
            started = time.perf_counter()
            view: OrderView | None = None
            try:
                read = await worker.call(
                    row.order_number, lambda session: view_assignment(session, row.order_number)
                )
                view, detail = read.view, read.detail
                verdict = judge(view, row.target)
            except PortalError as exc:
                if self.stop.abort.is_set():
                    return False  # cut short by the abort: --resume reads this row again
                verdict = judge(None, row.target, failed=True)
                detail = first_line(exc)
            finally:
                worker.on_attempt_failed = None
            attempts = len(failures) + (0 if verdict.status == FAILED else 1)
            if not self._commit(
                self.ledger.record_read,
                self.run_id,
                row.row,
                verdict.status,
                detail=detail,
                view=view,
                attempts=pending.attempts + max(attempts, 1),
                duration_s=round(time.perf_counter() - started, 3),
            ):
                return False
            self.observer.row_done(row.order_number, verdict.status, detail)
        return True


# --- the report ---------------------------------------------------------------------------------

AUDIT_COLUMNS = (
    "row",
    "order_number",
    "sales_order",
    "web_order",
    "reference",
    "search_by",
    "smart_account",
    "virtual_account",
    "expect_domain",
    "outcome",
    "on_target",
    "can_assign",
    "why_not",
    "order_status",
    "holds",
    "assignment",
    "lines",
    "advice",
    "detail",
    "attempts",
    "duration_s",
)


def describe_lines(view: OrderView | None) -> str:
    """Every line with its product, Smart Account (and domain when shown), VA and eligibility."""
    if view is None:
        return ""
    described = []
    for line in view.lines:
        account = line.smart_account or "no Smart Account"
        if line.domain:
            account += f" ({line.domain})"
        where = f"{account} / {line.virtual_account or '—'}"
        state = "" if line.eligible else f" [not eligible: {line.eligibility or 'no reason shown'}]"
        described.append(f"{line.line} {line.product}: {where}{state}")
    return "; ".join(described)


def audit_cells(entry: RowEntry) -> dict[str, Any]:
    """One report line of an audit from the ledger's record of the row: AUDIT_COLUMNS' cells."""
    target, view, status = entry.target, entry.before, entry.status
    verdict = None
    if status not in UNFINISHED and status != INVALID_INPUT:
        verdict = judge(view, target, failed=status == FAILED)
    cells: dict[str, Any] = {
        "row": entry.row_number,
        "order_number": entry.order_number,
        "sales_order": entry.sales_order or "",
        "web_order": (view.web_order if view is not None else None) or "",
        "reference": entry.reference,
        "search_by": target.get("search_by") or "",
        "smart_account": target.get("smart_account") or "",
        "virtual_account": target.get("virtual_account") or "",
        "expect_domain": target.get("expect_domain") or "",
        "outcome": status,
        "on_target": "" if verdict is None else verdict.on_target,
        "can_assign": "" if verdict is None else verdict.can_assign,
        "why_not": "" if verdict is None else verdict.why_not,
        "order_status": "" if view is None else view.status,
        "holds": "" if view is None else ", ".join(view.holds),
        "assignment": summarise_assignment(view),
        "lines": describe_lines(view),
        "advice": "" if verdict is None else " ".join(verdict.advice),
        "detail": entry.detail or status_sentence(status),
        "attempts": entry.attempts,
        "duration_s": entry.duration_s,
    }
    # The portal's words and the input's cells: no terminal control reaches a report.
    return {k: printable(v) if isinstance(v, str) else v for k, v in cells.items()}


def write_audit_report(ledger: Ledger, run_id: str, paths: Sequence[Path]) -> Counter[str]:
    """An audit run's report, streamed from the ledger to each path (.csv, .json or .html);
    every file is written whole or none is touched. Returns the rows per outcome."""
    about = run_facts(ledger.run(run_id), ledger.counts(run_id))
    encodings = ["utf-8-sig" if p.suffix.lower() == ".csv" else "utf-8" for p in paths]
    summary: Counter[str] = Counter()
    with atomic_files(list(paths), encodings) as files, tempfile.TemporaryFile("w+") as html_rows:
        writers = [
            csv.writer(out) if p.suffix.lower() == ".csv" else None
            for out, p in zip(files, paths, strict=True)
        ]
        for writer in writers:
            if writer is not None:
                writer.writerow(AUDIT_COLUMNS)
        json_separator = "\n"
        for out, path in zip(files, paths, strict=True):
            if path.suffix.lower() == ".json":
                out.write('{\n  "columns": ' + json.dumps(list(AUDIT_COLUMNS)) + ',\n  "rows": [')
        for entry in ledger.iter_results(run_id):
            cells = audit_cells(entry)
            summary[entry.status] += 1
            for writer, out, path in zip(writers, files, paths, strict=True):
                suffix = path.suffix.lower()
                if writer is not None:
                    writer.writerow([neutralise(_text(cells[c])) for c in AUDIT_COLUMNS])
                elif suffix == ".json":
                    out.write(json_separator + "    " + json.dumps(cells, ensure_ascii=False))
            html_rows.write(_html_row(cells))
            json_separator = ",\n"
        for out, path in zip(files, paths, strict=True):
            suffix = path.suffix.lower()
            if suffix == ".json":
                out.write("\n  ]," if json_separator != "\n" else "],")
                out.write('\n  "summary": ' + json.dumps(dict(sorted(summary.items()))) + "\n}\n")
            elif suffix == ".html":
                html_rows.seek(0)
                _write_page(out, about, summary, html_rows)
    return summary


def _text(value: Any) -> str:
    return "" if value is None else str(value)


_HTML_COLUMNS = (
    ("row", "Row"),
    ("order_number", "Order"),
    ("sales_order", "Sales Order"),
    ("web_order", "Web Order"),
    ("outcome", "Outcome"),
    ("on_target", "On target"),
    ("order_status", "Status"),
    ("holds", "Holds"),
    ("lines", "Lines"),
    ("why_not", "Why not assignable"),
    ("advice", "Advice"),
    ("detail", "Detail"),
)


def _html_row(cells: Mapping[str, Any]) -> str:
    return (
        f'<tr data-outcome="{escape(str(cells["outcome"]))}">'
        + "".join(f"<td>{escape(_text(cells[key]))}</td>" for key, _ in _HTML_COLUMNS)
        + "</tr>\n"
    )


def _write_page(
    out: Any, about: Sequence[tuple[str, str]], summary: Mapping[str, int], rows: Any
) -> None:
    run = dict(about).get("Run", "")
    title = f"Audit {run}" if run else "Audit"
    outcomes = sorted(summary)
    out.write(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)} — ccw-agent</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n"
        "<p>Read with steps 1 to 4 only: nothing was assigned or submitted.</p>\n"
        '<dl class="facts">\n'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>\n" for k, v in about)
        + "</dl>\n"
    )
    out.write(chart(outcomes, summary, sum(summary.values())))
    out.write(meanings(outcomes, summary))
    out.write(
        '<h2 id="rows-heading">Orders</h2>\n<table id="rows" aria-labelledby="rows-heading">\n'
        "<thead><tr>"
        + "".join(f'<th scope="col">{escape(name)}</th>' for _, name in _HTML_COLUMNS)
        + "</tr></thead>\n<tbody>\n"
    )
    shutil.copyfileobj(rows, out)
    out.write("</tbody>\n</table>\n</main>\n</body>\n</html>\n")
