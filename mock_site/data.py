"""The mock portal's invented, fixed data: users, Smart Accounts, scenario orders and the book."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

UserKind = Literal["partner", "customer", "internal"]
SaStatus = Literal["Active", "Pending"]
OrderStatus = Literal["Booked", "Shipped", "Closed"]

SA_HOLD = "Smart Account Hold"
EXPORT_HOLD = "Export Hold"
NORTHWIND = "Northwind Networks"
FABRIKAM = "Fabrikam Partners"


@dataclass(frozen=True)
class User:
    """A portal user: partner staff, a customer's buyer, or Cisco-internal support."""

    email: str
    password: str
    kind: UserKind
    organisation: str  # partner name for partner users, customer name for customer users
    totp_secret: str | None = None


@dataclass(frozen=True)
class SmartAccount:
    """A Smart Account with its Virtual Accounts and the emails of the users who belong to it."""

    name: str
    domain: str
    status: SaStatus
    virtual_accounts: tuple[str, ...]
    emails: tuple[str, ...] = ()


@dataclass
class Line:
    """One order line; smart_account is the SA's domain (None while unassigned)."""

    line: str
    product: str
    smart_account: str | None = None
    virtual_account: str | None = None
    entitled: bool = False


@dataclass
class Order:
    """A sales order with its web order number, status, holds and lines."""

    sales_order: str
    web_order: str
    status: OrderStatus
    partner: str
    end_customer: str
    holds: list[str]
    lines: list[Line]
    submissions: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """A scenario order, how to ask the agent about it, and the outcome the agent should report."""

    sales_order: str
    web_order: str
    case: str
    search_by: Literal["domain", "account_name", "email"]
    smart_account: str
    virtual_account: str
    outcome: str
    note: str = ""


USERS: tuple[User, ...] = (
    User("demo.partner@northwind.example", "Northwind-Demo-1", "partner", NORTHWIND),
    User(
        "mfa.partner@northwind.example",
        "Northwind-Mfa-1",
        "partner",
        NORTHWIND,
        totp_secret="NORTHWINDMFADEMOSECRET234567ABCD",
    ),
    # An 80-bit secret (16 characters), the size many identity providers still issue.
    User(
        "mfa.short@northwind.example",
        "Northwind-Mfa-2",
        "partner",
        NORTHWIND,
        totp_secret="NWMFASHORT234567",
    ),
    User("buyer@acme.example", "Acme-Buyer-1", "customer", "Acme Corporation"),
    User("licensing.support@cisco.com", "Internal-Support-1", "internal", "Cisco"),
    User("ops@fabrikam-partners.example", "Fabrikam-Ops-1", "partner", FABRIKAM),
)

NAMED_ACCOUNTS: tuple[SmartAccount, ...] = (
    SmartAccount(
        "Acme Corporation",
        "acme.example",
        "Active",
        ("DEFAULT", "Campus-Network", "DC West", "lab Sandbox"),
        ("licensing@acme.example", "buyer@acme.example"),
    ),
    SmartAccount("Globex Industries", "globex.example", "Active", ("DEFAULT", "Production")),
    SmartAccount("Initech", "initech.example", "Pending", ("DEFAULT",)),
    SmartAccount(
        "Northwind Holding",
        "holding.northwind.example",
        "Active",
        ("DEFAULT",),
        ("demo.partner@northwind.example", "mfa.partner@northwind.example"),
    ),
    SmartAccount(
        "Fabrikam Holding",
        "holding.fabrikam-partners.example",
        "Active",
        ("DEFAULT",),
        ("ops@fabrikam-partners.example",),
    ),
    SmartAccount(
        "Umbrella Corp",
        "umbrella.example",
        "Active",
        ("DEFAULT", "Research"),
        ("it-admin@umbrella.example",),
    ),
    SmartAccount(
        "Umbrella Corp EMEA",
        "emea.umbrella.example",
        "Active",
        ("DEFAULT", "Research"),
        ("it-admin@umbrella.example",),
    ),
    SmartAccount("Umbrella Corporation Labs", "labs.umbrella.example", "Active", ("DEFAULT",)),
    SmartAccount("Stark Industries", "stark.example", "Active", ("DEFAULT",)),
    SmartAccount("Stark Industries", "stark-industries.example", "Active", ("DEFAULT",)),
)

