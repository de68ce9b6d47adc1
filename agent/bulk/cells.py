"""What a cell of a bulk CSV may hold, column by column, and in words why not.

Each check returns the value or raises `cell_error`, for the row model's validators to call.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from agent.bulk.problems import SHOWN_MAX, cell_error, invisible_problem, shown, visible
from flows.models import ORDER_NUMBER, SearchBy

# Limits, documented in docs/bulk.md: what a person can have typed, and no more.
MAX_DOMAIN = 253  # a DNS name
MAX_LABEL = 63  # one part of a DNS name, between dots
MAX_ACCOUNT_NAME = 200
MAX_EMAIL = 254  # RFC 5321 forward path
MAX_EMAIL_LOCAL = 64
MAX_VIRTUAL_ACCOUNT = 100
MAX_REFERENCE = 1000  # free text, such as a PO number and a note

_SEARCH_BY_WORDS = {
    "domain": SearchBy.DOMAIN,
    "domain_identifier": SearchBy.DOMAIN,
    "account_name": SearchBy.ACCOUNT_NAME,
    "email": SearchBy.EMAIL,
    "email_id": SearchBy.EMAIL,
}
_SEARCH_BY_CHOICES = ", ".join(member.value for member in SearchBy)
# Excel turns long numbers typed in a General cell into this shape, losing digits.
_SCIENTIFIC = re.compile(r"^\d+(?:[.,]\d+)?[eE]\+?\d+$")
_FORMULA_START = ("=", "+", "-", "@")  # what a spreadsheet takes for the start of a formula
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LABEL_CHARACTER = re.compile(r"[A-Za-z0-9-]")
# The dot-atom of RFC 5322: no quoted local parts, no comments, ASCII only.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalise_name(text: str) -> str:
    """Header or label text in one spelling: lower case, words joined by single underscores."""
    return re.sub(r"[\s_\-.]+", "_", text.strip().casefold()).strip("_")


def order_number(value: str) -> str:
    """A Sales Order or Web Order number as typed: 6 to 12 of the digits 0 to 9."""
    if not value:
        raise cell_error("is empty; every row needs a Sales Order or Web Order number")
    problem = invisible_problem(value)
    if problem:
        raise cell_error(problem)
    quoted = shown(value)
    if _SCIENTIFIC.match(value):
        raise cell_error(
            f"{quoted} looks like a number that a spreadsheet shortened to scientific "
            "notation; format the column as Text and type the order number again"
        )
    if any(char.isdigit() and not char.isascii() for char in value):
        raise cell_error(
            f"{quoted} has digits other than 0-9 (such as Arabic-Indic or full-width "
            "digits); type the order number with the digits 0 to 9"
        )
    if not (value.isascii() and ORDER_NUMBER.match(value)):
        raise cell_error(f"{quoted} is not an order number (6 to 12 digits)")
    return value


def search_by(value: object) -> SearchBy:
    """The kind of search a cell names, in any of its spellings."""
    text = str(value).strip()
    if not text:
        raise cell_error(f"is empty; use one of {_SEARCH_BY_CHOICES}")
    problem = invisible_problem(text)
    if problem:
        raise cell_error(problem)
    try:
        return _SEARCH_BY_WORDS[normalise_name(text)]
    except KeyError:
        raise cell_error(f"{shown(text)} is not one of {_SEARCH_BY_CHOICES}") from None


def _too_long(value: str, limit: int, what: str) -> str | None:
    if len(value) > limit:
        return f"is {len(value)} characters long; {what} has at most {limit}"
    return None


def check_cell(value: str, limit: int, what: str, *, line_breaks: bool = False) -> str:
    """Checks every cell gets: no invisible characters, a length cap. Raises for the column."""
    problem = invisible_problem(value, line_breaks=line_breaks) or _too_long(value, limit, what)
    if problem:
        raise cell_error(problem)
    return value


def domain_reason(value: str) -> str | None:
    """Why a text is not a domain name (letters, digits, hyphens between dots), or None."""
    if value.startswith(_FORMULA_START):
        return f"starts with '{value[0]}', which a spreadsheet runs as a formula"
    if _SCHEME.match(value):
        host = urlsplit(value).hostname
        only = f" ('{host}')" if host and domain_reason(host) is None else ""
        return f"is a web address; give only its domain{only}"
    if not value.isascii():
        try:
            ascii_form = value.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_form = ""
        example = f", such as '{ascii_form}'" if ascii_form else " (xn--...)"
        return (
            "has letters outside ASCII; give the domain in its ASCII (punycode) form as the "
            f"portal shows it{example}"
        )
    if len(value) > MAX_DOMAIN:
        return f"is {len(value)} characters long; a domain name has at most {MAX_DOMAIN}"
    if "/" in value:
        return "has a path ('/'); give only the domain"
    if ":" in value:
        return "has a port (':'); give only the domain"
    labels = value.split(".")
    if len(labels) < 2:
        return "has no dot"
    if not all(labels):
        return "has an empty part between dots"
    for char in value:
        if char != "." and not _LABEL_CHARACTER.match(char):
            return f"has the character '{char}'; a domain has only letters, digits, '-' and '.'"
    if any(len(label) > MAX_LABEL for label in labels):
        return f"has a part longer than {MAX_LABEL} characters between dots"
    if any(label.startswith("-") or label.endswith("-") for label in labels):
        return "has a part that starts or ends with '-'"
    if labels[-1].isdigit():
        return "ends in a number, like an IP address; give the account's domain name"
    return None


def domain_identifier(value: str) -> str:
    """A Domain Identifier, or the reason it is not one (naming the value, cut if long)."""
    problem = invisible_problem(value)
    if problem:
        raise cell_error(problem)
    base = f"{shown(value)} is not a Domain Identifier (like acme.example)"
    if "@" in value or re.search(r"\s", value):
        raise cell_error(base)
    reason = domain_reason(value)
    if reason:
        raise cell_error(f"{base}: it {reason}")
    return value


def email_id(value: str) -> str:
    """An Email ID: one '@', a plain local part, a domain name after it."""
    problem = invisible_problem(value)
    if problem:
        raise cell_error(problem)
    quoted = shown(value)
    ats = value.count("@")
    if ats == 0:
        raise cell_error(f"{quoted} is not an email address, and search_by is email")
    base = f"{quoted} is not an email address"
    if len(value) > MAX_EMAIL:
        raise cell_error(
            f"is {len(value)} characters long; an email address has at most {MAX_EMAIL}"
        )
    if ats > 1:
        raise cell_error(f"{base}: it has {ats} '@' where an address has one")
    if re.search(r"\s", value):
        raise cell_error(f"{base}: it has a space")
    local, domain = value.split("@")
    if not local:
        raise cell_error(f"{base}: nothing comes before the '@'")
    if len(local) > MAX_EMAIL_LOCAL:
        raise cell_error(f"{base}: the part before the '@' is over {MAX_EMAIL_LOCAL} characters")
    if not _EMAIL_LOCAL.fullmatch(local):
        raise cell_error(
            f"{base}: the part before the '@' may hold only ASCII letters, digits and "
            "!#$%&'*+/=?^_`{|}~- with single dots between them"
        )
    if not domain:
        raise cell_error(f"{base}: nothing comes after the '@'")
    reason = domain_reason(domain)
    if reason:
        raise cell_error(f"{base}: its domain '{visible(domain)[:SHOWN_MAX]}' {reason}")
    return value
