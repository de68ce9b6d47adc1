"""The runner's rule for a read made after a Yes that may have reached the portal (no browser)."""

from __future__ import annotations

import pytest

from agent.runner import judge_read_after_yes
from flows.models import Outcome

ORDER = "110000002"
NO_WORDS = (
    Outcome.ORDER_NOT_FOUND,
    Outcome.NOT_ELIGIBLE,
    Outcome.SMART_ACCOUNT_NOT_FOUND,
    Outcome.SMART_ACCOUNT_AMBIGUOUS,
    Outcome.SMART_ACCOUNT_PENDING,
    Outcome.VIRTUAL_ACCOUNT_NOT_FOUND,
    Outcome.REFUSED_INTERNAL_USER,
    Outcome.ORDER_CONFLICT,
    Outcome.FAILED,
)


def judge(
    outcome: Outcome,
    *,
    maybe_submitted: bool = True,
    submitted_before: bool = False,
    dry_run: bool = False,
    looks: int = 1,
    wait_s: float = 30.0,
) -> tuple[Outcome, str] | None:
    return judge_read_after_yes(
        outcome,
        "The portal said so.",
        order_number=ORDER,
        maybe_submitted=maybe_submitted,
        submitted_before=submitted_before,
        dry_run=dry_run,
        error="Timeout 15000ms exceeded",
        looks=looks,
        wait_s=wait_s,
    )


# (read, maybe_submitted, dry_run, what it becomes; None: the read stands)
TABLE = [
    # No Yes can have reached the portal: every read stands, whatever it says.
    *[(read, False, False, None) for read in Outcome],
    *[(read, False, True, None) for read in Outcome],
    # A Yes may have: the target on every line proves it went through,
    (Outcome.ALREADY_ASSIGNED, True, False, Outcome.ASSIGNED),
    # the target missing proves nothing, and nothing is submitted again,
    (Outcome.WOULD_ASSIGN, True, False, Outcome.FAILED),
    # a "no" says nothing about the submission,
    *[(read, True, False, Outcome.FAILED) for read in NO_WORDS],
    # and an assignment the read itself verified stands.
    (Outcome.ASSIGNED, True, False, None),
    # A dry run that may follow a Yes (an earlier run's) reads the same two proofs, and its
    # "no" stands: a dry run submits nothing, so it has nothing to answer for.
    (Outcome.ALREADY_ASSIGNED, True, True, Outcome.ASSIGNED),
    (Outcome.WOULD_ASSIGN, True, True, Outcome.FAILED),
    *[(read, True, True, None) for read in NO_WORDS],
]


@pytest.mark.parametrize(("read", "maybe_submitted", "dry_run", "becomes"), TABLE)
def test_what_a_read_after_a_possible_yes_becomes(
    read: Outcome, maybe_submitted: bool, dry_run: bool, becomes: Outcome | None
) -> None:
    # Given a read of the order, after a Yes that may or may not have reached the portal,
    # when the runner judges it,
    judged = judge(read, maybe_submitted=maybe_submitted, dry_run=dry_run)

    # then it stands or is replaced as the table says.
    assert (judged[0] if judged else None) is becomes


@pytest.mark.parametrize(
    ("read", "submitted_before", "looks", "says"),
    [
        (
            Outcome.ALREADY_ASSIGNED,
            False,
            1,
            "An attempt clicked Submit but the portal did not confirm (Timeout 15000ms exceeded);"
            " the re-read shows the target on every eligible line, so that submission went"
            " through.",
        ),
        (
            Outcome.ALREADY_ASSIGNED,
            True,
            3,
            "An earlier run clicked Yes on this order and stopped before reading the result;"
            " the re-read shows the target on every eligible line, so that submission went"
            " through.",
        ),
        (
            Outcome.WOULD_ASSIGN,
            False,
            1,
            "An attempt clicked Submit but the portal did not confirm (Timeout 15000ms exceeded),"
            " and the order does not show the target now. It was not submitted again, to rule"
            f" out a double submission: check it with `ccw-agent show {ORDER}` before running it"
            " again.",
        ),
        (
            Outcome.WOULD_ASSIGN,
            True,
            1,
            "An earlier run clicked Yes on this order and stopped before reading the result,"
            " and the order does not show the target now.",
        ),
        (
            Outcome.WOULD_ASSIGN,
            True,
            4,
            "An earlier run clicked Yes on this order and stopped before reading the result,"
            " and the order does not show the target after 4 looks over 30 s.",
        ),
        (
            Outcome.NOT_ELIGIBLE,
            False,
            1,
            "An attempt clicked Submit but the portal did not confirm (Timeout 15000ms exceeded),"
            " and the re-read answered not_eligible: The portal said so. Whether the submission"
            " went through is unknown; it was not submitted again: check it with `ccw-agent show"
            f" {ORDER}`.",
        ),
    ],
)
def test_the_detail_says_which_yes_and_what_the_read_showed(
    read: Outcome, submitted_before: bool, looks: int, says: str
) -> None:
    # Given a read after a Yes of this run's attempt or of an earlier run,
    # when the runner replaces it,
    judged = judge(read, submitted_before=submitted_before, looks=looks)

    # then its detail names the Yes, what the read showed and, when unsure, the command to check.
    assert judged is not None
    assert judged[1].startswith(says)
