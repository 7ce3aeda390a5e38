"""Incident lifecycle end to end (webhook -> incident workflow -> ticket), on the time-skipping server:
vendor status updates, P1 paging with acknowledgement, and the per-integration triage settings."""

import copy
import uuid
from datetime import timedelta

import httpx
import pytest
import respx
from sqlmodel import Session, select
from temporalio.client import WithStartWorkflowOperation, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy

from domain.contracts.soc import IncidentAlert, IncidentInput
from domain.processes import SOC_TASK_QUEUE
from domain.roles import Role
from domain.soc.alerts import correlation_key
from domain.soc.sentinelone import normalize_sentinelone
from domain.tickets import EventKind, Priority, TicketStatus
from hub.temporal.soc import hand_over_and_wait
from models import AssetType, SocAlert, SocIncident, Ticket, TicketEvent
from tests.api.test_soc_webhook_api import deliver, eventually, incident, threat, ticket_of
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user
from workflows.soc.incident import IncidentWorkflow

PAGER_1 = "https://pager.example.net/hooks/level-1"
PAGER_2 = "https://pager2.example.net/hooks/level-2"


def open_threat(threat_id: str, host: str) -> dict:
    """A malicious threat S1 has not mitigated yet (vendor status: new)."""
    t = threat(threat_id, host)
    t["threatInfo"]["mitigationStatus"] = "not_mitigated"
    return t


def later(t: dict, *, minutes: int, **info) -> dict:
    """The same threat as S1 delivers it after a change at the console (`minutes` after 09:00; the fixture: 08:16)."""
    t = copy.deepcopy(t)
    t["threatInfo"].update(info, updatedAt=f"2026-11-20T{9 + minutes // 60:02d}:{minutes % 60:02d}:00.000000Z")
    return t


def notes(engine, ticket_id) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.COMMENTED)
            .order_by(TicketEvent.at, TicketEvent.id)
        ).all()
    return [r.body or "" for r in rows]


def alert_row(engine, vendor_alert_id: str) -> SocAlert:
    with Session(engine) as s:
        return s.exec(select(SocAlert).where(SocAlert.vendor_alert_id == vendor_alert_id)).one()


def ticket(engine, ticket_id) -> Ticket:
    with Session(engine) as s:
        return s.get(Ticket, ticket_id)


@pytest.fixture
async def soc(api, engine):
    """A customer with a workstation and a critical server, an S1 integration, and staff users."""
    tenant = make_tenant(engine)
    workstation, server = f"ws-{uuid.uuid4().hex[:6]}", f"dc-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=workstation, asset_type=AssetType.WORKSTATION)
    make_asset(engine, tenant, hostname=server, asset_type=AssetType.SERVER, tags=["critical"])
    admin_user, admin = make_user(engine, Role.MSP_ADMIN)
    tech_user, tech = make_user(engine, Role.MSP_TECH)
    r = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(admin),
        json={
            "tenant_id": str(tenant.id),
            "source": "sentinelone",
            "name": "S1",
            "vendor_tenant_ids": ["1650000000000000001"],
        },
    )
    assert r.status_code == 201, r.text
    return {
        "tenant": tenant,
        "workstation": workstation,
        "server": server,
        "integration": r.json(),
        "admin": admin,
        "tech": tech,
        "tech_user": tech_user,
    }


async def configure(api, soc, **override) -> dict:
    r = await api.patch(
        f"/api/v1/soc/integrations/{soc['integration']['id']}/triage-settings",
        headers=auth(soc["admin"]),
        json=override,
    )
    assert r.status_code == 200, r.text
    return r.json()


def new_id() -> str:
    return str(uuid.uuid4().int % 10**18)


async def open_incident(api, env, engine, soc, payload: dict, host: str):
    assert (await deliver(api, env, soc["integration"], payload)).status_code == 202
    found = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    return incident(engine, host), found


# --- vendor status updates -------------------------------------------------------------------------------------


