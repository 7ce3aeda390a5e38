"""Assets (devices) and software licences of a tenant."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field
from models.types import UtcDateTime, enum_type


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
        # The inventory sync finds a device by its RMM uid first: one RMM device is one asset of one tenant.
        Index("uq_assets_tenant_rmm_uid", "tenant_id", "rmm_uid", unique=True),
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
    # Filled by the inventory sync (activities/inventory/): the RMM's device uid (lower-case) and its health as the
    # RMM reported it at `rmm_synced_at`; `rmm_gone_at`: the RMM no longer lists it (kept, not deleted).
    rmm_uid: str | None = Field(default=None, max_length=100)
    rmm_synced_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    rmm_gone_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    online: bool | None = None
    last_seen: datetime | None = Field(default=None, sa_type=UtcDateTime)
    antivirus_product: str | None = Field(default=None, max_length=100)
    antivirus_status: str | None = Field(default=None, max_length=32)  # domain.inventory.devices.AntivirusStatus
    patch_status: str | None = Field(default=None, max_length=32)  # domain.inventory.devices.PatchStatus
    reboot_required: bool | None = None


class Licence(SQLModel, table=True):
    __tablename__ = "licences"
    __table_args__ = (Index("ix_licences_tenant_vendor_sku", "tenant_id", "vendor", "sku"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    vendor: str = Field(max_length=100)
    product: str = Field(max_length=200)
    sku: str | None = Field(default=None, max_length=100)
    quantity: int = Field(ge=0)
    assigned: int = Field(default=0, ge=0)
    valid_until: date | None = None
    created_at: datetime = created_at_field()
    # Microsoft 365 (inventory sync): the SKU's capabilityStatus and when the sync last saw it.
    capability_status: str | None = Field(default=None, max_length=32)
    synced_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
