"""The one catalogue of the portal's visible words, per locale, and the matchers built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Labels:
    """Accessible names and visible texts of the CCW screens in one language."""

    # sign-on (Cisco single sign-on)
    sign_in_heading: str = "Sign In"
    email: str = "Email"
    next: str = "Next"
    password: str = "Password"
    verify: str = "Verify"
    one_time_code: str = "Enter Code"

    # pop-ups that may cover any page
    cookie_preferences: str = "Cookie preferences"
    accept_cookies: str = "Accept All Cookies"
    feedback: str = "Feedback"
    no_thanks: str = "No thanks"

    # generic server error
    server_error: str = "Something went wrong"
    # The button a portal's error message offers to re-run what failed, in its known wordings.
    try_again: tuple[str, ...] = ("Try again", "Retry")

    # header
    global_search: str = "Global Search"
    search: str = "Search"
    signed_in_as: str = "Signed in as"

    # search results
    search_results_heading: str = "Search Results"
    no_results: str = "No results found"
    sales_order: str = "Sales Order"
    web_order: str = "Web Order"

    # order details
    order_details_heading: str = "Order Details"
    status_prefix: str = "Status:"
    holds_prefix: str = "Holds:"
    no_holds: str = "None"
    view_assignments: str = "View or change Smart Account Assignments"

    # Smart Account assignment screen
    assignment_heading: str = "Smart Account Assignment"
    column_line: str = "Line"
    column_product: str = "Product"
    column_smart_account: str = "Smart Account"
    column_virtual_account: str = "Virtual Account"
    # Loose on purpose: a header "Domain" or "Domain Identifier" both hold the domain.
    column_domain: str = "Domain"
    column_eligibility: str = "Eligibility"
    eligible: str = "Eligible"
    # What a line's row says when the portal shows no Eligibility column but refuses the line.
    ineligible_markers: tuple[str, ...] = (
        "Not eligible",
        "Active entitlement",
        "Order status is",
    )
    not_assigned: tuple[str, ...] = ("—", "-", "Not assigned", "None")
    assign_smart_account: str = "Assign Smart Account"
    assignment_unavailable: str = "Smart Account assignment is not available"

    # assign dialog
    assign_dialog: str = "Assign Smart Account"
    select_existing_account: str = "Select an Existing Account"
    by_domain: str = "Domain Identifier"
    by_account_name: str = "Account Name"
    by_email: str = "Email ID"
    search_value: str = "Search Value"
    column_account_name: str = "Account Name"
    column_domain_identifier: str = "Domain Identifier"
    column_status: str = "Status"
    no_smart_accounts: str = "No Smart Accounts found"
    status_active: str = "Active"
    # Account statuses an entry may show; the longest one found is the account's status.
    account_statuses: tuple[str, ...] = ("Active", "Pending", "Pending Activation", "Inactive")
    virtual_account_name: str = "Virtual Account Name"
    assign: str = "Assign"
    accept_terms: str = "I accept the Terms of Use"
    submit: str = "Submit"
    cancel: str = "Cancel"
    close: str = "Close"

    # confirmation and result
    yes: str = "Yes"
    no: str = "No"
    submitted_successfully: str = "submitted successfully"


_CATALOGUE: dict[str, Labels] = {"en": Labels()}


def labels(locale: str = "en") -> Labels:
    """The catalogue for a locale ("en" is complete; an unknown locale is an error, not a guess)."""
    try:
        return _CATALOGUE[locale.lower()]
    except KeyError:
        known = ", ".join(sorted(_CATALOGUE))
        raise ValueError(f"no labels for locale {locale!r} (known: {known})") from None


@cache
def name_matcher(text: str, *, whole: bool = False) -> re.Pattern[str]:
    """A case-insensitive pattern for a label; extra words around it are tolerated unless `whole`.

    Word boundaries keep "Assign" from matching inside "Reassign" (a trailing plural "s" is
    allowed); `whole` (only surrounding white
    space allowed) keeps "Assign" from matching "Assign Smart Account" and "No" from "No thanks".
    """
    body = r"\s+".join(re.escape(word) for word in text.split())
    if whole:
        return re.compile(rf"^\s*{body}\s*$", re.IGNORECASE)
    # A plural is the same name ("Smart Account Assignments for 110000001").
    return re.compile(rf"(?<!\w){body}s?(?!\w)", re.IGNORECASE)


def any_of(texts: tuple[str, ...]) -> re.Pattern[str]:
    """A whole-name pattern for any of several wordings of one control ("Try again", "Retry")."""
    return re.compile("|".join(name_matcher(text, whole=True).pattern for text in texts), re.I)


def same_text(a: str | None, b: str | None) -> bool:
    """Equal ignoring case, surrounding and repeated white space (how names are compared)."""
    return a is not None and b is not None and normalize(a).casefold() == normalize(b).casefold()


def normalize(text: str) -> str:
    """Text with runs of white space collapsed and the ends trimmed."""
    return " ".join(text.split())
