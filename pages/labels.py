"""The one catalogue of the portal's visible words, per locale, and the matchers built from them.

The words live in data files, pages/catalogue/<locale>.toml, one key per field of `Labels`; a
label file (CCW_LABELS_FILE) may replace single labels on top of them. A locale other than
English falls back, label by label, to the English name: its string labels are `Label`s that
carry the English wording too, and its word lists end with the English ones, so a matcher built
from a label accepts either (enterprise portals are often only partly translated).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path

FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class Labels:
    """Accessible names and visible texts of the CCW screens in one language."""

    # sign-on (Cisco single sign-on)
    sign_in_heading: str
    email: str
    next: str
    password: str
    verify: str
    one_time_code: str

    # pop-ups that may cover any page
    cookie_preferences: str
    accept_cookies: str
    feedback: str
    no_thanks: str
    # The only words of a tip or cover that may be clicked to get it out of the way ("Got it").
    dismiss: tuple[str, ...]

    # generic server error
    server_error: str
    # The button a portal's error message offers to re-run what failed, in its known wordings.
    try_again: tuple[str, ...]

    # header
    global_search: str
    search: str
    signed_in_as: str

    # search results
    search_results_heading: str
    no_results: str
    sales_order: str
    web_order: str

    # order details
    order_details_heading: str
    status_prefix: str
    holds_prefix: str
    no_holds: str
    view_assignments: str

    # Smart Account assignment screen
    assignment_heading: str
    column_line: str
    column_product: str
    column_smart_account: str
    column_virtual_account: str
    # Loose on purpose: a header "Domain" or "Domain Identifier" both hold the domain.
    column_domain: str
    column_eligibility: str
    eligible: str
    # What a line's row says when the portal shows no Eligibility column but refuses the line.
    ineligible_markers: tuple[str, ...]
    not_assigned: tuple[str, ...]
    assign_smart_account: str
    assignment_unavailable: str

    # assign dialog
    assign_dialog: str
    select_existing_account: str
    by_domain: str
    by_account_name: str
    by_email: str
    search_value: str
    column_account_name: str
    column_domain_identifier: str
    column_status: str
    no_smart_accounts: str
    # The controls that show more of a list: its next page, or more of the same page.
    next_page: tuple[str, ...]
    # How a list says how long it is; {page}, {pages} and {total} stand for numbers.
    list_counts: tuple[str, ...]
    status_active: str
    # Account statuses an entry may show; the longest one found is the account's status.
    account_statuses: tuple[str, ...]
    virtual_account_name: str
    assign: str
    accept_terms: str
    submit: str
    cancel: str
    close: str

    # confirmation and result
    yes: str
    no: str
    submitted_successfully: str


class CatalogueError(ValueError):
    """A label file that cannot be used; the message names the file and the label."""


class Label(str):
    """A label's wording in its locale, with the English name a partly translated screen shows."""

    fallbacks: tuple[str, ...]

    def __new__(cls, text: str, fallbacks: tuple[str, ...] = ()) -> Label:
        label = super().__new__(cls, text)
        label.fallbacks = tuple(str(other) for other in fallbacks if other != text)
        return label


def wordings(text: str) -> tuple[str, ...]:
    """Every wording a label may have on screen: its own first, then its fallbacks."""
    return (str(text), *getattr(text, "fallbacks", ()))


# Each field of Labels: True for a list of wordings, False for one string.
_IS_LIST: dict[str, bool] = {f.name: str(f.type).startswith("tuple") for f in fields(Labels)}
_TOML_TYPES = {
    str: "a string",
    list: "an array",
    dict: "a table",
    bool: "a boolean",
    int: "an integer",
    float: "a float",
}
Words = dict[str, str | tuple[str, ...]]


def locales() -> tuple[str, ...]:
    """The locales the catalogue has a data file for."""
    folder = resources.files(__package__ or "pages") / "catalogue"
    names = (entry.name for entry in folder.iterdir() if entry.name.endswith(".toml"))
    return tuple(sorted(name.removesuffix(".toml") for name in names))


def labels(locale: str = FALLBACK_LOCALE, overrides: Path | None = None) -> Labels:
    """The catalogue for a locale, with the labels of an `overrides` file on top.

    An unknown locale, and a label file with an unknown key, a wrong type or an empty value,
    raise CatalogueError (a ValueError) naming the file and the key.
    """
    wanted = locale.lower()
    known = locales()
    if wanted not in known:
        raise CatalogueError(f"no labels for locale {locale!r} (known: {', '.join(known)})")
    if overrides is None:
        return _built(wanted)
    return _build(wanted, read_label_file(overrides))


