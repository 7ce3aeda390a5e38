"""The inventory sync (`inventory-sync-<customer>`, the daily run the schedule `inventory-daily` starts): activity
names, workflow inputs and results, activity payloads. Pure: nothing here does I/O."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel

from domain.inventory.mfa import MfaCoverage

INVENTORY_SCHEDULE_TZ = "Europe/Berlin"


class InventorySourceKind(StrEnum):
    DATTO_RMM = "datto_rmm"
    NCENTRAL = "ncentral"  # N-able N-central
    M365 = "m365"


# The sources that read a customer's devices (an RMM): at most one per customer, since each marks the devices it no
# longer lists as gone; the health snapshot follows them.
RMM_KINDS = frozenset({InventorySourceKind.DATTO_RMM, InventorySourceKind.NCENTRAL})


class InventoryActivity:
    LIST_CUSTOMERS = "inventory.list_customers"  # customers with an active source
    LOAD_SOURCES = "inventory.load_sources"  # one customer's active sources
    SYNC_RMM = "inventory.sync_rmm"  # fetch the RMM's devices (Datto RMM or N-central) and upsert the assets
    SYNC_M365 = "inventory.sync_m365"  # fetch the subscribed SKUs and upsert the licences; count MFA registration
    RECORD_OUTCOME = "inventory.record_outcome"  # a source's last sync: when, ok or the error
    WRITE_SNAPSHOT = "inventory.write_snapshot"  # the customer's health counts of the day


class CustomerSync(BaseModel):
    tenant_id: UUID
    customer_number: str


class SourceRef(BaseModel):
    id: UUID
    kind: InventorySourceKind
    name: str


class SyncSource(BaseModel):
    source_id: UUID
    synced_at: datetime  # workflow time of the sync: stored as last-seen-by-the-sync, the gone mark's time


class SourceSynced(BaseModel):
    """What one source's sync changed. Devices: created, updated, marked gone, skipped (unreadable, or a host name
    held by another RMM device); licences: created, updated."""

    created: int = 0
    updated: int = 0
    gone: int = 0
    skipped: int = 0
    skipped_reasons: list[str] = []  # the first few, for the person reading the result
    mfa: MfaCoverage | None = None  # Microsoft 365: the members' MFA registration (or why it was not measured)


class SourceOutcome(BaseModel):
    source_id: UUID
    kind: InventorySourceKind
    name: str
    ok: bool
    error: str | None = None
    synced: SourceSynced | None = None


class RecordOutcome(BaseModel):
    outcome: SourceOutcome
    at: datetime


class WriteSnapshot(BaseModel):
    """Each part replaces the day's earlier value only when this sync measured it: the device counts when the RMM
    was read (`devices`), the MFA counts when the Microsoft 365 sync brought them."""

    tenant_id: UUID
    at: datetime
    devices: bool = True
    mfa: MfaCoverage | None = None


class InventorySyncInput(BaseModel):
    tenant_id: UUID
    customer_number: str


class InventorySyncResult(BaseModel):
    customer_number: str
    sources: list[SourceOutcome] = []
    snapshot_day: str | None = None  # YYYY-MM-DD in the customer's zone; None: none written (no RMM read, no MFA)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [s for s in self.sources if not s.ok]


class InventoryRunInput(BaseModel):
    customer_numbers: list[str] | None = None  # None: every customer with an active source


class InventoryRunProgress(BaseModel):
    total: int = 0
    done: int = 0  # every source synced
    with_errors: int = 0  # at least one source failed (its error recorded on the source)
    skipped: int = 0  # a sync of that customer was running already
    failed: int = 0  # the customer's workflow itself failed
    finished: bool = False

    def label(self) -> str:
        return f"{self.done}/{self.total} synced, {self.with_errors} with errors, {self.skipped} skipped"
