"""The secret values this process holds, and redact(): every sink passes its text through it.

Secrets are registered by value when they enter the process (the password and TOTP secret from
the settings or the credentials, each one-time code when it is computed, session cookie values
when a storage state is read or saved). Log lines, error messages (and so the bulk ledger and the
reports, which take their text from errors and results) and kept traces then replace every known
value with REDACTED, wherever it appears. Like pages/errors.py it imports nothing from the
project, so every layer may use it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

import pyotp

REDACTED = "[redacted]"

# Cookie values shorter than this are flags ("accepted", "1"), not credentials.
MIN_COOKIE_VALUE = 16
# Identity providers still issue 80-bit secrets (16 base32 characters); pyotp wants 112 bits.
MIN_TOTP_SECRET_CHARS = 16
TOTP_STEP_S = 30

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _variants(value: str) -> set[str]:
    """The value as typed, and as it shows once escaped for JSON, a URL or a form."""
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
    }


def register(*values: str | None, min_length: int = 1) -> None:
    """Remember values that must never be written anywhere (None and short values are skipped)."""
    global _pattern
    fresh = {
        variant
        for value in values
        if value and len(value) >= min_length
        for variant in _variants(value)
        if variant
    }
    with _lock:
        if fresh <= _values:
            return
        _values.update(fresh)
        # Longest first, so that a value containing another is replaced whole. A value of
        # digits only (a one-time code) is replaced only as a whole number, never inside a
        # longer one such as an order number.
        parts = [
            rf"(?<!\d){re.escape(value)}(?!\d)" if value.isdigit() else re.escape(value)
            for value in sorted(_values, key=len, reverse=True)
        ]
        _pattern = re.compile("|".join(parts))


def register_cookies(cookies: Iterable[Any]) -> None:
    """Remember the values of a storage state's cookies that may be session credentials."""
    register(
        *(
            str(cookie["value"])
            for cookie in cookies
            if isinstance(cookie, dict) and cookie.get("value")
        ),
        min_length=MIN_COOKIE_VALUE,
    )


def redact(text: str) -> str:
    """`text` with every registered secret value replaced by REDACTED."""
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern is not None and text else text


def redact_value(value: Any) -> Any:
    """A value with secrets redacted inside strings, nested dicts, lists and tuples.

    Any other object is kept as it is unless its text holds a secret; then its redacted text
    takes its place.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    clean = redact(text)
    return value if clean == text else clean


# --- one-time codes -----------------------------------------------------------------------------


class _Totp(pyotp.TOTP):
    min_secret_length_bits = MIN_TOTP_SECRET_CHARS * 5


def normalize_totp_secret(text: str) -> str:
    """The base32 secret as authenticator apps and identity providers show it, made canonical.

    Spaces, padding and case do not matter; at least 16 characters (80 bits). Raises ValueError
    with a message that never repeats the secret.
    """
    secret = "".join(text.split()).rstrip("=").upper()
    if not re.fullmatch(r"[A-Z2-7]*", secret):
        raise ValueError("not base32: use only the letters A-Z and the digits 2-7")
    if len(secret) < MIN_TOTP_SECRET_CHARS:
        raise ValueError(
            f"too short: {len(secret)} characters, at least {MIN_TOTP_SECRET_CHARS} expected"
        )
    try:
        base64.b32decode(secret + "=" * (-len(secret) % 8))
    except binascii.Error:
        raise ValueError(f"{len(secret)} characters is not a whole base32 secret") from None
    return secret


def register_totp_secret(text: str) -> str:
    """Normalise a TOTP secret (see normalize_totp_secret) and register it as given and as made."""
    register(text, text.strip())
    secret = normalize_totp_secret(text)
    register(secret, secret.lower())
    return secret


def one_time_code(secret: str) -> str:
    """The current TOTP code; it and its neighbours are registered as secrets first."""
    totp = _Totp(normalize_totp_secret(secret))
    now = time.time()
    register(*(totp.at(now + shift) for shift in (-TOTP_STEP_S, 0, TOTP_STEP_S)))
    return totp.at(now)
