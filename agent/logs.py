"""structlog set-up: readable console on a terminal, JSON lines otherwise; secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from agent.settings import LogFormat

SECRET_KEYS = frozenset({"password", "totp_secret", "code", "otp", "token", "cookie", "cookies"})
REDACTED = "[redacted]"


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Blank any field whose name says it holds a secret, whatever a caller passed."""
    for key in event_dict.keys() & SECRET_KEYS:
        event_dict[key] = REDACTED
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
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
