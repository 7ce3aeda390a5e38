"""SOC intake of issue #12 through the webhook and the poller: a new vendor status of an alert whose incident has
closed (recorded on the alert and the incident, noted on that incident's ticket, kept in its history when the ticket
is closed too, never a new incident or ticket); an old threat's update by webhook (recorded like the poller does);
a RocketCyber incident on several devices."""

import json
from datetime import timedelta

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from domain.tickets import EventKind, TicketStatus
from models import AssetType, SocIncident, Tenant, Ticket, TicketEvent
from tests.conftest import auth
from tests.factories import make_asset
from tests.workflows import test_soc_poller as base
from tests.workflows.test_incident_lifecycle import (
    alert_row,
    configure,
    deliver,
    eventually,
    incident,
    later,
    new_id,
    notes,
    open_incident,
    open_threat,
    ticket,
)
from tests.workflows.test_soc_poll_nothing_lost import POLLING, THREATS, Console, page_of
from tests.workflows.test_soc_poller import RC_BASE, RC_EMPTY, S1_BASE, alerts_of, incidents_of

poller = base.poller  # a worker with the poller on a private task queue, vendor HTTP through respx


def tickets_of(engine, tenant_id) -> int:  # noqa: ANN001
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Ticket).where(Ticket.tenant_id == tenant_id)).one()


async def test_webhook_update_after_incident_and_ticket_closed_is_kept_on_the_closed_ticket(api, env, engine, soc):
    await configure(api, soc, quiet_window_hours=1)
    host = soc["workstation"]
    first = open_threat(new_id(), host)
    inc, tkt = await open_incident(api, env, engine, soc, first, host)
    for status in ("in_progress", "resolved", "closed"):  # the technician closes it: its workflow ends
        r = await api.post(
            f"/api/v1/tickets/{tkt.id}/transitions", json={"to_status": status}, headers=auth(soc["tech"])
        )
        assert r.status_code == 200, r.text
    await env.sleep(timedelta(minutes=61))  # the quiet window closes the incident
    await eventually(lambda: (i := incident(engine, host)) and i.status == "closed")

    resolved = later(first, minutes=120, incidentStatus="resolved")
    assert (await deliver(api, env, soc["integration"], resolved)).status_code == 202

    [note] = await eventually(lambda: [n for n in notes(engine, tkt.id) if "bereits abgeschlossen" in n])
    assert "offen → behoben" in note and first["id"] in note
    assert "Der Hersteller meldet den Alarm dieses Vorfalls als behoben" in note
    with Session(engine) as s:
        kept = s.exec(select(TicketEvent).where(TicketEvent.ticket_id == tkt.id, TicketEvent.body == note)).one()
    assert kept.kind == EventKind.COMMENTED and kept.data == {"author_role": "system", "after_close": True}
    assert ticket(engine, tkt.id).status == TicketStatus.CLOSED  # kept on record, not reopened
    assert alert_row(engine, first["id"]).vendor_status == "resolved"
    row = incident(engine, host)
    assert (row.key, row.status, row.ticket_id, row.vendor_status) == (inc.key, "closed", tkt.id, "resolved")
    assert row.vendor_resolved_at is not None and row.alert_count == 1
    assert tickets_of(engine, soc["tenant"].id) == 1  # no new emergency


async def test_polled_update_after_the_incident_closed_is_noted_on_its_open_ticket(poller, env, engine):
    row = poller.integration("sentinelone")
    console = Console(page_of("sentinelone_threats_scan.json")[:1])
    poller.router.get(S1_BASE + THREATS).mock(side_effect=console)
    await poller.run(row)
    [inc] = await eventually(lambda: (i := incidents_of(engine, row.customer_number)) and i[0].ticket_id and i)
    await env.sleep(timedelta(hours=25))  # the hub's default quiet window closes the incident
    await eventually(lambda: incidents_of(engine, row.customer_number)[0].status == "closed")
    before = alerts_of(engine, row)[0].vendor_status

    console.threats[0]["threatInfo"].update(updatedAt="2026-11-25T10:00:00.000000Z", incidentStatus="resolved")
    result = await poller.run(row)

    assert result.handed_over == 1
    [note] = await eventually(lambda: [n for n in notes(engine, inc.ticket_id) if "bereits abgeschlossen" in n])
    assert "→ behoben" in note and console.threats[0]["id"] in note and before != "resolved"
    assert ticket(engine, inc.ticket_id).status != TicketStatus.CLOSED  # noted through its running workflow
    assert alerts_of(engine, row)[0].vendor_status == "resolved"
    with Session(engine) as s:
        rows = s.exec(select(SocIncident).where(SocIncident.tenant_id == row.tenant_id)).all()
    assert [(r.key, r.ticket_id, r.vendor_status) for r in rows] == [(inc.key, inc.ticket_id, "resolved")]
    assert tickets_of(engine, row.tenant_id) == 1


