"""Request and response bodies of the billing run and its invoices."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import Body, CustomerNumber, text
from domain.contracts.billing import DraftStatus, InvoiceKind, parse_month

# [0-9], not \d: the pattern engine's \d matches any Unicode digit, which int() then reads ("２０３３-０１" -> 2033-01)
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2026-11"], description="YYYY-MM")]


class RunRequest(Body):
    month: Month
    dry_run: bool = Field(default=False, description="Compose and show the drafts; never approve or issue")
    customer_numbers: list[CustomerNumber] | None = Field(default=None, max_length=10_000, description="null: all")

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        return parse_month(value)


class RunStarted(BaseModel):
    month: str
    workflow_id: str
    progress_url: str


class RunStatus(BaseModel):
    month: str
    workflow_id: str
    temporal_status: str
    total: int
    drafted: int
    issued: int
    failed: int
    rejected: int
    nothing: int
    dry_run: bool
    finished: bool


class LinePublic(BaseModel):
    index: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net_amount: Decimal
    tax_class: str
    revenue_type: str
    source_kind: str
    source_ids: list[str]
    period_start: date | None
    period_end: date | None
    removed: bool


class InvoicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID
    customer_number: str
    kind: InvoiceKind
    period: str
    status: DraftStatus
    number: str | None
    currency: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    issue_date: date | None
    due_date: date | None
    problems: list[str]
    reason: str | None
    credit_of_id: UUID | None
    workflow_id: str
    files: list[str] = []
    lines: list[LinePublic] = []
    contingent: dict[str, Any] | None = None
    approved_at: datetime | None
    issued_at: datetime | None
    sent_at: datetime | None


class RejectBody(Body):
    reason: text(500, 3)


class AdjustBody(Body):
    quantity: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=3)
    unit_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    description: text(500) | None = None
    remove: bool = False
    reason: text(500, 3)


class CreditNoteBody(Body):
    # At least one line: an empty list was accepted (202) and the credit-note workflow then failed on "nothing left
    # to credit"; a line twice is a client error, not a double credit (the activity would quietly merge it).
    line_indexes: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None, min_length=1, max_length=1000, description="Lines of the invoice to credit; null: all"
    )
    reason: text(500, 3)

    @field_validator("line_indexes")
    @classmethod
    def _once_each(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each line at most once")
        return value


class CreditNoteStarted(BaseModel):
    id: UUID
    workflow_id: str
    credit_of: str


class ApproveAllResult(BaseModel):
    approved: list[str]
    refused: list[dict[str, str]]
