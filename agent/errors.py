"""The agent's exceptions: system failures only; business outcomes are results, not exceptions.

CcwAgentError
├── ConfigError              bad settings or options; nothing was started
│   └── BrowserNotFound      no Chromium to launch, with the command that installs one
├── InputError               a bad input file or row; nothing was started
├── LoginRequired            the session expired and there are no credentials to sign in again
├── LoginFailed              the sign-on page rejected the credentials or the one-time code
├── LockHeld                 another bulk run holds the state folder
└── PortalError              the portal misbehaved; the only kind that is retried
    ├── StepFailed           a step timed out or a control was missing (keeps the cause)
    └── PortalServerError    the page said "Something went wrong" (a 5xx behind it)
"""

from __future__ import annotations


class CcwAgentError(Exception):
    """Base of every error the agent raises on purpose."""


class ConfigError(CcwAgentError):
    """Settings or command-line options that cannot work."""


class BrowserNotFound(ConfigError):
    """No Chromium executable could be found or launched."""


class InputError(CcwAgentError):
    """An input file or row that cannot be used."""


class LoginRequired(CcwAgentError):
    """The portal wants a sign-in and the agent has no credentials to give it."""


class LoginFailed(CcwAgentError):
    """The sign-on page refused the credentials or the one-time code."""


class LockHeld(CcwAgentError):
    """Another process holds the state folder's lock."""


class PortalError(CcwAgentError):
    """The portal failed in a way that a retry may cure."""

    step: int | None = None


class StepFailed(PortalError):
    """A flow step could not complete (timeout, missing control, crashed page)."""

    def __init__(self, step: int, name: str, message: str) -> None:
        super().__init__(f"step {step} ({name}): {message}")
        self.step = step
        self.name = name


class PortalServerError(PortalError):
    """The portal showed its generic server-error message."""

    def __init__(self, message: str, *, step: int | None = None) -> None:
        super().__init__(message if step is None else f"step {step}: {message}")
        self.step = step


def first_line(error: BaseException) -> str:
    """The first line of an error's message (Playwright's run to many), or its class name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
