"""Typed inputs and results of the flows: what is asked, what the portal showed, what happened."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pages.assign_dialog import SearchBy as SearchBy

# ASCII digits only: `\d` would also take Arabic-Indic or full-width digits, which the portal's
# search does not know, and `\Z` refuses a trailing newline that `$` lets through.
ORDER_NUMBER = re.compile(r"^[0-9]{6,12}\Z")


class Outcome(StrEnum):
    """Every way one order can end; `.sentence` is for people, `.style` the colour a terminal
    shows it in, the value is the machine code."""

    ASSIGNED = "assigned"
    ALREADY_ASSIGNED = "already_assigned"
    WOULD_ASSIGN = "would_assign"
    ORDER_NOT_FOUND = "order_not_found"
    NOT_ELIGIBLE = "not_eligible"
    SMART_ACCOUNT_NOT_FOUND = "smart_account_not_found"
    SMART_ACCOUNT_AMBIGUOUS = "smart_account_ambiguous"
    SMART_ACCOUNT_PENDING = "smart_account_pending"
    VIRTUAL_ACCOUNT_NOT_FOUND = "virtual_account_not_found"
    REFUSED_INTERNAL_USER = "refused_internal_user"
    ORDER_CONFLICT = "order_conflict"
    FAILED = "failed"

    @property
    def sentence(self) -> str:
        return _SENTENCES[self]

    @property
    def style(self) -> str:
        """A rich style: green done, cyan a dry run's yes, red a system failure, else yellow."""
        return _STYLES.get(self, "yellow")

    @property
    def ended_well(self) -> bool:
        return self in (Outcome.ASSIGNED, Outcome.ALREADY_ASSIGNED, Outcome.WOULD_ASSIGN)


_SENTENCES: dict[Outcome, str] = {
    Outcome.ASSIGNED: (
        "The order's eligible lines now carry the target Smart Account and Virtual Account."
    ),
    Outcome.ALREADY_ASSIGNED: "Every eligible line was already on the target; nothing was changed.",
    Outcome.WOULD_ASSIGN: "Dry run: the assignment is possible and was not submitted.",
    Outcome.ORDER_NOT_FOUND: "The portal found no order with this number that this user can see.",
    Outcome.NOT_ELIGIBLE: "The portal does not allow Smart Account assignment on this order.",
    Outcome.SMART_ACCOUNT_NOT_FOUND: "No Smart Account matched the search exactly.",
    Outcome.SMART_ACCOUNT_AMBIGUOUS: "Several Smart Accounts matched; none was picked.",
    Outcome.SMART_ACCOUNT_PENDING: (
        "The target Smart Account is Pending: the order would stay on Smart Account Hold "
        "(use --allow-pending to assign anyway)."
    ),
    Outcome.VIRTUAL_ACCOUNT_NOT_FOUND: "The Smart Account has no Virtual Account of that name.",
    Outcome.REFUSED_INTERNAL_USER: (
        "Cisco-internal users must open a case instead of using this flow "
        "(use --internal-licensing-support if you are licensing support)."
    ),
    Outcome.ORDER_CONFLICT: (
        "Another row of the same input names this order (by its Sales Order or Web Order number) "
        "with another target; this row was not submitted."
    ),
    Outcome.FAILED: "A system error remained after retries; see the detail and artifacts.",
}

_STYLES: dict[Outcome, str] = {
    Outcome.ASSIGNED: "green",
    Outcome.ALREADY_ASSIGNED: "green",
    Outcome.WOULD_ASSIGN: "cyan",
    Outcome.FAILED: "bold red",
}


class AssignRequest(BaseModel):
    """One order to assign, and exactly how its target Smart Account is to be recognised."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    order_number: str = Field(description="Sales Order or Web Order number (digits).")
    search_by: SearchBy
    smart_account: str = Field(
        min_length=1, description="Domain Identifier, Account Name or Email ID."
    )
    virtual_account: str = Field(min_length=1)
    expect_domain: str | None = Field(
        default=None, description="Domain Identifier the chosen account must have."
    )
    dry_run: bool = False
    allow_pending: bool = False
    allow_internal: bool = False

    @field_validator("order_number")
    @classmethod
    def _digits(cls, value: str) -> str:
        if not ORDER_NUMBER.match(value):
            raise ValueError("an order number is 6 to 12 digits")
        return value

    @field_validator("expect_domain")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class LineAssignment(BaseModel):
    """One row of the Smart Account Assignment table."""

    model_config = ConfigDict(frozen=True)

    line: str
    product: str
    smart_account: str | None
    virtual_account: str | None
    eligible: bool = True
    domain: str | None = Field(
        default=None, description="Domain Identifier, when the table shows one."
    )
    eligibility: str | None = Field(
        default=None, description="The Eligibility cell as shown (the reason when not eligible)."
    )


class OrderView(BaseModel):
    """What steps 1-4 show of an order: its status, holds and per-line assignment."""

    model_config = ConfigDict(frozen=True)

    order_number: str
    sales_order: str | None = None
    web_order: str | None = None
    status: str
    holds: tuple[str, ...] = ()
    lines: tuple[LineAssignment, ...] = ()
    assign_disabled_reason: str | None = None

    @property
    def can_assign(self) -> bool:
        return self.assign_disabled_reason is None


class ViewResult(BaseModel):
    """What steps 1-4 found for one order: its view, or that the portal shows no such order."""

    model_config = ConfigDict(frozen=True)

    order_number: str
    view: OrderView | None = None
    detail: str = ""
    duration_s: float = 0.0

    @property
    def found(self) -> bool:
        return self.view is not None

    @property
    def outcome(self) -> Outcome | None:
        """ORDER_NOT_FOUND when the order is not visible; None when it was read."""
        return None if self.found else Outcome.ORDER_NOT_FOUND


class SmartAccountCandidate(BaseModel):
    """One row of the assign dialog's search results."""

    model_config = ConfigDict(frozen=True)

    account_name: str
    domain: str
    status: str


class AssignResult(BaseModel):
    """What happened to one order, with the evidence read from the portal."""

    order_number: str
    outcome: Outcome
    detail: str = ""
    before: OrderView | None = None
    after: OrderView | None = None
    candidates: tuple[SmartAccountCandidate, ...] = ()
    virtual_accounts_offered: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    attempts: int = 1
    duration_s: float = 0.0
