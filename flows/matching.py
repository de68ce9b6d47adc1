"""Exact selection: which Smart Account, which virtual account, and "already on target"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flows.models import AssignRequest, LineAssignment, Outcome, SearchBy
from pages.assign_dialog import AccountRow
from pages.labels import same_text


@dataclass(frozen=True)
class AccountChoice:
    """The one account picked, or the outcome (not found / ambiguous) that says why none was."""

    account: AccountRow | None
    outcome: Outcome | None = None
    detail: str = ""


def choose_account(request: AssignRequest, rows: Sequence[AccountRow]) -> AccountChoice:
    """Pick the account the request names exactly; never "the first row"."""
    unique = _dedupe(rows)
    value = request.smart_account
    if request.search_by is SearchBy.DOMAIN:
        exact = [row for row in unique if same_text(row.domain, value)]
        wanted = f"Domain Identifier {value!r}"
    elif request.search_by is SearchBy.ACCOUNT_NAME:
        exact = [row for row in unique if same_text(row.account_name, value)]
        wanted = f"Account Name {value!r}"
    else:
        exact = list(unique)
        wanted = f"Email ID {value!r}"
    if request.expect_domain:
        exact = [row for row in exact if same_text(row.domain, request.expect_domain)]
        wanted += f" with Domain Identifier {request.expect_domain!r}"
    if not exact:
        seen = f"; the search returned {describe(unique)}" if unique else ""
        return AccountChoice(
            None, Outcome.SMART_ACCOUNT_NOT_FOUND, f"No Smart Account has {wanted}{seen}."
        )
    if len(exact) > 1:
        return AccountChoice(
            None,
            Outcome.SMART_ACCOUNT_AMBIGUOUS,
            f"{len(exact)} Smart Accounts match {wanted}: {describe(exact)}; "
            "give the Domain Identifier (search by domain, or expect_domain) to pick one.",
        )
    return AccountChoice(exact[0])


def choose_virtual_account(offered: Sequence[str], wanted: str) -> str | None:
    """The option equal to `wanted` ignoring case and surrounding space (exact case wins)."""
    equal = [option for option in offered if same_text(option, wanted)]
    if len(equal) > 1:
        exact = [option for option in equal if option.strip() == wanted.strip()]
        return exact[0] if len(exact) == 1 else None
    return equal[0] if equal else None


def lines_on_target(
    lines: Sequence[LineAssignment], *, name: str | None, domain: str | None, virtual_account: str
) -> bool:
    """Whether every line given carries the target.

    An account is its Domain Identifier: where the line shows a domain and the target's is
    known, the domain alone decides (however the line writes the name beside it); by name only
    where the line shows no domain, and then exactly (a None name is not compared). Callers
    decide whether the evidence left (name only) is enough.
    """
    if not lines:
        return False
    return all(
        same_text(line.virtual_account, virtual_account) and _on_account(line, name, domain)
        for line in lines
    )


def _on_account(line: LineAssignment, name: str | None, domain: str | None) -> bool:
    if line.domain is not None and domain is not None:
        return same_text(line.domain, domain)
    return name is None or same_text(line.smart_account, name)


def describe(rows: Sequence[AccountRow]) -> str:
    """Accounts as people read them: "Acme Corporation (acme.example, Active)"."""
    return ", ".join(f"{row.account_name} ({row.domain}, {row.status})" for row in rows)


def _dedupe(rows: Sequence[AccountRow]) -> list[AccountRow]:
    seen: set[tuple[str, str]] = set()
    unique: list[AccountRow] = []
    for row in rows:
        key = (row.account_name.strip().casefold(), row.domain.strip().casefold())
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique
