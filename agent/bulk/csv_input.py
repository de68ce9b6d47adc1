"""Reading a bulk CSV: decoding, header matching and row validation, every problem at once."""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from agent.errors import InputError
from flows.models import ORDER_NUMBER, AssignRequest, SearchBy
from pages.labels import normalize

REQUIRED_COLUMNS = ("order_number", "search_by", "smart_account", "virtual_account")
OPTIONAL_COLUMNS = ("expect_domain", "reference")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_SEARCH_BY_WORDS = {
    "domain": SearchBy.DOMAIN,
    "domain_identifier": SearchBy.DOMAIN,
    "account_name": SearchBy.ACCOUNT_NAME,
    "email": SearchBy.EMAIL,
    "email_id": SearchBy.EMAIL,
}
_SEARCH_BY_CHOICES = ", ".join(member.value for member in SearchBy)
# Excel turns long numbers typed in a General cell into this shape, losing digits.
_SCIENTIFIC = re.compile(r"^\d+(?:[.,]\d+)?[eE]\+?\d+$")
_UTF8_BOM = b"\xef\xbb\xbf"


def normalise_name(text: str) -> str:
    """Header or label text in one spelling: lower case, words joined by single underscores."""
    return re.sub(r"[\s_\-.]+", "_", text.strip().casefold()).strip("_")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as a spreadsheet shows it (header = row 1)."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class InvalidCsv(InputError):
    """A bulk CSV that cannot be run; `problems` lists everything found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the input, nothing was run:"
        super().__init__("\n".join([heading, *(f"  {p}" for p in self.problems)]))


def _custom(message: str) -> PydanticCustomError:
    # The message goes in as context so that braces in a user's cell are never a template.
    return PydanticCustomError("csv_value", "{message}", {"message": message})


class CsvRow(BaseModel):
    """One valid order row of the CSV: an AssignRequest's target plus where it came from."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    row: int = Field(ge=2, description="Spreadsheet row number; the header is row 1.")
    order_number: str
    search_by: SearchBy
    smart_account: str
    virtual_account: str
    expect_domain: str | None = None
    reference: str = ""

    @field_validator("order_number")
    @classmethod
    def _order_number(cls, value: str) -> str:
        if not value:
            raise _custom("is empty; every row needs a Sales Order or Web Order number")
        if _SCIENTIFIC.match(value):
            raise _custom(
                f"'{value}' looks like a number that a spreadsheet shortened to scientific "
                "notation; format the column as Text and type the order number again"
            )
        if not ORDER_NUMBER.match(value):
            raise _custom(f"'{value}' is not an order number (6 to 12 digits)")
        return value

    @field_validator("search_by", mode="before")
    @classmethod
    def _search_by(cls, value: object) -> SearchBy:
        text = str(value).strip()
        if not text:
            raise _custom(f"is empty; use one of {_SEARCH_BY_CHOICES}")
        try:
            return _SEARCH_BY_WORDS[normalise_name(text)]
        except KeyError:
            raise _custom(f"'{text}' is not one of {_SEARCH_BY_CHOICES}") from None

    @field_validator("smart_account")
    @classmethod
    def _smart_account(cls, value: str, info: ValidationInfo) -> str:
        search_by = info.data.get("search_by")
        if not value:
            raise _custom("is empty; give the Domain Identifier, Account Name or Email ID")
        if search_by is SearchBy.EMAIL and "@" not in value:
            raise _custom(f"'{value}' is not an email address, and search_by is email")
        if search_by is SearchBy.DOMAIN and ("@" in value or re.search(r"\s", value)):
            raise _custom(f"'{value}' is not a Domain Identifier (like acme.example)")
        return value

    @field_validator("virtual_account")
    @classmethod
    def _virtual_account(cls, value: str) -> str:
        if not value:
            raise _custom("is empty; give the Virtual Account name (often DEFAULT)")
        return value

    @field_validator("expect_domain")
    @classmethod
    def _expect_domain(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        if "@" in value or re.search(r"\s", value):
            raise _custom(f"'{value}' is not a Domain Identifier (like acme.example)")
        searched = info.data.get("smart_account")
        if (
            info.data.get("search_by") is SearchBy.DOMAIN
            and searched is not None
            and searched.casefold() != value.casefold()
        ):
            raise _custom(
                f"'{value}' contradicts smart_account '{searched}', which is already searched "
                "by domain; leave expect_domain empty"
            )
        return value

    def target_key(self) -> tuple[str, str, str, str]:
        """What must match for two rows of one order to be the same request."""
        # Compared as the agent matches them: ignoring case and surrounding/repeated spaces.
        return (
            self.search_by.value,
            normalize(self.smart_account).casefold(),
            normalize(self.virtual_account).casefold(),
            (self.expect_domain or "").casefold(),
        )

    def target_text(self) -> str:
        """The target as a person reads it, e.g. "acme.example / DEFAULT"."""
        return f"{self.smart_account} / {self.virtual_account}"

    def request(
        self, *, dry_run: bool = False, allow_pending: bool = False, allow_internal: bool = False
    ) -> AssignRequest:
        """The flow's input for this row."""
        return AssignRequest(
            order_number=self.order_number,
            search_by=self.search_by,
            smart_account=self.smart_account,
            virtual_account=self.virtual_account,
            expect_domain=self.expect_domain,
            dry_run=dry_run,
            allow_pending=allow_pending,
            allow_internal=allow_internal,
        )


@dataclass(frozen=True)
class InvalidRow:
    """A row that failed validation: its cells as written and why it cannot run."""

    row: int
    cells: dict[str, str]
    problems: tuple[Problem, ...]

    @property
    def order_number(self) -> str:
        return self.cells.get("order_number", "")

    @property
    def reason(self) -> str:
        """The problems without the file name, for the report's detail column."""
        return "; ".join(
            f"{p.column}: {p.message}" if p.column else p.message for p in self.problems
        )


@dataclass(frozen=True)
class LoadedOrders:
    """A validated input file: rows to run, rows refused, warnings, and the file's fingerprint."""

    rows: tuple[CsvRow, ...]
    invalid: tuple[InvalidRow, ...]
    warnings: tuple[str, ...]
    sha256: str


def load_orders(path: str | Path, *, skip_invalid: bool = False) -> LoadedOrders:
    """Read and validate a bulk CSV before any browser starts.

    Raises InvalidCsv (an InputError) listing every problem when the file cannot be used, or when
    any row is invalid and `skip_invalid` is false. With `skip_invalid` the invalid rows come back
    in `LoadedOrders.invalid` to be reported as invalid_input.
    """
    path = Path(path)
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidCsv([Problem(name, None, None, f"cannot be read: {exc.strerror}")]) from exc
    text = _decode(data, name)
    records = _parse(text, name)
    header = _header(records[0], name)

    rows: list[CsvRow] = []
    invalid: list[InvalidRow] = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank spreadsheet rows carry nothing
        row, bad = _validate(number, cells, header, name)
        if row is not None:
            rows.append(row)
        if bad is not None:
            invalid.append(bad)
    if not rows and not invalid:
        raise InvalidCsv([Problem(name, None, None, "has a header but no order rows below it")])

    rows, conflicts, warnings = _deduplicate(rows, name)
    invalid = sorted([*invalid, *conflicts], key=lambda bad: bad.row)
    if invalid and not skip_invalid:
        raise InvalidCsv([problem for bad in invalid for problem in bad.problems])
    return LoadedOrders(
        rows=tuple(rows),
        invalid=tuple(invalid),
        warnings=tuple(warnings),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidCsv(
            [Problem(name, None, None, "is UTF-16 text; save it as 'CSV UTF-8' instead")]
        )
    body = data.removeprefix(_UTF8_BOM)
    offset = len(data) - len(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = offset + exc.start
        row = data.count(b"\n", 0, at) + 1
        message = (
            f"is not UTF-8 text: byte 0x{data[at]:02x} at byte offset {at} cannot be decoded; "
            "save the file as 'CSV UTF-8'"
        )
        raise InvalidCsv([Problem(name, row, None, message)]) from exc
    if not text.strip():
        raise InvalidCsv([Problem(name, None, None, "is empty; the first row must be the header")])
    return text


def _delimiter(text: str) -> str:
    """Comma or semicolon, whichever the header line uses more outside quotes."""
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    return ";" if unquoted.count(";") > unquoted.count(",") else ","


def _parse(text: str, name: str) -> list[list[str]]:
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        records.extend(reader)
    except csv.Error as exc:
        row = len(records) + 1
        message = f"is not valid CSV here ({exc}); check the quotes in this row"
        if "end of data" in str(exc):
            message = "a quoted cell that starts in this row is never closed"
        raise InvalidCsv([Problem(name, row, None, message)]) from exc
    return records


def _header(cells: list[str], name: str) -> list[str]:
    """The canonical column names, in file order; raises on any header problem."""
    names = [normalise_name(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()  # spreadsheets add empty trailing columns
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, (raw, column) in enumerate(zip(cells, names, strict=False), start=1):
        if not column:
            problems.append(Problem(name, 1, None, f"the header of column {position} is empty"))
        elif column in seen:
            message = f"appears twice in the header (columns {seen[column]} and {position})"
            problems.append(Problem(name, 1, column, message))
        elif column not in COLUMNS:
            guess = difflib.get_close_matches(column, COLUMNS, n=1)
            hint = f"did you mean {guess[0]}?" if guess else f"known columns: {', '.join(COLUMNS)}"
            problems.append(Problem(name, 1, raw.strip(), f"unknown column; {hint}"))
        else:
            seen[column] = position
    missing = [column for column in REQUIRED_COLUMNS if column not in seen]
    if missing:
        message = (
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"the first row must be the header: {','.join(COLUMNS)}"
        )
        problems.append(Problem(name, 1, None, message))
    if problems:
        raise InvalidCsv(problems)
    return names


def _validate(
    number: int, cells: list[str], header: list[str], name: str
) -> tuple[CsvRow | None, InvalidRow | None]:
    values = {column: cell.strip() for column, cell in zip(header, cells, strict=False)}
    extra = [cell for cell in cells[len(header) :] if cell.strip()]
    count_problem: Problem | None = None
    if len(cells) < len(header) or extra:
        message = f"has {len(cells)} cells but the header has {len(header)} columns"
        if extra:
            message += f" (extra value '{extra[0].strip()}')"
        count_problem = Problem(name, number, None, message + "; check delimiters and quotes")
    if count_problem is not None:
        return None, InvalidRow(number, values, (count_problem,))
    try:
        return CsvRow.model_validate({"row": number, **values}), None
    except ValidationError as exc:
        problems = tuple(
            Problem(name, number, str(error["loc"][0]), error["msg"]) for error in exc.errors()
        )
        return None, InvalidRow(number, values, problems)


def _deduplicate(rows: list[CsvRow], name: str) -> tuple[list[CsvRow], list[InvalidRow], list[str]]:
    """Identical repeats run once (with a warning); one order with two targets runs not at all."""
    by_order: dict[str, list[CsvRow]] = defaultdict(list)
    for row in rows:
        by_order[row.order_number].append(row)
    kept: list[CsvRow] = []
    conflicts: list[InvalidRow] = []
    warnings: list[str] = []
    for order, group in by_order.items():
        first = group[0]
        if len(group) == 1:
            kept.append(first)
            continue
        numbers = ", ".join(str(row.row) for row in group)
        if len({row.target_key() for row in group}) == 1:
            kept.append(first)
            warnings.append(
                f"{name} rows {numbers}: order {order} is repeated with the same target "
                f"({first.target_text()}); it will run once, as row {first.row}"
            )
            continue
        targets = "; ".join(f"row {row.row}: {row.target_text()}" for row in group)
        message = f"order {order} is on rows {numbers} with different targets ({targets})"
        for row in group:
            cells = {
                column: ("" if value is None else str(value))
                for column, value in row.model_dump(mode="json", exclude={"row"}).items()
            }
            problem = Problem(name, row.row, "order_number", message)
            conflicts.append(InvalidRow(row.row, cells, (problem,)))
    kept.sort(key=lambda row: row.row)
    return kept, conflicts, warnings
