"""GET /tickets/{id}/sla: live clocks from the running workflow, recorded outcomes once it has finished."""

from datetime import timedelta
from uuid import UUID, uuid4

from sqlmodel import Session, col, select

from domain.roles import Role
from domain.tickets import EventKind
from hub.db import session_scope
from models import SlaDefinitionRow, TicketEvent, TicketSla
from tests.conftest import auth
from tests.factories import make_sla, make_tenant, make_user
from workflows.tickets.sla_repin import SlaRepinBatchWorkflow

DEFINITION = {
    "name": "24/7",
    "targets": {
        "P2": {"response_minutes": 60, "resolution_minutes": 480, "calendar": "24x7"},
        "P3": {"response_minutes": 240, "resolution_minutes": 960, "calendar": "24x7"},
    },
}


async def test_sla_is_live_then_recorded(api, env, engine):
    tenant, other = make_tenant(engine), make_tenant(engine)
    make_sla(engine, tenant, DEFINITION)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, customer = make_user(engine, Role.CUSTOMER_USER, tenant)
    _, stranger = make_user(engine, Role.CUSTOMER_IT, other)
    created = await api.post("/api/v1/tickets", json={"title": "Mailserver", "priority": "P2"}, headers=auth(customer))
    tid = created.json()["id"]
    assert created.json()["sla_state"] == "ok"

    await env.sleep(timedelta(minutes=50))
    sla = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(customer))).json()
    assert sla["live"] and sla["state"] == "warning" and sla["time_zone"] == "Europe/Berlin"
    response = next(c for c in sla["clocks"] if c["kind"] == "response")
    assert response["target_minutes"] == 60 and 49 <= response["business_minutes_used"] <= 51
    assert 9 <= response["business_minutes_remaining"] <= 11
    assert (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(stranger))).status_code == 404

    warning = (
        await api.get(
            "/api/v1/tickets", params={"sla_state": "warning", "tenant_id": str(tenant.id)}, headers=auth(tech)
        )
    ).json()
    assert tid in [t["id"] for t in warning["items"]]

    # Resolved and closed: the workflow completes; the recorded outcome remains.
    for status in ("in_progress", "resolved", "closed"):
        r = await api.post(f"/api/v1/tickets/{tid}/transitions", json={"to_status": status}, headers=auth(tech))
        assert r.status_code == 200, r.text
    await env.sleep(timedelta(seconds=5))
    done = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(tech))).json()
    clocks = {c["kind"]: c for c in done["clocks"]}
    assert clocks["response"]["met"] is True and clocks["response"]["state"] == "met"
    assert clocks["resolution"]["met"] is True


async def test_ticket_without_sla_says_none(api, env, engine):
    tenant = make_tenant(engine)
    _, key = make_user(engine, Role.CUSTOMER_IT, tenant)
    tid = (await api.post("/api/v1/tickets", json={"title": "Ohne SLA"}, headers=auth(key))).json()["id"]
    sla = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(key))).json()
    assert sla["state"] == "none" and sla["clocks"] == []


async def test_repin_applies_an_edited_sla_to_a_running_ticket_once(api, env, engine):
    """Ops shorten P3's resolution target from 960 to 480 minutes after a ticket started. The ticket keeps its
    pinned target until an msp_admin re-pins it; then the 60 minutes used stay and the rest runs on 480."""
    tenant, other = make_tenant(engine), make_tenant(engine)
    contract = make_sla(engine, tenant, DEFINITION)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, customer = make_user(engine, Role.CUSTOMER_USER, tenant)
    _, stranger = make_user(engine, Role.CUSTOMER_IT, other)
    tid = (await api.post("/api/v1/tickets", json={"title": "VPN"}, headers=auth(customer))).json()["id"]
    await env.sleep(timedelta(minutes=60))
    with session_scope(engine) as s:
        row = s.get(SlaDefinitionRow, contract.sla_definition_id)
        targets = row.document["targets"] | {"P3": {**row.document["targets"]["P3"], "resolution_minutes": 480}}
        row.document = {**row.document, "targets": targets}

    def resolution(sla: dict) -> dict:
        return next(c for c in sla["clocks"] if c["kind"] == "resolution")

    before = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(tech))).json()
    assert resolution(before)["target_minutes"] == 960  # pinned: an edit does not rewrite a running SLA

    url = f"/api/v1/tickets/{tid}/sla/repin"
    assert (await api.post(url, headers=auth(tech))).status_code == 403
    assert (await api.post(url, headers=auth(stranger))).status_code == 403
    r = await api.post(url, headers=auth(admin))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["changed"] is True
    clock = resolution(body["sla"])
    assert clock["target_minutes"] == 480 and 59 <= clock["business_minutes_used"] <= 61
    assert 419 <= clock["business_minutes_remaining"] <= 421

    again = (await api.post(url, headers=auth(admin))).json()
    assert again["changed"] is False and "bereits aktuell" in again["reason"]
    events = (await api.get(f"/api/v1/tickets/{tid}/events", headers=auth(tech))).json()
    items = events["items"] if isinstance(events, dict) else events
    repins = [e for e in items if e["kind"] == "sla_repinned"]
    assert len(repins) == 1 and "SLA neu zugeordnet" in repins[0]["body"]
    with Session(engine) as s:
        recorded = s.get(TicketSla, (UUID(tid), "resolution"))
    assert recorded.target_minutes == 480

    for status in ("in_progress", "resolved", "closed"):
        await api.post(f"/api/v1/tickets/{tid}/transitions", json={"to_status": status}, headers=auth(tech))
    assert (await api.post(url, headers=auth(admin))).status_code == 409


