"""The inventory sync's activities against the database (SQLite and PostgreSQL) with Datto RMM and Graph mocked by
respx: assets matched by RMM uid, then host name regardless of case, SOC agent ids kept, devices gone marked not
deleted, a re-run changes nothing; licences by SKU; one snapshot per customer and day; the QBR takes each quarter's
last snapshot; another tenant's rows are never touched; vendor errors as Temporal sees them."""

from datetime import UTC, date, datetime

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
from hub.db import session_scope
from models import Asset, AssetType, HealthSnapshot, InventorySource, Licence
from tests.factories import make_asset, make_tenant
from tests.inventory_mocks import (
    DATTO,
    DATTO_UIDS,
    DEVICES_URL,
    M365_TENANT,
    NCENTRAL,
    NCENTRAL_DEVICES_URL,
    NCENTRAL_JWT,
    NCENTRAL_UIDS,
    ORG_UNIT,
    SITE,
    credentials,
    datto_pages,
    fixture,
    graph_skus,
    ncentral_pages,
)

AT = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
ENV = credentials(None)


def _source(engine, owner, kind: str, **settings) -> InventorySource:  # noqa: ANN001
    with session_scope(engine) as s:
        row = InventorySource(tenant_id=owner.id, kind=kind, name=kind, settings=settings, credentials_ref="msp")
        s.add(row)
    return row


def _assets(engine, tenant) -> dict[str, Asset]:  # noqa: ANN001
    with Session(engine) as s:
        return {a.hostname: a for a in s.exec(select(Asset).where(Asset.tenant_id == tenant.id))}


async def _sync_rmm(engine, source, at=AT):  # noqa: ANN001, ANN202
    acts = InventoryActivities(engine, environ=ENV)
    with respx.mock:
        datto_pages(respx.mock)
        return await ActivityEnvironment().run(acts.sync_rmm, SyncSource(source_id=source.id, synced_at=at))


@pytest.fixture
def customer(engine):
    tenant = make_tenant(engine)
    # Entered by the SOC first (other case, with its EDR agent); an old PC the RMM no longer lists; a printer.
    make_asset(engine, tenant, hostname="Acme-WS-042", agent_uuid="s1-agent-uuid", agent_id="1700000000000000001")
    make_asset(engine, tenant, hostname="OLD-PC", rmm_uid="9e9e9e9e-0000-4000-8000-000000000000")
    make_asset(engine, tenant, hostname="PRINTER-1", asset_type=AssetType.PRINTER, os=None)
    return tenant


async def test_rmm_sync_matches_creates_marks_gone_and_is_idempotent(engine, customer):
    other = make_tenant(engine)
    make_asset(engine, other, hostname="ACME-WS-042")  # the same name at another customer: never touched
    source = _source(engine, customer, "datto_rmm", base_url=DATTO, site_uids=[SITE])
    first = await _sync_rmm(engine, source)
    assert (first.created, first.updated, first.gone, first.skipped) == (2, 1, 1, 0)
    assets = _assets(engine, customer)
    assert set(assets) == {"Acme-WS-042", "contoso-dc01", "acme-nb-007", "OLD-PC", "PRINTER-1"}
    ws = assets["Acme-WS-042"]  # matched by host name regardless of case, its name and agent ids kept
    assert (ws.rmm_uid, ws.agent_uuid, ws.agent_id) == (DATTO_UIDS[0], "s1-agent-uuid", "1700000000000000001")
    assert (ws.antivirus_status, ws.patch_status, ws.online, ws.warranty_end) == (
        "RunningAndUpToDate", "FullyPatched", True, date(2027, 3, 31))  # fmt: skip
    dc = assets["contoso-dc01"]
    assert (dc.asset_type, dc.rmm_uid, dc.reboot_required, dc.rmm_gone_at) == (AssetType.SERVER, DATTO_UIDS[1], True,
                                                                               None)  # fmt: skip
    assert assets["OLD-PC"].rmm_gone_at == AT  # marked, not deleted
    assert assets["PRINTER-1"].rmm_uid is None
    (untouched,) = _assets(engine, other).values()
    assert untouched.rmm_uid is None

    again = await _sync_rmm(engine, source)
    assert (again.created, again.updated, again.gone) == (0, 3, 0)
    assert set(_assets(engine, customer)) == set(assets)


