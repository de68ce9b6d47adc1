"""A bulk CSV's rows: a valid row as the flow's input, or an invalid one with its problems."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from agent.bulk import cells
from agent.bulk.problems import Problem, cell_error, shown, visible
from flows.models import AssignRequest, SearchBy
from pages.labels import normalize


class CsvRow(BaseModel):
    """One valid order row of the CSV: an AssignRequest's target plus where it came from."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    row: int = Field(ge=2, description="Spreadsheet row number; the header is row 1.")
    order_number: str
    search_by: SearchBy
    smart_account: str
    virtual_account: str
    expect_domain: str | None = None
    reference: str = ""

    @field_validator("order_number")
    @classmethod
    def _order_number(cls, value: str) -> str:
        return cells.order_number(value)

    @field_validator("search_by", mode="before")
    @classmethod
    def _search_by(cls, value: object) -> SearchBy:
        return cells.search_by(value)

    @field_validator("smart_account")
    @classmethod
    def _smart_account(cls, value: str, info: ValidationInfo) -> str:
        search_by = info.data.get("search_by")
        if not value:
            raise cell_error("is empty; give the Domain Identifier, Account Name or Email ID")
        if search_by is SearchBy.DOMAIN:
            return cells.domain_identifier(value)
        if search_by is SearchBy.EMAIL:
            return cells.email_id(value)
        if search_by is SearchBy.ACCOUNT_NAME:
            return cells.check_cell(value, cells.MAX_ACCOUNT_NAME, "an Account Name")
        longest = max(cells.MAX_DOMAIN, cells.MAX_ACCOUNT_NAME, cells.MAX_EMAIL)
        return cells.check_cell(value, longest, "a Smart Account")

    @field_validator("virtual_account")
    @classmethod
    def _virtual_account(cls, value: str) -> str:
        if not value:
            raise cell_error("is empty; give the Virtual Account name (often DEFAULT)")
        return cells.check_cell(value, cells.MAX_VIRTUAL_ACCOUNT, "a Virtual Account name")

    @field_validator("expect_domain")
    @classmethod
    def _expect_domain(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        cells.domain_identifier(value)
        searched = info.data.get("smart_account")
        if (
            info.data.get("search_by") is SearchBy.DOMAIN
            and searched is not None
            and searched.casefold() != value.casefold()
        ):
            raise cell_error(
                f"'{value}' contradicts smart_account '{searched}', which is already searched "
                "by domain; leave expect_domain empty"
            )
        return value

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str) -> str:
        # Free text: a spreadsheet cell may hold line breaks, the report quotes them.
        return cells.check_cell(value, cells.MAX_REFERENCE, "a reference", line_breaks=True)

    def target_key(self) -> tuple[str, str, str, str]:
        """What must match for two rows of one order to be the same request."""
        # Compared as the agent matches them: ignoring case and surrounding/repeated spaces.
        return (
            self.search_by.value,
            normalize(self.smart_account).casefold(),
            normalize(self.virtual_account).casefold(),
            (self.expect_domain or "").casefold(),
        )

    def target_text(self) -> str:
        """The target as a person reads it, e.g. "acme.example / DEFAULT"."""
        return f"{self.smart_account} / {self.virtual_account}"

    def request(
        self, *, dry_run: bool = False, allow_pending: bool = False, allow_internal: bool = False
    ) -> AssignRequest:
        """The flow's input for this row."""
        return AssignRequest(
            order_number=self.order_number,
            search_by=self.search_by,
            smart_account=self.smart_account,
            virtual_account=self.virtual_account,
            expect_domain=self.expect_domain,
            dry_run=dry_run,
            allow_pending=allow_pending,
            allow_internal=allow_internal,
        )


@dataclass(frozen=True)
class InvalidRow:
    """A row that failed validation: its cells as written and why it cannot run.

    Invisible characters in the cells are spelled out (<U+202E>), so that a report or a terminal
    never shows text that looks like something else.
    """

    row: int
    cells: dict[str, str]
    problems: tuple[Problem, ...]

    @property
    def order_number(self) -> str:
        return self.cells.get("order_number", "")

    @property
    def reason(self) -> str:
        """The problems without the file name, for the report's detail column."""
        return "; ".join(
            f"{p.column}: {p.message}" if p.column else p.message for p in self.problems
        )


def row_from_cells(
    number: int, record: list[str], header: list[str], name: str
) -> CsvRow | InvalidRow:
    """Row `number` of the file validated: its cells (`record`) under the header's column names."""
    values = {column: cell.strip() for column, cell in zip(header, record, strict=False)}
    written = {column: visible(value) for column, value in values.items()}
    extra = [cell for cell in record[len(header) :] if cell.strip()]
    if len(record) < len(header) or extra:
        message = f"has {len(record)} cells but the header has {len(header)} columns"
        if extra:
            message += f" (extra value {shown(extra[0].strip())})"
        problem = Problem(name, number, None, message + "; check delimiters and quotes")
        return InvalidRow(number, written, (problem,))
    try:
        return CsvRow.model_validate({"row": number, **values})
    except ValidationError as exc:
        problems = tuple(
            Problem(name, number, str(error["loc"][0]), error["msg"]) for error in exc.errors()
        )
        return InvalidRow(number, written, problems)
