"""What a person reads at the end of a command: rich tables of orders and outcomes."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flows.models import AssignResult, OrderView, Outcome


def advice(view: OrderView) -> list[str]:
    """The reference article's answers to "I assigned it but the licences are not there"."""
    notes: list[str] = []
    holds = {hold.lower() for hold in view.holds}
    status = view.status.strip().lower()
    if any("export" in hold for hold in holds):
        notes.append(
            "The order is on an export hold: licences reach the Smart Account only after the "
            "hold is released and the order ships."
        )
    if status in ("booked", "entered", "submitted"):
        notes.append(
            f"The order is {view.status}, not shipped yet: licences reach the Smart Account "
            "only after it ships."
        )
    if any("smart account hold" in hold for hold in holds):
        if any(line.smart_account for line in view.lines if line.eligible):
            notes.append(
                "The order is still on Smart Account Hold: its Smart Account is probably Pending; "
                "the hold is released when the account's owner activates it."
            )
        else:
            notes.append(
                "The order is on Smart Account Hold because no Smart Account is assigned: "
                "assign an Active one to release it."
            )
    if view.assign_disabled_reason:
        notes.append(
            f"Assignment is not available here ({view.assign_disabled_reason}); moving licences "
            "that are already delivered is an Asset Transfer, not this flow: open a case with "
            "Cisco Licensing Support."
        )
    return notes


def order_table(view: OrderView) -> Table:
    table = Table(title=f"Order {view.order_number}: {view.status}", title_justify="left")
    for column in ("Line", "Product", "Smart Account", "Virtual Account", "Eligible"):
        table.add_column(column)
    for line in view.lines:
        table.add_row(
            line.line,
            line.product,
            line.smart_account or "—",
            line.virtual_account or "—",
            "yes" if line.eligible else "no",
        )
    return table


def print_view(console: Console, view: OrderView) -> None:
    console.print(order_table(view))
    console.print(f"Holds: {', '.join(view.holds) or 'none'}")
    for note in advice(view):
        console.print(f"• {note}")


def print_result(console: Console, result: AssignResult) -> None:
    outcome = result.outcome
    console.print(f"[{outcome.style}]{outcome.value}[/]: {result.order_number}: {outcome.sentence}")
    if result.detail:
        console.print(result.detail)
    for candidate in result.candidates:
        console.print(
            f"  candidate: {candidate.account_name} ({candidate.domain}, {candidate.status})"
        )
    if result.outcome is Outcome.VIRTUAL_ACCOUNT_NOT_FOUND and result.virtual_accounts_offered:
        console.print("  offered: " + ", ".join(result.virtual_accounts_offered))
    if result.after is not None:
        console.print(order_table(result.after))
    elif result.before is not None:
        console.print(order_table(result.before))
    for path in result.artifacts:
        console.print(f"  artifact: {path}")


# Wide enough for any table the agent prints: off a terminal nothing is cut to fit a screen.
UNBOUNDED_WIDTH = 10_000


def for_output(console: Console) -> Console:
    """`console` on a terminal; otherwise (a file, a pipe, cron mail) a console on the same
    stream as wide as what is printed, so that tables keep every cell whole on one line instead
    of being squeezed into rich's default of 80 columns."""
    if console.is_terminal:
        return console
    return Console(file=console.file, width=UNBOUNDED_WIDTH, highlight=False)
