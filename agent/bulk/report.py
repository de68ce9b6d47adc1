"""The bulk report (CSV for spreadsheets, JSON for programs, HTML to look at) and merging.

A report is streamed: rows go from the ledger to the files one at a time, so a report of any
size is written in constant memory, into temporary files that replace the old ones only once
everything is on disk.
"""

from __future__ import annotations

import csv
import json
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from agent.bulk.html_report import HtmlReport
from agent.bulk.ledger import (
    IN_FLIGHT,
    INVALID_INPUT,
    PENDING,
    SUBMITTING,
    UNFINISHED,
    Ledger,
    RowEntry,
    RunInfo,
)
from agent.bulk.statuses import NOT_RUN
from agent.bulk.storage import AtomicText, atomic_files
from agent.files import can_write_in, nearest_folder
from agent.logs import printable
from flows.models import OrderView, Outcome
from pages.errors import ConfigError, InputError

REPORT_COLUMNS = (
    "row",
    "order_number",
    "sales_order",
    "search_by",
    "smart_account",
    "virtual_account",
    "expect_domain",
    "reference",
    "outcome",
    "detail",
    "before",
    "after",
    "attempts",
    "duration_s",
    "artifacts",
)
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection). A cell that
# starts with the quote itself is quoted too, so that reading a report back is exact: `'=SUM(1)`
# written as `''=SUM(1)` reads back as `'=SUM(1)`, never as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"
_ARTIFACT_SEPARATOR = "; "


class ReportRow(BaseModel):
    """One line of the report: the input row, what happened, and the evidence."""

    model_config = ConfigDict(frozen=True)

    row: int
    order_number: str
    sales_order: str = ""
    search_by: str
    smart_account: str
    virtual_account: str
    expect_domain: str
    reference: str
    outcome: str
    detail: str
    before: str
    after: str
    attempts: int
    duration_s: float | None
    artifacts: tuple[str, ...]

    @field_validator(
        "order_number",
        "sales_order",
        "search_by",
        "smart_account",
        "virtual_account",
        "expect_domain",
        "reference",
        "outcome",
        "detail",
        "before",
        "after",
    )
    @classmethod
    def _printable(cls, value: str) -> str:
        # The portal's words and the input's cells: no terminal control reaches a report.
        return printable(value)

    @classmethod
    def from_entry(cls, entry: RowEntry) -> ReportRow:
        """Build the report line from the ledger's record of the row."""
        target = entry.target
        return cls(
            row=entry.row_number,
            order_number=entry.order_number,
            sales_order=entry.sales_order or "",
            search_by=target.get("search_by") or "",
            smart_account=target.get("smart_account") or "",
            virtual_account=target.get("virtual_account") or "",
            expect_domain=target.get("expect_domain") or "",
            reference=entry.reference,
            outcome=entry.status,
            detail=_detail(entry),
            before=summarise_assignment(entry.before),
            after=summarise_assignment(entry.after),
            attempts=entry.attempts,
            duration_s=entry.duration_s,
            artifacts=entry.artifacts,
        )


def _detail(entry: RowEntry) -> str:
    if entry.status == INVALID_INPUT:
        return f"{NOT_RUN[INVALID_INPUT].sentence.removesuffix('.')} ({entry.detail})."
    if entry.status == PENDING:
        return NOT_RUN[PENDING].sentence
    if entry.status in (IN_FLIGHT, SUBMITTING):
        text = NOT_RUN[entry.status].sentence
    else:
        text = Outcome(entry.status).sentence
        if entry.detail:
            text = f"{text} {entry.detail}"
    if entry.last_error and entry.status in (IN_FLIGHT, SUBMITTING, Outcome.FAILED.value):
        text = f"{text} Last error: {entry.last_error}"
    return text


def summarise_assignment(view: OrderView | None) -> str:
    """The order's Smart Account / Virtual Account in one cell, grouping lines that agree."""
    if view is None:
        return ""
    if not view.lines:
        return "no lines shown"
    groups: dict[str, list[str]] = {}
    for line in view.lines:
        if line.smart_account is None and line.virtual_account is None:
            where = "not assigned"
        else:
            where = f"{line.smart_account or 'no Smart Account'} / {line.virtual_account or '—'}"
        groups.setdefault(where, []).append(line.line)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{', '.join(lines)}: {where}" for where, lines in groups.items())


def neutralise(cell: str) -> str:
    """Prefix a quote to a cell a spreadsheet would otherwise run as a formula, and to a cell
    that starts with a quote, so that `_restore` gives back exactly the cell's text."""
    return f"{_QUOTE}{cell}" if cell.startswith((*_FORMULA_START, _QUOTE)) else cell


def _restore(cell: str) -> str:
    quoted = cell.startswith(_QUOTE) and cell[1:].startswith((*_FORMULA_START, _QUOTE))
    return cell[1:] if quoted else cell