NW_HOLDING = "holding.northwind.example"
FAB_HOLDING = "holding.fabrikam-partners.example"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("110000001", "80000001", "unassigned", "domain", "acme.example", "Campus-Network",
             "assigned", "Smart Account Hold released"),
    Scenario("110000002", "80000002", "in partner holding account", "domain", "globex.example",
             "Production", "assigned"),
    Scenario("110000003", "80000003", "already on target", "domain", "acme.example", "DC West",
             "already_assigned", "nothing submitted"),
    Scenario("110000004", "80000004", "shipped", "domain", "globex.example", "DEFAULT",
             "not_eligible", "status Shipped; needs an Asset Transfer"),
    Scenario("110000005", "80000005", "post-booked", "domain", "globex.example", "DEFAULT",
             "not_eligible", "status Closed"),
    Scenario("110000006", "80000006", "export hold", "domain", "acme.example", "DEFAULT",
             "assigned", "Export Hold stays: licences wait for it"),
    Scenario("110000007", "80000007", "target SA pending", "domain", "initech.example", "DEFAULT",
             "smart_account_pending", "with allow_pending: assigned, Smart Account Hold stays"),
    Scenario("110000008", "80000008", "several accounts match the name", "account_name",
             "Umbrella Corp", "Research", "assigned", "the exact name match umbrella.example"),
    Scenario("110000009", "80000009", "Email ID matches several accounts", "email",
             "it-admin@umbrella.example", "Research", "smart_account_ambiguous",
             "with expect_domain emea.umbrella.example: assigned"),
    Scenario("110000010", "80000010", "VA name with spaces and mixed case", "domain",
             "acme.example", "lab Sandbox", "assigned"),
    Scenario("110000011", "80000011", "outside the demo user's access", "domain",
             "globex.example", "DEFAULT", "order_not_found", "Fabrikam's order"),
    Scenario("110000012", "80000012", "searched by web order number", "domain",
             "globex.example", "DEFAULT", "assigned", "ask with 80000012"),
    Scenario("110000013", "80000013", "two accounts with the same name", "account_name",
             "Stark Industries", "DEFAULT", "smart_account_ambiguous",
             "with expect_domain stark.example: assigned"),
    Scenario("110000014", "80000014", "mixed lines", "domain", "globex.example", "Production",
             "assigned", "lines 2.0 and 3.0 only; 1.0 has an active entitlement"),
    Scenario("110000015", "80000015", "currently on Pending SA Initech", "domain",
             "acme.example", "DEFAULT", "assigned", "Smart Account Hold released"),
    Scenario("110000016", "80000016", "every line entitled", "domain", "globex.example",
             "DEFAULT", "not_eligible", "every line has an active entitlement"),
)  # fmt: skip

_PIDS = ("NW-C93-48P-A", "NW-C93-24U-A", "LIC-DNA-ADV-3Y", "NW-AP-9136", "LIC-SDWAN-ESS-5Y")

# Invented end customers of the generated book (the 40 "customers" the partner's orders go to).
BOOK_CUSTOMERS: tuple[str, ...] = (
    "Blue Ridge Logistics", "Harbor Point Health", "Cedar Valley Foods", "Silver Lake Energy",
    "Granite Peak Mining", "Red Oak Insurance", "Maple Leaf Hotels", "Iron Bridge Steel",
    "Clear Water Utilities", "Golden Field Farms", "North Star Aviation", "Pine Crest Schools",
    "Stone Gate Capital", "Bright Path Learning", "Eagle Eye Security", "Coral Bay Resorts",
    "Summit Ridge Clinics", "Lakeside Retail", "Old Mill Bakeries", "Swift River Freight",
    "High Plains Telecom", "Sunrise Dental Group", "Oak Hollow Builders", "Bay Area Transit",
    "Crystal Spring Water", "Evergreen Pharmacy", "Falcon Crest Media", "Willow Creek Legal",
    "Quarry Hill Cement", "Meadowbrook Dairy", "Twin Rivers Bank", "Copper Canyon Motors",
    "Westwind Shipping", "Greenleaf Architects", "Riverbend Hospital", "Starlight Cinemas",
    "Hilltop Vineyards", "Frontier Outfitters", "Seaside Fisheries", "Ironwood Robotics",
)  # fmt: skip
_BOOK_VAS = ("Operations", "Branch Offices", "Data Center", "Engineering", "Retail Stores", "Lab")

