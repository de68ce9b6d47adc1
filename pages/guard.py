"""The last word before the irreversible Yes: browsers and contexts whose submissions are refused.

The agent registers nothing, so its own runs are never held here. A test harness (the pytest
plugin) registers each browser and context it hands out with a policy, asked at the moment of the
click, that says whether this test may submit on the page's portal. Checking at the click rather
than when a fixture is set up covers every path a test may take to it: page objects, flows, a
helper fixture, `request.getfixturevalue`. ConfirmationDialog.confirm calls `check_submission`
before it clicks.

Like pages/errors.py it imports nothing from the project but the errors.
"""

from __future__ import annotations

from collections.abc import Callable
from weakref import WeakKeyDictionary

from playwright.async_api import Browser, BrowserContext, Page

from pages.errors import MutationRefused

# Given the page's address, why a submission must not happen now, or None to let it happen.
Policy = Callable[[str], str | None]

# Weak: a closed browser or context leaves the registry with its last reference.
_policies: WeakKeyDictionary[Browser | BrowserContext, Policy] = WeakKeyDictionary()


def gate(owner: Browser | BrowserContext, policy: Policy) -> None:
    """Ask `policy` before every Yes on a page of `owner` (every context of a browser)."""
    _policies[owner] = policy


def check_submission(page: Page) -> None:
    """Raise MutationRefused if a policy of the page's context or browser refuses the Yes."""
    context = page.context
    for owner in (context, context.browser):
        policy = _policies.get(owner) if owner is not None else None
        reason = policy(page.url) if policy is not None else None
        if reason:
            raise MutationRefused(f"the irreversible Yes was not clicked: {reason}")