async def test_vendor_resolution_is_recorded_and_noted_without_resolving_by_default(api, env, engine, soc):
    host = soc["workstation"]
    first = open_threat(new_id(), host)
    inc, tkt = await open_incident(api, env, engine, soc, first, host)
    assert alert_row(engine, first["id"]).vendor_status == "new"

    # The same delivery again (a retry, or the poller): nothing is recorded or noted.
    assert (await deliver(api, env, soc["integration"], first)).status_code == 202
    # S1 reports the threat resolved: recorded on the alert and the incident, noted on the ticket.
    resolved = later(first, minutes=30, incidentStatus="resolved")
    assert (await deliver(api, env, soc["integration"], resolved)).status_code == 202
    text = await eventually(lambda: (n := notes(engine, tkt.id)) and any("nicht eingestellt" in x for x in n) and n)
    changed = [n for n in text if "neuen Status" in n]
    assert len(changed) == 1 and "offen → behoben" in changed[0] and first["id"] in changed[0]
    assert any("Der Hersteller meldet den Alarm dieses Vorfalls als behoben" in n for n in text)
    # The summary: no LLM configured in the tests, so the template, in the description from the start.
    assert tkt.description.startswith("Zusammenfassung:\n")
    assert not any(n.startswith("Zusammenfassung") for n in text)

    row = alert_row(engine, first["id"])
    assert row.vendor_status == "resolved" and row.deliveries == 2  # the unchanged repeat did not count
    assert row.vendor_updated_at.isoformat().startswith("2026-11-20T09:30")
    inc = await eventually(lambda: (i := incident(engine, host)) and i.vendor_status == "resolved" and i)
    assert inc.vendor_resolved_at is not None and inc.alert_count == 1
    assert ticket(engine, tkt.id).status == TicketStatus.NEW  # default policy: a note, no resolution

    # A late poll still carrying the older state changes nothing.
    stale = later(first, minutes=10)
    assert (await deliver(api, env, soc["integration"], stale)).status_code == 202
    state = await env.client.get_workflow_handle(f"incident-{inc.key}").query(IncidentWorkflow.state)
    assert state.vendor_status == "resolved"
    assert alert_row(engine, first["id"]).vendor_status == "resolved"
    assert sum("neuen Status" in n for n in notes(engine, tkt.id)) == 1


async def test_vendor_resolution_resolves_the_ticket_when_the_integration_says_so(api, env, engine, soc):
    await configure(api, soc, auto_resolve=True)
    host = soc["workstation"]
    first = open_threat(new_id(), host)
    second = open_threat(new_id(), host)  # the same file on the same device: one incident
    inc, tkt = await open_incident(api, env, engine, soc, first, host)
    assert (await deliver(api, env, soc["integration"], second)).status_code == 202
    await eventually(lambda: (i := incident(engine, host)) and i.alert_count == 2)

    # One of two alerts mitigated: noted, but the incident is not settled yet.
    assert (
        await deliver(api, env, soc["integration"], later(first, minutes=5, mitigationStatus="mitigated"))
    ).status_code == 202
    await eventually(lambda: any("offen → eingedämmt" in n for n in notes(engine, tkt.id)))
    assert ticket(engine, tkt.id).status == TicketStatus.NEW

    # The second one marked a false positive by the analyst: every alert is settled -> the ticket is resolved.
    fp = later(second, minutes=20, analystVerdict="false_positive")
    assert (await deliver(api, env, soc["integration"], fp)).status_code == 202
    resolved = await eventually(lambda: (t := ticket(engine, tkt.id)) and t.status == TicketStatus.RESOLVED and t)
    assert resolved.resolved_at is not None
    with Session(engine) as s:
        change = s.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == tkt.id, TicketEvent.kind == EventKind.STATUS_CHANGED)
        ).one()
    assert "automatisch gelöst" in change.body and "alle 2 Alarme" in change.body
    assert (await eventually(lambda: (i := incident(engine, host)) and i.vendor_resolved_at and i)).vendor_status == (
        "mitigated"
    )
    # Closed while its incident still runs. (The time-skipping test server stops skipping time for good when an
    # abandoned child ticket completes after its parent incident has: the 7-day auto-close in a later test would.)
    r = await api.post(f"/api/v1/tickets/{tkt.id}/transitions", json={"to_status": "closed"}, headers=auth(soc["tech"]))
    assert r.status_code == 200, r.text


# --- P1 paging and acknowledgement -----------------------------------------------------------------------------


