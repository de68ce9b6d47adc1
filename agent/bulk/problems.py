"""How a bulk input's problems are told: located as a spreadsheet shows them, cells quoted."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

from pages.errors import InputError

MAX_LISTED_PROBLEMS = 200  # in one error message; every invalid row still reaches the report
SHOWN_MAX = 60  # characters of a cell quoted in a message
# Unicode categories refused in any cell: control (C0, C1, NUL), format (the bidi embeddings,
# overrides and isolates, zero-width characters, soft hyphen...), line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL"}


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


def refused(name: str, message: str) -> InvalidCsv:
    """The whole file refused, for one reason."""
    return InvalidCsv([Problem(name, None, None, message)])


def cell_error(message: str) -> PydanticCustomError:
    """A cell's problem, raised from a validator so that pydantic names the column."""
    # The message goes in as context so that braces in a user's cell are never a template.
    return PydanticCustomError("csv_value", "{message}", {"message": message})


def visible(text: str) -> str:
    """The text with every refused invisible character spelled out, as <U+202E>."""
    return "".join(
        f"<U+{ord(char):04X}>"
        if unicodedata.category(char) in _INVISIBLE and char not in "\r\n"
        else char
        for char in text
    )


def shown(value: str) -> str:
    """A cell quoted for a message: invisible characters spelled out, long values cut."""
    text = visible(value)
    if len(text) > SHOWN_MAX:
        return f"'{text[: SHOWN_MAX - 3]}...' ({len(value)} characters)"
    return f"'{text}'"


def invisible_problem(value: str, *, line_breaks: bool = False) -> str | None:
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
