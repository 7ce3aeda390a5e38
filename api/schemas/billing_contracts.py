"""Request and response bodies of contracts: lines, billing terms, one-off items and credits, and their history.
Every write may carry a `reason`, which the contract's history keeps next to the old and new values."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, Field, PlainSerializer, StringConstraints, field_validator, model_validator

from api.schemas.billing import ProductCode
from api.schemas.common import Body, Name, not_null, text
from domain.billing.recurring import Cycle
from domain.billing.tax import TaxClass
from domain.billing.terms import Amount, ContingentDocument, TimeTerms
from models import ItemKind, LineUnit

ContractNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Z0-9/_-]{1,31}$")]
Reason = text(500)
# Quantities up to three places; in JSON a string without trailing zeros ("20", "2.5") on every database.
Quantity = Annotated[
    Decimal,
    Field(gt=0, lt=10**11, max_digits=14, decimal_places=3),  # NUMERIC(14, 3): 11 digits before the point
    PlainSerializer(lambda v: format(v.normalize(), "f"), return_type=str, when_used="json"),
]


def _ends_after_start(start: date | None, end: date | None, field: str = "end_date") -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{field}: {end.isoformat()} lies before the start {start.isoformat()}")


class LineCreate(Body):
    product_code: ProductCode = Field(description="A code of the price list")
    description: text(500) | None = Field(default=None, description="Default: the product's name")
    unit: LineUnit | None = Field(default=None, description="Default: the product's unit")
    quantity: Quantity
    unit_price: Amount | None = Field(default=None, description="Net; default: the price list's")
    billing_cycle: Cycle | None = Field(default=None, description="Default: the product's cycle")
    start_date: date | None = Field(default=None, description="Default: the contract's start")
    end_date: date | None = None
    reason: Reason | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        _ends_after_start(self.start_date, self.end_date)
        return self


class LineUpdate(Body):
    """Lines are never deleted once a billing could have used them: end them with end_date."""

    description: text(500) | None = None
    quantity: Quantity | None = None
    unit_price: Amount | None = None
    end_date: date | None = None
    reason: Reason | None = None

    _required = field_validator("description", "quantity", "unit_price")(not_null)


class LinePublic(BaseModel):
    id: UUID
    product_code: str
    description: str
    unit: LineUnit
    quantity: Quantity
    unit_price: Amount
    billing_cycle: Cycle
    start_date: date
    end_date: date | None


class ContractCreate(Body):
    tenant_id: UUID
    number: ContractNumber = Field(description="Unique, e.g. V-K10001-01")
    name: Name
    start_date: date
    end_date: date | None = None
    currency: Literal["EUR", "CHF"] | None = Field(default=None, description="Default: CHF for CH tenants, else EUR")
    sla_definition_id: UUID | None = Field(default=None, description="The customer's own SLA; null: the default")
    calendar_id: UUID | None = Field(default=None, description="Business calendar; null: the tenant's")
    time_terms: TimeTerms = Field(default_factory=TimeTerms)
    contingent: ContingentDocument | None = None
    auto_approve: bool = Field(default=False, description="Drafts of this contract go out without review")
    lines: list[LineCreate] = Field(default_factory=list, max_length=200)
    reason: Reason | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        _ends_after_start(self.start_date, self.end_date)
        return self


class ContractUpdate(Body):
    number: ContractNumber | None = None
    name: Name | None = None
    end_date: date | None = None
    sla_definition_id: UUID | None = None
    calendar_id: UUID | None = None
    time_terms: TimeTerms | None = None
    contingent: ContingentDocument | None = None
    auto_approve: bool | None = None
    reason: Reason | None = None

    _required = field_validator("number", "name", "time_terms", "auto_approve")(not_null)


class ContractPublic(BaseModel):
    id: UUID
    tenant_id: UUID
    number: str
    name: str
    start_date: date
    end_date: date | None
    currency: str
    sla_definition_id: UUID | None
    calendar_id: UUID | None
    time_terms: TimeTerms
    contingent: ContingentDocument | None
    auto_approve: bool
    created_at: datetime
    lines: list[LinePublic]


class ItemCreate(Body):
    kind: ItemKind = Field(description="one_off: a charge; credit: a deduction (its amounts stay positive)")
    product_code: ProductCode | None = Field(default=None, description="Optional; fills description and price")
    description: text(500) | None = None
    quantity: Quantity = Decimal(1)
    unit_price: Amount | None = Field(default=None, description="Net, positive also for a credit")
    service_date: date = Field(description="Billed in this date's month")
    tax_class: TaxClass | None = None
    reason: Reason | None = None


class ItemPublic(BaseModel):
    id: UUID
    contract_id: UUID
    kind: ItemKind
    product_code: str | None
    description: str
    quantity: Quantity
    unit_price: Amount
    service_date: date
    tax_class: TaxClass
    created_at: datetime
    billed_at: datetime | None


class HistoryPublic(BaseModel):
    id: UUID
    contract_id: UUID
    action: str
    changed_at: datetime
    changed_by_user_id: UUID | None
    change: dict[str, Any] = Field(description='{"old": {...}, "new": {...}}, plus line_id or item_id')
    reason: str | None
