"""Release variants of the mock portal: the same roles and accessible names, different layouts.

The real portal's markup is unknown and changes between releases; only the roles and accessible
names of the reference procedure are pinned. Each release below renders every screen differently
around those names, so that a reader fitted to one arrangement fails on another. The SPA receives
these options with the page and reads the current release's name from each JSON answer, so a
switch at run time takes effect on the next screen rendered.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_RELEASE = "classic"

Column = Literal[
    "line",
    "product",
    "smart_account",  # the account name only
    "smart_account_with_domain",  # "Initech (initech.example)" in one cell
    "domain",  # a separate "Domain Identifier" column
    "virtual_account",
    "eligibility",  # an "Eligibility" column
    "eligibility_unlabelled",  # a cell under an empty header, text only when not eligible
    "quantity",
    "start_date",
]
Disabled = Literal["attribute", "aria-disabled"]
Message = Literal["inline-status", "toast-status", "toast-alert"]


class Release(BaseModel):
    """How one release renders the screens; each field is one arrangement a reader must accept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    summary: str
    # Screen headings are h1, or h2 under an h1 "Orders" section title.
    heading_level: Literal[1, 2]
    search_heading: str
    # table: a row per match · list: <ul>/<li> entries (kind, number link, status)
    search_results: Literal["table", "list"]
    single_match_opens_details: bool
    # Decorative links next to the real ones: "Download order summary" before each search
    # match, "Learn about Smart Account assignments" in the banner, "Export to CSV" on the table.
    decoy_links: bool
    # "{number}" is the sales order number.
    order_heading: str
    # label-colon: <p><span>Status:</span> Booked</p>, "Web Order: 80000001"
    # definition-list: <dt>Status:</dt><dd>Booked</dd>, <dt>Web Order Number</dt><dd>…</dd>
    # inline-bold: <span>Status:</span> <b>Booked</b> · <span>Web Order Number</span> <b>…</b>
    # label-next: a plain table of rows "Status" | "Booked", labels without colons, one label
    # carrying an icon's words ("Holds ?")
    order_fields: Literal["label-colon", "definition-list", "inline-bold", "label-next"]
    # region-top: region "Order notifications" above the summary · note-bottom: role note
    # "Smart Account notice" below it · alert-top: role alert "Order alerts" above it
    order_banner: Literal["region-top", "note-bottom", "alert-top"]
    assignments_heading: str
    assignment_columns: tuple[Column, ...]
    # An ineligible line's reason as a badge inside its Product cell.
    eligibility_badge: bool
    unassigned_mark: str
    # Where "Assign Smart Account" sits, and where the reason it is disabled is written.
    assign_button: Literal["above-table", "below-table"]
    reason: Literal["beside", "note-below", "after-table"]
    assign_smart_account_disabled: Disabled
    dialog_buttons_disabled: Disabled
    # select-box: a jQuery-style widget, a link showing the current choice over a hidden native
    # <select>, whose list of options is a list of links added to the page when it opens
    parameter_dropdown: Literal["custom-combobox", "native-select", "select-box"]
    virtual_account_dropdown: Literal[
        "editable-combobox", "native-select", "select-combobox", "select-box"
    ]
    # table: a row per account · list: role list/listitem · divs: plain blocks
    account_results: Literal["table", "list", "divs"]
    dialog_close: str
    confirm_title: str
    success_message: Message
    # inline-try-again: inline alert with "Try again" · toast: an alert that goes by itself,
    # no button · inline-retry: inline alert with "Retry"
    error_message: Literal["inline-try-again", "toast", "inline-retry"]
    # link: the banner's "View or change Smart Account Assignments" is a link · anchor: an <a>
    # without href (no link role), found by its words only
    banner_action: Literal["link", "anchor"] = "link"
    # button: the dialog's Search, Assign and Submit are buttons · anchor: <a> without href
    # (Assign, Submit) and clickable text (Search), greyed out by a "disabled" class
    dialog_actions: Literal["button", "anchor"] = "button"
    # The result radios and the terms checkbox hidden (display: none) behind styled labels that
    # take the click; a result radio's label has no text, the row's words name the account.
    hidden_inputs: bool = False
    # A "Got it" tip over the whole page, once per tab, this long after Order Details opens.
    tip_after_ms: int | None = None
    # The confirmation's role: alertdialog, or a plain dialog as jQuery UI draws it.
    confirm_role: Literal["alertdialog", "dialog"] = "alertdialog"
    # Smart Account search results in pages of this many ("Page 1 of 2", "Next page"), longest
    # names first; None: all at once.
    account_page_size: int | None = None
    # How a cell holding both writes an account (the `smart_account_with_domain` column).
    account_writing: Literal["parens", "slash", "dash", "two-lines", "domain-first"] = "parens"
    # The search results' order links open Order Details in a new tab.
    details_in_new_tab: bool = False
    # Accessible names this release changed, English reference name -> the release's own: a
    # release that renames what the reference pins, as a real portal may do one day. Empty for
    # the releases that keep the reference's names.
    renamed: dict[str, str] = Field(default_factory=dict)