def read_label_file(path: Path) -> Words:
    """The labels a TOML file sets, checked against the catalogue's keys and types.

    Only a regular file of at most 64 KiB is read: a FIFO would block, a device never end, and a
    label file is a few hundred bytes. It is opened without blocking and judged by the open file,
    so that nothing can be swapped in between the check and the read.
    """
    import os
    import stat

    limit = 64 * 1024
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CatalogueError(f"label file {path}: not a regular file")
            if info.st_size > limit:
                raise CatalogueError(
                    f"label file {path}: {info.st_size} bytes, more than a label file's "
                    f"{limit // 1024} KiB"
                )
            data = stream.read(limit + 1)
        if len(data) > limit:  # grew since it was measured
            raise CatalogueError(f"label file {path}: more than {limit // 1024} KiB")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CatalogueError(f"label file {path}: cannot be read ({reason})") from None
    return _parse(text, f"label file {path}")


@cache
def _locale_words(locale: str) -> Words:
    name = f"{locale}.toml"
    text = (resources.files(__package__ or "pages") / "catalogue" / name).read_text("utf-8")
    words = _parse(text, f"catalogue {name}")
    missing = [key for key in _IS_LIST if key not in words]
    if missing:
        raise CatalogueError(f"catalogue {name}: no {', '.join(missing)}")
    return words


def _parse(text: str, where: str) -> Words:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{where}: not valid TOML ({exc})") from None
    return _checked(data, where)


def _checked(data: Mapping[str, object], where: str) -> Words:
    words: Words = {}
    for key, value in data.items():
        if key not in _IS_LIST:
            raise CatalogueError(f"{where}: {key!r} is not a label of the catalogue")
        if not _IS_LIST[key]:
            if not isinstance(value, str):
                raise CatalogueError(f"{where}: {key} must be a string, not {_kind(value)}")
            if not value.strip():
                raise CatalogueError(f"{where}: {key} is empty")
            words[key] = value
            continue
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise CatalogueError(f"{where}: {key} must be an array of strings, not {_kind(value)}")
        if not value or not all(item.strip() for item in value):
            raise CatalogueError(f"{where}: {key} is empty or holds an empty wording")
        words[key] = tuple(value)
    return words


def _kind(value: object) -> str:
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        return "an array holding something else than strings"
    return next((name for kind, name in _TOML_TYPES.items() if type(value) is kind), "a date")


@cache
def _built(locale: str) -> Labels:
    return _build(locale, {})


def _build(locale: str, overrides: Words) -> Labels:
    words = {**_locale_words(locale), **overrides}
    if locale == FALLBACK_LOCALE:
        return Labels(**words)  # type: ignore[arg-type]
    english = _locale_words(FALLBACK_LOCALE)
    merged: dict[str, object] = {}
    for key, value in words.items():
        other = english[key]
        if isinstance(value, tuple) and isinstance(other, tuple):
            merged[key] = value + tuple(item for item in other if item not in value)
        else:
            merged[key] = Label(str(value), (str(other),))
    return Labels(**merged)  # type: ignore[arg-type]


def name_matcher(text: str, *, whole: bool = False) -> re.Pattern[str]:
    """A case-insensitive pattern for a label; extra words around it are tolerated unless `whole`.

    Word boundaries keep "Assign" from matching inside "Reassign" (a trailing plural "s" is
    allowed); `whole` (only surrounding white
    space allowed) keeps "Assign" from matching "Assign Smart Account" and "No" from "No thanks".
    A label with a fallback (see `Label`) matches its own wording or the fallback's.
    """
    return _matcher(wordings(text), whole)


def label_pattern(text: str) -> str:
    """The regular expression of a label's wordings, without boundaries (to build on)."""
    bodies = [_body(wording) for wording in wordings(text)]
    return bodies[0] if len(bodies) == 1 else f"(?:{'|'.join(bodies)})"


@cache
def _matcher(texts: tuple[str, ...], whole: bool) -> re.Pattern[str]:
    bodies = [_body(text) for text in texts]
    body = bodies[0] if len(bodies) == 1 else f"(?:{'|'.join(bodies)})"
    if whole:
        return re.compile(rf"^\s*{body}\s*$", re.IGNORECASE)
    # A plural is the same name ("Smart Account Assignments for 110000001").
    return re.compile(rf"(?<!\w){body}s?(?!\w)", re.IGNORECASE)


def _body(text: str) -> str:
    # Words apart by any white space (a French "Statut :" has a no-break space before its colon,
    # or none at all); a straight or curly apostrophe is the same letter.
    body = ""
    for word in text.split():
        if body:
            body += r"\s+" if any(char.isalnum() for char in word) else r"\s*"
        body += "['\u2019]".join(re.escape(part) for part in re.split("['\u2019]", word))
    return body


def any_of(texts: tuple[str, ...]) -> re.Pattern[str]:
    """A whole-name pattern for any of several wordings of one control ("Try again", "Retry")."""
    return re.compile("|".join(name_matcher(text, whole=True).pattern for text in texts), re.I)


def same_text(a: str | None, b: str | None) -> bool:
    """Equal ignoring case, surrounding and repeated white space (how names are compared); a
    label with a fallback equals either of its wordings."""
    if a is None or b is None:
        return False
    return any(
        normalize(x).casefold() == normalize(y).casefold() for x in wordings(a) for y in wordings(b)
    )


def normalize(text: str) -> str:
    """Text with runs of white space collapsed and the ends trimmed."""
    return " ".join(text.split())
