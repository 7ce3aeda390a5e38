"""The inventory sync's database writes, each idempotent (a retried activity finds its rows and writes the same
values again): devices upserted as assets, SKUs as licences, a source's outcome, the day's health snapshot. Every
query is scoped by the tenant.

Devices are matched by RMM uid, then by host name regardless of case (a device the SOC or a person created first
gets its RMM uid; its EDR agent ids stay as they are). A host name held by another RMM device that the RMM still
lists is not taken over (the device is skipped with the reason); one held by a device the RMM no longer lists is
(an agent reinstalled under a new uid). Assets of devices the RMM no longer lists, or lists as deleted, are marked
gone (`rmm_gone_at`), never deleted: their tickets, incidents and history stay. A customer has one RMM (Datto RMM or
N-central: the API refuses a second), so "no longer listed" means gone; a device moved from one RMM to the other is
taken over by its host name, as a reinstalled agent is."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.contracts.inventory import SourceOutcome, SourceSynced
from domain.inventory.devices import AssetKind, RmmDevice, reports_antivirus
from domain.inventory.health import DeviceHealth, HealthCounts, health_counts
from domain.inventory.licences import VENDOR as MICROSOFT
from domain.inventory.licences import SkuLicence
from domain.inventory.mfa import MfaCoverage
from models import Asset, AssetType, HealthSnapshot, InventorySource, Licence, Tenant

MAX_REASONS = 10
# A subscription the tenant no longer lists: Graph's own state for a removed one.
SKU_MISSING = "Deleted"


def _set(row: object, **values: object) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _apply(asset: Asset, d: RmmDevice, at: datetime) -> bool:
    """The RMM's view on the asset; True when this sync marked it gone (listed as deleted)."""
    newly_gone = d.deleted and asset.rmm_gone_at is None
    _set(
        asset,
        rmm_uid=d.uid,
        rmm_synced_at=at,
        rmm_gone_at=(asset.rmm_gone_at or at) if d.deleted else None,  # since when: the first sync that saw it
        os=d.os or asset.os,
        serial=d.serial or asset.serial,
        warranty_end=d.warranty_end or asset.warranty_end,
        online=d.online,
        last_seen=d.last_seen,
        antivirus_product=d.antivirus_product,
        antivirus_status=d.antivirus_status.value if d.antivirus_status else None,
        patch_status=d.patch_status.value if d.patch_status else None,
        reboot_required=d.reboot_required,
    )
    if d.kind != AssetKind.OTHER:  # the RMM knows better than a guess; "other" says nothing
        asset.asset_type = AssetType(d.kind.value)
    return newly_gone


def _rename(asset: Asset, hostname: str, by_host: dict[str, Asset]) -> None:
    """A device renamed in the RMM takes its new name, unless another asset of the tenant has it (any case); a
    difference of case only keeps the hub's spelling."""
    key = hostname.lower()
    if asset.hostname.lower() == key or key in by_host:
        return
    by_host.pop(asset.hostname.lower(), None)
    asset.hostname = hostname
    by_host[key] = asset


def upsert_devices(
    session: Session, tenant_id: UUID, devices: list[RmmDevice], listed: set[str], skipped: list[str], at: datetime
) -> SourceSynced:
    """`devices`: the readable ones; `listed`: the uids of every device the RMM listed (readable or not: an
    unreadable device is not gone); `skipped`: reasons for the unreadable ones."""
    result = SourceSynced(skipped=len(skipped), skipped_reasons=skipped[:MAX_REASONS])
    assets = session.exec(select(Asset).where(Asset.tenant_id == tenant_id).order_by(col(Asset.created_at))).all()
    by_uid = {a.rmm_uid: a for a in assets if a.rmm_uid}
    by_host: dict[str, Asset] = {}
    for a in assets:
        by_host.setdefault(a.hostname.lower(), a)
    for d in devices:
        asset = by_uid.get(d.uid)
        if asset is None:
            asset = by_host.get(d.hostname.lower())
            if asset is not None and asset.rmm_uid and asset.rmm_uid in listed:
                result.skipped += 1
                if len(result.skipped_reasons) < MAX_REASONS:
                    result.skipped_reasons.append(
                        f"{d.hostname} ({d.uid}): the host name belongs to the RMM device {asset.rmm_uid}"
                    )
                continue
            if asset is not None:
                by_uid.pop(asset.rmm_uid or "", None)
        if asset is None and d.deleted:
            continue  # never known to the hub, and gone already
        if asset is None:
            asset = Asset(tenant_id=tenant_id, hostname=d.hostname, asset_type=AssetType(d.kind.value))
            result.created += 1
        else:
            result.updated += 1
            _rename(asset, d.hostname, by_host)
        result.gone += _apply(asset, d, at)
        session.add(asset)
        by_uid[d.uid] = asset
        by_host.setdefault(d.hostname.lower(), asset)
    for asset in assets:
        if asset.rmm_uid and asset.rmm_gone_at is None and asset.rmm_uid not in listed:
            asset.rmm_gone_at = at
            asset.online = False
            session.add(asset)
            result.gone += 1
    session.flush()
    return result


