"""`python -m agent.capture to-test BUNDLE NAME` and `python -m agent.capture check BUNDLE FILE`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.capture.bundle import find_values
from agent.capture.fixtures import to_test


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.capture")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("to-test", help="turn a capture bundle into reader fixtures")
    make.add_argument("bundle", type=Path)
    make.add_argument("name", help="the fixtures' folder name: lower-case letters, digits, - _")
    make.add_argument("--tests", type=Path, default=Path("tests/screens"), help="fixtures root")
    check = commands.add_parser("check", help="look for your own values in a bundle")
    check.add_argument("bundle", type=Path)
    check.add_argument("values", type=Path, help="a text file, one value per line")
    args = parser.parse_args(argv)
    if args.command == "to-test":
        print(to_test(args.bundle, args.name, args.tests))
        return 0
    lines = args.values.read_text(encoding="utf-8").splitlines()
    found = find_values(args.bundle, [line.strip() for line in lines if line.strip()])
    for file, value in found:
        print(f"{file}: {value}")
    print(f"{len(found)} value(s) found" if found else "none of the values is in the bundle")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