async def test_a_host_name_held_by_a_listed_rmm_device_is_not_taken_over(engine, customer):
    # ACME-NB-007's name already belongs to the RMM's workstation uid (listed in the same answer): skipped.
    make_asset(engine, customer, hostname="acme-nb-007", rmm_uid=DATTO_UIDS[0])
    source = _source(engine, customer, "datto_rmm", base_url=DATTO, site_uids=[SITE])
    result = await _sync_rmm(engine, source)
    assert result.skipped == 1 and "acme-nb-007" in result.skipped_reasons[0]
    assert _assets(engine, customer)["acme-nb-007"].rmm_uid == DATTO_UIDS[0]


async def test_licences_by_sku_and_a_removed_sku(engine, customer):
    with session_scope(engine) as s:
        s.add(Licence(tenant_id=customer.id, vendor="Microsoft", product="Microsoft 365 Business Premium",
                      sku="O365_BUSINESS_PREMIUM", quantity=40, assigned=40))  # fmt: skip
    source = _source(engine, customer, "m365", tenant=M365_TENANT)
    acts = InventoryActivities(engine, environ=ENV)
    with respx.mock:
        graph_skus(respx.mock)
        result = await ActivityEnvironment().run(acts.sync_m365, SyncSource(source_id=source.id, synced_at=AT))
        assert (result.created, result.updated) == (1, 1)
        with Session(engine) as s:
            rows = {r.sku: r for r in s.exec(select(Licence).where(Licence.tenant_id == customer.id))}
        assert (rows["O365_BUSINESS_PREMIUM"].quantity, rows["O365_BUSINESS_PREMIUM"].assigned) == (50, 47)
        assert rows["O365_BUSINESS_PREMIUM"].product == "Microsoft 365 Business Premium"  # a person's name stays
        assert (rows["SPE_E3"].quantity, rows["SPE_E3"].assigned, rows["SPE_E3"].capability_status) == (5, 3, "Warning")
        respx.get("https://graph.microsoft.com/v1.0/subscribedSkus").mock(
            return_value=httpx.Response(200, json={"value": []})
        )
        gone = await ActivityEnvironment().run(acts.sync_m365, SyncSource(source_id=source.id, synced_at=AT))
    assert gone.gone == 2
    with Session(engine) as s:
        assert {r.capability_status for r in s.exec(select(Licence).where(Licence.tenant_id == customer.id))} == {
            "Deleted"}  # fmt: skip


