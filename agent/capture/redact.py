"""Customer data out of text: known values and patterns become typed placeholders like <ACCOUNT-2>.

A value is customer data when the agent read it as such (the caller registers the order's
numbers, the accounts, domains, e-mails and Virtual Accounts on screen, the signed-in user), when
a field the portal labels as a party holds it ("End Customer", "Signed in as", ...), or when it
has the shape of one (an e-mail address, a domain name, a 6-12 digit number, a long opaque
token). Each distinct value gets one placeholder for the life of the Redactor, so the same account
is the same placeholder on every screen of a bundle. The mapping is kept in memory only.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from pages.orders import order_key
from pages.secrets import redact as redact_secrets


class Kind(StrEnum):
    """What a placeholder stands for; its value is the placeholder's prefix."""

    ORDER = "ORDER"  # a Sales Order or Web Order number the agent read or was asked for
    ACCOUNT = "ACCOUNT"  # a Smart Account name, a partner's or customer's company name
    DOMAIN = "DOMAIN"  # a Domain Identifier, or any other domain name
    EMAIL = "EMAIL"  # an e-mail address (an Email ID, the signed-in user)
    VA = "VA"  # a Virtual Account name
    PERSON = "PERSON"  # a person's name ("Signed in as Jane Doe")
    NUMBER = "NUMBER"  # a 6-12 digit number nobody registered (a PO, a contract, an order)
    TOKEN = "TOKEN"  # a long run of letters and digits (a session id, a CSRF token)


PLACEHOLDER = re.compile(r"<(?P<kind>[A-Z]+)-(?P<n>\d+)>")

# The portal's field labels whose value is a party of the order: what follows "Label:" on a
# line, what the element after the label element says, and the cells under such a column header.
FIELD_LABELS: dict[str, Kind] = {
    "signed in as": Kind.PERSON,
    "created by": Kind.PERSON,
    "submitted by": Kind.PERSON,
    "requested by": Kind.PERSON,
    "contact": Kind.PERSON,
    "contact name": Kind.PERSON,
    "end customer": Kind.ACCOUNT,
    "end customer name": Kind.ACCOUNT,
    "customer": Kind.ACCOUNT,
    "customer name": Kind.ACCOUNT,
    "end user": Kind.ACCOUNT,
    "partner": Kind.ACCOUNT,
    "partner name": Kind.ACCOUNT,
    "reseller": Kind.ACCOUNT,
    "distributor": Kind.ACCOUNT,
    "bill to": Kind.ACCOUNT,
    "ship to": Kind.ACCOUNT,
    "sold to": Kind.ACCOUNT,
    "company": Kind.ACCOUNT,
}

# The labels whose value may follow without a colon.
NO_COLON = frozenset({"signed in as", "created by", "submitted by", "requested by"})

# Words a field shows when it holds no value; never taken for a name.
EMPTY_WORDS = frozenset({"", "-", "\u2014", "\u2013", "none", "n/a", "not assigned", "unassigned"})

# File names look like domains ("app.js"); these endings are not taken for top-level domains.
FILE_ENDINGS = frozenset(
    "js mjs css html htm php jsp aspx asp do png jpg jpeg gif svg ico webp woff woff2 ttf eot "
    "map json xml txt csv pdf xls xlsx doc docx zip".split()
)
# Domains that are the portal's own, not a customer's (the bundle adds the portal's host).
PORTAL_DOMAINS = ("cisco.com",)

_EMAIL = r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+"
_DOMAIN = r"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?P<tld>[a-z]{2,63})(?![\w@-]|\.\w)"
_NUMBER = r"(?<![\d])\d{6,12}(?!\d)"
_TOKEN = r"(?<![\w+=-])(?=[\w+=-]*[a-z])[\w+=-]{24,}(?![\w+=-])"
# A run of 24 or more letters and digits is a token when it holds this many digits; a product
# or class name holds fewer (and a 6-digit run inside one is a number, redacted as one).
TOKEN_DIGITS = 5
# A value stops at a field separator or where the next "Label:" starts.
_SEPARATOR = re.compile(r"\s+[·•|]\s+|\t|\s{2,}")
_NEXT_LABEL = re.compile(r"\s+(?=[^\W\d][\w'’ -]{0,30}?\s?:(?:\s|$))")
# A known value is matched whole, not inside a longer word; a longer domain or e-mail address
# around it is matched first, by its pattern, since it starts earlier.
_BOUNDARY_BEFORE = r"(?<!\w)"
_BOUNDARY_AFTER = r"(?!\w)"


