"""Reading a bulk CSV: decoding, header matching and row validation, every problem at once.

Two ways in. `load_orders` reads a file whole into `LoadedOrders`. `OrderFile.scan` reads it as
a stream, in bounded memory: it keeps the file's fingerprint, the problems to show and one small
entry per distinct order (for duplicates), and `OrderFile.items()` reads the rows again on
demand, refusing a file whose bytes changed in between. `iter_orders` is the row-by-row reader
under both, without the cross-row duplicate rules.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from flows.models import ORDER_NUMBER, AssignRequest, SearchBy
from pages.errors import InputError
from pages.labels import normalize
from pages.orders import order_key

REQUIRED_COLUMNS = ("order_number", "search_by", "smart_account", "virtual_account")
OPTIONAL_COLUMNS = ("expect_domain", "reference")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Limits, documented in docs/bulk.md: what a person can have typed, and no more.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_DOMAIN = 253  # a DNS name
MAX_LABEL = 63  # one part of a DNS name, between dots
MAX_ACCOUNT_NAME = 200
MAX_EMAIL = 254  # RFC 5321 forward path
MAX_EMAIL_LOCAL = 64
MAX_VIRTUAL_ACCOUNT = 100
MAX_REFERENCE = 1000  # free text, such as a PO number and a note
MAX_LISTED_PROBLEMS = 200  # in one error message; every invalid row still reaches the report
CHUNK_BYTES = 64 * 1024

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
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_DELIMITERS = (",", ";", "\t")  # in order of preference when the header uses as many of each
_LINE_END = re.compile(r"\r\n|\r|\n")  # only these: csv must see U+2028 and friends as text
# Unicode categories refused in any cell: control (C0, C1, NUL), format (the bidi embeddings,
# overrides and isolates, zero-width characters, soft hyphen...), line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL"}
_FORMULA_START = ("=", "+", "-", "@")  # what a spreadsheet takes for the start of a formula
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LABEL_CHARACTER = re.compile(r"[A-Za-z0-9-]")
# The dot-atom of RFC 5322: no quoted local parts, no comments, ASCII only.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_SHOWN_MAX = 60


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
    """A bulk CSV that cannot be run; `problems` lists what was found, in file order.

    `omitted` counts the problems found beyond the MAX_LISTED_PROBLEMS listed.
    """

    def __init__(self, problems: Sequence[Problem], *, omitted: int = 0) -> None:
        self.problems = tuple(problems)
        self.omitted = omitted
        count = len(self.problems) + omitted
        heading = f"{count} problem{'s' if count != 1 else ''} in the input, nothing was run:"
        lines = [heading, *(f"  {p}" for p in self.problems)]
        if omitted:
            lines.append(f"  ... and {omitted} more, not listed")
        super().__init__("\n".join(lines))


def _custom(message: str) -> PydanticCustomError:
    # The message goes in as context so that braces in a user's cell are never a template.
    return PydanticCustomError("csv_value", "{message}", {"message": message})


def _visible(text: str) -> str:
    """The text with every refused invisible character spelled out, as <U+202E>."""
    return "".join(
        f"<U+{ord(char):04X}>"
        if unicodedata.category(char) in _INVISIBLE and char not in "\r\n"
        else char
        for char in text
    )


def _shown(value: str) -> str:
    """A cell quoted for a message: invisible characters spelled out, long values cut."""
    text = _visible(value)
    if len(text) > _SHOWN_MAX:
        return f"'{text[: _SHOWN_MAX - 3]}...' ({len(value)} characters)"
    return f"'{text}'"


def _invisible_problem(value: str, *, line_breaks: bool = False) -> str | None:
    """The first control or formatting character in a cell, named, never echoed."""
    for position, char in enumerate(value, start=1):
        category = unicodedata.category(char)
        if category not in _INVISIBLE or (line_breaks and char in "\r\n"):
            continue
        code = f"U+{ord(char):04X}"
        if category == "Cc":
            name = _CONTROL_NAMES.get(ord(char))
            what = f"the control character {code}" + (f" ({name})" if name else "")
            return f"contains {what} at character {position}; remove it and save again"
        name = unicodedata.name(char, "")
        return (
            f"contains the invisible character {code}" + (f" ({name})" if name else "") + f" at "
            f"character {position}, which can make text look like something it is not; "
            "type the value again"
        )
    return None


def _too_long(value: str, limit: int, what: str) -> str | None:
    if len(value) > limit:
        return f"is {len(value)} characters long; {what} has at most {limit}"
    return None


def _cell(value: str, limit: int, what: str, *, line_breaks: bool = False) -> str:
    """Checks every cell gets: no invisible characters, a length cap. Raises for the column."""
    problem = _invisible_problem(value, line_breaks=line_breaks) or _too_long(value, limit, what)
    if problem:
        raise _custom(problem)
    return value


def _domain_reason(value: str) -> str | None:
    """Why a text is not a domain name (letters, digits, hyphens between dots), or None."""
    if value.startswith(_FORMULA_START):
        return f"starts with '{value[0]}', which a spreadsheet runs as a formula"
    if _SCHEME.match(value):
        host = urlsplit(value).hostname
        only = f" ('{host}')" if host and _domain_reason(host) is None else ""
        return f"is a web address; give only its domain{only}"
    if not value.isascii():
        try:
            ascii_form = value.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_form = ""
        example = f", such as '{ascii_form}'" if ascii_form else " (xn--...)"
        return (
            "has letters outside ASCII; give the domain in its ASCII (punycode) form as the "
            f"portal shows it{example}"
        )
    if len(value) > MAX_DOMAIN:
        return f"is {len(value)} characters long; a domain name has at most {MAX_DOMAIN}"
    if "/" in value:
        return "has a path ('/'); give only the domain"
    if ":" in value:
        return "has a port (':'); give only the domain"
    labels = value.split(".")
    if len(labels) < 2:
        return "has no dot"
    if not all(labels):
        return "has an empty part between dots"
    for char in value:
        if char != "." and not _LABEL_CHARACTER.match(char):
            return f"has the character '{char}'; a domain has only letters, digits, '-' and '.'"
    if any(len(label) > MAX_LABEL for label in labels):
        return f"has a part longer than {MAX_LABEL} characters between dots"
    if any(label.startswith("-") or label.endswith("-") for label in labels):
        return "has a part that starts or ends with '-'"
    if labels[-1].isdigit():
        return "ends in a number, like an IP address; give the account's domain name"
    return None


def _domain(value: str) -> str:
    """A Domain Identifier, or the reason it is not one (naming the value, cut if long)."""
    problem = _invisible_problem(value)
    if problem:
        raise _custom(problem)
    base = f"{_shown(value)} is not a Domain Identifier (like acme.example)"
    if "@" in value or re.search(r"\s", value):
        raise _custom(base)
    reason = _domain_reason(value)
    if reason:
        raise _custom(f"{base}: it {reason}")
    return value


def _email(value: str) -> str:
    """An Email ID: one '@', a plain local part, a domain name after it."""
    problem = _invisible_problem(value)
    if problem:
        raise _custom(problem)
    shown = _shown(value)
    ats = value.count("@")
    if ats == 0:
        raise _custom(f"{shown} is not an email address, and search_by is email")
    base = f"{shown} is not an email address"
    if len(value) > MAX_EMAIL:
        raise _custom(f"is {len(value)} characters long; an email address has at most {MAX_EMAIL}")
    if ats > 1:
        raise _custom(f"{base}: it has {ats} '@' where an address has one")
    if re.search(r"\s", value):
        raise _custom(f"{base}: it has a space")
    local, domain = value.split("@")
    if not local:
        raise _custom(f"{base}: nothing comes before the '@'")
    if len(local) > MAX_EMAIL_LOCAL:
        raise _custom(f"{base}: the part before the '@' is over {MAX_EMAIL_LOCAL} characters")
    if not _EMAIL_LOCAL.fullmatch(local):
        raise _custom(
            f"{base}: the part before the '@' may hold only ASCII letters, digits and "
            "!#$%&'*+/=?^_`{|}~- with single dots between them"
        )
    if not domain:
        raise _custom(f"{base}: nothing comes after the '@'")
    reason = _domain_reason(domain)
    if reason:
        raise _custom(f"{base}: its domain '{_visible(domain)[:_SHOWN_MAX]}' {reason}")
    return value


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
        problem = _invisible_problem(value)
        if problem:
            raise _custom(problem)
        shown = _shown(value)
        if _SCIENTIFIC.match(value):
            raise _custom(
                f"{shown} looks like a number that a spreadsheet shortened to scientific "
                "notation; format the column as Text and type the order number again"
            )
        if any(char.isdigit() and not char.isascii() for char in value):
            raise _custom(
                f"{shown} has digits other than 0-9 (such as Arabic-Indic or full-width "
                "digits); type the order number with the digits 0 to 9"
            )
        if not (value.isascii() and ORDER_NUMBER.match(value)):
            raise _custom(f"{shown} is not an order number (6 to 12 digits)")
        return value

    @field_validator("search_by", mode="before")
    @classmethod
    def _search_by(cls, value: object) -> SearchBy:
        text = str(value).strip()
        if not text:
            raise _custom(f"is empty; use one of {_SEARCH_BY_CHOICES}")
        problem = _invisible_problem(text)
        if problem:
            raise _custom(problem)
        try:
            return _SEARCH_BY_WORDS[normalise_name(text)]
        except KeyError:
            raise _custom(f"{_shown(text)} is not one of {_SEARCH_BY_CHOICES}") from None

    @field_validator("smart_account")
    @classmethod
    def _smart_account(cls, value: str, info: ValidationInfo) -> str:
        search_by = info.data.get("search_by")
        if not value:
            raise _custom("is empty; give the Domain Identifier, Account Name or Email ID")
        if search_by is SearchBy.DOMAIN:
            return _domain(value)
        if search_by is SearchBy.EMAIL:
            return _email(value)
        if search_by is SearchBy.ACCOUNT_NAME:
            return _cell(value, MAX_ACCOUNT_NAME, "an Account Name")
        return _cell(value, max(MAX_DOMAIN, MAX_ACCOUNT_NAME, MAX_EMAIL), "a Smart Account")

    @field_validator("virtual_account")
    @classmethod
    def _virtual_account(cls, value: str) -> str:
        if not value:
            raise _custom("is empty; give the Virtual Account name (often DEFAULT)")
        return _cell(value, MAX_VIRTUAL_ACCOUNT, "a Virtual Account name")

    @field_validator("expect_domain")
    @classmethod
    def _expect_domain(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        _domain(value)
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

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str) -> str:
        # Free text: a spreadsheet cell may hold line breaks, the report quotes them.
        return _cell(value, MAX_REFERENCE, "a reference", line_breaks=True)

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
    """A row that failed validation: its cells as written and why it cannot run.

    Invisible characters in the cells are spelled out (<U+202E>), so that a report or a terminal
    never shows text that looks like something else.
    """

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
    return _iter_orders(Path(path), _Fingerprint())


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
        fingerprint = _Fingerprint()
        problems: list[Problem] = []
        found = 0
        valid = invalid = 0
        first: dict[str, int] = {}  # order key -> row of its first valid row
        targets: dict[int, bytes] = {}  # row -> target digest, for first rows only while unique
        groups: dict[str, list[tuple[int, bytes]]] = {}  # repeated keys -> (row, target digest)
        for item in _iter_orders(path, fingerprint):
            if isinstance(item, InvalidRow):
                invalid += 1
                found += len(item.problems)
                problems.extend(item.problems[: max(0, MAX_LISTED_PROBLEMS - len(problems))])
                continue
            valid += 1
            key, digest = order_key(item.order_number), _target_digest(item)
            earlier = first.get(key)
            if earlier is None:
                first[key] = item.row
                targets[item.row] = digest
            else:
                group = groups.setdefault(key, [(earlier, targets.pop(earlier))])
                group.append((item.row, digest))

        warnings, repeats, conflicts = _duplicates(path, name, fingerprint.chunks, groups)
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
        for item in _iter_orders(self.path, _Fingerprint(self._chunks)):
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


def _target_digest(row: CsvRow) -> bytes:
    return hashlib.sha256("\0".join(row.target_key()).encode()).digest()[:16]


def _duplicates(
    path: Path, name: str, chunks: Sequence[bytes], groups: Mapping[str, list[tuple[int, bytes]]]
) -> tuple[list[str], set[int], dict[int, str]]:
    """Warnings for identical repeats, the rows they drop, and messages for conflicting rows.

    The messages quote each row's target, which the scan did not keep: the rows of repeated
    orders are read again for them (only when there are any).
    """
    if not groups:
        return [], set(), {}
    wanted = {row for group in groups.values() for row, _ in group}
    rows = {
        item.row: item
        for item in _iter_orders(path, _Fingerprint(chunks))
        if item.row in wanted and isinstance(item, CsvRow)
    }
    warnings: list[str] = []
    repeats: set[int] = set()
    conflicts: dict[int, str] = {}
    for group in sorted(groups.values()):
        members = [rows[row] for row, _ in group]
        first = members[0]
        numbers = ", ".join(str(row.row) for row in members)
        if len({digest for _, digest in group}) == 1:
            repeats.update(row.row for row in members[1:])
            warnings.append(
                f"{name} rows {numbers}: order {first.order_number} is repeated with the same "
                f"target ({first.target_text()}); it will run once, as row {first.row}"
            )
            continue
        targets = "; ".join(f"row {row.row}: {row.target_text()}" for row in members)
        message = (
            f"order {first.order_number} is on rows {numbers} with different targets ({targets})"
        )
        conflicts.update((row.row, message) for row in members)
    return warnings, repeats, conflicts


# --- reading the file ---------------------------------------------------------------------------


class _Fingerprint:
    """The file's SHA-256, and one digest per chunk to recognise the same bytes when read again."""

    def __init__(self, expected: Sequence[bytes] | None = None) -> None:
        self.expected = expected
        self.chunks: list[bytes] = []
        self.sha256 = hashlib.sha256()

    def add(self, data: bytes, name: str) -> None:
        digest = hashlib.sha256(data).digest()
        index = len(self.chunks)
        if self.expected is not None and (
            index >= len(self.expected) or self.expected[index] != digest
        ):
            raise _changed(name)
        self.chunks.append(digest)
        self.sha256.update(data)

    def end(self, name: str) -> None:
        if self.expected is not None and len(self.chunks) != len(self.expected):
            raise _changed(name)


