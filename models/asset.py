"""Assets (devices) and software licences of a tenant."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field
from models.types import enum_type


class AssetType(StrEnum):
    SERVER = "server"
    WORKSTATION = "workstation"
    LAPTOP = "laptop"
    NETWORK = "network"
    MOBILE = "mobile"
    PRINTER = "printer"
    OTHER = "other"


class Asset(SQLModel, table=True):
    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "hostname"),
        # SOC enrichment finds a device by hostname regardless of case (soc.record_alert, once per new alert).
        Index("ix_assets_tenant_hostname_ci", "tenant_id", func.lower(text("hostname"))),
        # ...and first by its EDR agent: one agent is one device of one tenant.
        Index("uq_assets_tenant_agent_uuid", "tenant_id", "agent_uuid", unique=True),
        Index("ix_assets_tenant_agent_id", "tenant_id", "agent_id"),
        Index("ix_assets_tenant_serial", "tenant_id", "serial"),
    )

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    site_id: uuid.UUID | None = Field(default=None, foreign_key="sites.id", ondelete="SET NULL")
    # As the device reports it: a DNS name (lower-cased) or a computer name such as "arvchristos MacBook Pro".
    hostname: str = Field(max_length=253, index=True)
    asset_type: AssetType = Field(sa_type=enum_type(AssetType))
    os: str | None = Field(default=None, max_length=100)
    serial: str | None = Field(default=None, max_length=100)
    # The EDR vendor's ids of the agent on this device (SentinelOne agentUuid, stored lower-case, and agentId):
    # SOC alerts find their device by these first, as host names change and are optional in alerts.
    agent_uuid: str | None = Field(default=None, max_length=100)
    agent_id: str | None = Field(default=None, max_length=100)
    ip_address: str | None = Field(default=None, max_length=45)
    warranty_end: date | None = None
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = created_at_field()


class Licence(SQLModel, table=True):
    __tablename__ = "licences"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    vendor: str = Field(max_length=100)
    product: str = Field(max_length=200)
    sku: str | None = Field(default=None, max_length=100)
    quantity: int = Field(ge=0)
    assigned: int = Field(default=0, ge=0)
    valid_until: date | None = None
    created_at: datetime = created_at_field()
