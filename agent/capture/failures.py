"""Capture on failure: the screen each failed attempt of an order stopped on, in a bundle per order.

`assign --capture-on-failure DIR` makes DIR the order's bundle; `bulk --capture-on-failure DIR`
gives each order with a failed attempt its own bundle, DIR/order-001, DIR/order-002, ... in the
order their first failure happened (a folder's name carries no order number: the report's
artifacts column says which row's it is). A bundle is written when its order is finished, also
when a later attempt succeeded; an order that never failed leaves nothing.

What the agent knew of the order is registered before anything is written: the request (order
number, account searched, Virtual Account, expected domain), the signed-in user, and what the
readers find on the screen the attempt stopped on (read with a short wait, since that screen is
the one the agent could not finish), and the values under the catalogue's account, domain and
Virtual Account columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from agent.capture.bundle import CaptureBundle, CaptureError, capture_screen, check_empty
from agent.capture.fixtures import READERS, read_screen
from agent.capture.redact import FIELD_LABELS, Kind, Redactor
from flows.models import AssignRequest, SearchBy
from pages.errors import PageError, PortalError, PortalServerError, StepFailed
from pages.labels import Labels

# How long each reader may look for its screen on the page a failure left: that page is drawn
# (or broken), and a reader that finds nothing in this time finds nothing.
READ_MS = 1_000
BULK_FOLDER = "order-{n:03d}"
_SEARCHED = {SearchBy.DOMAIN: Kind.DOMAIN, SearchBy.ACCOUNT_NAME: Kind.ACCOUNT,
             SearchBy.EMAIL: Kind.EMAIL}  # fmt: skip


class FailureCaptures:
    """The bundles of the orders whose attempts fail, for one `assign` or one `bulk` run.

    `FailureCaptures(folder, portal_url=..., words=..., per_order=...)` refuses (FolderNotEmpty)
    a folder that holds anything. `per_order`: one subfolder per failed order (bulk) rather than
    the folder itself (assign). A bundle that cannot be written (ValueLeft) is not a run's end:
    it is listed in `refused`, for the command to report.
    """

    def __init__(
        self, folder: Path, *, portal_url: str, words: Labels, locale: str, per_order: bool
    ) -> None:
        check_empty(folder)
        self.folder = folder.absolute()  # named in results beside the other artifacts' paths
        self.portal_url = portal_url
        self.words = words
        self.locale = locale
        self.per_order = per_order
        self.open: dict[str, CaptureBundle] = {}
        self.written: list[Path] = []
        self.refused: list[str] = []

    def _bundle(self, order: str) -> CaptureBundle:
        if order not in self.open:
            made = len(self.written) + len(self.refused) + len(self.open) + 1
            folder = self.folder / BULK_FOLDER.format(n=made) if self.per_order else self.folder
            self.open[order] = CaptureBundle(
                folder,
                portal_url=self.portal_url,
                locale=self.locale,
                words=self.words,
                fields={**FIELD_LABELS, **data_columns(self.words)},
            )
        return self.open[order]

    async def attempt_failed(
        self,
        page: Page,
        request: AssignRequest,
        error: BaseException,
        *,
        attempt: int,
        completed_step: int,
        signed_in: str | None,
        timeout_ms: float,
    ) -> None:
        """Capture the screen `page` shows as the one attempt `attempt` of `request` failed on.
        Never raises for the page: a screen that cannot be captured is a note in the bundle."""
        bundle = self._bundle(request.order_number)
        register_request(bundle.redactor, request, signed_in)
        step, name = failed_step(error, completed_step)
        # The error's words may quote the portal: only its kind goes into the bundle.
        bundle.note(f"Attempt {attempt} failed at step {step} ({name}): {type(error).__name__}.")
        try:
            read = await read_what_shows(bundle.redactor, page, self.words, timeout_ms)
            await capture_screen(bundle, page, step, name, read=read or None)
        except PlaywrightError as exc:
            bundle.note(f"Step {step} ({name}) not captured: {type(exc).__name__}.")

    def finish(self, order: str) -> Path | None:
        """Write `order`'s bundle if one of its attempts failed; its folder, or None when there
        was nothing to write or it was refused (see `refused`)."""
        bundle = self.open.pop(order, None)
        if bundle is None:
            return None
        try:
            bundle.write()
        except CaptureError as exc:
            self.refused.append(f"{bundle.folder}: {exc}")
            return None
        self.written.append(bundle.folder)
        return bundle.folder

    def close(self) -> None:
        """Write the bundles of orders not finished (a run stopped while they were in work)."""
        for order in list(self.open):
            self.finish(order)


def data_columns(words: Labels) -> dict[str, Kind]:
    """The catalogue's names of the columns and fields that hold accounts, domains and Virtual
    Accounts: on a screen no reader could read (a dialog over the table, a half-drawn list),
    what shows under them is registered as what it is."""
    return {
        words.column_smart_account: Kind.ACCOUNT,
        words.column_account_name: Kind.ACCOUNT,
        words.column_virtual_account: Kind.VA,
        words.column_domain: Kind.DOMAIN,
        words.column_domain_identifier: Kind.DOMAIN,
    }


def failed_step(error: BaseException, completed_step: int) -> tuple[int, str]:
    """The step an attempt failed at and its name, as the error says, else the one after the last
    completed step."""
    step = error.step if isinstance(error, PortalError) else None
    if isinstance(error, StepFailed):
        name = error.name
    else:
        name = "server_error" if isinstance(error, PortalServerError) else "failed"
    return step or completed_step + 1, name


def register_request(redactor: Redactor, request: AssignRequest, signed_in: str | None) -> None:
    """What the agent was asked and who it signed in as: every one a customer's value."""
    redactor.add(Kind.ORDER, request.order_number)
    redactor.add(_SEARCHED[request.search_by], request.smart_account)
    redactor.add(Kind.VA, request.virtual_account)
    redactor.add(Kind.DOMAIN, request.expect_domain)
    redactor.add(Kind.EMAIL, signed_in)


async def read_what_shows(
    redactor: Redactor, page: Page, words: Labels, timeout_ms: float
) -> dict[str, Any]:
    """Each reader's result on the screen (by reader name), for those that read it within
    READ_MS; their values registered. The page's default timeout is `timeout_ms` again after."""
    found: dict[str, Any] = {}
    page.set_default_timeout(READ_MS)
    try:
        for name in READERS:
            try:
                found[name] = await read_screen(name, page, words)
            except (PageError, PlaywrightError, AssertionError):
                continue
    finally:
        page.set_default_timeout(timeout_ms)
    details = found.get("order_details", {})
    redactor.add_all(Kind.ORDER, (details.get("sales_order"), details.get("web_order")))
    for line in found.get("assignments", {}).get("lines", []):
        redactor.add(Kind.DOMAIN, line.get("domain"))
        redactor.add(Kind.ACCOUNT, line.get("smart_account"))
        redactor.add(Kind.VA, line.get("virtual_account"))
    for account in found.get("account_results", {}).get("accounts", []):
        redactor.add(Kind.DOMAIN, account.get("domain"))
        redactor.add(Kind.ACCOUNT, account.get("account_name"))
    return found