CLASSIC = Release(
    name="classic",
    summary="the original layout: tables, custom comboboxes, inline messages",
    heading_level=1,
    search_heading="Search Results",
    search_results="table",
    single_match_opens_details=False,
    decoy_links=False,
    order_heading="Order Details: {number}",
    order_fields="label-colon",
    order_banner="region-top",
    assignments_heading="Smart Account Assignment",
    assignment_columns=("line", "product", "smart_account", "virtual_account", "eligibility"),
    eligibility_badge=False,
    unassigned_mark="\u2014",
    assign_button="above-table",
    reason="beside",
    assign_smart_account_disabled="attribute",
    dialog_buttons_disabled="attribute",
    parameter_dropdown="custom-combobox",
    virtual_account_dropdown="editable-combobox",
    account_results="table",
    dialog_close="Cancel",
    confirm_title="Confirm Smart Account Assignment",
    success_message="inline-status",
    error_message="inline-try-again",
)

LEDGER = Release(
    name="ledger",
    summary="lists and definition lists, native selects, aria-disabled, toasts",
    heading_level=2,
    search_heading="Search Results",
    search_results="list",
    single_match_opens_details=False,
    decoy_links=True,
    order_heading="Order Details \u2014 {number}",
    order_fields="definition-list",
    order_banner="note-bottom",
    assignments_heading="Smart Account Assignment",
    assignment_columns=(
        "line",
        "smart_account",
        "domain",
        "virtual_account",
        "product",
        "start_date",
        "eligibility_unlabelled",
    ),
    eligibility_badge=False,
    unassigned_mark="",
    assign_button="below-table",
    reason="note-below",
    assign_smart_account_disabled="aria-disabled",
    dialog_buttons_disabled="aria-disabled",
    parameter_dropdown="native-select",
    virtual_account_dropdown="native-select",
    account_results="list",
    dialog_close="Cancel",
    confirm_title="Please confirm",
    success_message="toast-status",
    error_message="toast",
)

COMPACT = Release(
    name="compact",
    summary="a single match opens directly, one-cell accounts, badges, an alert banner",
    heading_level=1,
    search_heading="Order Search",
    # Seen only if a search ever matched several orders: a single match opens directly.
    search_results="list",
    single_match_opens_details=True,
    decoy_links=True,
    order_heading="Sales Order {number} \u00b7 Order Details",
    order_fields="inline-bold",
    order_banner="alert-top",
    assignments_heading="Smart Account Assignments for {number}",
    assignment_columns=(
        "product",
        "line",
        "quantity",
        "smart_account_with_domain",
        "virtual_account",
    ),
    eligibility_badge=True,
    unassigned_mark="Not assigned",
    assign_button="above-table",
    reason="after-table",
    assign_smart_account_disabled="attribute",
    dialog_buttons_disabled="aria-disabled",
    parameter_dropdown="native-select",
    virtual_account_dropdown="select-combobox",
    account_results="divs",
    dialog_close="Close",
    confirm_title="Are you sure?",
    success_message="toast-alert",
    error_message="inline-retry",
)

