"""Inventory sync activities: read a customer's devices from its RMM (Datto RMM or N-able N-central) and its licences
from Microsoft 365, upsert them (activities/inventory/store.py), count the Microsoft 365 members' MFA registration
(activities/inventory/mfa.py), record each source's outcome and write the day's health snapshot.

Vendor errors map to Temporal as: auth (401, a refused token, N-central's 403: the API user's role) and unusable
answers -> non-retryable, with the configuration to check in the message; 429 and Datto's WAF 403 -> retryable
after the vendor's wait (`next_retry_delay`); 5xx / network -> retryable with the workflow's backoff. The workflow
records the final error on the source, so one customer's broken credentials never hold up another's sync."""

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta
from uuid import UUID

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.inventory import store
from activities.inventory.credentials import credential_hint, resolve_credentials
from activities.inventory.mfa import read_mfa
from connectors.datto_rmm import DattoRmmClient
from connectors.http import VendorAuthError, VendorError
from connectors.msgraph import MsGraphClient
from connectors.ncentral import NcentralClient
from domain.contracts.inventory import (
    RMM_KINDS,
    CustomerSync,
    InventoryActivity,
    InventoryRunInput,
    InventorySourceKind,
    RecordOutcome,
    SourceRef,
    SourceSynced,
    SyncSource,
    WriteSnapshot,
)
from domain.inventory.devices import DeviceFormatError, RmmDevice, parse_device
from domain.inventory.licences import LicenceFormatError, parse_sku
from domain.inventory.ncentral import device_uid, parse_ncentral_device
from hub.logging import get_logger
from models import InventorySource, Tenant

log = get_logger(__name__)
VENDOR_TIMEOUT = 30.0
MAX_RETRY_AFTER = timedelta(hours=1)


def vendor_failure(exc: VendorError, source: InventorySource) -> ApplicationError:
    """The Temporal view of a vendor error (the connector has scrubbed secrets from the message)."""
    kind = type(exc).__name__
    if isinstance(exc, VendorAuthError):
        hint = credential_hint(source.credentials_ref, InventorySourceKind(source.kind))
        return ApplicationError(f"{exc}; {hint} and the permissions", type=kind, non_retryable=True)
    if not exc.retryable:
        return ApplicationError(str(exc), type=kind, non_retryable=True)
    delay = None if exc.retry_after is None else min(timedelta(seconds=exc.retry_after), MAX_RETRY_AFTER)
    return ApplicationError(str(exc), type=kind, next_retry_delay=delay)


def _datto_uid(raw: object) -> str | None:
    uid = raw.get("uid") if isinstance(raw, dict) else None
    return uid.strip().lower() if isinstance(uid, str) and uid.strip() else None


# Per RMM kind: how a raw device is parsed, and its uid read (also for a device that cannot be parsed: not gone).
PARSERS = {
    InventorySourceKind.DATTO_RMM: (parse_device, _datto_uid),
    InventorySourceKind.NCENTRAL: (parse_ncentral_device, device_uid),
}


def _readable(
    raw_devices: list, skipped: list[str], kind: InventorySourceKind = InventorySourceKind.DATTO_RMM
) -> tuple[list[RmmDevice], set[str]]:
    parse, uid_of = PARSERS[kind]
    devices, listed = [], set()
    for raw in raw_devices:
        uid = uid_of(raw)
        if uid is not None:
            listed.add(uid)
        try:
            devices.append(parse(raw))
        except DeviceFormatError as exc:
            skipped.append(str(exc))
    return devices, listed