async def test_repin_of_a_ticket_without_sla_is_a_conflict(api, env, engine):
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    _, key = make_user(engine, Role.CUSTOMER_IT, tenant)
    tid = (await api.post("/api/v1/tickets", json={"title": "Ohne SLA"}, headers=auth(key))).json()["id"]
    r = await api.post(f"/api/v1/tickets/{tid}/sla/repin", headers=auth(admin))
    assert r.status_code == 409 and "no SLA clock" in r.json()["detail"]
    assert (await api.post(f"/api/v1/tickets/{uuid4()}/sla/repin", headers=auth(admin))).status_code == 404


async def test_repin_batch_moves_only_the_chosen_customers_open_tickets(api, env, engine):
    tenant, other = make_tenant(engine), make_tenant(engine)
    contract = make_sla(engine, tenant, DEFINITION)
    make_sla(engine, other, DEFINITION)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    _, tech = make_user(engine, Role.MSP_TECH)
    _, mine = make_user(engine, Role.CUSTOMER_IT, tenant)
    _, theirs = make_user(engine, Role.CUSTOMER_IT, other)
    open_ids = [
        (await api.post("/api/v1/tickets", json={"title": f"T{i}"}, headers=auth(mine))).json()["id"] for i in range(3)
    ]
    done = (await api.post("/api/v1/tickets", json={"title": "fertig"}, headers=auth(mine))).json()["id"]
    for status in ("in_progress", "resolved", "closed"):
        await api.post(f"/api/v1/tickets/{done}/transitions", json={"to_status": status}, headers=auth(tech))
    foreign = (await api.post("/api/v1/tickets", json={"title": "fremd"}, headers=auth(theirs))).json()["id"]
    with session_scope(engine) as s:
        row = s.get(SlaDefinitionRow, contract.sla_definition_id)
        targets = row.document["targets"] | {"P3": {**row.document["targets"]["P3"], "resolution_minutes": 480}}
        row.document = {**row.document, "targets": targets}

    assert (
        await api.post("/api/v1/sla/repin", json={"tenant_id": str(tenant.id)}, headers=auth(tech))
    ).status_code == 403
    bad = await api.post("/api/v1/sla/repin", json={"tenant_id": str(uuid4())}, headers=auth(admin))
    assert bad.status_code == 422 and "tenant_id" in bad.json()["detail"]
    r = await api.post("/api/v1/sla/repin", json={"tenant_id": str(tenant.id)}, headers=auth(admin))
    assert r.status_code == 202, r.text
    handle = env.client.get_workflow_handle_for(SlaRepinBatchWorkflow.run, r.json()["workflow_id"])
    result = await handle.result()
    assert (result.signalled, result.skipped) == (3, 0)  # the closed ticket is not a candidate

    async def resolution_target(tid: str) -> int:
        sla = (await api.get(f"/api/v1/tickets/{tid}/sla", headers=auth(tech))).json()
        return next(c for c in sla["clocks"] if c["kind"] == "resolution")["target_minutes"]

    assert [await resolution_target(t) for t in open_ids] == [480, 480, 480]
    assert await resolution_target(foreign) == 960
    with Session(engine) as s:
        ours = [UUID(t) for t in [*open_ids, done, foreign]]
        repinned = s.exec(
            select(TicketEvent.ticket_id).where(
                TicketEvent.kind == EventKind.SLA_REPINNED, col(TicketEvent.ticket_id).in_(ours)
            )
        ).all()
    assert sorted(map(str, repinned)) == sorted(open_ids)