def _csv_cells(row: ReportRow) -> list[str]:
    values: dict[str, Any] = row.model_dump()
    values["duration_s"] = "" if row.duration_s is None else f"{row.duration_s:.1f}"
    values["artifacts"] = _ARTIFACT_SEPARATOR.join(row.artifacts)
    return [neutralise(str(values[column])) for column in REPORT_COLUMNS]


class _CsvReport:
    """Rows as spreadsheet-safe CSV cells."""

    def __init__(self, out: AtomicText) -> None:
        self._writer = csv.writer(out)
        self._writer.writerow(REPORT_COLUMNS)

    def row(self, row: ReportRow) -> None:
        self._writer.writerow(_csv_cells(row))

    def end(self, summary: Mapping[str, int]) -> None:
        return None  # a CSV has no summary: its rows are the whole report


class _JsonReport:
    """`{"columns": [...], "rows": [...], "summary": {...}}`, written one row at a time."""

    def __init__(self, out: AtomicText) -> None:
        self._out = out
        # The text json.dumps(indent=2) makes of the whole document, without holding it.
        out.write(_dumps({"columns": list(REPORT_COLUMNS)}).removesuffix("\n}") + ',\n  "rows": [')
        self._separator = "\n"

    def row(self, row: ReportRow) -> None:
        self._out.write(
            self._separator + textwrap.indent(_dumps(row.model_dump(mode="json")), "    ")
        )
        self._separator = ",\n"

    def end(self, summary: Mapping[str, int]) -> None:
        self._out.write("]" if self._separator == "\n" else "\n  ]")
        self._out.write(
            ',\n  "summary": '
            + textwrap.indent(_dumps(dict(sorted(summary.items()))), "  ").lstrip()
        )
        self._out.write("\n}\n")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


# The byte-order mark makes spreadsheets read the CSV as UTF-8.
_ENCODINGS = {".csv": "utf-8-sig", ".json": "utf-8", ".html": "utf-8"}
REPORT_SUFFIXES = tuple(_ENCODINGS)


def check_report_paths(
    paths: Iterable[Path], *, inputs: Iterable[Path] = (), option: str = "--report"
) -> tuple[Path, ...]:
    """Report paths that can be written, found out now rather than after the whole run;
    ConfigError naming the first that cannot: a report must not replace one of the `inputs`
    (the CSV file, the reports being merged), a folder, or another report of the same command,
    and its folder must be writable."""
    reports = tuple(paths)
    given = [path for path in inputs if path.exists()]
    seen: list[Path] = []
    for path in reports:
        if path.suffix.lower() not in REPORT_SUFFIXES:
            raise ConfigError(f"{option} {path}: the file must end in .csv, .json or .html")
        if path.is_dir():
            raise ConfigError(f"{option} {path}: is a folder; give a file name")
        if path.exists() and not path.is_file():
            raise ConfigError(f"{option} {path}: not a regular file")
        for source in given:
            if _same_file(path, source):
                raise ConfigError(
                    f"{option} {path}: is the input {source}; the report would overwrite it"
                )
        if any(_same_file(path, earlier) for earlier in seen):
            raise ConfigError(f"{option} {path}: given twice")
        seen.append(path)
        folder = nearest_folder(path)
        if not can_write_in(folder):
            raise ConfigError(f"{option} {path}: {folder} is not a writable folder")
    return reports


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (a link, another spelling), whether or not `a` exists."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _encoding(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _ENCODINGS:
        raise ConfigError(f"a report file must end in .csv, .json or .html: {path}")
    return _ENCODINGS[suffix]


def write_report(
    paths: Path | Iterable[Path],
    rows: Iterable[ReportRow],
    *,
    in_order: bool = False,
    about: Sequence[tuple[str, str]] = (),
    screenshots_from: Sequence[Path] | None = None,
) -> Counter[str]:
    """Write the report to each path, in the format its extension names (.csv, .json, .html).

    Rows `in_order` (by row number, as the ledger gives them) are streamed as they come, in
    constant memory; other rows are sorted first. `about` is what the HTML page says of the run
    (label, text); `screenshots_from` the only folders whose screenshots it embeds (None: rows
    from the ledger, which names only the agent's own). Either every file is written whole or,
    on a StorageError naming the file, none is touched. Returns the rows per outcome.
    """
    targets = [paths] if isinstance(paths, Path) else [Path(path) for path in paths]
    encodings = [_encoding(path) for path in targets]
    if not in_order:
        rows = sorted(rows, key=lambda row: row.row)
    summary: Counter[str] = Counter()
    with ExitStack() as stack, atomic_files(targets, encodings) as files:
        writers: list[_CsvReport | _JsonReport | HtmlReport] = []
        for out, path in zip(files, targets, strict=True):
            suffix = path.suffix.lower()
            if suffix == ".csv":
                writers.append(_CsvReport(out))
            elif suffix == ".json":
                writers.append(_JsonReport(out))
            else:
                writers.append(HtmlReport(out, about, stack, screenshots_from))
        for row in rows:
            summary[row.outcome] += 1
            for writer in writers:
                writer.row(row)
        for writer in writers:
            writer.end(summary)
    return summary


