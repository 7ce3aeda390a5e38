"""The MFA part of the Microsoft 365 sync against the database (SQLite and PostgreSQL), Graph mocked by respx with
payloads shaped like its docs: members counted over both pages of the report, guests left out; a 403 (no Entra ID
P1/P2, no AuditLog.Read.All) leaves the KPI k. A. with its reason and the licences still synced; a throttled report
retries the activity. The snapshot keeps the MFA counts beside the device counts, part by part, per tenant."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import respx
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.inventory.sync import InventoryActivities
from activities.qbr.facts import load_facts
from domain.contracts.inventory import SyncSource, WriteSnapshot
from domain.contracts.qbr import LoadFacts
from domain.inventory.health import HealthCounts
from domain.inventory.mfa import MfaCoverage, MfaUnavailable
from domain.qbr.kpis import compute_kpis
from domain.qbr.measure import NA
from hub.db import session_scope
from models import HealthSnapshot, InventorySource, Licence
from tests.factories import make_asset, make_tenant
from tests.inventory_mocks import (
    DATTO,
    M365_TENANT,
    MFA_MEMBERS,
    MFA_REGISTERED,
    MFA_URL,
    SITE,
    credentials,
    datto_pages,
    fixture,
    graph_skus,
)

AT = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
ENV = credentials(None)


def _source(engine, owner, kind: str, **settings) -> InventorySource:  # noqa: ANN001
    with session_scope(engine) as s:
        row = InventorySource(tenant_id=owner.id, kind=kind, name=kind, settings=settings, credentials_ref="msp")
        s.add(row)
    return row


async def _sync_m365(engine, source, refusal: httpx.Response | None = None):  # noqa: ANN001, ANN202
    acts = InventoryActivities(engine, environ=ENV)
    with respx.mock:
        graph_skus(respx.mock)
        if refusal is not None:
            respx.get(MFA_URL).mock(return_value=refusal)
        return await ActivityEnvironment().run(acts.sync_m365, SyncSource(source_id=source.id, synced_at=AT))


def _licences(engine, tenant) -> int:  # noqa: ANN001
    with Session(engine) as s:
        return len(s.exec(select(Licence).where(Licence.tenant_id == tenant.id)).all())


def _counts(engine, tenant) -> HealthCounts:  # noqa: ANN001
    with Session(engine) as s:
        (row,) = s.exec(select(HealthSnapshot).where(HealthSnapshot.tenant_id == tenant.id)).all()
    return HealthCounts.model_validate(row.counts)


async def test_members_over_both_pages_guests_left_out(engine):
    tenant = make_tenant(engine)
    result = await _sync_m365(engine, _source(engine, tenant, "m365", tenant=M365_TENANT))
    assert result.mfa == MfaCoverage(members=MFA_MEMBERS, registered=MFA_REGISTERED)  # 5 members, 4 registered
    assert result.created == 2 and _licences(engine, tenant) == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [("graph_error_403_non_premium.json", MfaUnavailable.NO_LICENCE),
     ("graph_error_403.json", MfaUnavailable.FORBIDDEN)],  # fmt: skip
)
async def test_a_refused_report_is_a_reason_not_a_failure(engine, body, reason):
    tenant = make_tenant(engine)
    source = _source(engine, tenant, "m365", tenant=M365_TENANT)
    result = await _sync_m365(engine, source, httpx.Response(403, json=fixture(body)))
    assert result.mfa == MfaCoverage(unavailable=reason) and _licences(engine, tenant) == 2
    acts = InventoryActivities(engine, environ=ENV)
    acts.write_snapshot(WriteSnapshot(tenant_id=tenant.id, at=AT, devices=False, mfa=result.mfa))
    assert _counts(engine, tenant).mfa == MfaCoverage(unavailable=reason)


async def test_an_unreadable_report_is_a_reason_and_a_throttled_one_is_retried(engine):
    tenant = make_tenant(engine)
    source = _source(engine, tenant, "m365", tenant=M365_TENANT)
    bad = httpx.Response(200, json={"value": [{"id": "u1", "userType": "member", "isMfaRegistered": "yes"}]})
    assert (await _sync_m365(engine, source, bad)).mfa == MfaCoverage(unavailable=MfaUnavailable.UNREADABLE)
    with pytest.raises(ApplicationError) as throttled:
        await _sync_m365(engine, source, httpx.Response(429, headers={"Retry-After": "30"}))
    assert not throttled.value.non_retryable and throttled.value.next_retry_delay == timedelta(seconds=30)


async def test_snapshot_parts_and_the_kpi_end_to_end(engine):
    tenant, other = make_tenant(engine), make_tenant(engine)
    make_asset(engine, tenant, hostname="PRINTER-1", os=None)
    acts = InventoryActivities(engine, environ=ENV)
    with respx.mock:
        datto_pages(respx.mock)
        rmm = _source(engine, tenant, "datto_rmm", base_url=DATTO, site_uids=[SITE])
        await ActivityEnvironment().run(acts.sync_rmm, SyncSource(source_id=rmm.id, synced_at=AT))
    mfa = (await _sync_m365(engine, _source(engine, tenant, "m365", tenant=M365_TENANT))).mfa
    acts.write_snapshot(WriteSnapshot(tenant_id=other.id, at=AT, devices=False, mfa=MfaCoverage(members=9)))
    acts.write_snapshot(WriteSnapshot(tenant_id=tenant.id, at=AT, mfa=mfa))
    first = _counts(engine, tenant)
    assert (first.devices_known, first.devices_managed, first.mfa) == (4, 3, mfa)
    # A later sync of the day that read the RMM but not Microsoft 365 keeps the day's MFA counts, and vice versa.
    acts.write_snapshot(WriteSnapshot(tenant_id=tenant.id, at=AT + timedelta(hours=1)))
    assert _counts(engine, tenant) == first
    refused = MfaCoverage(unavailable=MfaUnavailable.FORBIDDEN)
    acts.write_snapshot(WriteSnapshot(tenant_id=tenant.id, at=AT + timedelta(hours=2), devices=False, mfa=refused))
    assert _counts(engine, tenant) == first.model_copy(update={"mfa": refused})
    assert _counts(engine, other).mfa == MfaCoverage(members=9)  # the other tenant's snapshot untouched
    acts.write_snapshot(WriteSnapshot(tenant_id=tenant.id, at=AT + timedelta(hours=3), devices=False, mfa=mfa))
    with Session(engine) as s:
        now = load_facts(s, LoadFacts(tenant_id=tenant.id, quarter="2026-Q4"))
        before = load_facts(s, LoadFacts(tenant_id=tenant.id, quarter="2026-Q3"))
    kpi = compute_kpis(now, before, tenant.customer_number, tenant.name).kpi("mfa_coverage")
    assert (kpi.current, kpi.previous, kpi.label, kpi.unit) == (Decimal("80.0"), NA, "MFA-Abdeckung", "%")  # 4 / 5


async def test_without_an_rmm_the_device_part_stays_empty(engine):
    tenant = make_tenant(engine)
    make_asset(engine, tenant, hostname="SOC-ONLY-1")  # known to the SOC only: no RMM coverage of 0 %
    acts = InventoryActivities(engine, environ=ENV)
    acts.write_snapshot(WriteSnapshot(tenant_id=tenant.id, at=AT, devices=False, mfa=MfaCoverage(members=2)))
    with Session(engine) as s:
        now = load_facts(s, LoadFacts(tenant_id=tenant.id, quarter="2026-Q4"))
        before = load_facts(s, LoadFacts(tenant_id=tenant.id, quarter="2026-Q3"))
    kpis = compute_kpis(now, before, tenant.customer_number, tenant.name)
    assert kpis.kpi("rmm_coverage").current == NA and kpis.kpi("mfa_coverage").current == Decimal("0.0")
