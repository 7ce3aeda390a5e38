"""Request and response bodies of the quarterly business review."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator, model_validator

from api.schemas.common import Body, CustomerNumber, text
from domain.billing.terms import Amount
from domain.qbr.kpis import Kpi
from domain.qbr.quarter import parse_quarter
from domain.qbr.vcio import VcioKind, VcioStatus
from models.asset import AssetType as AssetTypeName

# [0-9], not \d: \d matches any Unicode digit, which int() then reads.
QuarterText = Annotated[str, Field(pattern=r"^[0-9]{4}-?[Qq][1-4]$", examples=["2026-Q4"], description="YYYY-Qn")]


class BuildRequest(Body):
    tenant_id: UUID
    quarter: QuarterText

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class BuildStarted(BaseModel):
    workflow_id: str
    customer_number: str
    quarter: str
    decks_url: str


class RunRequest(Body):
    quarter: QuarterText
    customer_numbers: list[CustomerNumber] | None = Field(default=None, max_length=10_000, description="null: all")

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class RunStatus(BaseModel):
    workflow_id: str
    quarter: str
    temporal_status: str
    total: int
    done: int
    failed: int
    finished: bool


class DeckFile(BaseModel):
    tenant_id: UUID
    customer_number: str
    quarter: str
    kind: str
    filename: str
    media_type: str
    size: int
    sha256: str
    version: int  # 1, and one more with each rebuild
    created_at: datetime
    download_url: str


Score = Annotated[int, Field(ge=1, le=5, description="1 (low) to 5 (high)")]


class VcioFields(Body):
    title: text(200) | None = None
    status: VcioStatus | None = None
    owner: text(100) | None = None
    due_date: date | None = None
    quarter: QuarterText | None = Field(default=None, description="roadmap: the quarter it is planned for")
    estimated_cost: Amount | None = Field(default=None, description="roadmap: net estimate")
    likelihood: Score | None = None
    impact: Score | None = None

    @field_validator("quarter")
    @classmethod
    def _quarter(cls, value: str | None) -> str | None:
        return parse_quarter(value) if value is not None else None


class VcioCreate(VcioFields):
    tenant_id: UUID
    kind: VcioKind
    title: text(200)
    status: VcioStatus = VcioStatus.OPEN

    @model_validator(mode="after")
    def _risk_needs_scores(self) -> "VcioCreate":
        if self.kind == VcioKind.RISK and (self.likelihood is None or self.impact is None):
            raise ValueError("a risk needs likelihood and impact (1-5)")
        return self


class VcioPublic(BaseModel):
    id: UUID
    tenant_id: UUID
    kind: VcioKind
    title: str
    status: VcioStatus
    owner: str | None
    due_date: date | None
    quarter: str | None
    estimated_cost: Amount | None
    likelihood: int | None
    impact: int | None
    created_at: datetime
    updated_at: datetime


class BusinessReport(BaseModel):
    """The MSP's business KPIs (domain/qbr/business.py): each with its value in the quarter and the one before."""

    quarter: str
    previous_quarter: str
    currency: str
    kpis: list[Kpi]


class ReplacementCostsIn(Body):
    """Estimated replacement cost per device type (net, the contract currency); null resets a type to its
    default. Types not named keep their value."""

    costs: dict[AssetTypeName, Amount | None] = Field(min_length=1, max_length=len(AssetTypeName))


class ReplacementCostPublic(BaseModel):
    asset_type: AssetTypeName
    cost: Amount
    default: bool  # true: the hub's default (domain/qbr/lifecycle.py), not set by the MSP


class CustomerReplacementCostPublic(BaseModel):
    """The cost a customer's budget outlook uses for a device type, and where it comes from."""

    asset_type: AssetTypeName
    cost: Amount
    source: Literal["customer", "msp", "default"]  # the customer's own, the MSP's, the hub's default
