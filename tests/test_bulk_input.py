"""Bulk CSV input: decoding, header matching, row validation and duplicate handling."""

from __future__ import annotations

import hashlib
import os
import threading
import tracemalloc
from pathlib import Path

import pytest

from agent.bulk import csv_file
from agent.bulk.csv_input import (
    MAX_FILE_BYTES,
    CsvRow,
    InvalidCsv,
    InvalidRow,
    OrderFile,
    iter_orders,
    load_orders,
)
from flows.models import SearchBy
from pages.errors import InputError

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


# --- hardening: every cell, every file ---------------------------------------------------------


def one_problem(tmp_path: Path, row: str) -> str:
    """The single problem of a file made of the header and this one row."""
    (problem,) = problems_of(write(tmp_path, HEADER + row + "\n"))
    return problem


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("https://x.example", "it is a web address; give only its domain ('x.example')"),
        ("http://x.example/path?q=1", "it is a web address; give only its domain ('x.example')"),
        (
            '"=HYPERLINK(""http://evil.example"",""x"")"',
            "it starts with '=', which a spreadsheet runs as a formula",
        ),
        ("+acme.example", "it starts with '+', which a spreadsheet runs as a formula"),
        ("acme.example/orders", "it has a path ('/'); give only the domain"),
        ("acme.example:443", "it has a port (':'); give only the domain"),
        ("acme", "it has no dot"),
        ("acme..example", "it has an empty part between dots"),
        (".acme.example", "it has an empty part between dots"),
        ("acme_corp.example", "it has the character '_'; a domain has only letters, digits"),
        ("acme-.example", "it has a part that starts or ends with '-'"),
        ("10.0.0.1", "it ends in a number, like an IP address"),
        ("a" * 64 + ".example", "it has a part longer than 63 characters between dots"),
        (
            "bücher.example",
            "it has letters outside ASCII; give the domain in its ASCII (punycode) form as the "
            "portal shows it, such as 'xn--bcher-kva.example'",
        ),
    ],
)
def test_a_domain_identifier_must_be_a_domain_name(tmp_path: Path, cell: str, reason: str) -> None:
    problem = one_problem(tmp_path, f"110000001,domain,{cell},DEFAULT,,")

    assert problem.startswith("orders.csv row 2, column smart_account: ")
    assert "is not a Domain Identifier (like acme.example): " + reason in problem


def test_expect_domain_follows_the_same_rule(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "110000008,account_name,Umbrella Corp,Research,=1+1,")

    assert problem == (
        "orders.csv row 2, column expect_domain: '=1+1' is not a Domain Identifier (like "
        "acme.example): it starts with '=', which a spreadsheet runs as a formula"
    )


def test_domain_names_as_they_are_written_pass(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,xn--bcher-kva.example,DEFAULT,,\n"
        + "110000002,domain,EMEA.Umbrella-Corp.example,DEFAULT,,\n"
        + "110000003,domain,a1.b2.c3.example,DEFAULT,,\n"
        + f"110000004,domain,{'a' * 63}.example,DEFAULT,,\n",
    )

    assert len(load_orders(path).rows) == 4


def test_a_5000_character_cell_is_refused_without_being_echoed(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, f"110000001,domain,{'a' * 5000},DEFAULT,,")

    assert "(5000 characters) is not a Domain Identifier" in problem
    assert "it is 5000 characters long; a domain name has at most 253" in problem
    assert len(problem) < 300


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            f"110000001,account_name,{'A' * 201},DEFAULT,,",
            "column smart_account: is 201 characters long; an Account Name has at most 200",
        ),
        (
            f"110000001,domain,acme.example,{'V' * 101},,",
            "column virtual_account: is 101 characters long; a Virtual Account name has at "
            "most 100",
        ),
        (
            f"110000001,email,{'a' * 64}@{'b' * 186}.example,DEFAULT,,",
            "column smart_account: is 259 characters long; an email address has at most 254",
        ),
        (
            f"110000001,domain,acme.example,DEFAULT,,{'R' * 1001}",
            "column reference: is 1001 characters long; a reference has at most 1000",
        ),
    ],
)
def test_cells_have_length_caps(tmp_path: Path, row: str, expected: str) -> None:
    assert one_problem(tmp_path, row) == f"orders.csv row 2, {expected}"


