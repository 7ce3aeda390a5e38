"""The inventory sync on the time-skipping server with the hub's workers, Datto RMM, N-central and Graph mocked by
respx: the daily run syncs every customer with a source; one customer's refused credentials are recorded on its
source and never hold up the other, whose devices, licences, MFA counts and snapshot are written; a customer with
Microsoft 365 only gets a snapshot of its MFA state; a customer on N-central gets its devices and a snapshot whose
antivirus, patch, online and reboot KPIs are "k. A."; the API starts one customer's sync."""

import uuid
from datetime import UTC, datetime

import httpx
import respx
from sqlmodel import Session, select

from domain.contracts.inventory import InventoryRunInput, InventorySyncInput, InventorySyncResult
from domain.inventory.health import HealthCounts
from domain.processes import INVENTORY_TASK_QUEUE, inventory_sync_workflow_id
from domain.qbr.kpis_health import antivirus_coverage, availability, patch_compliance, reboot_pending, rmm_coverage
from domain.qbr.measure import NA
from domain.roles import Role
from hub.db import session_scope
from models import Asset, HealthSnapshot, InventorySource, Licence
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user
from tests.inventory_mocks import (
    DATTO,
    DATTO_UIDS,
    M365_TENANT,
    MFA_URL,
    NCENTRAL,
    NCENTRAL_UIDS,
    ORG_UNIT,
    SITE,
    credentials,
    datto_pages,
    fixture,
    graph_skus,
    ncentral_pages,
)
from workflows.inventory.sync import InventoryRunWorkflow, InventorySyncWorkflow

BROKEN = "https://vidal-api.centrastage.net"


def _sources(engine, tenant, base: str = DATTO, m365: bool = True) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        s.add(InventorySource(tenant_id=tenant.id, kind="datto_rmm", name="Datto RMM", credentials_ref="msp",
                              settings={"base_url": base, "site_uids": [SITE]}))  # fmt: skip
        if m365:
            s.add(InventorySource(tenant_id=tenant.id, kind="m365", name="Microsoft 365", credentials_ref="msp",
                                  settings={"tenant": M365_TENANT}))  # fmt: skip


async def test_the_daily_run_records_one_customers_failure_and_syncs_the_other(client, engine, monkeypatch):
    credentials(monkeypatch)
    good, bad = make_tenant(engine), make_tenant(engine)
    _sources(engine, good)
    _sources(engine, bad, base=BROKEN, m365=False)
    with respx.mock:
        datto_pages(respx.mock)
        graph_skus(respx.mock)
        respx.post(f"{BROKEN}/auth/oauth/token").mock(
            return_value=httpx.Response(401, json={"error": "unauthorized"})
        )
        handle = await client.start_workflow(
            InventoryRunWorkflow.run, InventoryRunInput(customer_numbers=[good.customer_number, bad.customer_number]),
            id=f"inventory-run-{uuid.uuid4()}", task_queue=INVENTORY_TASK_QUEUE,
        )  # fmt: skip
        progress = await handle.result()
    assert (progress.total, progress.done, progress.with_errors, progress.failed) == (2, 1, 1, 0)

    failed = await client.get_workflow_handle(
        inventory_sync_workflow_id(bad.customer_number), result_type=InventorySyncResult
    ).result()
    assert [(s.kind.value, s.ok) for s in failed.sources] == [("datto_rmm", False)]
    error = failed.sources[0].error
    assert "HTTP 401" in error and "PSA_INVENTORY_CREDENTIALS__MSP__API_KEY" in error
    assert failed.snapshot_day is None
    with Session(engine) as s:
        (broken,) = s.exec(select(InventorySource).where(InventorySource.tenant_id == bad.id)).all()
        assert broken.last_sync_at is not None and broken.last_success_at is None and "401" in broken.last_error
        assert s.exec(select(HealthSnapshot).where(HealthSnapshot.tenant_id == bad.id)).all() == []
        synced = s.exec(select(InventorySource).where(InventorySource.tenant_id == good.id)).all()
        assert {r.kind: (r.last_error, r.last_result["created"]) for r in synced} == {
            "datto_rmm": (None, 3), "m365": (None, 2)}  # fmt: skip
        assert len(s.exec(select(Asset).where(Asset.tenant_id == good.id)).all()) == 3
        assert len(s.exec(select(Licence).where(Licence.tenant_id == good.id)).all()) == 2
        (snapshot,) = s.exec(select(HealthSnapshot).where(HealthSnapshot.tenant_id == good.id)).all()
    assert (snapshot.counts["devices_managed"], snapshot.counts["licences_purchased"]) == (3, 55)
    assert snapshot.counts["mfa"] == {"members": 5, "registered": 4, "unavailable": None}