def _changed(name: str) -> InvalidCsv:
    return InvalidCsv(
        [Problem(name, None, None, "changed while it was being read; run the command again")]
    )


def _refused(name: str, message: str) -> InvalidCsv:
    return InvalidCsv([Problem(name, None, None, message)])


def _file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    kinds: tuple[tuple[Callable[[int], bool], str], ...] = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    if stat.S_ISREG(mode):
        return None
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def _check_file(info: os.stat_result, path: Path, name: str) -> None:
    kind = _file_kind(info.st_mode)
    if kind is not None:
        raise _refused(name, f"{path} is {kind}, not a file; give the path of a CSV file")
    if info.st_size > MAX_FILE_BYTES:
        raise _refused(name, _too_large(info.st_size))


def _too_large(size: int) -> str:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return (
        f"is {size / (1024 * 1024):.1f} MiB; the limit is {limit} MiB, so split it into "
        "smaller files"
    )


def _open(path: Path, name: str) -> IO[bytes]:
    """The file opened for reading, if it is a regular file of a sane size; never blocks."""
    try:
        _check_file(os.stat(path), path, name)
        # O_NONBLOCK: should a FIFO take the file's place after the check, opening it does not
        # wait for a writer; fstat below then refuses it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise _refused(name, f"cannot be read: {exc.strerror}") from exc
    try:
        _check_file(os.fstat(descriptor), path, name)
        return open(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _chunks(path: Path, name: str, fingerprint: _Fingerprint) -> Iterator[bytes]:
    """The file's bytes, CHUNK_BYTES at a time, each added to the fingerprint first."""
    with _open(path, name) as stream:
        total = 0
        while True:
            try:
                data = stream.read(CHUNK_BYTES)
            except OSError as exc:
                raise _refused(name, f"cannot be read: {exc.strerror}") from exc
            if not data:
                break
            total += len(data)
            if total > MAX_FILE_BYTES:
                raise _refused(name, _too_large(total))
            fingerprint.add(data, name)
            yield data
    fingerprint.end(name)


def _utf16_without_bom(data: bytes) -> bool:
    """Text whose every other byte is NUL: ASCII characters in UTF-16, little or big endian."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(even, odd) >= pairs * 0.3 and min(even, odd) * 4 <= max(even, odd)


def _text(chunks: Iterator[bytes], name: str) -> Iterator[str]:
    """The file decoded as UTF-8 (a byte-order mark dropped), one piece per chunk."""
    first = next(chunks, b"")
    if first.startswith(_UTF16_BOMS) or _utf16_without_bom(first):
        raise _refused(name, "is UTF-16 text; save it as 'CSV UTF-8' instead")
    offset = len(_UTF8_BOM) if first.startswith(_UTF8_BOM) else 0  # of the next byte decoded
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0  # in the bytes decoded so far
    pieces: Iterator[bytes | None] = chain([first[offset:]], chunks, [None])  # None: the end
    del first
    for data in pieces:
        kept = len(decoder.getstate()[0])  # bytes of a character cut at the last chunk's end
        try:
            text = decoder.decode(data or b"", final=data is None)
        except UnicodeDecodeError as exc:
            # exc.start counts in the bytes kept from the last chunk, then in this one.
            at = offset - kept + exc.start
            row = newlines + (data or b"")[: max(0, exc.start - kept)].count(b"\n") + 1
            message = (
                f"is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at byte offset {at} "
                "cannot be decoded; save the file as 'CSV UTF-8'"
            )
            yield exc.object[: exc.start].decode("utf-8")  # the rows before it are good
            raise InvalidCsv([Problem(name, row, None, message)]) from exc
        if data:
            offset += len(data)
            newlines += data.count(b"\n")
        yield text


def _lines(pieces: Iterator[str]) -> Iterator[str]:
    """Lines with their endings (CR LF, CR or LF only), across the pieces' boundaries."""
    carry: list[str] = []  # the start of a line, in parts: joined once, however long it is
    for piece in pieces:
        if carry and carry[-1].endswith("\r") and not piece.startswith("\n"):
            yield "".join(carry)  # a CR alone at the end of the last piece ended its line
            carry.clear()
        start = 0
        for match in _LINE_END.finditer(piece):
            if match.group() == "\r" and match.end() == len(piece):
                break  # perhaps the first half of a CR LF: the next piece tells
            carry.append(piece[start : match.end()])
            yield "".join(carry)
            carry.clear()
            start = match.end()
        if start < len(piece):
            carry.append(piece[start:])
    if carry:
        yield "".join(carry)


def _delimiter(first_line: str) -> str:
    """Comma, semicolon or tab, whichever the header line uses most outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in _DELIMITERS}
    return max(_DELIMITERS, key=lambda delimiter: counts[delimiter])  # first of the best


def _records(path: Path, name: str, fingerprint: _Fingerprint) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, cells) of each record, the header first."""
    lines = _lines(_text(_chunks(path, name, fingerprint), name))
    first = next(lines, "")
    reader = csv.reader(chain([first], lines), delimiter=_delimiter(first), strict=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = f"is not valid CSV here ({exc}); check the quotes in this row"
            if "end of data" in str(exc):
                message = "a quoted cell that starts in this row is never closed"
            raise InvalidCsv([Problem(name, number + 1, None, message)]) from exc
        number += 1
        yield number, cells


def _iter_orders(path: Path, fingerprint: _Fingerprint) -> Iterator[CsvRow | InvalidRow]:
    name = path.name
    records = _records(path, name, fingerprint)
    header_cells = next(records, (1, []))[1]
    if not any(cell.strip() for cell in header_cells):
        # Only blank lines ahead means an empty file; else the header is blank: say so.
        if not any(any(cell.strip() for cell in cells) for _, cells in records):
            raise _refused(name, "is empty; the first row must be the header")
    header = _header(header_cells, name)
    empty = True
    for number, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank spreadsheet rows carry nothing
        empty = False
        yield _validate(number, cells, header, name)
    if empty:
        raise _refused(name, "has a header but no order rows below it")


def _column_label(text: str) -> str:
    shown = _visible(text)
    return shown if len(shown) <= _SHOWN_MAX else shown[: _SHOWN_MAX - 3] + "..."


def _header(cells: list[str], name: str) -> list[str]:
    """The canonical column names, in file order; raises on any header problem."""
    names = [normalise_name(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()  # spreadsheets add empty trailing columns
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, (raw, column) in enumerate(zip(cells, names, strict=False), start=1):
        invisible = _invisible_problem(raw)
        if invisible:
            message = f"the header of column {position} {invisible}"
            problems.append(Problem(name, 1, None, message))
        elif not column:
            problems.append(Problem(name, 1, None, f"the header of column {position} is empty"))
        elif column in seen:
            message = f"appears twice in the header (columns {seen[column]} and {position})"
            problems.append(Problem(name, 1, column, message))
        elif column not in COLUMNS:
            guess = difflib.get_close_matches(column, COLUMNS, n=1)
            hint = f"did you mean {guess[0]}?" if guess else f"known columns: {', '.join(COLUMNS)}"
            problems.append(Problem(name, 1, _column_label(raw.strip()), f"unknown column; {hint}"))
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


def _validate(number: int, cells: list[str], header: list[str], name: str) -> CsvRow | InvalidRow:
    values = {column: cell.strip() for column, cell in zip(header, cells, strict=False)}
    written = {column: _visible(value) for column, value in values.items()}
    extra = [cell for cell in cells[len(header) :] if cell.strip()]
    if len(cells) < len(header) or extra:
        message = f"has {len(cells)} cells but the header has {len(header)} columns"
        if extra:
            message += f" (extra value {_shown(extra[0].strip())})"
        problem = Problem(name, number, None, message + "; check delimiters and quotes")
        return InvalidRow(number, written, (problem,))
    try:
        return CsvRow.model_validate({"row": number, **values})
    except ValidationError as exc:
        problems = tuple(
            Problem(name, number, str(error["loc"][0]), error["msg"]) for error in exc.errors()
        )
        return InvalidRow(number, written, problems)