def test_cells_at_their_length_caps_pass(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + f"110000001,account_name,{'A' * 200},{'V' * 100},,{'R' * 1000}\n"
        + f"110000002,email,{'a' * 64}@{'b' * 60}.{'c' * 60}.{'d' * 59}.example,DEFAULT,,\n",
    )

    assert len(load_orders(path).rows) == 2


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("a@b@c", "it has 2 '@' where an address has one"),
        ("it admin@umbrella.example", "it has a space"),
        ("@umbrella.example", "nothing comes before the '@'"),
        ("it-admin@", "nothing comes after the '@'"),
        ("it..admin@umbrella.example", "the part before the '@' may hold only ASCII letters"),
        ("it-admin@umbrella", "its domain 'umbrella' has no dot"),
        ("it-admin@https://umbrella.example", "its domain 'https://umbrella.example' is a web"),
        ("it-admin@umbrella.example/x", "its domain 'umbrella.example/x' has a path"),
        (f"{'a' * 65}@umbrella.example", "the part before the '@' is over 64 characters"),
    ],
)
def test_an_email_id_must_be_an_address(tmp_path: Path, cell: str, reason: str) -> None:
    problem = one_problem(tmp_path, f"110000009,email,{cell},Research,,")

    assert problem.startswith("orders.csv row 2, column smart_account: ")
    assert "is not an email address: " + reason in problem


def test_plain_addresses_pass(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000009,email,it-admin@umbrella.example,Research,,\n"
        + "110000010,email,first.last+ccw@emea.umbrella.example,Research,,\n",
    )

    assert len(load_orders(path).rows) == 2