def upsert_licences(session: Session, tenant_id: UUID, skus: list[SkuLicence], at: datetime) -> SourceSynced:
    """Microsoft licences by SKU part number; SKUs the tenant no longer lists get capability status `Deleted`."""
    result = SourceSynced()
    rows = session.exec(select(Licence).where(Licence.tenant_id == tenant_id, Licence.vendor == MICROSOFT)).all()
    by_sku = {r.sku: r for r in rows if r.sku}
    for s in skus:
        row = by_sku.get(s.sku)
        if row is None:
            row = Licence(tenant_id=tenant_id, vendor=MICROSOFT, product=s.sku, sku=s.sku, quantity=0)
            by_sku[s.sku] = row
            result.created += 1
        else:
            result.updated += 1
        _set(row, quantity=s.quantity, assigned=s.assigned, capability_status=s.capability_status, synced_at=at)
        session.add(row)
    listed = {s.sku for s in skus}
    for row in rows:
        if row.sku not in listed and row.synced_at is not None and row.capability_status != SKU_MISSING:
            row.capability_status = SKU_MISSING
            session.add(row)
            result.gone += 1
    session.flush()
    return result


def record_outcome(session: Session, outcome: SourceOutcome, at: datetime) -> None:
    row = session.get(InventorySource, outcome.source_id)
    if row is None:
        return  # deleted meanwhile: nothing to record on
    row.last_sync_at = at
    if outcome.ok:
        row.last_success_at, row.last_error = at, None
        row.last_result = outcome.synced.model_dump(mode="json") if outcome.synced else None
    else:
        row.last_error = (outcome.error or "unknown error")[:2000]
    session.add(row)


def _health(assets: Iterable[Asset]) -> list[DeviceHealth]:
    return [
        DeviceHealth(
            managed=a.rmm_uid is not None,
            os=a.os,
            antivirus_status=a.antivirus_status,
            antivirus_reported=reports_antivirus(a.rmm_uid),
            patch_status=a.patch_status,
            online=a.online,  # None: its RMM does not report it (N-central), left out of the share
            reboot_required=a.reboot_required,
        )
        for a in assets
    ]


def write_snapshot(
    session: Session, tenant_id: UUID, at: datetime, *, devices: bool = True, mfa: MfaCoverage | None = None
) -> str:
    """The tenant's health counts as of now, stored for the local day of `at`; returns the day (YYYY-MM-DD).

    Replaces the day's earlier counts part by part: the device counts only when the RMM was read (`devices`), the MFA
    counts only when this sync measured them; a part not measured keeps the day's earlier value (or is empty: the
    KPIs read an empty part as "k. A."). The licence counts are the licence rows as they stand."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id}")
    day = at.astimezone(ZoneInfo(tenant.time_zone)).date()
    row = session.get(HealthSnapshot, (tenant_id, day))
    earlier = HealthCounts.model_validate(row.counts) if row is not None else HealthCounts()
    known = session.exec(
        select(Asset).where(Asset.tenant_id == tenant_id, col(Asset.rmm_gone_at).is_(None))
    ).all() if devices else []  # fmt: skip
    licences = session.exec(
        select(Licence.quantity, Licence.assigned)
        .where(Licence.tenant_id == tenant_id, Licence.vendor == MICROSOFT, col(Licence.synced_at).is_not(None))
        .where(func.coalesce(Licence.capability_status, "") != SKU_MISSING)
    ).all()  # fmt: skip
    counts: HealthCounts = health_counts(_health(known), [(q, a) for q, a in licences])
    if not devices:
        counts = earlier.model_copy(
            update={"licences_purchased": counts.licences_purchased, "licences_assigned": counts.licences_assigned}
        )
    counts.mfa = mfa if mfa is not None else earlier.mfa
    if row is None:
        row = HealthSnapshot(tenant_id=tenant_id, day=day, taken_at=at, counts={})
    row.taken_at, row.counts = at, counts.model_dump(mode="json")
    session.add(row)
    return day.isoformat()