def normal(text: str) -> str:
    """Case and white space folded: how two spellings of one value are told to be the same."""
    return " ".join(text.split()).casefold()


def value_key(value: str) -> str:
    """How a value is told to be the same as another: an order number by its key (leading zeros
    aside), any other text by its folded case and white space."""
    try:
        return order_key(value)
    except ValueError:
        return normal(value)


def number_pattern(value: str) -> str | None:
    """The pattern of an order number with any leading zeros, as a whole number (None: the
    value is not one)."""
    try:
        return rf"(?<!\d)0*{order_key(value)}(?!\d)"
    except ValueError:
        return None


def url_without_query(url: str) -> str:
    """A URL without its query string and fragment (they carry ids, searches and tokens)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class Redactor:
    """Typed, stable placeholders for customer data: `add(kind, value)`, then `redact(text)`.

    Known values are matched whole (not inside a longer word or domain), case-insensitively,
    with any white space between their words, longest first; order numbers with or without
    leading zeros. Then the patterns: e-mail addresses, domain names (except the portal's own
    and file names), 6-12 digit numbers, long tokens. A pattern's match is registered as it is
    found, so it keeps its placeholder from then on. Placeholders already in a text are left
    as they are, so redacting twice changes nothing.
    """

    def __init__(self, *, portal_domains: Iterable[str] = PORTAL_DOMAINS) -> None:
        self._placeholders: dict[str, str] = {}
        self._values: dict[str, tuple[Kind, str]] = {}
        self._counts: dict[Kind, int] = {}
        self._portal = {normal(d).lstrip(".") for d in portal_domains if d}
        self._patterns: dict[bool, re.Pattern[str]] = {}

    def add(self, kind: Kind | str, value: str | None) -> str | None:
        """Register a value the agent read as customer data; returns its placeholder.

        Blank values and values of one character are ignored (None): they would wreck the
        portal's own words. A value already registered keeps its placeholder and kind.
        """
        kind = Kind(kind)
        if value is None or len(value.strip()) < 2 or PLACEHOLDER.fullmatch(value.strip()):
            return None
        key = value_key(value)
        if key in self._placeholders:
            return self._placeholders[key]
        number = self._counts.get(kind, 0) + 1
        self._counts[kind] = number
        placeholder = f"<{kind}-{number}>"
        self._placeholders[key] = placeholder
        self._values[key] = (kind, value.strip())
        self._patterns.clear()
        return placeholder

    def add_all(self, kind: Kind | str, values: Iterable[str | None]) -> None:
        """`add` each value."""
        for value in values:
            self.add(kind, value)

    def add_field(self, kind: Kind | str, value: str) -> None:
        """Register what a party field shows, less what is already known or a placeholder.

        "Initech (initech.example)" with both parts known adds nothing; an unknown company name
        beside a known domain adds the name alone. Words that mean "no value" are skipped.
        """
        rest = PLACEHOLDER.split(self.redact(value))
        for part in rest[::3]:  # split() interleaves the two groups of each placeholder
            words = part.strip(" \t\n()[],;:·•|/-\u2014")
            if normal(words) not in EMPTY_WORDS and re.search(r"[^\W\d_]", words):
                self.add(kind, words)

    def counts(self) -> dict[str, int]:
        """How many distinct values of each kind were replaced (no values)."""
        return {str(kind): n for kind, n in sorted(self._counts.items())}

    def known(self) -> list[tuple[Kind, str]]:
        """Every registered value with its kind (for checking an output; never written)."""
        return list(self._values.values())

    def redact(self, text: str) -> str:
        """`text` with every known value and every pattern's match replaced by its placeholder,
        and every registered secret (pages.secrets) by "[redacted]"."""
        if not text:
            return text
        return redact_secrets(self._compiled().sub(self._replace, text))

    def _compiled(self, tokens: bool = True) -> re.Pattern[str]:
        """One pattern: placeholders, the known values (longest first), then each pattern;
        without `tokens`, the token pattern is left out (for a run that is no token)."""
        if tokens not in self._patterns:
            known = sorted(self._values.values(), key=lambda item: -len(item[1]))
            alternatives = [PLACEHOLDER.pattern.replace("?P<kind>", "").replace("?P<n>", "")]
            alternatives += [self._known_pattern(kind, value) for kind, value in known]
            tail = [
                f"(?P<EMAIL>{_EMAIL})",
                f"(?P<DOMAIN>{_DOMAIN})",
                f"(?P<NUMBER>{_NUMBER})",
                f"(?P<TOKEN>{_TOKEN})" if tokens else "(?P<TOKEN>(?!))",
            ]
            body = "|".join(f"(?:{a})" for a in alternatives)
            self._patterns[tokens] = re.compile(
                f"(?P<known>{body})|" + "|".join(tail), re.IGNORECASE
            )
        return self._patterns[tokens]

    @staticmethod
    def _known_pattern(kind: Kind, value: str) -> str:
        if kind in (Kind.ORDER, Kind.NUMBER) and (number := number_pattern(value)):
            return number
        words = r"\s+".join(re.escape(word) for word in value.split())
        return f"{_BOUNDARY_BEFORE}{words}{_BOUNDARY_AFTER}"

    def _replace(self, found: re.Match[str]) -> str:
        text = found.group(0)
        if found.group("known") is not None:
            return self._placeholders.get(value_key(text), text)
        if found.group("DOMAIN") is not None:
            tld = found.group("tld")
            if tld.lower() in FILE_ENDINGS:  # a file name: what comes before may be data
                return f"{self.redact(text[: -len(tld) - 1])}.{tld}"
            if self._is_portal_domain(text):
                return text
        if found.group("TOKEN") is not None and sum(c.isdigit() for c in text) < TOKEN_DIGITS:
            # A long product or class name, not a token; a known value may still be in it.
            return self._compiled(tokens=False).sub(self._replace, text)
        kind = next(Kind(k) for k in ("EMAIL", "DOMAIN", "NUMBER", "TOKEN") if found.group(k))
        return self.add(kind, text) or text

    def _is_portal_domain(self, text: str) -> bool:
        domain = normal(text)
        return any(domain == own or domain.endswith("." + own) for own in self._portal)


def field_value(line: str, label: str) -> str | None:
    """The value written after `label` on one line of text ("End Customer: Acme" -> "Acme"),
    up to a field separator or the next label; None when the line does not hold the label."""
    # A colon after the label, except for the phrases that read as one ("Signed in as Jane"):
    # a label alone ("Customer", a column header "Ship To") is the portal's word, not a field.
    after = r"\s*:\s*|[ ]+" if label in NO_COLON else r"\s*:\s*"
    found = re.search(
        rf"(?:^|(?<=[\s(])){re.escape(label)}(?:{after})(?P<value>\S.*)$", line, re.IGNORECASE
    )
    if found is None:
        return None
    value = _SEPARATOR.split(found.group("value"))[0]
    return _NEXT_LABEL.split(value)[0].strip()


def register_fields(
    redactor: Redactor,
    text: str,
    pairs: Iterable[tuple[str, str]],
    fields: Mapping[str, Kind] = FIELD_LABELS,
    keep: Collection[str] = (),
) -> None:
    """Register the values of party fields: from a screen's text, line by line ("Label: value",
    or a line that is the label alone followed by the value's line), and from (label, value)
    pairs found in the page (a label element and the element after it, a column and its cells).
    `keep`: the portal's own words (normalised), never a value: the header beside a column's,
    the next label after a field's.
    """

    def add(kind: Kind, value: str) -> None:
        if normal(value).rstrip(":").strip() not in keep:
            redactor.add_field(kind, value)

    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        bare = normal(line).rstrip(":").strip()
        if bare in fields and index + 1 < len(lines):
            add(fields[bare], lines[index + 1])
            continue
        for label, kind in fields.items():
            value = field_value(line, label)
            if value:
                add(kind, value)
    for label, value in pairs:
        paired = fields.get(normal(label).rstrip(":").strip())
        if paired is not None:
            add(paired, value)
