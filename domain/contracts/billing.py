"""The billing processes (`billing-<YYYY-MM>` with a child `invoice-<customer>-<YYYY-MM>` per customer, credit notes
`credit-<invoice number>-<n>`, the monthly schedule's tick): activity names, workflow inputs and state, update
requests and activity payloads. Pure: nothing here does I/O."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from domain.billing.recurring import BillingMonth
from domain.contracts.tickets import Actor
from domain.roles import Role

# Who may approve, adjust, reject or credit an invoice.
FINANCE_ROLES = frozenset({Role.MSP_ADMIN, Role.FINANCE})


class BillingActivity:
    LIST_CUSTOMERS = "billing.list_customers"
    COMPOSE_DRAFT = "billing.compose_draft"
    ADJUST_DRAFT = "billing.adjust_draft"
    SET_DRAFT_STATUS = "billing.set_draft_status"
    ISSUE = "billing.issue"
    DELIVER = "billing.deliver"  # render the files once, then mail them once
    REMIND = "billing.remind"
    DRAFT_CREDIT_NOTE = "billing.draft_credit_note"


class DraftStatus(StrEnum):
    DRAFT = "draft"  # waiting for approval
    FAILED = "failed"  # the data has a problem: the reason is on the draft; fix it and recompose
    APPROVED = "approved"
    ISSUED = "issued"  # numbered, immutable
    REJECTED = "rejected"
    NOTHING = "nothing"  # no contract line, time or item in the month


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


# Issue dates and the schedule's month are the MSP's calendar days (workflows call these too).
SELLER_TIME_ZONE = "Europe/Berlin"


def local_day(at: datetime, zone: str = SELLER_TIME_ZONE) -> date:
    return at.astimezone(ZoneInfo(zone)).date()


def month_before(at: datetime, zone: str = SELLER_TIME_ZONE) -> str:
    """The month billed by a run started at `at`: the calendar month before, in `zone`."""
    day = local_day(at, zone)
    return str(BillingMonth(day.year - 1, 12) if day.month == 1 else BillingMonth(day.year, day.month - 1))


def parse_month(text: str) -> str:
    """'2026-11' as the canonical month text; ValueError otherwise."""
    return str(BillingMonth.parse(text))


class BillingRunInput(BaseModel):
    month: str  # YYYY-MM, the month billed
    dry_run: bool = False  # compose and show, never approve or issue
    customer_numbers: list[str] | None = None  # None: every customer with a billing profile
    started_by: UUID | None = None
    reminder_days: int = 3  # PSA_BILLING_REMINDER_DAYS of whoever started the run

    _month = field_validator("month")(classmethod(lambda cls, v: parse_month(v)))


class CustomerRef(BaseModel):
    tenant_id: UUID
    customer_number: str


class ListCustomers(BaseModel):
    month: str
    customer_numbers: list[str] | None = None


class InvoiceInput(BaseModel):
    """One customer's invoice of a month (child of the run), or a credit note (then `credit_of` is set)."""

    draft_id: UUID
    tenant_id: UUID
    customer_number: str
    month: str
    kind: InvoiceKind = InvoiceKind.INVOICE
    dry_run: bool = False
    parent_workflow_id: str | None = None  # told when the draft is ready, so the run can start the next customer
    credit_of: UUID | None = None
    credit_line_indexes: list[int] | None = None  # None: the whole invoice
    reason: str | None = None
    requested_by: UUID | None = None
    reminder_days: int = 3


class ComposeDraft(BaseModel):
    draft_id: UUID
    tenant_id: UUID
    month: str
    # Approve in the composing transaction when the contract auto-approves and the draft has no problem: one step
    # and one write less per invoice than a separate approval. Never in a dry run.
    approve_by_contract: bool = False


class DraftCreditNote(BaseModel):
    draft_id: UUID
    invoice_id: UUID
    line_indexes: list[int] | None = None
    reason: str
    requested_by: UUID | None = None


class DraftSummary(BaseModel):
    """What the workflow needs to know of a draft; the lines stay in the database."""

    draft_id: UUID
    status: DraftStatus
    kind: InvoiceKind = InvoiceKind.INVOICE
    number: str | None = None
    net_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    gross_total: Decimal = Decimal("0.00")
    line_count: int = 0
    problems: list[str] = Field(default_factory=list)
    auto_approve: bool = False


class SetDraftStatus(BaseModel):
    draft_id: UUID
    status: DraftStatus
    actor: Actor | None = None  # None: the run itself (auto-approval)
    reason: str | None = None


class IssueInvoice(BaseModel):
    draft_id: UUID
    issue_date: date  # the workflow's date in the seller's time zone


class DraftRef(BaseModel):
    draft_id: UUID


class Reminder(BaseModel):
    draft_id: UUID
    waiting_days: int


# Updates of an invoice workflow (the API exposes them to finance).
class ApproveRequest(BaseModel):
    actor: Actor


class RejectRequest(BaseModel):
    actor: Actor
    reason: str = Field(min_length=3, max_length=500)


class AdjustLineRequest(BaseModel):
    """Change one draft line; the reason goes to the audit trail."""

    actor: Actor
    line_index: int = Field(ge=0)
    quantity: Decimal | None = Field(default=None, max_digits=12, decimal_places=3)
    unit_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    description: str | None = Field(default=None, min_length=1, max_length=500)
    remove: bool = False
    reason: str = Field(min_length=3, max_length=500)


class AdjustDraft(BaseModel):
    draft_id: UUID
    request: AdjustLineRequest


class RecomposeRequest(BaseModel):
    actor: Actor


class InvoiceState(BaseModel):
    """What `invoice-<customer>-<month>` shows (query)."""

    draft: DraftSummary | None = None
    waiting_since: date | None = None
    reminders_sent: int = 0


class RunProgress(BaseModel):
    month: str
    total: int = 0
    drafted: int = 0  # waiting for approval
    issued: int = 0
    failed: int = 0  # a problem on the draft (see the draft)
    rejected: int = 0
    nothing: int = 0  # nothing to bill
    dry_run: bool = False
    finished: bool = False

    @property
    def done(self) -> int:
        return self.issued + self.rejected + self.nothing

    def label(self) -> str:
        return f"{self.done}/{self.total} done, {self.drafted} to approve, {self.failed} failed"


class InvoiceOutcome(BaseModel):
    """How a customer's invoice ended (child result) or where it stands (the signal to the run)."""

    customer_number: str
    draft_id: UUID
    status: DraftStatus
    number: str | None = None


class ScheduleTickInput(BaseModel):
    timezone: str = "Europe/Berlin"


Phase = Literal["compose", "approval", "issue", "done"]
