"""Sharding: `--shard K/N` parsing and a stable, disjoint and complete split of orders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass

import pytest

from agent.bulk.shard import Shard, in_shard, parse_shard
from pages.errors import ConfigError

ORDERS = [str(2000000001 + i) for i in range(3000)]


@pytest.mark.parametrize(("text", "expected"), [("2/4", Shard(2, 4)), (" 1 / 1 ", Shard(1, 1))])
def test_parse_shard(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected
    assert str(parse_shard(text)) == f"{expected.k}/{expected.n}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("two/4", "--shard must look like K/N, for example 2/4; got 'two/4'"),
        ("2", "--shard must look like K/N, for example 2/4; got '2'"),
        ("-1/3", "--shard must look like K/N, for example 2/4; got '-1/3'"),
        ("0/3", "--shard 0/3: K must be between 1 and 3"),
        ("4/3", "--shard 4/3: K must be between 1 and 3"),
        ("1/0", "--shard 1/0: N (the number of shards) must be at least 1"),
    ],
)
def test_bad_shards_are_config_errors_saying_why(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_shard(text)

    assert str(caught.value) == message


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_are_disjoint_complete_and_balanced(n: int) -> None:
    owners: Counter[str] = Counter()
    sizes: Counter[int] = Counter()
    for order in ORDERS:
        for k in range(1, n + 1):
            if in_shard(order, k, n):
                owners[order] += 1
                sizes[k] += 1

    assert set(owners.values()) == {1}  # every order in exactly one shard
    assert len(owners) == len(ORDERS)
    assert all(0.8 < sizes[k] / (len(ORDERS) / n) < 1.2 for k in range(1, n + 1))


def test_the_split_is_pinned_so_every_machine_and_version_agrees() -> None:
    # Changing the hash would move orders between shards of runs already under way.
    owners = {
        order: [k for k in range(1, 5) if in_shard(order, k, 4)]
        for order in ("110000001", "110000002", "80000012", "2000000001")
    }

    assert owners == {"110000001": [1], "110000002": [3], "80000012": [3], "2000000001": [4]}


def test_the_split_does_not_depend_on_python_hash_randomisation() -> None:
    script = (
        "from agent.bulk.shard import in_shard\n"
        "print(''.join('1' if in_shard(str(o), 1, 3) else '0' for o in range(100000, 100200)))"
    )
    here = "".join("1" if in_shard(str(o), 1, 3) else "0" for o in range(100000, 100200))

    there = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()

    assert there == here


@dataclass
class Item:
    order_number: str


def test_select_keeps_the_shards_items_in_order() -> None:
    items = [Item(order) for order in ("110000001", "110000002", "80000012", "2000000001")]

    assert Shard(3, 4).select(items) == [items[1], items[2]]


def test_in_shard_refuses_an_impossible_shard() -> None:
    with pytest.raises(ValueError, match=r"shard 5/4 is not 1 <= K <= N"):
        in_shard("110000001", 5, 4)