async def test_one_snapshot_per_day_by_hand_and_the_quarters_last_for_the_qbr(engine, customer):
    source = _source(engine, customer, "datto_rmm", base_url=DATTO, site_uids=[SITE])
    await _sync_rmm(engine, source)
    acts = InventoryActivities(engine, environ=ENV)
    day = acts.write_snapshot(WriteSnapshot(tenant_id=customer.id, at=AT))
    assert day == "2026-12-02" and acts.write_snapshot(WriteSnapshot(tenant_id=customer.id, at=AT)) == day
    with Session(engine) as s:
        (snapshot,) = s.exec(select(HealthSnapshot).where(HealthSnapshot.tenant_id == customer.id)).all()
    # Known: WS, DC, NB, PRINTER-1 (OLD-PC is gone); managed: the 3 RMM devices. AV ok: WS. Windows: 3, under a
    # policy: WS (FullyPatched) and DC (RebootRequired), NB has NoPolicy. Online: WS, DC. Reboot: DC.
    assert snapshot.counts | {} == {
        "devices_known": 4, "devices_managed": 3, "av_up_to_date": 1, "windows_devices": 3, "windows_with_policy": 2,
        "windows_fully_patched": 1, "online": 2, "reboot_pending": 1, "licences_purchased": 0, "licences_assigned": 0,
        "mfa": None, "av_unreported": 0, "online_unreported": 0, "reboot_unreported": 0,  # Datto reports every column
    }  # fmt: skip

    other = make_tenant(engine)
    with session_scope(engine) as s:  # earlier days of Q4 and Q3, one of Q1 2027; another tenant's last day of Q4
        for d, online in ((date(2026, 9, 15), 0), (date(2026, 9, 30), 1), (date(2026, 10, 1), 3),
                          (date(2027, 1, 1), 3)):  # fmt: skip
            counts = snapshot.counts | {"online": online}
            s.add(HealthSnapshot(tenant_id=customer.id, day=d, taken_at=AT, counts=counts))
        s.add(HealthSnapshot(tenant_id=other.id, day=date(2026, 12, 31), taken_at=AT, counts={"devices_known": 9}))
    with Session(engine) as s:
        q4 = load_facts(s, LoadFacts(tenant_id=customer.id, quarter="2026-Q4"))
        q3 = load_facts(s, LoadFacts(tenant_id=customer.id, quarter="2026-Q3"))
        q2 = load_facts(s, LoadFacts(tenant_id=customer.id, quarter="2026-Q2"))
    assert (q4.health.day, q4.health.counts.online, q4.health.counts.devices_known) == (date(2026, 12, 2), 2, 4)
    assert (q3.health.day, q3.health.counts.online) == (date(2026, 9, 30), 1)
    assert q2.health is None


async def test_vendor_errors_as_temporal_sees_them(engine, customer):
    source = _source(engine, customer, "datto_rmm", base_url=DATTO, site_uids=[SITE])
    acts = InventoryActivities(engine, environ=ENV)
    req = SyncSource(source_id=source.id, synced_at=AT)
    with respx.mock:
        respx.post(f"{DATTO}/auth/oauth/token").mock(return_value=httpx.Response(401, json={"error": "unauthorized"}))
        with pytest.raises(ApplicationError) as auth:
            await ActivityEnvironment().run(acts.sync_rmm, req)
        assert auth.value.non_retryable and "PSA_INVENTORY_CREDENTIALS__MSP__API_KEY" in str(auth.value)
        assert "datto-secret" not in str(auth.value)
        respx.post(f"{DATTO}/auth/oauth/token").mock(return_value=httpx.Response(200, json={"access_token": "t"}))
        respx.get(DEVICES_URL).mock(return_value=httpx.Response(429))
        with pytest.raises(ApplicationError) as limited:
            await ActivityEnvironment().run(acts.sync_rmm, req)
        assert not limited.value.non_retryable and limited.value.next_retry_delay.total_seconds() == 60
        respx.get(DEVICES_URL).mock(return_value=httpx.Response(200, json={"devices": "none"}))
        with pytest.raises(ApplicationError) as bad:
            await ActivityEnvironment().run(acts.sync_rmm, req)
        assert bad.value.non_retryable and "devices" in str(bad.value)
    with pytest.raises(ApplicationError, match="API_SECRET") as missing:
        await ActivityEnvironment().run(InventoryActivities(engine, environ={}).sync_rmm, req)
    assert missing.value.type == "MissingCredentials" and missing.value.non_retryable
    assert len(_assets(engine, customer)) == 3  # nothing written by a failed sync