@pytest.mark.parametrize(
    ("char", "described"),
    [
        ("\x00", "the control character U+0000 (NUL)"),
        ("\x1b", "the control character U+001B (ESC)"),
        ("\x07", "the control character U+0007"),
        ("\x85", "the control character U+0085"),
        ("\u202e", "the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u202a", "the invisible character U+202A (LEFT-TO-RIGHT EMBEDDING)"),
        ("\u2066", "the invisible character U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ("\u2069", "the invisible character U+2069 (POP DIRECTIONAL ISOLATE)"),
        ("\u200e", "the invisible character U+200E (LEFT-TO-RIGHT MARK)"),
        ("\u200f", "the invisible character U+200F (RIGHT-TO-LEFT MARK)"),
        ("\u200b", "the invisible character U+200B (ZERO WIDTH SPACE)"),
        ("\ufeff", "the invisible character U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("\u2028", "the invisible character U+2028 (LINE SEPARATOR)"),
    ],
)
@pytest.mark.parametrize(
    ("column", "template"),
    [
        ("order_number", "1100{c}00001,domain,acme.example,DEFAULT,,"),
        ("search_by", "110000001,dom{c}ain,acme.example,DEFAULT,,"),
        ("smart_account", "110000001,domain,ac{c}me.example,DEFAULT,,"),
        ("smart_account", "110000001,account_name,Ac{c}me Corp,DEFAULT,,"),
        ("smart_account", "110000001,email,it{c}@acme.example,DEFAULT,,"),
        ("virtual_account", "110000001,domain,acme.example,DEF{c}AULT,,"),
        ("expect_domain", "110000001,account_name,Acme,DEFAULT,ac{c}me.example,"),
        ("reference", "110000001,domain,acme.example,DEFAULT,,PO{c}-1"),
    ],
)
def test_control_and_formatting_characters_are_refused_in_every_column(
    tmp_path: Path, char: str, described: str, column: str, template: str
) -> None:
    problem = one_problem(tmp_path, template.format(c=char))

    assert problem.startswith(f"orders.csv row 2, column {column}: contains {described} at ")
    assert char not in problem, "the message never carries the character itself"


def test_a_tab_inside_a_cell_is_a_control_character(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, '110000001,domain,"acme\t.example",DEFAULT,,')

    assert problem == (
        "orders.csv row 2, column smart_account: contains the control character U+0009 (TAB) at "
        "character 5; remove it and save again"
    )


def test_invalid_cells_reach_the_report_with_invisible_characters_spelled_out(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, HEADER + "110000001,account_name,Acme\u202e Corp,DEFAULT,,PO-1\n")

    (bad,) = load_orders(path, skip_invalid=True).invalid

    assert bad.cells["smart_account"] == "Acme<U+202E> Corp"
    assert "\u202e" not in bad.reason


def test_a_control_character_in_the_header_names_its_column(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.replace("search_by", "search\x00by") + "1,2,3,4,,\n")

    assert problems_of(path)[0] == (
        "orders.csv row 1: the header of column 2 contains the control character U+0000 (NUL) at "
        "character 7; remove it and save again"
    )


@pytest.mark.parametrize(
    "number",
    ["١١٠٠٠٠٠٠١", "۱۱۰۰۰۰۰۰۱", "１１００００００１", "11000000\u0661"],
    ids=["arabic-indic", "extended-arabic-indic", "full-width", "one-arabic-indic-digit"],
)
def test_order_numbers_take_ascii_digits_only(tmp_path: Path, number: str) -> None:
    problem = one_problem(tmp_path, f"{number},domain,acme.example,DEFAULT,,")

    assert problem == (
        f"orders.csv row 2, column order_number: '{number}' has digits other than 0-9 (such as "
        "Arabic-Indic or full-width digits); type the order number with the digits 0 to 9"
    )


def test_leading_zeros_do_not_make_another_order(tmp_path: Path) -> None:
    """Rows keep the number as typed; duplicates are found by order_key."""
    same = write(
        tmp_path,
        HEADER
        + "0110000001,domain,acme.example,DEFAULT,,\n"
        + "110000001,domain,ACME.example,default,,\n",
    )
    different = write(
        tmp_path,
        HEADER
        + "0110000001,domain,acme.example,DEFAULT,,\n"
        + "110000001,domain,globex.example,DEFAULT,,\n",
        name="conflict.csv",
    )

    loaded = load_orders(same)
    assert [row.order_number for row in loaded.rows] == ["0110000001"]
    assert loaded.warnings == (
        "orders.csv rows 2, 3: order 0110000001 is repeated with the same target "
        "(acme.example / DEFAULT); it will run once, as row 2",
    )
    assert problems_of(different) == [
        f"conflict.csv row {row}, column order_number: order 0110000001 is on rows 2, 3 with "
        "different targets (row 2: acme.example / DEFAULT; row 3: globex.example / DEFAULT)"
        for row in (2, 3)
    ]


def test_tab_delimited_files_are_read(tmp_path: Path) -> None:
    """Excel's "Text (Tab delimited)"; a comma in a cell stays in the cell."""
    text = HEADER.replace(",", "\t") + "110000001\tdomain\tacme.example\tDC West\t\tPO 1, lot A\n"
    (row,) = load_orders(write(tmp_path, text)).rows

    assert (row.order_number, row.virtual_account, row.reference) == (
        "110000001",
        "DC West",
        "PO 1, lot A",
    )


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_files_with_or_without_a_byte_order_mark_are_named(
    tmp_path: Path, encoding: str
) -> None:
    text = HEADER.replace(",", "\t") + "110000001\tdomain\tacme.example\tDEFAULT\t\t\n"
    path = write(tmp_path, text.encode(encoding))

    assert problems_of(path) == ["orders.csv: is UTF-16 text; save it as 'CSV UTF-8' instead"]


def test_a_nul_byte_in_utf8_text_is_not_taken_for_utf16(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "110000001,domain,acme.example,DEF\x00AULT,,")

    assert "column virtual_account: contains the control character U+0000 (NUL)" in problem


def load_in_thread(path: Path) -> list[str]:
    """Problems of load_orders, from a thread the test does not wait on for ever."""
    found: list[str] = []

    def load() -> None:
        try:
            load_orders(path)
        except InvalidCsv as exc:
            found.extend(str(problem) for problem in exc.problems)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), f"reading {path} hangs"
    return found


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "orders.csv"
    os.mkfifo(fifo)

    assert load_in_thread(fifo) == [
        f"orders.csv: {fifo} is a named pipe (FIFO), not a file; give the path of a CSV file"
    ]


def test_a_device_is_refused_rather_than_read_for_ever() -> None:
    assert load_in_thread(Path("/dev/zero")) == [
        "zero: /dev/zero is a character device, not a file; give the path of a CSV file"
    ]


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [
        f"{tmp_path.name}: {tmp_path} is a folder, not a file; give the path of a CSV file"
    ]


def test_a_file_over_50_mib_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    with path.open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space, no time

    assert problems_of(path) == [
        "orders.csv: is 50.0 MiB; the limit is 50 MiB, so split it into smaller files"
    ]


def test_a_file_that_grows_past_the_cap_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, HEADER + "110000001,domain,acme.example,DEFAULT,,\n" * 3)
    size = path.stat().st_size
    monkeypatch.setattr(csv_file, "MAX_FILE_BYTES", size - 1)
    # As if it had been small when opened: only the reading itself can tell.
    monkeypatch.setattr(csv_file, "_check_file", lambda *_: None)

    assert problems_of(path) == [
        f"orders.csv: is {size / 1048576:.1f} MiB; the limit is 0 MiB, so split it into "
        "smaller files"
    ]


# --- streaming ---------------------------------------------------------------------------------


def big_file(tmp_path: Path, rows: int) -> Path:
    lines = (
        f"{2000000000 + n},domain,customer-{n % 40}.example,DEFAULT,,PO-{n}\n" for n in range(rows)
    )
    return write(tmp_path, HEADER + "".join(lines), name="big.csv")