async def test_p1_page_acknowledged_in_time_pages_nobody_else(api, env, engine, soc):
    await configure(api, soc, oncall_chain=[PAGER_1, PAGER_2], ack_timeout_minutes=15)
    host = soc["server"]
    with respx.mock(assert_all_called=False) as mock:
        level1 = mock.post(PAGER_1).mock(return_value=httpx.Response(202))
        level2 = mock.post(PAGER_2).mock(return_value=httpx.Response(202))
        inc, tkt = await open_incident(api, env, engine, soc, open_threat(new_id(), host), host)
        assert tkt.priority == Priority.P1
        await eventually(lambda: level1.call_count == 1)
        page = level1.calls.last.request
        assert page.headers["Idempotency-Key"].endswith(":page:1")
        body = page.read().decode()
        assert '"event":"soc.page"' in body.replace(" ", "") and inc.key in body

        r = await api.post(f"/api/v1/soc/incidents/{inc.key}/acknowledge", headers=auth(soc["tech"]))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "acknowledged" and r.json()["level"] == 1
        assert r.json()["acknowledged_by"] == str(soc["tech_user"].id)
        again = await api.post(f"/api/v1/soc/incidents/{inc.key}/acknowledge", headers=auth(soc["tech"]))
        assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]

        await env.sleep(timedelta(minutes=40))
        assert level1.call_count == 1 and level2.call_count == 0
    row = await eventually(lambda: (i := incident(engine, host)) and i.acknowledged_at and i)
    assert row.acknowledged_by == soc["tech_user"].id and row.paged_level == 1
    shown = (await api.get(f"/api/v1/soc/incidents/{inc.key}", headers=auth(soc["tech"]))).json()
    assert (shown["paged_level"], shown["acknowledged_by"]) == (1, str(soc["tech_user"].id))
    assert shown["vendor_status"] == "new" and shown["acknowledged_at"] is not None
    text = await eventually(lambda: (n := "\n".join(notes(engine, tkt.id))) and "bestätigt von" in n and n)
    assert "Bereitschaft Stufe 1/2 alarmiert" in text and "Stufe 2/2" not in text


async def test_unacknowledged_page_escalates_to_level_two_exactly_once(api, env, engine, soc):
    await configure(api, soc, oncall_chain=[PAGER_1, PAGER_2], ack_timeout_minutes=15)
    host = soc["server"]
    with respx.mock(assert_all_called=False) as mock:
        level1 = mock.post(PAGER_1).mock(return_value=httpx.Response(202))
        level2 = mock.post(PAGER_2).mock(return_value=httpx.Response(202))
        inc, tkt = await open_incident(api, env, engine, soc, open_threat(new_id(), host), host)
        await eventually(lambda: level1.call_count == 1)
        await env.sleep(timedelta(minutes=16))
        await eventually(lambda: level2.call_count == 1)
        assert level2.calls.last.request.headers["Idempotency-Key"].endswith(":page:2")
        await env.sleep(timedelta(minutes=45))
        assert level1.call_count == 1 and level2.call_count == 1
    handle = env.client.get_workflow_handle(f"incident-{inc.key}")
    paging = (await handle.query(IncidentWorkflow.state)).paging
    assert paging.status == "unacknowledged" and paging.level == 2
    text = await eventually(lambda: (n := "\n".join(notes(engine, tkt.id))) and "ohne Antwort" in n and n)
    assert "Keine Bestätigung innerhalb von 15 Min." in text and "Stufe 2/2 alarmiert" in text
    assert (
        await eventually(lambda: (i := incident(engine, host)) and i.paged_level == 2 and i)
    ).acknowledged_at is None

    # Whoever picks it up after the last level still acknowledges it, on record.
    late = await api.post(f"/api/v1/soc/incidents/{inc.key}/acknowledge", headers=auth(soc["tech"]))
    assert late.status_code == 200 and late.json()["status"] == "acknowledged" and late.json()["level"] == 2
    assert (await eventually(lambda: (i := incident(engine, host)) and i.acknowledged_at and i)).paged_level == 2


async def test_a_failing_pager_moves_on_to_the_next_level_at_once(api, env, engine, soc):
    await configure(api, soc, oncall_chain=[PAGER_1, PAGER_2])
    host = soc["server"]
    with respx.mock(assert_all_called=False) as mock:
        level1 = mock.post(PAGER_1).mock(return_value=httpx.Response(404, text="no such hook"))
        level2 = mock.post(PAGER_2).mock(return_value=httpx.Response(202))
        inc, tkt = await open_incident(api, env, engine, soc, open_threat(new_id(), host), host)
        await eventually(lambda: level2.call_count == 1)
        assert level1.call_count == 1  # a 404 is not retried
    await eventually(lambda: any("Stufe 1 fehlgeschlagen" in n for n in notes(engine, tkt.id)))