BOOK_SIZE = 1200
BOOK_FIRST_SO = 2000000001
BOOK_FIRST_WO = 9000000001


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _book_account(index: int) -> SmartAccount:
    name = BOOK_CUSTOMERS[index]
    domain = f"{_slug(name)}.example"
    named = [_BOOK_VAS[index % len(_BOOK_VAS)]]
    if index % 2:
        named.append(_BOOK_VAS[(index + 3) % len(_BOOK_VAS)])
    return SmartAccount(name, domain, "Active", ("DEFAULT", *named), (f"licensing@{domain}",))


BOOK_ACCOUNTS: tuple[SmartAccount, ...] = tuple(
    _book_account(i) for i in range(len(BOOK_CUSTOMERS))
)
SMART_ACCOUNTS: tuple[SmartAccount, ...] = NAMED_ACCOUNTS + BOOK_ACCOUNTS


def _book_target(i: int) -> tuple[SmartAccount, str]:
    account = BOOK_ACCOUNTS[(i * 7) % len(BOOK_ACCOUNTS)]
    named = account.virtual_accounts[1:]
    return account, named[i % len(named)]


def book_rows(n: int = BOOK_SIZE) -> list[dict[str, str]]:
    """The first n orders of the generated book with their intended target (for bulk CSVs)."""
    rows = []
    for i in range(min(max(n, 0), BOOK_SIZE)):
        account, va = _book_target(i)
        rows.append(
            {
                "order_number": str(BOOK_FIRST_SO + i),
                "smart_account": account.name,
                "domain": account.domain,
                "virtual_account": va,
            }
        )
    return rows


def _lines(
    count: int, sa: str | None, va: str | None, entitled: tuple[int, ...] = ()
) -> list[Line]:
    return [
        Line(f"{n}.0", _PIDS[(n - 1) % len(_PIDS)], sa, va, n in entitled)
        for n in range(1, count + 1)
    ]


def _scenario_orders() -> list[Order]:
    def order(
        n: int,
        end: str,
        lines: list[Line],
        status: OrderStatus = "Booked",
        holds: tuple[str, ...] = (),
        partner: str = NORTHWIND,
    ) -> Order:
        return Order(f"1100000{n:02d}", f"800000{n:02d}", status, partner, end, list(holds), lines)

    nw = (NW_HOLDING, "DEFAULT")
    return [
        order(1, "Acme Corporation", _lines(2, None, None), holds=(SA_HOLD,)),
        order(2, "Globex Industries", _lines(2, *nw)),
        order(3, "Acme Corporation", _lines(2, "acme.example", "DC West")),
        order(4, "Globex Industries", _lines(2, *nw), status="Shipped"),
        order(5, "Globex Industries", _lines(2, *nw), status="Closed"),
        order(6, "Acme Corporation", _lines(2, None, None), holds=(EXPORT_HOLD, SA_HOLD)),
        order(7, "Initech", _lines(2, None, None), holds=(SA_HOLD,)),
        order(8, "Umbrella Corp", _lines(2, *nw)),
        order(9, "Umbrella Corp EMEA", _lines(2, *nw)),
        order(10, "Acme Corporation", _lines(2, *nw)),
        order(11, "Globex Industries", _lines(2, FAB_HOLDING, "DEFAULT"), partner=FABRIKAM),
        order(12, "Globex Industries", _lines(2, *nw)),
        order(13, "Stark Industries", _lines(2, *nw)),
        order(14, "Globex Industries", _lines(3, *nw, entitled=(1,))),
        order(15, "Acme Corporation", _lines(2, "initech.example", "DEFAULT"), holds=(SA_HOLD,)),
        order(16, "Globex Industries", _lines(2, *nw, entitled=(1, 2))),
    ]


def _book_orders() -> list[Order]:
    orders = []
    for i in range(BOOK_SIZE):
        account, _ = _book_target(i)
        orders.append(
            Order(
                str(BOOK_FIRST_SO + i),
                str(BOOK_FIRST_WO + i),
                "Booked",
                NORTHWIND,
                account.name,
                [],
                _lines(1 + i % 3, NW_HOLDING, "DEFAULT"),
            )
        )
    return orders


def initial_orders() -> list[Order]:
    """A fresh copy of every order (scenarios first, then the book), as after a reset."""
    return _scenario_orders() + _book_orders()
