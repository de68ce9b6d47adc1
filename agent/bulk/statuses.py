"""What a bulk row's status means to a person: one sentence and one terminal colour for each.

A row's status is its Outcome once the row ended, else one of the ledger's states below.
"""

from __future__ import annotations

from typing import NamedTuple

from agent.bulk.ledger import IN_FLIGHT, INVALID_INPUT, PENDING, SUBMITTING
from flows.models import Outcome


class NotRun(NamedTuple):
    """How a row that never reached an outcome is told: in words and in a rich style."""

    sentence: str
    style: str


# In the order a run goes through them.
NOT_RUN: dict[str, NotRun] = {
    INVALID_INPUT: NotRun("Not run: the row is invalid.", "yellow"),
    PENDING: NotRun("Not run: the run ended before this row started.", "dim"),
    IN_FLIGHT: NotRun(
        "Interrupted during an attempt; a resume re-reads the portal before acting.", "magenta"
    ),
    SUBMITTING: NotRun(
        "Interrupted after Yes was clicked and before the result was read; a resume only "
        "looks at the order and never submits it again.",
        "yellow",
    ),
}


# What `audit` says of an order beyond the outcomes it shares with bulk (not_eligible,
# order_not_found, failed): a sentence and a style, as for the rows not run.
AUDIT_ONLY: dict[str, NotRun] = {
    "on_target": NotRun(
        "Every eligible line carries the file's target Smart Account and Virtual Account.", "green"
    ),
    "not_on_target": NotRun(
        "The order can be assigned and is not on the file's target yet.", "cyan"
    ),
    "unproven": NotRun(
        "The lines carry the target's Virtual Account, but the portal shows account names, not "
        "Domain Identifiers, so steps 1-4 cannot tell whether the account is the target; "
        "`bulk --dry-run` tells (already_assigned or would_assign).",
        "yellow",
    ),
    "assignable": NotRun("The order can be assigned (the file names no target).", "green"),
}


def status_sentence(status: str) -> str:
    """What a row's status means, in words for people."""
    if status in NOT_RUN:
        return NOT_RUN[status].sentence
    if status in AUDIT_ONLY:
        return AUDIT_ONLY[status].sentence
    try:
        return Outcome(status).sentence
    except ValueError:
        return "An outcome this version does not know."


def status_style(status: str) -> str:
    """The rich style a terminal shows a row's status in."""
    if status in NOT_RUN:
        return NOT_RUN[status].style
    if status in AUDIT_ONLY:
        return AUDIT_ONLY[status].style
    try:
        return Outcome(status).style
    except ValueError:
        return "yellow"