def test_iter_orders_yields_rows_one_at_a_time_before_a_problem_further_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_file, "CHUNK_BYTES", 64)  # as if the file were large
    path = write(
        tmp_path,
        (
            HEADER + "110000001,domain,acme.example,DEFAULT,,\n110000002,domian,x.example,D,,\n"
        ).encode()
        + b"110000003,domain,soci\xe9t\xe9.example,DEFAULT,,\n",
    )

    items = iter_orders(path)
    first, second = next(items), next(items)

    assert isinstance(first, CsvRow) and first.order_number == "110000001"
    assert isinstance(second, InvalidRow) and second.row == 3
    with pytest.raises(InvalidCsv, match=r"row 4: is not UTF-8 text: byte 0xe9"):
        next(items)


def test_iter_orders_keeps_no_rows_in_memory(tmp_path: Path) -> None:
    path = big_file(tmp_path, 6_000)  # about 330 kB, several chunks
    assert sum(1 for _ in iter_orders(path)) == 6_000  # caches (pydantic's strings) now full

    tracemalloc.start()
    try:
        sum(1 for _ in iter_orders(path))
        _, streamed = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        held = list(iter_orders(path))
        _, holding = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(held) == 6_000
    assert streamed * 10 < holding, f"{streamed} bytes at most while streaming, {holding} held"


def test_an_order_file_is_scanned_once_then_read_again_as_a_stream(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "110000001,domain,acme.example,DEFAULT,,\n"
        + "110000002,domian,acme.example,DEFAULT,,\n"
        + "110000001,domain,ACME.example,DEFAULT,,\n"
        + "110000003,domain,acme.example,DEFAULT,,\n"
        + "0110000003,domain,globex.example,DEFAULT,,\n",
    )

    orders = OrderFile.scan(path)

    assert orders.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (orders.valid_rows, orders.invalid_rows) == (1, 3)
    assert orders.warnings == (
        "orders.csv rows 2, 4: order 110000001 is repeated with the same target "
        "(acme.example / DEFAULT); it will run once, as row 2",
    )
    assert [p.row for p in orders.problems] == [3, 5, 6]
    with pytest.raises(InvalidCsv):
        orders.check()
    items = list(orders.items())
    assert [(item.row, type(item).__name__) for item in items] == [
        (2, "CsvRow"),
        (3, "InvalidRow"),
        (5, "InvalidRow"),
        (6, "InvalidRow"),
    ]
    assert items == list(orders.items()), "read again, the same"


def test_an_order_file_that_changed_since_its_scan_is_refused(tmp_path: Path) -> None:
    path = big_file(tmp_path, 3_000)  # about 3 chunks
    orders = OrderFile.scan(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"2000002500")
    data[at : at + 10] = b"2000009999"
    path.write_bytes(bytes(data))

    seen: list[int] = []
    with pytest.raises(InvalidCsv, match="changed while it was being read"):
        for item in orders.items():
            seen.append(item.row)

    assert seen and max(seen) < 2500, "nothing read from the changed part was given out"


def test_an_order_file_that_grew_since_its_scan_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "110000001,domain,acme.example,DEFAULT,,\n")
    orders = OrderFile.scan(path)
    with path.open("a", encoding="utf-8") as stream:
        stream.write("110000002,domain,acme.example,DEFAULT,,\n")

    with pytest.raises(InvalidCsv, match="changed while it was being read"):
        list(orders.items())


def test_too_many_problems_are_listed_up_to_a_cap(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "12AB,domain,acme.example,DEFAULT,,\n" * 250)

    with pytest.raises(InvalidCsv) as caught:
        load_orders(path)

    assert len(caught.value.problems) == 200
    assert str(caught.value).startswith("250 problems in the input, nothing was run:\n")
    assert str(caught.value).endswith("\n  ... and 50 more, not listed")
    assert len(load_orders(path, skip_invalid=True).invalid) == 250


def test_line_endings_split_across_chunks_are_read_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_file, "CHUNK_BYTES", 7)  # every boundary falls somewhere odd
    rows = [
        "110000001,domain,acme.example,DEFAULT,,PO-1",
        '110000002,account_name,Société Générale,DEFAULT,,"two\r\nlines"',
        "110000003,domain,acme.example,DEFAULT,,PO-3",
    ]
    for ending in ("\r\n", "\r", "\n"):
        text = HEADER.rstrip("\n") + ending + ending.join(rows) + ending
        loaded = load_orders(write(tmp_path, "\ufeff" + text))

        assert [row.row for row in loaded.rows] == [2, 3, 4], repr(ending)
        assert loaded.rows[1].smart_account == "Société Générale"
        assert loaded.rows[1].reference == "two\r\nlines"