async def test_acknowledge_checks_tenant_role_and_pending_page(api, env, engine, soc):
    await configure(api, soc, oncall_chain=[PAGER_1])
    other = make_tenant(engine)
    _, foreign = make_user(engine, Role.CUSTOMER_IT, other)
    _, own_customer = make_user(engine, Role.CUSTOMER_IT, soc["tenant"])
    _, finance = make_user(engine, Role.FINANCE)
    with respx.mock(assert_all_called=False) as mock:
        mock.post(PAGER_1).mock(return_value=httpx.Response(202))
        p1, _ = await open_incident(api, env, engine, soc, open_threat(new_id(), soc["server"]), soc["server"])
        # A P2 incident on the workstation pages nobody.
        p2, _ = await open_incident(
            api, env, engine, soc, open_threat(new_id(), soc["workstation"]), soc["workstation"]
        )
        url = f"/api/v1/soc/incidents/{p1.key}/acknowledge"
        assert (await api.post(url, headers=auth(foreign))).status_code == 404
        assert (await api.post(url, headers=auth(own_customer))).status_code == 403
        assert (await api.post(url, headers=auth(finance))).status_code == 403
        assert (await api.post(url)).status_code == 401
        assert (await api.post("/api/v1/soc/incidents/nope/acknowledge", headers=auth(soc["tech"]))).status_code == 404
        nothing = await api.post(f"/api/v1/soc/incidents/{p2.key}/acknowledge", headers=auth(soc["tech"]))
        assert nothing.status_code == 409 and "nothing to acknowledge" in nothing.json()["detail"]
        assert nothing.headers["content-type"].startswith("application/problem+json")
        state = await env.client.get_workflow_handle(f"incident-{p1.key}").query(IncidentWorkflow.state)
        assert state.paging.status == "pending"  # none of the refused calls acknowledged it

        view = f"/api/v1/soc/incidents/{p1.key}/lifecycle"
        assert (await api.get(view, headers=auth(foreign))).status_code == 404
        assert (await api.get(view, headers=auth(own_customer))).status_code == 403
        body = (await api.get(view, headers=auth(soc["tech"]))).json()
        assert body["paging"]["status"] == "pending" and body["paging"]["level"] == 1
        assert body["vendor_status"] == "new" and body["acknowledged_at"] is None


# --- configurable correlation window and priority matrix ------------------------------------------------------


async def test_integration_matrix_and_window_apply_to_new_incidents(api, env, engine, soc):
    matrix = {"rules": [{"verdicts": ["malicious"], "assets": ["standard"], "priority": "P1"}], "fallback": "P4"}
    await configure(api, soc, quiet_window_hours=1, priority_matrix=matrix)
    host = soc["workstation"]
    inc, tkt = await open_incident(api, env, engine, soc, open_threat(new_id(), host), host)
    assert tkt.priority == Priority.P1  # the default table gives a workstation P2
    handle = env.client.get_workflow_handle_for(IncidentWorkflow.run, f"incident-{inc.key}")
    await env.sleep(timedelta(minutes=61))
    # Closed after 1 h, not the default 24 h (describe does not skip time; result() would).
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert (await handle.result()).status == "closed"


async def test_a_correlated_alert_within_the_window_keeps_the_incident_open(api, env, engine, soc):
    """The quiet window counts from the latest alert: one timer for the window is armed again for the rest of it
    after a wake-up, instead of a new timer per alert."""
    await configure(api, soc, quiet_window_hours=1)
    host = soc["workstation"]
    inc, tkt = await open_incident(api, env, engine, soc, open_threat(new_id(), host), host)
    handle = env.client.get_workflow_handle_for(IncidentWorkflow.run, f"incident-{inc.key}")
    await env.sleep(timedelta(minutes=40))
    second = open_threat(new_id(), host)
    assert (await deliver(api, env, soc["integration"], second)).status_code == 202
    await eventually(lambda: any(second["id"] in n for n in notes(engine, tkt.id)))
    await env.sleep(timedelta(minutes=30))  # 70 min after the first alert, 30 after the second
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await env.sleep(timedelta(minutes=31))
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    final = await handle.result()
    assert final.status == "closed" and final.alert_count == 2
    history = await handle.fetch_history()
    started = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    cancelled = [e for e in history.events if e.HasField("timer_canceled_event_attributes")]
    # The first window's timer, armed again once for the rest of the second window; none cancelled.
    assert len(started) == 2 and not cancelled


