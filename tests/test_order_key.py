"""Order numbers are compared by one key, at the bottom of the stack (pages.orders)."""

from __future__ import annotations

import re

import pytest

from pages.orders import any_spelling, order_key, same_order

KEYS = [
    ("110000001", "110000001"),
    ("0110000001", "110000001"),
    (" 000080000012 ", "80000012"),
    ("\u00a0110000001\t", "110000001"),
    ("000000", "0"),
    ("0", "0"),
    ("000", "0"),
    ("1000000", "1000000"),
    ("1234567890123", "1234567890123"),
]

NOT_NUMBERS = [
    "",
    "   ",
    "11000000\u0661",  # an Arabic-Indic one
    "\uff11\uff11\uff10",  # full-width digits
    "1.1E+08",
    "12AB",
    "-110000001",
    "+110000001",
    "110 000 001",
    "110,000,001",
    "110000001\u200b",  # a zero-width space is not whitespace
]


@pytest.mark.parametrize(("text", "key"), KEYS)
def test_the_key_is_the_ascii_digits_without_leading_zeros(text: str, key: str) -> None:
    # Given an order number as typed or shown, when it is keyed, then leading zeros are gone.
    assert order_key(text) == key


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_anything_but_ascii_digits_has_no_key(text: str) -> None:
    # Given a text that is not a number of the digits 0 to 9, when it is keyed, then it is refused.
    with pytest.raises(ValueError, match="not an order number of ASCII digits"):
        order_key(text)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("110000001", "110000001", True),
        ("0110000001", "110000001", True),
        ("110000001", " 00110000001", True),
        ("000", "0", True),
        ("110000001", "110000010", False),
        ("110000001", "1100000010", False),
        # A number in another script is never the order asked, nor is no number at all.
        ("\u0661\u0661\u0660", "\u0661\u0661\u0660", False),
        ("", "", False),
        ("", "0", False),
        ("110000001", "(none)", False),
    ],
)
def test_two_numbers_are_one_order_when_their_keys_are_equal(a: str, b: str, same: bool) -> None:
    # Given two numbers, when they are compared, then only equal keys are one order, both ways.
    assert same_order(a, b) is same
    assert same_order(b, a) is same


@pytest.mark.parametrize(
    ("number", "text", "found"),
    [
        ("110000001", "Order 110000001", True),
        ("110000001", "Order 000110000001 (Web)", True),
        ("0110000001", "110000001", True),
        ("000", "Order 0", True),
        ("000", "Order 0000", True),
        ("110000001", "Order 1110000001", False),
        ("110000001", "Order 1100000012", False),
        ("110000001", "Order 110000002", False),
        ("000", "Order 1000", False),
    ],
)
def test_any_spelling_finds_the_order_as_a_whole_number(
    number: str, text: str, found: bool
) -> None:
    # Given an order and a text, when the pattern is bounded as a whole number,
    pattern = re.compile(rf"(?<!\d){any_spelling(number)}(?!\d)")

    # then it finds the order in any spelling, and no other number.
    assert (pattern.search(text) is not None) is found
