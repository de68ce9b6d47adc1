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


def status_sentence(status: str) -> str:
    """What a row's status means, in words for people."""
    if status in NOT_RUN:
        return NOT_RUN[status].sentence
    try:
        return Outcome(status).sentence
    except ValueError:
        return "An outcome this version does not know."


def status_style(status: str) -> str:
    """The rich style a terminal shows a row's status in."""
    if status in NOT_RUN:
        return NOT_RUN[status].style
    try:
        return Outcome(status).style
    except ValueError:
        return "yellow"
