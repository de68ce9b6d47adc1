"""structlog set-up: readable console on a terminal, JSON lines otherwise; secrets redacted.

Also `printable()`, which every text from the portal, a file or the user passes through before a
terminal shows it: a portal must not be able to retitle, clear or recolour the operator's terminal.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from agent.settings import LogFormat
from pages.secrets import REDACTED, redact_value

SECRET_KEYS = frozenset({"password", "totp_secret", "code", "otp", "token", "cookie", "cookies"})

# Terminal escape sequences, 7-bit and 8-bit: OSC (titles, hyperlinks, clipboard) up to BEL or
# ST, CSI (cursor, erase, colours), the string commands (DCS, SOS, PM, APC), and any other ESC pair.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[\s\S]?"
)
# What is left of C0 (but tab and newline), DEL, C1, and the bidirectional overrides that make a
# terminal show text in another order than it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without terminal escape sequences and control characters (tab and newline kept)."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def printable_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The console renderer writes strings as they are: make each one printable first."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = printable(value)
    return event_dict


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Blank fields named like secrets, and every known secret value anywhere else.

    Values are looked for in every field, nested dicts and lists included, and in the formatted
    exception, so this runs after format_exc_info.
    """
    for key in list(event_dict):
        if key in SECRET_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


def configure_logging(
    level: str = "INFO", fmt: LogFormat = LogFormat.AUTO, stream: TextIO | None = None
) -> None:
    """Configure structlog once per process; `merge_contextvars` first so run/order/step bind."""
    out = stream or sys.stderr
    console = fmt is LogFormat.CONSOLE or (fmt is LogFormat.AUTO and out.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=out.isatty())
        if console
        else structlog.processors.JSONRenderer()
    )
    # JSON lines escape every control character themselves; the console writes them raw.
    cleaning: list[structlog.types.Processor] = [printable_fields] if console else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            *cleaning,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