def write_run_report(ledger: Ledger, run_id: str, paths: Sequence[Path]) -> Counter[str]:
    """The report of one run, streamed from the ledger; the rows per outcome."""
    about = run_facts(ledger.run(run_id), ledger.counts(run_id))
    entries = ledger.iter_results(run_id)
    return write_report(
        paths, (ReportRow.from_entry(entry) for entry in entries), in_order=True, about=about
    )


def run_facts(run: RunInfo, counts: Mapping[str, int]) -> list[tuple[str, str]]:
    """What a page says of the run: never a path beyond the file's name, never a credential."""
    portal = str(run.options.get("portal") or "")
    left = sum(counts.get(state, 0) for state in UNFINISHED)
    if run.ended_at:
        finished = f"{run.ended_at} ({run.status})"
    elif left:
        finished = f"not yet: {left} row(s) left to do"
    else:
        finished = "every row is done"
    facts = [
        ("Run", run.id),
        ("Input file", Path(run.input_path).name),
        ("Started", run.started_at),
        ("Finished", finished),
        # A netloc may carry user:password@; only the host is shown.
        ("Portal", portal.rpartition("@")[2] or "unknown"),
    ]
    if run.shard:
        facts.append(("Shard", run.shard))
    if run.options.get("dry_run"):
        facts.append(("Dry run", "yes: nothing was submitted"))
    return facts


def read_report(path: Path) -> list[ReportRow]:
    """Read a report this module wrote; InputError if its columns or values do not fit."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            columns, records = _read_csv(path)
        elif suffix == ".json":
            columns, records = _read_json(path)
        else:
            raise InputError(f"{path.name}: a report file must end in .csv or .json")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path.name}: not a readable report ({exc})") from exc
    if columns != list(REPORT_COLUMNS):
        missing = [column for column in REPORT_COLUMNS if column not in columns]
        extra = [column for column in columns if column not in REPORT_COLUMNS]
        raise InputError(
            f"{path.name}: its columns differ from the report format "
            f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'}"
            f"{'; same names in another order' if not missing and not extra else ''})"
        )
    try:
        return [ReportRow.model_validate(record) for record in records]
    except ValidationError as exc:
        raise InputError(f"{path.name}: a value does not fit the report format: {exc}") from exc


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream, strict=True)
        columns = next(reader, [])
        records: list[dict[str, Any]] = []
        for cells in reader:
            values: dict[str, Any] = {
                column: _restore(cell) for column, cell in zip(columns, cells, strict=True)
            }
            values["duration_s"] = values.get("duration_s") or None
            artifacts = values.get("artifacts") or ""
            values["artifacts"] = artifacts.split(_ARTIFACT_SEPARATOR) if artifacts else []
            records.append(values)
    return columns, records


def _read_json(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return list(document["columns"]), list(document["rows"])


def merge_reports(
    paths: Sequence[Path], out: Path | Iterable[Path], *, screenshots_from: Sequence[Path] = ()
) -> list[ReportRow]:
    """Merge the reports of the shards of one input into one (any format), refusing overlaps.

    The inputs are files anyone may have written: an HTML output embeds only the screenshots
    that lie in `screenshots_from` (the agent's artifacts folders), none by default.
    """
    if not paths:
        raise InputError("no reports to merge")
    outputs = [out] if isinstance(out, Path) else list(out)
    check_report_paths(outputs, inputs=paths, option="merged report")
    # Keyed by position, not name: the same file given twice is an overlap too.
    seen_orders: dict[str, int] = {}
    seen_rows: dict[int, int] = {}
    problems: list[str] = []
    merged: list[ReportRow] = []
    for index, path in enumerate(paths):
        for row in read_report(path):
            # Within one report an order may repeat (conflicting rows are both refused).
            earlier = seen_orders.setdefault(row.order_number, index)
            earlier_row = seen_rows.setdefault(row.row, index)
            if row.order_number and earlier != index:
                problems.append(
                    f"order {row.order_number} is in both {paths[earlier].name} and {path.name}"
                )
            elif earlier_row != index:
                problems.append(
                    f"input row {row.row} is in both {paths[earlier_row].name} and {path.name}"
                )
            merged.append(row)
    if problems:
        raise InputError(
            "the reports overlap; merge only the shards of one input, each once:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    write_report(
        outputs,
        merged,
        about=[("Merged from", ", ".join(path.name for path in paths))],
        screenshots_from=screenshots_from,
    )
    return sorted(merged, key=lambda row: row.row)
