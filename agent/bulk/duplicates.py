"""One order on several rows of a bulk CSV: an identical repeat runs once, two targets conflict."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.bulk.rows import CsvRow, InvalidRow
from pages.orders import order_key


def _target_digest(row: CsvRow) -> bytes:
    return hashlib.sha256("\0".join(row.target_key()).encode()).digest()[:16]


@dataclass
class Duplicates:
    """The orders of a file's valid rows, one small entry each, in bounded memory.

    `add` each valid row as the file is scanned; `resolve` then tells what the repeats mean.
    Orders are one when their order_key() is.
    """

    _first: dict[str, int] = field(default_factory=dict)  # order key -> its first valid row
    # row -> target digest, for first rows only while their order is unique
    _targets: dict[int, bytes] = field(default_factory=dict)
    # repeated order keys -> (row, target digest) of each of their rows
    _groups: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)

    def add(self, row: CsvRow) -> None:
        key, digest = order_key(row.order_number), _target_digest(row)
        earlier = self._first.get(key)
        if earlier is None:
            self._first[key] = row.row
            self._targets[row.row] = digest
        else:
            group = self._groups.setdefault(key, [(earlier, self._targets.pop(earlier))])
            group.append((row.row, digest))

    @property
    def rows(self) -> set[int]:
        """The rows of orders given more than once: `resolve` needs them read again."""
        return {row for group in self._groups.values() for row, _ in group}

    def resolve(
        self, name: str, again: Iterable[CsvRow | InvalidRow]
    ) -> tuple[list[str], set[int], dict[int, str]]:
        """Warnings for identical repeats, the rows they drop, and messages for conflicting rows.

        The messages quote each row's target, which the scan did not keep: `again` is the file's
        rows read again, iterated only when some order was repeated.
        """
        if not self._groups:
            return [], set(), {}
        wanted = self.rows
        rows = {item.row: item for item in again if item.row in wanted and isinstance(item, CsvRow)}
        warnings: list[str] = []
        repeats: set[int] = set()
        conflicts: dict[int, str] = {}
        for group in sorted(self._groups.values()):
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
                f"order {first.order_number} is on rows {numbers} with different targets "
                f"({targets})"
            )
            conflicts.update((row.row, message) for row in members)
        return warnings, repeats, conflicts
