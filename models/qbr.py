"""vCIO planning entries, and the rendered QBR decks: one PowerPoint and one PDF per customer and quarter, written
once by the QBR workflow's activity (a re-run finds them and writes nothing, a rebuild replaces them)."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from domain.qbr.vcio import VcioKind, VcioStatus
from models.base import created_at_field, id_field
from models.types import Money, enum_type


class QbrFile(SQLModel, table=True):
    __tablename__ = "qbr_files"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True, ondelete="CASCADE")
    quarter: str = Field(primary_key=True, max_length=7)  # 2026-Q4
    kind: str = Field(primary_key=True, max_length=8)  # pptx, pdf
    customer_number: str = Field(max_length=32)
    workflow_id: str = Field(max_length=100)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    # The file in the file store (hub/file_store.py), relative to Settings.documents_path; decks stored before the
    # file store keep their bytes in `content` (path None).
    path: str | None = Field(default=None, max_length=300)
    content: bytes | None = Field(default=None, sa_type=LargeBinary)
    sha256: str = Field(max_length=64)
    size: int
    # A rebuild (e.g. after vCIO entries changed) replaces the files with the next version.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = created_at_field()


class VcioItem(SQLModel, table=True):
    """A roadmap item, risk or decision / next step of a customer, entered by the MSP's vCIO, read by the customer
    and shown in the QBR (domain/qbr/vcio.py)."""

    __tablename__ = "vcio_items"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    kind: VcioKind = Field(sa_type=enum_type(VcioKind))
    title: str = Field(max_length=200)
    status: VcioStatus = Field(sa_type=enum_type(VcioStatus))
    owner: str | None = Field(default=None, max_length=100)
    due_date: date | None = None
    quarter: str | None = Field(default=None, max_length=7)
    estimated_cost: Decimal | None = Field(default=None, sa_type=Money(14, 2))
    likelihood: int | None = None
    impact: int | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ReplacementCost(SQLModel, table=True):
    """The MSP's estimated replacement cost of one device type (net), used by the QBR's budget outlook; a type
    without a row takes its default (domain/qbr/lifecycle.py DEFAULT_REPLACEMENT_COSTS). One set per installation:
    the MSP's price estimate, not a customer's data (a customer's own prices: CustomerReplacementCost)."""

    __tablename__ = "qbr_replacement_costs"

    asset_type: str = Field(primary_key=True, max_length=32)  # models.asset.AssetType values
    cost: Decimal = Field(sa_type=Money(14, 2))
    updated_at: datetime = created_at_field()


class CustomerReplacementCost(SQLModel, table=True):
    """A customer's own replacement cost of one device type (net), e.g. agreed prices or a customer with larger
    servers: it overrides the MSP's cost (ReplacementCost) and the default in that customer's budget outlook only."""

    __tablename__ = "qbr_customer_replacement_costs"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True, ondelete="CASCADE")
    asset_type: str = Field(primary_key=True, max_length=32)  # models.asset.AssetType values
    cost: Decimal = Field(sa_type=Money(14, 2))
    updated_at: datetime = created_at_field()
