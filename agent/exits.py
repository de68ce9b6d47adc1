"""The exit codes of every command, and the code a set of order outcomes ends a command with."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from agent.bulk.ledger import INVALID_INPUT
from flows.models import Outcome


class Exit(IntEnum):
    """Exit codes of every command (documented in the README)."""

    OK = 0
    NEEDS_ATTENTION = 1
    INVALID_INPUT = 2
    FAILED = 3
    SIGN_IN = 4
    LOCKED = 5
    INTERRUPTED = 130


def exit_for(outcomes: Iterable[str]) -> Exit:
    """0 if every order ended well, 3 if a system failure remained, else 1 (a person must look)."""
    statuses = set(outcomes)
    known = {outcome.value for outcome in Outcome} | {INVALID_INPUT}
    unknown = sorted(statuses - known)
    if unknown:
        raise ValueError(
            f"not a final row outcome: {', '.join(unknown)} (an unfinished run exits 130)"
        )
    if Outcome.FAILED.value in statuses:
        return Exit.FAILED
    if all(status != INVALID_INPUT and Outcome(status).ended_well for status in statuses):
        return Exit.OK
    return Exit.NEEDS_ATTENTION
