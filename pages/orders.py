"""Order numbers: the one key they are compared by, and the pattern that finds one in text.

Every layer compares order numbers through these functions: the bulk input's duplicates, the
order locks, the ledger's claims, the search results and the Order Details check.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")


def order_key(text: str) -> str:
    """An order number as orders are compared: its ASCII digits without leading zeros.

    - "0110000001" and "110000001" are one order, "110000001"; callers keep the number as
      typed or shown, which is what the portal is searched for.
    - Surrounding whitespace is ignored (a cell or a page's text may carry it); whitespace or
      anything else inside the number is not.
    - All zeros is "0", never "": an empty key would be a number without digits.
    - Only the digits 0 to 9: other scripts' digits (Arabic-Indic, full-width...) look like a
      number but are not one the portal's search knows, so they raise ValueError, as does the
      empty text, a sign, a separator or Excel's "1.1E+08".
    - No length rule: 6 to 12 digits is what may be asked (flows.models.ORDER_NUMBER); a key
      compares whatever a page shows.
    """
    digits = text.strip()
    if not _ASCII_DIGITS.fullmatch(digits):
        raise ValueError(f"not an order number of ASCII digits: {text!r}")
    return digits.lstrip("0") or "0"


def same_order(a: str, b: str) -> bool:
    """Whether two texts name one order; False when either is not an order number."""
    try:
        return order_key(a) == order_key(b)
    except ValueError:
        return False


def any_spelling(number: str) -> str:
    """A regular expression that matches this order's number with any leading zeros.

    It has no bounds of its own: put `(?<!\\d)` and `(?!\\d)` around it to match the number
    only whole. Raises ValueError as order_key() does.
    """
    return f"0*{order_key(number)}"
