"""The bulk report (CSV for people, JSON for programs), shard-report merging and exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.bulk.ledger import IN_FLIGHT, INVALID_INPUT, PENDING, RowEntry
from agent.errors import ConfigError, InputError
from flows.models import OrderView, Outcome

REPORT_COLUMNS = (
    "row",
    "order_number",
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
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ARTIFACT_SEPARATOR = "; "


class ReportRow(BaseModel):
    """One line of the report: the input row, what happened, and the evidence."""

    model_config = ConfigDict(frozen=True)

    row: int
    order_number: str
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

    @classmethod
    def from_entry(cls, entry: RowEntry) -> ReportRow:
        """Build the report line from the ledger's record of the row."""
        target = entry.target
        return cls(
            row=entry.row_number,
            order_number=entry.order_number,
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
        return f"Not run: the row is invalid ({entry.detail})."
    if entry.status == PENDING:
        return "Not run: the run ended before this row started."
    if entry.status == IN_FLIGHT:
        text = "Interrupted during an attempt; a resume re-reads the portal before acting."
    else:
        text = Outcome(entry.status).sentence
        if entry.detail:
            text = f"{text} {entry.detail}"
    if entry.last_error and entry.status in (IN_FLIGHT, Outcome.FAILED.value):
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
    """Prefix a quote to a cell a spreadsheet would otherwise run as a formula."""
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


def _restore(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def _csv_cells(row: ReportRow) -> list[str]:
    values: dict[str, Any] = row.model_dump()
    values["duration_s"] = "" if row.duration_s is None else f"{row.duration_s:.1f}"
    values["artifacts"] = _ARTIFACT_SEPARATOR.join(row.artifacts)
    return [neutralise(str(values[column])) for column in REPORT_COLUMNS]


def _render(path: Path, rows: Sequence[ReportRow]) -> str:
    ordered = sorted(rows, key=lambda row: row.row)
    if path.suffix.lower() == ".csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(REPORT_COLUMNS)
        writer.writerows(_csv_cells(row) for row in ordered)
        return buffer.getvalue()
    if path.suffix.lower() == ".json":
        summary = Counter(row.outcome for row in ordered)
        document = {
            "columns": list(REPORT_COLUMNS),
            "summary": dict(sorted(summary.items())),
            "rows": [row.model_dump(mode="json") for row in ordered],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    raise ConfigError(f"a report file must end in .csv or .json: {path}")


def write_report(paths: Path | Iterable[Path], rows: Sequence[ReportRow]) -> None:
    """Write the report to each path, in the format its extension names (.csv or .json)."""
    targets = [paths] if isinstance(paths, Path) else [Path(path) for path in paths]
    rendered = [(path, _render(path, rows)) for path in targets]
    for path, text in rendered:
        # utf-8-sig: the byte-order mark makes spreadsheets read the CSV as UTF-8.
        encoding = "utf-8-sig" if path.suffix.lower() == ".csv" else "utf-8"
        _write_atomically(path, text, encoding)


def _write_atomically(path: Path, text: str, encoding: str) -> None:
    # A reader (or a crash) never sees half a report: write beside it, then rename over it.
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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


def merge_reports(paths: Sequence[Path], out: Path | Iterable[Path]) -> list[ReportRow]:
    """Merge the reports of the shards of one input into one, refusing overlaps."""
    if not paths:
        raise InputError("no reports to merge")
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
    write_report(out, merged)
    return sorted(merged, key=lambda row: row.row)