async def test_a_customer_with_microsoft_365_only_and_a_refused_mfa_report(client, engine, monkeypatch):
    """No RMM: the snapshot holds the licences and the MFA reason, no device counts; the 403 fails nothing."""
    credentials(monkeypatch)
    tenant = make_tenant(engine)
    with session_scope(engine) as s:
        s.add(InventorySource(tenant_id=tenant.id, kind="m365", name="Microsoft 365", credentials_ref="msp",
                              settings={"tenant": M365_TENANT}))  # fmt: skip
    with respx.mock:
        graph_skus(respx.mock)
        respx.get(MFA_URL).mock(return_value=httpx.Response(403, json=fixture("graph_error_403_non_premium.json")))
        result = await client.execute_workflow(
            InventorySyncWorkflow.run, InventorySyncInput(tenant_id=tenant.id, customer_number=tenant.customer_number),
            id=f"inventory-sync-{uuid.uuid4()}", task_queue=INVENTORY_TASK_QUEUE,
        )  # fmt: skip
    assert [s.ok for s in result.sources] == [True] and result.snapshot_day is not None
    with Session(engine) as s:
        (snapshot,) = s.exec(select(HealthSnapshot).where(HealthSnapshot.tenant_id == tenant.id)).all()
    assert (snapshot.counts["devices_known"], snapshot.counts["licences_purchased"]) == (0, 55)
    assert snapshot.counts["mfa"] == {"members": 0, "registered": 0, "unavailable": "no_licence"}


async def test_a_customer_moved_from_datto_to_ncentral_keeps_its_assets_and_gets_k_a_where_ncentral_is_silent(
    client, engine, monkeypatch
):
    """The N-central source replaces the Datto one: the workstation Datto knew is taken over by its host name (its
    ticket history stays on the same asset), a Datto device N-central does not list is marked gone; the snapshot
    counts N-central's devices as managed and its unreported columns as such, so those KPIs are "k. A."."""
    credentials(monkeypatch)
    tenant = make_tenant(engine)
    seen = datetime(2026, 11, 1, tzinfo=UTC)
    moved = make_asset(engine, tenant, hostname="acme-ws-042", rmm_uid=DATTO_UIDS[0], rmm_synced_at=seen, online=True,
                       antivirus_status="RunningAndUpToDate", patch_status="FullyPatched")  # fmt: skip
    retired = make_asset(engine, tenant, hostname="acme-old-pc", rmm_uid=DATTO_UIDS[1], rmm_synced_at=seen)
    with session_scope(engine) as s:
        s.add(InventorySource(tenant_id=tenant.id, kind="ncentral", name="N-central", credentials_ref="msp",
                              settings={"server_url": NCENTRAL, "org_unit_ids": [ORG_UNIT]}))  # fmt: skip
    with respx.mock:
        devices = ncentral_pages(respx.mock)
        result = await client.execute_workflow(
            InventorySyncWorkflow.run, InventorySyncInput(tenant_id=tenant.id, customer_number=tenant.customer_number),
            id=f"inventory-sync-{uuid.uuid4()}", task_queue=INVENTORY_TASK_QUEUE,
        )  # fmt: skip
    assert [(s.kind.value, s.ok) for s in result.sources] == [("ncentral", True)], result
    assert (result.sources[0].synced.created, result.sources[0].synced.updated, result.sources[0].synced.gone) == (
        2, 1, 1)  # fmt: skip
    assert devices.call_count == 2  # the server answers two a page (asked for 200): page 2 reaches totalItems 3
    with Session(engine) as s:
        assets = {a.hostname: a for a in s.exec(select(Asset).where(Asset.tenant_id == tenant.id))}
        (snapshot,) = s.exec(select(HealthSnapshot).where(HealthSnapshot.tenant_id == tenant.id)).all()
        (source,) = s.exec(select(InventorySource).where(InventorySource.tenant_id == tenant.id)).all()
    ws = assets["acme-ws-042"]
    assert ws.id == moved.id and ws.rmm_uid == NCENTRAL_UIDS[0] and ws.rmm_gone_at is None
    assert ws.last_seen == datetime(2026, 12, 2, 6, 41, 17, tzinfo=UTC) and ws.os == "Microsoft Windows 11 Pro 64-bit"
    # What Datto said about it is not carried over as N-central's word: unknown now.
    assert (ws.online, ws.antivirus_status, ws.patch_status, ws.reboot_required) == (None, None, None, None)
    assert assets["contoso-dc01"].asset_type == "server" and assets["acme-nb-007"].asset_type == "laptop"
    assert assets["acme-old-pc"].id == retired.id and assets["acme-old-pc"].rmm_gone_at is not None
    assert source.last_error is None and source.last_result["created"] == 2
    counts = HealthCounts.model_validate(snapshot.counts)
    assert (counts.devices_known, counts.devices_managed, counts.windows_devices) == (3, 3, 3)
    assert (counts.av_unreported, counts.online_unreported, counts.reboot_unreported) == (3, 3, 3)
    assert rmm_coverage(counts) == 100
    assert [kpi(counts) for kpi in (antivirus_coverage, patch_compliance, availability, reboot_pending)] == [NA] * 4


