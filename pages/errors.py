"""The project's one exception tree: system failures only; business outcomes are results.

It sits at the bottom of the stack (it imports only the redaction registry beside it), so pages,
flows and the agent all raise and catch the same classes and no layer imports upward.

Their text never holds a secret: every message is passed through pages.secrets.redact, and so
is every error's first line that a log, a result, the ledger or a report quotes.

CcwAgentError
├── ConfigError              bad settings or options; nothing was started
│   └── BrowserNotFound      no Chromium to launch or reach, with what to do about it
├── InputError               a bad input file or row; nothing was started
│   └── InvalidCsv           (agent.bulk.csv_input) every problem of a bulk file, by row/column
├── LoginRequired            the session expired and there are no credentials to sign in again
├── LoginFailed              the sign-on page rejected the credentials or the one-time code
│   └── CredentialHostRefused  the sign-on page is on a host credentials are not typed into
├── LockHeld                 another bulk run holds the state folder
├── OrderBusy                another worker or process is working on the same order
├── StorageError             a file or folder of the agent's own could not be written or read
├── PageError                a screen did not behave as its page object expects
│   ├── SubmissionRefused    the portal answered the submission with words other than success
│   ├── OptionNotOffered     a drop-down does not offer the option asked for
│   ├── ListboxUnstable      a drop-down's list kept closing before it could be used
│   ├── UnknownAnswer        the screen settled on words the agent does not know (final)
│   └── IncompleteList       a list could not be read to its end (final)
├── SignOnShown              the sign-on page replaced the screen a step expected
├── MutationRefused          a test harness refused the irreversible Yes (pages.guard)
└── PortalError              the portal misbehaved; the only kind that is retried
    ├── StepFailed           a step timed out or a control was missing (keeps the cause)
    │   └── NotTaken         (flows.assign) every look after an unconfirmed Yes showed no change
    └── PortalServerError    the page said "Something went wrong" (a 5xx behind it)

InvalidCsv and NotTaken carry the bulk file's problems and the order's view, so they live beside
those types; every other class is defined here.
"""

from __future__ import annotations

from collections.abc import Sequence

from pages.secrets import redact


class CcwAgentError(Exception):
    """Base of every error the agent raises on purpose."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))

    def __str__(self) -> str:
        # Again when shown: a secret may have been registered after the error was made.
        return redact(super().__str__())


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


class CredentialHostRefused(LoginFailed):
    """The sign-on form is on a host (or a plain-http page) credentials are never typed into."""


class LockHeld(CcwAgentError):
    """Another process holds the state folder's lock."""


class PageError(CcwAgentError):
    """A screen did not behave as its page object expects (an option missing, a refusal)."""

    # An answer, not an accident: the step that meets it fails at once, without retries.
    final = False


class SignOnShown(CcwAgentError):
    """The sign-on page replaced the screen a step expected: the session has expired."""


class PortalError(CcwAgentError):
    """The portal failed in a way that a retry may cure."""

    step: int | None = None
    # Set when no retry can cure it (the portal answered, in words the agent cannot act on):
    # neither the step nor the order is run again.
    final = False


class StepFailed(PortalError):
    """A flow step could not complete (timeout, missing control, crashed page)."""

    def __init__(self, step: int, name: str, message: str, *, final: bool = False) -> None:
        super().__init__(f"step {step} ({name}): {message}")
        self.step = step
        self.name = name
        self.final = final


class PortalServerError(PortalError):
    """The portal showed its generic server-error message."""

    def __init__(self, message: str, *, step: int | None = None) -> None:
        super().__init__(message if step is None else f"step {step}: {message}")
        self.step = step


class StorageError(CcwAgentError):
    """A file or folder of the agent's own could not be written or read (disk full, read-only)."""


class OrderBusy(CcwAgentError):
    """Another ccw-agent process (or another worker) is working on the same order."""


class SubmissionRefused(PageError):
    """The portal answered the submission with a message other than success."""


class OptionNotOffered(PageError):
    """The drop-down does not offer the requested option."""

    def __init__(self, wanted: str, offered: Sequence[str]) -> None:
        super().__init__(f"{wanted!r} is not among the options {list(offered)!r}")
        self.offered = tuple(offered)


class ListboxUnstable(PageError):
    """A custom drop-down's list kept closing (pop-ups taking the focus) before it could be used."""


class UnknownAnswer(PageError):
    """The screen settled on words that are neither a result nor a message the agent knows."""

    final = True


class IncompleteList(PageError):
    """A list (results in pages) could not be read to its end, or its count disagrees."""

    final = True


def first_line(error: BaseException) -> str:
    """The first line of an error's message, secrets redacted, or its class name.

    Playwright's messages run to many lines, and the call log below the first one quotes the
    values typed (`fill("...")`).
    """
    text = redact(str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


class MutationRefused(CcwAgentError):
    """A test harness (pages.guard) refused the irreversible Yes on this page's portal."""
