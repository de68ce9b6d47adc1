"""Splitting one input between machines: `--shard K/N` keeps the orders whose stable hash is K."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pages.errors import ConfigError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class _HasOrderNumber(Protocol):
    @property
    def order_number(self) -> str: ...


_Item = TypeVar("_Item", bound=_HasOrderNumber)


@dataclass(frozen=True)
class Shard:
    """Shard K of N (1-based)."""

    k: int
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"

    def contains(self, order_number: str) -> bool:
        return in_shard(order_number, self.k, self.n)

    def select(self, items: Iterable[_Item]) -> list[_Item]:
        """The items whose order number falls in this shard, in their original order."""
        return [item for item in items if self.contains(item.order_number)]


def parse_shard(text: str) -> Shard:
    """Parse `K/N`; ConfigError with the reason when it is not 1 <= K <= N."""
    found = _SHARD.match(text)
    if found is None:
        raise ConfigError(f"--shard must look like K/N, for example 2/4; got '{text}'")
    k, n = int(found.group(1)), int(found.group(2))
    if n < 1:
        raise ConfigError(f"--shard {text.strip()}: N (the number of shards) must be at least 1")
    if not 1 <= k <= n:
        raise ConfigError(f"--shard {text.strip()}: K must be between 1 and {n}")
    return Shard(k, n)


def in_shard(order_number: str, k: int, n: int) -> bool:
    """True when the order belongs to shard K of N; the same answer on every machine and run."""
    if not 1 <= k <= n:
        raise ValueError(f"shard {k}/{n} is not 1 <= K <= N")
    # sha256, not hash(): Python salts str hashes per process, and shards must agree across hosts.
    digest = hashlib.sha256(order_number.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1
