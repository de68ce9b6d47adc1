"""A bulk CSV's header: the columns it may have, and each one as written matched to its name."""

from __future__ import annotations

import difflib

from agent.bulk.cells import normalise_name
from agent.bulk.problems import SHOWN_MAX, InvalidCsv, Problem, invisible_problem, visible

REQUIRED_COLUMNS = ("order_number", "search_by", "smart_account", "virtual_account")
OPTIONAL_COLUMNS = ("expect_domain", "reference")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def _column_label(text: str) -> str:
    shown = visible(text)
    return shown if len(shown) <= SHOWN_MAX else shown[: SHOWN_MAX - 3] + "..."


def column_names(cells: list[str], name: str) -> list[str]:
    """The canonical column names, in file order; raises on any header problem."""
    names = [normalise_name(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()  # spreadsheets add empty trailing columns
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, (raw, column) in enumerate(zip(cells, names, strict=False), start=1):
        invisible = invisible_problem(raw)
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
