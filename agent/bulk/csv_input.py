"""Reading a bulk CSV: every problem at once, then its rows, in bounded memory.

Two ways in. `load_orders` reads a file whole into `LoadedOrders`. `OrderFile.scan` reads it as
a stream, in bounded memory: it keeps the file's fingerprint, the problems to show and one small
entry per distinct order (for duplicates), and `OrderFile.items()` reads the rows again on
demand, refusing a file whose bytes changed in between. `iter_orders` is the row-by-row reader
under both, without the cross-row duplicate rules.

The parts: agent.bulk.csv_file reads and decodes the bytes, agent.bulk.columns matches the
header, agent.bulk.cells holds each column's rules, agent.bulk.rows the row model,
agent.bulk.duplicates one order on several rows, agent.bulk.problems how problems are told.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agent.bulk.columns import column_names
from agent.bulk.csv_file import MAX_FILE_BYTES, Fingerprint, read_records
from agent.bulk.duplicates import Duplicates
from agent.bulk.problems import MAX_LISTED_PROBLEMS, InvalidCsv, Problem, refused
from agent.bulk.rows import CsvRow, InvalidRow, row_from_cells

# Imported from here by the rest of the agent, the scripts and the tests.
__all__ = [
    "MAX_FILE_BYTES",
    "CsvRow",
    "InvalidCsv",
    "InvalidRow",
    "LoadedOrders",
    "OrderFile",
    "Problem",
    "iter_orders",
    "load_orders",
]


@dataclass(frozen=True)
class LoadedOrders:
    """A validated input file: rows to run, rows refused, warnings, and the file's fingerprint."""

    rows: tuple[CsvRow, ...]
    invalid: tuple[InvalidRow, ...]
    warnings: tuple[str, ...]
    sha256: str


def load_orders(path: str | Path, *, skip_invalid: bool = False) -> LoadedOrders:
    """Read and validate a bulk CSV before any browser starts.

    Raises InvalidCsv (an InputError) listing the problems when the file cannot be used, or when
    any row is invalid and `skip_invalid` is false. With `skip_invalid` the invalid rows come back
    in `LoadedOrders.invalid` to be reported as invalid_input.
    """
    orders = OrderFile.scan(path)
    if not skip_invalid:
        orders.check()
    rows: list[CsvRow] = []
    invalid: list[InvalidRow] = []
    for item in orders.items():
        if isinstance(item, CsvRow):
            rows.append(item)
        else:
            invalid.append(item)
    return LoadedOrders(
        rows=tuple(rows), invalid=tuple(invalid), warnings=orders.warnings, sha256=orders.sha256
    )


def iter_orders(path: str | Path) -> Iterator[CsvRow | InvalidRow]:
    """Each order row of a bulk CSV, validated on its own, in file order, one at a time.

    Memory does not grow with the file. Blank rows are skipped; the cross-row rules (one order
    on two rows) are not applied: `OrderFile` applies them. Raises InvalidCsv, as it is iterated,
    for a file that cannot be used: before the first row when the file cannot be opened, is not
    a regular file, is too large, is UTF-16 or empty, or has a bad header; at the place it is
    found for undecodable bytes or a quote never closed; at the end for a file without rows.
    """
    return _iter_orders(Path(path), Fingerprint())


@dataclass(frozen=True)
class OrderFile:
    """A bulk CSV checked in one streaming pass, whose rows are read again when wanted.

    It is what the bulk runner's OrderSource asks for: `sha256`, `warnings` and `items()`. It
    holds the problems to show and one small entry per distinct order, never the rows.
    """

    path: Path
    sha256: str
    warnings: tuple[str, ...]
    problems: tuple[Problem, ...]
    omitted: int  # problems found beyond those listed
    valid_rows: int
    invalid_rows: int
    _chunks: tuple[bytes, ...] = field(repr=False)
    _repeats: frozenset[int] = field(repr=False)
    _conflicts: Mapping[int, str] = field(repr=False)

    @classmethod
    def scan(cls, path: str | Path) -> OrderFile:
        """Read and validate the whole file once; raises InvalidCsv for a file-level problem."""
        path = Path(path)
        name = path.name
        fingerprint = Fingerprint()
        problems: list[Problem] = []
        found = 0
        valid = invalid = 0
        duplicates = Duplicates()
        for item in _iter_orders(path, fingerprint):
            if isinstance(item, InvalidRow):
                invalid += 1
                found += len(item.problems)
                problems.extend(item.problems[: max(0, MAX_LISTED_PROBLEMS - len(problems))])
                continue
            valid += 1
            duplicates.add(item)

        again = _iter_orders(path, Fingerprint(fingerprint.chunks))
        warnings, repeats, conflicts = duplicates.resolve(name, again)
        conflict_problems = sorted(
            (Problem(name, row, "order_number", message) for row, message in conflicts.items()),
            key=lambda problem: problem.row or 0,
        )
        found += len(conflict_problems)
        listed = sorted(
            [*problems, *conflict_problems[:MAX_LISTED_PROBLEMS]], key=lambda p: p.row or 0
        )[:MAX_LISTED_PROBLEMS]
        return cls(
            path=path,
            sha256=fingerprint.sha256.hexdigest(),
            warnings=tuple(warnings),
            problems=tuple(listed),
            omitted=found - len(listed),
            valid_rows=valid - len(conflicts) - len(repeats),
            invalid_rows=invalid + len(conflicts),
            _chunks=tuple(fingerprint.chunks),
            _repeats=frozenset(repeats),
            _conflicts=conflicts,
        )

    def check(self) -> None:
        """Raise InvalidCsv listing the problems, if any row is invalid."""
        if self.problems:
            raise InvalidCsv(self.problems, omitted=self.omitted)

    def items(self) -> Iterator[CsvRow | InvalidRow]:
        """Rows to run and rows refused, in file order: the file read again, as a stream.

        An identical repeat of an order is left out (see `warnings`); every row of an order
        given two targets is an InvalidRow. Raises InvalidCsv, before yielding anything read
        from them, when the file's bytes are no longer those scanned.
        """
        name = self.path.name
        for item in _iter_orders(self.path, Fingerprint(self._chunks)):
            if item.row in self._repeats:
                continue
            message = self._conflicts.get(item.row)
            if message is not None and isinstance(item, CsvRow):
                cells = {
                    column: ("" if value is None else str(value))
                    for column, value in item.model_dump(mode="json", exclude={"row"}).items()
                }
                problem = Problem(name, item.row, "order_number", message)
                yield InvalidRow(item.row, cells, (problem,))
            else:
                yield item


def _iter_orders(path: Path, fingerprint: Fingerprint) -> Iterator[CsvRow | InvalidRow]:
    name = path.name
    records = read_records(path, name, fingerprint)
    header_cells = next(records, (1, []))[1]
    if not any(cell.strip() for cell in header_cells):
        # Only blank lines ahead means an empty file; else the header is blank: say so.
        if not any(any(cell.strip() for cell in cells) for _, cells in records):
            raise refused(name, "is empty; the first row must be the header")
    header = column_names(header_cells, name)
    empty = True
    for number, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank spreadsheet rows carry nothing
        empty = False
        yield row_from_cells(number, cells, header, name)
    if empty:
        raise refused(name, "has a header but no order rows below it")
