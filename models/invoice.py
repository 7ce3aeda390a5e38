"""Invoices and credit notes from draft to issue, their number series and their rendered files.

A draft's lines are a JSON list (domain.billing.stored) until issue; issuing gives the number, freezes the seller and
buyer data into `document` and marks the time entries and items billed, all in one transaction. An issued row and
its files never change again (GoBD); a correction is a credit note referring to it."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, LargeBinary
from sqlmodel import Field, Session, SQLModel, select

from domain.contracts.billing import DraftStatus, InvoiceKind
from models.base import created_at_field, id_field
from models.types import Money, UtcDateTime, enum_type


class Invoice(SQLModel, table=True):
    __tablename__ = "invoices"

    id: uuid.UUID = id_field()  # the draft id the workflow chose
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="RESTRICT")
    customer_number: str = Field(max_length=32)
    kind: InvoiceKind = Field(sa_type=enum_type(InvoiceKind, 16))
    period: str = Field(max_length=7, index=True)  # YYYY-MM of the service
    # One run invoice per customer and month: "<tenant id>/<YYYY-MM>"; credit notes have none.
    run_key: str | None = Field(default=None, max_length=64, unique=True)
    workflow_id: str = Field(max_length=200)
    status: DraftStatus = Field(sa_type=enum_type(DraftStatus, 16), index=True)
    currency: str = Field(default="EUR", max_length=3)
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    problems: list[str] = Field(default_factory=list, sa_type=JSON)
    contingent: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    carried_out_minutes: int = 0
    net_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money(14, 2))
    tax_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money(14, 2))
    gross_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money(14, 2))
    number: str | None = Field(default=None, max_length=40, unique=True)
    series: str | None = Field(default=None, max_length=20)
    fiscal_year: int | None = None
    issue_date: date | None = None
    due_date: date | None = None
    document: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # frozen at issue
    credit_of_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id", ondelete="RESTRICT")
    reason: str | None = Field(default=None, max_length=500)
    approved_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    approved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    issued_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class InvoiceNumberCounter(SQLModel, table=True):
    """The last number drawn per series and fiscal year; incremented in the issuing transaction, so a number is
    drawn only with the invoice that carries it (gapless) and a rolled-back issue gives its number back."""

    __tablename__ = "invoice_number_counters"

    series: str = Field(primary_key=True, max_length=20)
    fiscal_year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_value: int = 0


class InvoiceFile(SQLModel, table=True):
    """A rendered output of an issued invoice: pdf, xml (CII), written once."""

    __tablename__ = "invoice_files"

    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", primary_key=True, ondelete="RESTRICT")
    kind: str = Field(primary_key=True, max_length=16)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    content: bytes = Field(sa_type=LargeBinary)
    sha256: str = Field(max_length=64)
    created_at: datetime = created_at_field()


def credited_lines(session: Session, invoice: Invoice) -> set[int]:
    """Lines of `invoice` that a credit note (not rejected) already covers: a line is credited once."""
    notes = session.exec(
        select(Invoice).where(Invoice.credit_of_id == invoice.id, Invoice.status != DraftStatus.REJECTED)
    ).all()
    return {i for note in notes for i in (note.document or {}).get("credited_lines", [])}