async def test_the_api_starts_one_customers_sync(api, client, engine, monkeypatch):
    credentials(monkeypatch)
    tenant = make_tenant(engine)
    _sources(engine, tenant, m365=False)
    _, tech = make_user(engine, Role.MSP_TECH)
    with respx.mock:
        datto_pages(respx.mock)
        r = await api.post("/api/v1/inventory/syncs", headers=auth(tech), json={"tenant_id": str(tenant.id)})
        assert r.status_code == 202, r.text
        assert r.json()["workflow_id"] == inventory_sync_workflow_id(tenant.customer_number)
        result = await client.get_workflow_handle(r.json()["workflow_id"], result_type=InventorySyncResult).result()
    assert [s.ok for s in result.sources] == [True] and result.snapshot_day is not None
    unknown = await api.post("/api/v1/inventory/syncs", headers=auth(tech),
                             json={"tenant_id": "00000000-0000-4000-8000-000000000000"})  # fmt: skip
    assert unknown.status_code == 404


async def test_the_daily_schedule_is_created_once_keeps_a_pause_and_fires_at_half_past_five(dev_server):
    from zoneinfo import ZoneInfo

    from temporalio.client import ScheduleActionStartWorkflow

    from domain.processes import INVENTORY_SCHEDULE_ID
    from hub.temporal.inventory import ensure_inventory_schedule

    client = dev_server.client
    assert await ensure_inventory_schedule(client) == INVENTORY_SCHEDULE_ID
    assert await ensure_inventory_schedule(client) == INVENTORY_SCHEDULE_ID  # idempotent: worker start, setup, dev
    handle = client.get_schedule_handle(INVENTORY_SCHEDULE_ID)
    desc = await handle.describe()
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == "InventoryRun"
    assert action.task_queue == INVENTORY_TASK_QUEUE
    berlin = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in desc.info.next_action_times]
    assert berlin and all((t.hour, t.minute) == (5, 30) for t in berlin), berlin
    assert len({t.date() for t in berlin}) == len(berlin)  # once a day
    await handle.pause(note="Wartung Datto")
    await ensure_inventory_schedule(client)
    assert (await handle.describe()).schedule.state.paused


async def test_psa_inventory_sync_shows_each_source_and_exits_by_outcome(client, engine, monkeypatch):
    """`psa inventory sync K…`: its own Temporal connection (another thread, as the CLI is another process)."""
    import asyncio
    import io

    from rich.console import Console

    from hub.config import Settings
    from hub.inventory_cli import sync_customer

    credentials(monkeypatch)
    good, bad = make_tenant(engine), make_tenant(engine)
    _sources(engine, good, m365=False)
    _sources(engine, bad, base=BROKEN, m365=False)
    settings = Settings(temporal_address=client.service_client.config.target_host,
                        database_url=engine.url.render_as_string(hide_password=False))  # fmt: skip
    out = io.StringIO()

    def run(number: str) -> int:
        return sync_customer(number, settings=settings, console=Console(file=out, width=300))

    with respx.mock:
        datto_pages(respx.mock)
        respx.post(f"{BROKEN}/auth/oauth/token").mock(return_value=httpx.Response(401))
        assert await asyncio.to_thread(run, good.customer_number) == 0, out.getvalue()
        assert "│ Datto RMM │ datto_rmm │ ok     │ 3       │ 0       │ 0    │ 0       │" in out.getvalue()
        assert "Snapshot: 20" in out.getvalue()
        assert await asyncio.to_thread(run, bad.customer_number) == 1
        assert "HTTP 401" in out.getvalue()
        ncentral_pages(respx.mock)
        on_ncentral = make_tenant(engine)
        with session_scope(engine) as s:
            s.add(InventorySource(tenant_id=on_ncentral.id, kind="ncentral", name="N-central", credentials_ref="msp",
                                  settings={"server_url": NCENTRAL, "org_unit_ids": [ORG_UNIT]}))  # fmt: skip
        assert await asyncio.to_thread(run, on_ncentral.customer_number) == 0, out.getvalue()
        assert "│ N-central │ ncentral │ ok     │ 3       │ 0       │ 0    │ 0       │" in out.getvalue()
    assert await asyncio.to_thread(run, "K-NIEMAND") == 2
    assert "Kein Kunde mit der Kundennummer K-NIEMAND" in out.getvalue()