class InventoryActivities:
    def __init__(
        self,
        engine: Engine,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ):
        self.engine = engine
        self.client_factory = client_factory or (lambda: httpx.AsyncClient(timeout=VENDOR_TIMEOUT))
        self.environ = environ  # None: os.environ at call time

    @activity.defn(name=InventoryActivity.LIST_CUSTOMERS)
    def list_customers(self, req: InventoryRunInput) -> list[CustomerSync]:
        with Session(self.engine) as session:
            query = (
                select(Tenant)
                .where(
                    select(InventorySource.id)
                    .where(InventorySource.tenant_id == Tenant.id, col(InventorySource.is_active))
                    .exists()
                )
                .order_by(col(Tenant.customer_number))
            )
            if req.customer_numbers is not None:
                query = query.where(col(Tenant.customer_number).in_(req.customer_numbers))
            return [CustomerSync(tenant_id=t.id, customer_number=t.customer_number) for t in session.exec(query)]

    @activity.defn(name=InventoryActivity.LOAD_SOURCES)
    def load_sources(self, req: CustomerSync) -> list[SourceRef]:
        """The customer's active sources, the RMM first (the snapshot follows its devices)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(InventorySource)
                .where(InventorySource.tenant_id == req.tenant_id, col(InventorySource.is_active))
                .order_by(col(InventorySource.kind))
            ).all()
            refs = [SourceRef(id=r.id, kind=InventorySourceKind(r.kind), name=r.name) for r in rows]
            return sorted(refs, key=lambda r: r.kind not in RMM_KINDS)  # stable: by kind within

    def _source(self, source_id: UUID, kinds: frozenset[InventorySourceKind]) -> InventorySource:
        with Session(self.engine) as session:
            row = session.get(InventorySource, source_id)
        if row is None or row.kind not in kinds:
            names = " or ".join(sorted(k.value for k in kinds))
            raise ApplicationError(f"no {names} source {source_id}", type="SourceNotFound", non_retryable=True)
        return row

    async def _datto_devices(self, source: InventorySource) -> list:
        creds = resolve_credentials(source.credentials_ref, InventorySourceKind.DATTO_RMM, self.environ)
        base_url, site_uids = source.settings.get("base_url"), source.settings.get("site_uids") or []
        if not base_url or not site_uids:
            raise ApplicationError(
                f"Datto RMM source {source.name!r} has no base URL or no site uid", type="BadSource", non_retryable=True
            )
        raw: list = []
        async with DattoRmmClient(base_url, creds.user, creds.secret, client=self.client_factory()) as rmm:
            for site_uid in site_uids:
                async for page in rmm.site_device_pages(site_uid):
                    raw += page
                    activity.heartbeat(site_uid, len(raw))  # a big site pages for a while
        return raw

    async def _ncentral_devices(self, source: InventorySource) -> list:
        creds = resolve_credentials(source.credentials_ref, InventorySourceKind.NCENTRAL, self.environ)
        server_url, org_unit_ids = source.settings.get("server_url"), source.settings.get("org_unit_ids") or []
        if not server_url or not org_unit_ids:
            raise ApplicationError(f"N-central source {source.name!r} has no server URL or no organisation unit",
                                   type="BadSource", non_retryable=True)  # fmt: skip
        raw: list = []
        async with NcentralClient(server_url, creds.secret, client=self.client_factory()) as rmm:
            for org_unit_id in org_unit_ids:
                async for page in rmm.org_unit_device_pages(org_unit_id):
                    raw += page
                    activity.heartbeat(org_unit_id, len(raw))
        return raw

    @activity.defn(name=InventoryActivity.SYNC_RMM)
    async def sync_rmm(self, req: SyncSource) -> SourceSynced:
        """The source's RMM (Datto RMM or N-central, by its kind): every device, then the upsert."""
        source = await asyncio.to_thread(self._source, req.source_id, RMM_KINDS)
        kind = InventorySourceKind(source.kind)
        try:
            if kind == InventorySourceKind.NCENTRAL:
                raw = await self._ncentral_devices(source)
            else:
                raw = await self._datto_devices(source)
        except VendorError as exc:
            raise vendor_failure(exc, source) from exc
        skipped: list[str] = []
        devices, listed = _readable(raw, skipped, kind)
        result = await asyncio.to_thread(self._store_devices, source.tenant_id, devices, listed, skipped, req)
        log.info("inventory rmm synced", source_id=str(source.id), tenant_id=str(source.tenant_id),
                 **result.model_dump(exclude={"skipped_reasons", "mfa"}))  # fmt: skip
        return result

    def _store_devices(
        self, tenant_id: UUID, devices: list[RmmDevice], listed: set[str], skipped: list[str], req: SyncSource
    ) -> SourceSynced:
        with Session(self.engine) as session, session.begin():
            return store.upsert_devices(session, tenant_id, devices, listed, skipped, req.synced_at)

    @activity.defn(name=InventoryActivity.SYNC_M365)
    async def sync_m365(self, req: SyncSource) -> SourceSynced:
        source = await asyncio.to_thread(self._source, req.source_id, frozenset({InventorySourceKind.M365}))
        creds = resolve_credentials(source.credentials_ref, InventorySourceKind.M365, self.environ)
        tenant = source.settings.get("tenant")
        if not tenant:
            raise ApplicationError(
                f"Microsoft 365 source {source.name!r} has no tenant", type="BadSource", non_retryable=True
            )
        try:
            async with MsGraphClient(tenant, creds.user, creds.secret, client=self.client_factory()) as graph:
                raw = await graph.subscribed_skus()
                mfa = await read_mfa(graph)
        except VendorError as exc:
            raise vendor_failure(exc, source) from exc
        try:
            skus = [parse_sku(item) for item in raw]
        except LicenceFormatError as exc:  # a licence count we cannot read must not zero the stored one
            raise ApplicationError(f"Microsoft Graph subscribedSkus: {exc}", type="BadPayload",
                                   non_retryable=True) from exc  # fmt: skip

        def write() -> SourceSynced:
            with Session(self.engine) as session, session.begin():
                return store.upsert_licences(session, source.tenant_id, skus, req.synced_at)

        result = await asyncio.to_thread(write)
        result.mfa = mfa
        return result

    @activity.defn(name=InventoryActivity.RECORD_OUTCOME)
    def record_outcome(self, req: RecordOutcome) -> None:
        with Session(self.engine) as session, session.begin():
            store.record_outcome(session, req.outcome, req.at)

    @activity.defn(name=InventoryActivity.WRITE_SNAPSHOT)
    def write_snapshot(self, req: WriteSnapshot) -> str:
        with Session(self.engine) as session, session.begin():
            try:
                return store.write_snapshot(session, req.tenant_id, req.at, devices=req.devices, mfa=req.mfa)
            except LookupError as exc:
                raise ApplicationError(str(exc), type="UnknownTenant", non_retryable=True) from exc