async def test_a_rename_in_the_rmm_follows_and_a_deleted_device_keeps_when_it_went(engine, customer):
    source = _source(engine, customer, "datto_rmm", base_url=DATTO, site_uids=[SITE])
    await _sync_rmm(engine, source)
    page = fixture("datto_site_devices_page2.json")
    page["devices"][0]["hostname"] = "ACME-NB-008"  # renamed in the RMM
    page["devices"].append(dict(page["devices"][0], uid="3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f",
                                hostname="CONTOSO-DC01", deleted=True))  # fmt: skip  (its name is taken: no rename)
    first = fixture("datto_site_devices_page1.json")
    first["devices"][1]["deleted"] = True  # the DC, deleted in the RMM

    async def sync(at):  # noqa: ANN001, ANN202
        acts = InventoryActivities(engine, environ=ENV)
        with respx.mock:
            respx.post(f"{DATTO}/auth/oauth/token").mock(return_value=httpx.Response(200, json={"access_token": "t"}))
            respx.get(DEVICES_URL, params={"page": "0"}).mock(return_value=httpx.Response(200, json=first))
            respx.get(DEVICES_URL, params={"page": "1"}).mock(return_value=httpx.Response(200, json=page))
            return await ActivityEnvironment().run(acts.sync_rmm, SyncSource(source_id=source.id, synced_at=at))

    result = await sync(AT)
    assert (result.created, result.gone) == (0, 1)  # the deleted stranger is not created; the DC is marked
    later = datetime(2026, 12, 3, 4, 30, tzinfo=UTC)
    assert (await sync(later)).gone == 0  # marked once
    assets = _assets(engine, customer)
    assert "acme-nb-008" in assets and "acme-nb-007" not in assets
    assert assets["contoso-dc01"].rmm_gone_at == AT  # since the first sync that saw it deleted


async def test_ncentral_errors_as_temporal_sees_them_and_a_sync_is_idempotent(engine, customer):
    """N-central's 403 (the API user's role) and a refused JWT fail without a retry naming API_TOKEN; a 429 waits
    for its Retry-After; a second sync of the same answer changes nothing."""
    source = _source(engine, customer, "ncentral", server_url=NCENTRAL, org_unit_ids=[ORG_UNIT])
    acts = InventoryActivities(engine, environ=ENV)
    req = SyncSource(source_id=source.id, synced_at=AT)
    with respx.mock:
        respx.post(f"{NCENTRAL}/api/auth/authenticate").mock(return_value=httpx.Response(401))
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(acts.sync_rmm, req)
        assert refused.value.non_retryable and "PSA_INVENTORY_CREDENTIALS__MSP__API_TOKEN" in str(refused.value)
        assert NCENTRAL_JWT not in str(refused.value)
        respx.post(f"{NCENTRAL}/api/auth/authenticate").mock(
            return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json"))
        )
        respx.get(NCENTRAL_DEVICES_URL).mock(return_value=httpx.Response(403, json={"message": "Access denied"}))
        with pytest.raises(ApplicationError) as forbidden:
            await ActivityEnvironment().run(acts.sync_rmm, req)
        assert forbidden.value.non_retryable and "HTTP 403" in str(forbidden.value)
        assert "role and access to the customer" in str(forbidden.value)
        respx.get(NCENTRAL_DEVICES_URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "90"}))
        with pytest.raises(ApplicationError) as limited:
            await ActivityEnvironment().run(acts.sync_rmm, req)
        assert not limited.value.non_retryable and limited.value.next_retry_delay.total_seconds() == 90
    assert len(_assets(engine, customer)) == 3  # nothing written by a failed sync
    with pytest.raises(ApplicationError, match="API_TOKEN") as missing:
        await ActivityEnvironment().run(InventoryActivities(engine, environ={}).sync_rmm, req)
    assert missing.value.type == "MissingCredentials"

    other = make_tenant(engine)  # another customer with a device of the same name: never touched
    make_asset(engine, other, hostname="ACME-NB-007")
    with respx.mock:
        ncentral_pages(respx.mock)
        first = await ActivityEnvironment().run(acts.sync_rmm, req)
        again = await ActivityEnvironment().run(acts.sync_rmm, req)
    assert (first.created, first.updated, first.skipped) == (2, 1, 0)  # ACME-WS-042: the SOC's asset, by host name
    assert (again.created, again.updated, again.gone) == (0, 3, 0)
    assets = _assets(engine, customer)
    assert {a.rmm_uid for a in assets.values() if a.rmm_uid and a.rmm_gone_at is None} == set(NCENTRAL_UIDS)
    assert [(a.rmm_uid, a.rmm_synced_at) for a in _assets(engine, other).values()] == [(None, None)]
