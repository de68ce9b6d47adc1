"""A process and its children, and their memory, read from /proc (Linux): what the benchmark
and the soak measure of the agent's process tree (Python, the Playwright driver, Chromium)."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path


def tree(root: int) -> list[int]:
    """`root` and every process below it (each thread's children file: no walk of all /proc)."""
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children: list[int] = []
        for listing in Path(f"/proc/{parent}/task").glob("*/children"):
            with suppress(OSError, ValueError):
                children += [int(pid) for pid in listing.read_text().split()]
        found += children
        frontier += children
    return found


def pss_kib(pid: int) -> int:
    """The proportional set size of one process, KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def part_of(pid: int) -> str:
    """Which part of the tree a process below the agent's own is, by its command line."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
    if not command:
        return ""
    if "--type=renderer" in command:
        return "Chromium renderers"
    if "--type=" in command:
        return "Chromium GPU and utility"
    if "chrom" in command:
        return "Chromium browser"
    return "Playwright driver"