# Built the way public scripts of the real portal's staging site show it: jQuery-era widgets
# (drop-downs drawn as links over hidden selects, inputs hidden behind styled labels, actions
# without a role), labels without colons, a "Got it" tip over the page, plain HTML tables.
LEGACY = Release(
    name="legacy",
    summary="jQuery-era widgets: link drop-downs, hidden inputs, role-less actions, a tip",
    heading_level=1,
    search_heading="Search Results",
    search_results="table",
    single_match_opens_details=False,
    decoy_links=False,
    order_heading="Order Details",
    order_fields="label-next",
    order_banner="region-top",
    assignments_heading="Smart Account Assignment",
    assignment_columns=(
        "line",
        "product",
        "smart_account",
        "domain",
        "virtual_account",
        "eligibility",
    ),
    eligibility_badge=False,
    unassigned_mark="\u2014",
    assign_button="above-table",
    reason="beside",
    assign_smart_account_disabled="attribute",
    dialog_buttons_disabled="attribute",
    parameter_dropdown="select-box",
    virtual_account_dropdown="select-box",
    account_results="table",
    dialog_close="Cancel",
    confirm_title="Confirm",
    success_message="inline-status",
    error_message="inline-try-again",
    banner_action="anchor",
    dialog_actions="anchor",
    hidden_inputs=True,
    tip_after_ms=600,
    confirm_role="dialog",
)

# A portal that pages its results and opens the order in a new tab: the exact match of a
# search may be on the second page, and an account is written "Initech / initech.example".
PAGED = CLASSIC.model_copy(
    update={
        "name": "paged",
        "summary": "results in pages of two, 'Name / domain' cells, orders in a new tab",
        "assignment_columns": (
            "line",
            "product",
            "smart_account_with_domain",
            "virtual_account",
            "eligibility",
        ),
        "account_page_size": 2,
        "account_writing": "slash",
        "details_in_new_tab": True,
    }
)

# The classic layout on the day the portal renamed a few controls: an agent with the reference's
# names fails here until a label file gives it the new ones (`ccw-agent doctor` writes one).
RENAMED = CLASSIC.model_copy(
    update={
        "name": "renamed",
        "summary": "the classic layout with five controls renamed (needs a label file)",
        "renamed": {
            "Global Search": "Search orders",
            "View or change Smart Account Assignments": "Manage Smart Account assignments",
            "Assign Smart Account": "Assign a Smart Account",
            "Select an Existing Account": "Find an existing account",
            "Virtual Account Name": "Virtual account",
        },
    }
)

RELEASES: dict[str, Release] = {
    r.name: r for r in (CLASSIC, LEDGER, COMPACT, LEGACY, PAGED, RENAMED)
}
# The releases that keep every name of the reference, on which the agent works unconfigured.
REFERENCE_RELEASES: tuple[str, ...] = tuple(n for n, r in RELEASES.items() if not r.renamed)
# Of those, the ones that are also ARIA-correct: every control the reference names carries its
# role (`legacy` draws drop-downs, radios and actions without one, as the real portal does).
ARIA_RELEASES: tuple[str, ...] = tuple(n for n in REFERENCE_RELEASES if n != LEGACY.name)


class UnknownRelease(ValueError):
    """A release name the mock does not have; the message lists the known ones."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown release {name!r}; known releases: {', '.join(RELEASES)}")


def find_release(name: str) -> Release:
    """The release of that name, or UnknownRelease listing the known ones."""
    try:
        return RELEASES[name]
    except KeyError:
        raise UnknownRelease(name) from None