async def test_triage_settings_api_validates_and_scopes(api, engine, soc):
    base = f"/api/v1/soc/integrations/{soc['integration']['id']}/triage-settings"
    got = (await api.get(base, headers=auth(soc["tech"]))).json()
    assert got["override"]["auto_resolve"] is None and got["effective"]["quiet_window_hours"] == 24
    assert got["effective"]["auto_resolve"] is False and got["effective"]["ack_timeout_minutes"] == 15
    for bad in (
        {"quiet_window_hours": 0},
        {"ack_timeout_minutes": "bald"},
        {"oncall_chain": ["not a url"]},
        {"priority_matrix": {"medium_confidence": 90, "high_confidence": 80}},
        {"priority_matrix": {"rules": [{"priority": "P9"}]}},
        {"escalate": True},
    ):
        r = await api.patch(base, headers=auth(soc["admin"]), json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await api.patch(base, headers=auth(soc["tech"]), json={"auto_resolve": True})).status_code == 403
    missing = f"/api/v1/soc/integrations/{uuid.uuid4()}/triage-settings"
    assert (await api.patch(missing, headers=auth(soc["admin"]), json={})).status_code == 404

    set_ = await configure(api, soc, quiet_window_hours=2, oncall_chain=[PAGER_1])
    assert set_["effective"]["quiet_window_hours"] == 2 and set_["effective"]["oncall_chain"] == [PAGER_1]
    cleared = await configure(api, soc, quiet_window_hours=None)
    assert cleared["effective"]["quiet_window_hours"] == 24 and cleared["override"]["oncall_chain"] == [PAGER_1]
    with Session(engine) as s:
        row = s.exec(select(SocIncident).where(SocIncident.tenant_id == soc["tenant"].id)).first()
    assert row is None  # settings change nothing by themselves


# --- the webhook inbox's hand-over: answered once handled; a closing run refuses it ------------------------------


async def test_the_inbox_hand_over_is_answered_once_handled_and_a_closing_run_refuses_it(api, env, engine, soc):
    await configure(api, soc, quiet_window_hours=1)
    host, tenant = soc["server"], soc["tenant"]

    def item(payload: dict) -> IncidentAlert:
        alert = normalize_sentinelone(payload, soc["integration"]["id"])
        return IncidentAlert(alert=alert, tenant_id=tenant.id, customer_number=tenant.customer_number)

    first = item(open_threat(new_id(), host))
    key = correlation_key(first.alert, tenant.customer_number)
    # P1 on a critical server: a containment proposal that outlives the quiet window keeps the run open, closing.
    start = WithStartWorkflowOperation(
        IncidentWorkflow.run,
        IncidentInput(key=key, containment_expiry_minutes=180),
        id=f"incident-{key}",
        task_queue=SOC_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    await env.client.execute_update_with_start_workflow(
        IncidentWorkflow.take_alerts, [first], start_workflow_operation=start
    )
    handle = await start.workflow_handle()
    ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    await env.sleep(timedelta(minutes=61))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    second = item(open_threat(new_id(), host))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await hand_over_and_wait(env.client, [second])
    assert "closing" in str(refused.value.cause)  # rejected, not accepted: the inbox keeps the alert and retries

    await env.sleep(timedelta(minutes=120))  # the proposal expires, the run ends
    closed = await handle.result()
    assert closed.status == "closed" and closed.alert_count == 1 and closed.containment.status == "expired"
    # The next hand-over starts the next run and returns once it has handled the alert: nothing to wait for.
    assert await hand_over_and_wait(env.client, [second]) == f"incident-{key}"
    with Session(engine) as s:
        row = s.exec(select(SocAlert).where(SocAlert.dedupe_key == second.alert.dedupe_key)).one()
    state = await env.client.get_workflow_handle(f"incident-{key}").query(IncidentWorkflow.state)
    assert state.alert_count == 1 and state.ticket_id is not None and state.ticket_id != ticket.id
    assert row.incident_key == key and ticket_of(engine, incident(engine, host)) is not None
