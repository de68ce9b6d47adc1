"""Bulk CSV input: decoding, header matching, row validation and duplicate handling."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agent.bulk.csv_input import InvalidCsv, load_orders
from agent.errors import InputError
from flows.models import SearchBy

HEADER = "order_number,search_by,smart_account,virtual_account,expect_domain,reference\n"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "orders.csv"


def write(tmp_path: Path, text: str | bytes, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InvalidCsv) as caught:
        load_orders(path)
    return [str(problem) for problem in caught.value.problems]


def test_valid_file_gives_typed_rows_numbered_like_a_spreadsheet(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,acme.example,DEFAULT,,PO-1001\n"
        + "110000008, account_name , Umbrella Corp ,Research,umbrella.example,\n",
    )

    loaded = load_orders(path)

    first, second = loaded.rows
    assert (first.row, first.order_number, first.search_by) == (2, "110000001", SearchBy.DOMAIN)
    assert (first.smart_account, first.virtual_account) == ("acme.example", "DEFAULT")
    assert (first.expect_domain, first.reference) == (None, "PO-1001")
    assert (second.row, second.search_by) == (3, SearchBy.ACCOUNT_NAME)
    assert (second.smart_account, second.expect_domain) == ("Umbrella Corp", "umbrella.example")
    assert loaded.invalid == () and loaded.warnings == ()
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_bom_semicolons_and_header_spelling_variants_are_accepted(tmp_path: Path) -> None:
    # French Excel: BOM, semicolons, commas inside values, CRLF, headers as people type them.
    text = (
        "Order Number; Search By ;SMART-ACCOUNT;Virtual_Account;Expect Domain;REFERENCE\r\n"
        "110000001;Domain Identifier;acme.example;DC West;;Commande 1, lot A\r\n"
    )
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))

    (row,) = load_orders(path).rows

    assert row.order_number == "110000001"
    assert row.search_by is SearchBy.DOMAIN
    assert row.virtual_account == "DC West"
    assert row.reference == "Commande 1, lot A"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Domain Identifier", SearchBy.DOMAIN),
        ("DOMAIN", SearchBy.DOMAIN),
        ("account name", SearchBy.ACCOUNT_NAME),
        ("Account_Name", SearchBy.ACCOUNT_NAME),
        ("Email ID", SearchBy.EMAIL),
        ("email", SearchBy.EMAIL),
    ],
)
def test_search_by_accepts_codes_and_ui_labels(
    tmp_path: Path, written: str, expected: SearchBy
) -> None:
    target = "x@acme.example" if expected is SearchBy.EMAIL else "acme.example"
    path = write(tmp_path, HEADER + f"110000001,{written},{target},DEFAULT,,\n")

    assert load_orders(path).rows[0].search_by is expected


def test_every_row_problem_is_reported_at_once_with_file_row_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,acme.example,DEFAULT,,\n"
        + "12AB,domain,acme.example,DEFAULT,,\n"
        + "110000003,domian,acme.example,DEFAULT,,\n"
        + "110000004,email,acme.example,,,\n"
        + "1.1E+08,domain,acme corp,DEFAULT,,\n",
    )

    with pytest.raises(InputError) as caught:
        load_orders(path)

    assert isinstance(caught.value, InvalidCsv)
    assert [str(p) for p in caught.value.problems] == [
        "orders.csv row 3, column order_number: '12AB' is not an order number (6 to 12 digits)",
        "orders.csv row 4, column search_by: 'domian' is not one of domain, account_name, email",
        "orders.csv row 5, column smart_account: 'acme.example' is not an email address, "
        "and search_by is email",
        "orders.csv row 5, column virtual_account: is empty; give the Virtual Account name "
        "(often DEFAULT)",
        "orders.csv row 6, column order_number: '1.1E+08' looks like a number that a spreadsheet "
        "shortened to scientific notation; format the column as Text and type the order number "
        "again",
        "orders.csv row 6, column smart_account: 'acme corp' is not a Domain Identifier "
        "(like acme.example)",
    ]
    assert str(caught.value).startswith("6 problems in the input, nothing was run:\n")


def test_empty_required_cells_and_contradicting_expect_domain(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + ",domain,acme.example,DEFAULT,,\n"
        + "110000002,,acme.example,DEFAULT,,\n"
        + "110000003,domain,,DEFAULT,,\n"
        + "110000004,domain,acme.example,DEFAULT,globex.example,\n"
        + "110000005,email,a@acme.example,DEFAULT,not a domain,\n",
    )

    assert problems_of(path) == [
        "orders.csv row 2, column order_number: is empty; every row needs a Sales Order or "
        "Web Order number",
        "orders.csv row 3, column search_by: is empty; use one of domain, account_name, email",
        "orders.csv row 4, column smart_account: is empty; give the Domain Identifier, "
        "Account Name or Email ID",
        "orders.csv row 5, column expect_domain: 'globex.example' contradicts smart_account "
        "'acme.example', which is already searched by domain; leave expect_domain empty",
        "orders.csv row 6, column expect_domain: 'not a domain' is not a Domain Identifier "
        "(like acme.example)",
    ]


def test_header_problems_name_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "order_number,search_by,smart_acount,colour,search_by,,reference\n")

    assert problems_of(path) == [
        "orders.csv row 1, column smart_acount: unknown column; did you mean smart_account?",
        "orders.csv row 1, column colour: unknown column; known columns: order_number, "
        "search_by, smart_account, virtual_account, expect_domain, reference",
        "orders.csv row 1, column search_by: appears twice in the header (columns 2 and 5)",
        "orders.csv row 1: the header of column 6 is empty",
        "orders.csv row 1: missing required columns smart_account, virtual_account; the first "
        "row must be the header: order_number,search_by,smart_account,virtual_account,"
        "expect_domain,reference",
    ]


def test_a_file_without_header_is_told_what_the_header_must_be(tmp_path: Path) -> None:
    path = write(tmp_path, "110000001,domain,acme.example,DEFAULT\n")

    assert problems_of(path)[-1] == (
        "orders.csv row 1: missing required columns order_number, search_by, smart_account, "
        "virtual_account; the first row must be the header: order_number,search_by,"
        "smart_account,virtual_account,expect_domain,reference"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "orders.csv: is empty; the first row must be the header"),
        (b"\xef\xbb\xbf \r\n", "orders.csv: is empty; the first row must be the header"),
        (HEADER.encode(), "orders.csv: has a header but no order rows below it"),
        (HEADER.encode() + b",,,,,\n\n", "orders.csv: has a header but no order rows below it"),
        (
            "\ufeffh\n".encode("utf-16-le"),
            "orders.csv: is UTF-16 text; save it as 'CSV UTF-8' instead",
        ),
    ],
)
def test_empty_and_wrongly_encoded_files(tmp_path: Path, content: bytes, expected: str) -> None:
    assert problems_of(write(tmp_path, content)) == [expected]


def test_undecodable_bytes_are_located_by_byte_offset_and_row(tmp_path: Path) -> None:
    body = HEADER.encode() + b"110000001,account_name,Soci\xe9t\xe9,DEFAULT,,\n"
    offset = body.index(b"\xe9")

    assert problems_of(write(tmp_path, b"\xef\xbb\xbf" + body)) == [
        f"orders.csv row 2: is not UTF-8 text: byte 0xe9 at byte offset {offset + 3} cannot be "
        "decoded; save the file as 'CSV UTF-8'"
    ]


def test_rows_with_too_many_or_too_few_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,acme.example,DEFAULT,,PO-1,,\n"  # empty trailing cells are harmless
        + "110000002,domain,acme.example,DEFAULT,,PO-2,surplus\n"
        + "110000003,domain,acme.example,DEFAULT\n",
    )

    assert problems_of(path) == [
        "orders.csv row 3: has 7 cells but the header has 6 columns (extra value 'surplus'); "
        "check delimiters and quotes",
        "orders.csv row 4: has 4 cells but the header has 6 columns; check delimiters and quotes",
    ]


def test_an_unclosed_quote_is_reported_where_it_starts(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + '110000001,domain,acme.example,DEFAULT,,"PO-1\n')

    assert problems_of(path) == [
        "orders.csv row 2: a quoted cell that starts in this row is never closed"
    ]


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_spreadsheet(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        HEADER
        + '110000001,domain,acme.example,DEFAULT,,"two\nlines"\n'
        + "\n"
        + ",,,,,\n"
        + "110000002,domian,acme.example,DEFAULT,,\n",
    )

    assert problems_of(path) == [
        "orders.csv row 5, column search_by: 'domian' is not one of domain, account_name, email"
    ]


def test_skip_invalid_runs_the_valid_rows_and_returns_the_others(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,acme.example,DEFAULT,,PO-1\n"
        + "110000002,domian,acme.example,DEFAULT,,PO-2\n",
    )

    loaded = load_orders(path, skip_invalid=True)

    assert [row.order_number for row in loaded.rows] == ["110000001"]
    (bad,) = loaded.invalid
    assert (bad.row, bad.order_number, bad.cells["reference"]) == (3, "110000002", "PO-2")
    assert bad.reason == "search_by: 'domian' is not one of domain, account_name, email"


def test_one_order_with_two_targets_is_refused_naming_both_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,acme.example,DEFAULT,,\n"
        + "110000002,domain,acme.example,DEFAULT,,\n"
        + "110000001,domain,globex.example,Production,,\n",
    )
    message = (
        "order 110000001 is on rows 2, 4 with different targets "
        "(row 2: acme.example / DEFAULT; row 4: globex.example / Production)"
    )

    assert problems_of(path) == [
        f"orders.csv row 2, column order_number: {message}",
        f"orders.csv row 4, column order_number: {message}",
    ]
    loaded = load_orders(path, skip_invalid=True)
    assert [row.order_number for row in loaded.rows] == ["110000002"]
    assert [bad.row for bad in loaded.invalid] == [2, 4]
    assert loaded.invalid[1].cells["smart_account"] == "globex.example"


def test_identical_repeats_run_once_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,acme.example,DEFAULT,,PO-1\n"
        + "110000001,Domain Identifier,ACME.example,DEFAULT,,PO-1 again\n",
    )

    loaded = load_orders(path)

    assert [(row.row, row.reference) for row in loaded.rows] == [(2, "PO-1")]
    assert loaded.warnings == (
        "orders.csv rows 2, 3: order 110000001 is repeated with the same target "
        "(acme.example / DEFAULT); it will run once, as row 2",
    )


def test_duplicates_compare_targets_as_the_agent_matches_them(tmp_path: Path) -> None:
    """The agent matches Virtual Account and Account Names ignoring case: so do duplicates."""
    path = write(
        tmp_path,
        HEADER
        + "110000010,domain,acme.example,lab Sandbox,,\n"
        + "110000010,domain,ACME.example, LAB  SANDBOX ,,\n",
    )

    loaded = load_orders(path)

    assert [row.row for row in loaded.rows] == [2]
    assert len(loaded.warnings) == 1 and "rows 2, 3" in loaded.warnings[0]


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.csv") == [
        "nope.csv: cannot be read: No such file or directory"
    ]


def test_rows_become_assign_requests_with_the_run_options(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "110000009,email,it-admin@umbrella.example,Research,,\n")
    (row,) = load_orders(path).rows

    request = row.request(dry_run=True, allow_pending=True)

    assert request.order_number == "110000009"
    assert request.search_by is SearchBy.EMAIL
    assert request.smart_account == "it-admin@umbrella.example"
    assert (request.dry_run, request.allow_pending, request.allow_internal) == (True, True, False)


def test_the_example_file_covers_every_scenario_order() -> None:
    loaded = load_orders(EXAMPLE)

    orders = {row.order_number for row in loaded.rows}
    scenario = {str(n) for n in range(110000001, 110000017)} - {"110000012"}
    assert scenario <= orders
    assert "80000012" in orders  # 110000012 is reached by its web order number
    assert {"2000000001", "2000000002"} <= orders
    assert {row.search_by for row in loaded.rows} == set(SearchBy)
    assert all(row.reference for row in loaded.rows)
    assert loaded.warnings == ()
