"""Inventory sources (a customer's Datto RMM sites or N-central organisation units, its Microsoft 365 tenant) and the
daily health snapshots the sync writes. Credentials are never stored here: `credentials_ref` names them in the
configuration (activities/inventory/credentials.py), as for SOC integrations."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field
from models.types import UtcDateTime


class InventorySource(SQLModel, table=True):
    """One system the hub reads a customer's inventory from: `datto_rmm` (its site uids on a platform), `ncentral`
    (its organisation units on the MSP's N-central server) or `m365` (its Microsoft 365 tenant). At most one per
    customer and kind, and one RMM per customer (checked by the API)."""

    __tablename__ = "inventory_sources"
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # domain.contracts.inventory.InventorySourceKind
    name: str = Field(max_length=100)
    # datto_rmm: {"base_url": ..., "site_uids": [...]}; ncentral: {"server_url": ..., "org_unit_ids": [int, ...]};
    # m365: {"tenant": <directory id or domain>}
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    credentials_ref: str = Field(max_length=100)
    is_active: bool = True
    last_sync_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    last_result: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # SourceSynced of the last success
    created_at: datetime = created_at_field()


class HealthSnapshot(SQLModel, table=True):
    """A customer's device health on one day (its own time zone): the counts of domain.inventory.health, written
    by the day's sync (a second sync of the day replaces them). The QBR takes the last one of each quarter."""

    __tablename__ = "health_snapshots"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    taken_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    counts: dict[str, Any] = Field(sa_type=JSON)  # domain.inventory.health.HealthCounts
