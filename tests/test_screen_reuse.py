"""Orders in a row on one page: the next starts from the screen the last one left, safely."""

from __future__ import annotations

from helpers import portal_session
from playwright.async_api import Page, Request

from flows.assign import assign_smart_account
from flows.models import AssignRequest, Outcome, SearchBy
from flows.view import view_assignment
from mock_site.data import book_rows
from mock_site.server import MockServer


def requests_of(rows: list[dict[str, str]]) -> list[AssignRequest]:
    return [
        AssignRequest(
            order_number=row["order_number"],
            search_by=SearchBy.DOMAIN,
            smart_account=row["domain"],
            virtual_account=row["virtual_account"],
        )
        for row in rows
    ]


async def test_the_next_order_starts_from_the_screen_the_last_one_left(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given one order assigned on this page
    session = portal_session(page, base_url)
    first, second = requests_of(book_rows(2))
    assert (await assign_smart_account(session, first)).outcome is Outcome.ASSIGNED
    documents: list[str] = []

    def note(request: Request) -> None:
        if request.resource_type == "document":
            documents.append(request.url)

    page.on("request", note)
    # When the next order is assigned
    result = await assign_smart_account(session, second)
    # Then it is assigned without loading any page: the header's search is on every screen
    assert result.outcome is Outcome.ASSIGNED, result.detail
    assert documents == []


async def test_an_earlier_orders_success_toast_is_not_read_as_the_next_answer(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given a release whose success message is a toast that outlives the screen, and one order
    # assigned, so that its toast still shows when the next order's Yes is clicked
    mock.set_release("compact")
    session = portal_session(page, base_url, step_attempts=2)
    first, second = requests_of(book_rows(2))
    assert (await assign_smart_account(session, first)).outcome is Outcome.ASSIGNED
    toast = page.get_by_role("alert").or_(page.get_by_role("status"))
    assert await toast.filter(has_text="submitted successfully").count()

    # When the portal answers the next submission with an error and does not apply it
    failed: list[int] = []

    def fail_submit(step: int, name: str) -> None:
        if step == 9 and not failed:
            failed.append(step)
            mock.set_faults(fail_next=[{"path_contains": "/assign", "count": 1}])

    result = await assign_smart_account(session.with_hooks(on_step=fail_submit), second)

    # Then that error is the answer read (not the earlier toast): the submission is proven not
    # taken, sent once more, and the portal holds exactly one
    assert result.outcome is Outcome.ASSIGNED, result.detail
    assert "submitted 2 times" in result.detail
    snapshot = mock.order(second.order_number)
    assert snapshot and len(snapshot["submissions"]) == 1


async def test_a_no_results_answer_left_on_screen_is_not_reused(
    page: Page, base_url: str, mock: MockServer
) -> None:
    # Given an order the portal answered "No results found" for, its words still on screen
    session = portal_session(page, base_url)
    missing = await view_assignment(session, "999999999")
    assert not missing.found
    documents: list[str] = []

    def note(request: Request) -> None:
        if request.resource_type == "document":
            documents.append(request.url)

    page.on("request", note)
    # When the next order is looked up
    found = await view_assignment(session, "110000001")
    # Then the portal's home is loaded first: a portal that leaves the old answer up until the
    # new one arrives would otherwise answer "not found" for this order too
    assert found.found, found.detail
    assert documents