async def test_webhook_update_of_an_old_threat_is_recorded_like_the_poller_does_not_a_new_incident(
    api, env, engine, soc
):
    """The poller's rule on the webhook (domain.soc.intake): detected in June, before the integration existed, resolved
    at the console now: recorded on its alert, no incident, ticket or page; its next update too."""
    [old] = page_of("sentinelone_threats_old_threat_updated.json")
    old["id"] = old["threatInfo"]["threatId"] = new_id()
    now = await env.get_current_time()
    old["threatInfo"]["updatedAt"] = (now - timedelta(minutes=5)).isoformat()

    r = await deliver(api, env, soc["integration"], old)

    assert r.status_code == 202, r.text
    assert r.json()["incidents"] == [] and r.json()["items"] == [
        {"index": 0, "status": "accepted", "vendor_alert_id": old["id"], "recorded": True}
    ]
    row = alert_row(engine, old["id"])
    assert (row.incident_key, row.vendor_status, row.tenant_id) == (None, "resolved", soc["tenant"].id)
    old["threatInfo"].update(updatedAt=(now - timedelta(minutes=1)).isoformat(), incidentStatus="in_progress")
    assert (await deliver(api, env, soc["integration"], old)).json()["items"][0]["recorded"] is True
    row = alert_row(engine, old["id"])
    assert (row.incident_key, row.vendor_status, row.deliveries) == (None, "in_progress", 2)
    with Session(engine) as s:
        assert not s.exec(select(SocIncident).where(SocIncident.tenant_id == soc["tenant"].id)).all()
    assert tickets_of(engine, soc["tenant"].id) == 0


async def test_polled_rocketcyber_incident_on_three_devices_knows_each_and_its_ticket_lists_them(poller, engine):
    row = poller.integration("rocketcyber")
    with Session(engine) as s:
        tenant = s.get(Tenant, row.tenant_id)
    make_asset(engine, tenant, hostname="contoso-fs01.contoso.local", asset_type=AssetType.SERVER)
    page = json.loads((POLLING / "rocketcyber_incidents_devices.json").read_text())

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("status") == "resolved":
            return httpx.Response(200, json=RC_EMPTY)
        return httpx.Response(200, json=page)

    poller.router.get(RC_BASE + "/incidents").mock(side_effect=respond)
    result = await poller.run(row)

    assert (result.fetched, result.handed_over) == (2, 2)
    incidents = await eventually(
        lambda: (i := incidents_of(engine, row.customer_number)) and len(i) == 2 and all(x.ticket_id for x in i) and i
    )
    by_devices = {len(i.device_keys): i for i in incidents}
    ransomware = by_devices[3]
    assert ransomware.device_keys == ["host:contoso-fs01", "host:contoso-ws-017", "host:contoso-ws-023"]
    assert by_devices[1].device_keys == ["host:contoso-ws-011"]
    assert ransomware.asset_id is not None  # the first device is in the inventory
    tkt = ticket(engine, ransomware.ticket_id)
    assert tkt.title == "[RocketCyber] Ransomware Behavior Detected auf CONTOSO-FS01" and tkt.queue == "soc"
    assert "Betroffene Geräte: CONTOSO-FS01, CONTOSO-WS-017, CONTOSO-WS-023" in tkt.description
    assert "Ereignisse: 3" in tkt.description  # no eventCount: the events RocketCyber lists
    assert "Ereignisse: 1" in ticket(engine, by_devices[1].ticket_id).description
