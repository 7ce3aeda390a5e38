"""Contracts with recurring lines and a history of every change."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, false
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field
from models.types import Money, enum_type


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONE_TIME = "one_time"


class LineUnit(StrEnum):
    SEAT = "seat"
    DEVICE = "device"
    SERVER = "server"
    HOUR = "hour"
    FLAT = "flat"
    LICENCE = "licence"


class Contract(SQLModel, table=True):
    __tablename__ = "contracts"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    number: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    start_date: date
    end_date: date | None = None
    currency: str = Field(default="EUR", max_length=3)
    sla_definition_id: uuid.UUID | None = Field(default=None, foreign_key="sla_definitions.id", ondelete="SET NULL")
    calendar_id: uuid.UUID | None = Field(default=None, foreign_key="business_calendars.id", ondelete="SET NULL")
    # Billing terms as documents of domain.billing.terms (TimeTerms, ContingentDocument); the run maps them with
    # its time_rules() and contingent_terms(). {} means the TimeTerms defaults; no contingent: null.
    time_terms: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": "{}"})
    contingent: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    auto_approve: bool = Field(default=False, sa_column_kwargs={"server_default": false()})  # drafts go out unreviewed
    created_at: datetime = created_at_field()


class ContractLine(SQLModel, table=True):
    __tablename__ = "contract_lines"

    id: uuid.UUID = id_field()
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True, ondelete="CASCADE")
    product_code: str = Field(max_length=64)
    description: str = Field(max_length=500)
    unit: LineUnit = Field(sa_type=enum_type(LineUnit))
    quantity: Decimal = Field(sa_type=Money(14, 3))
    unit_price: Decimal = Field(sa_type=Money(14, 2))
    billing_cycle: BillingCycle = Field(sa_type=enum_type(BillingCycle))
    start_date: date
    end_date: date | None = None


class ContractHistory(SQLModel, table=True):
    __tablename__ = "contract_history"

    id: uuid.UUID = id_field()
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True, ondelete="CASCADE")
    changed_at: datetime = created_at_field()
    changed_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    action: str = Field(max_length=32)  # created, updated, terms_changed, line_added, line_changed, item_added
    change: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    reason: str | None = Field(default=None, max_length=500)
