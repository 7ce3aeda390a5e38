"""RACI matrix per customer: MSP staff write it (422 naming what is wrong, every change in the history), the
customer's IT reads its own and nobody another tenant's; a new ticket of a mapped category goes to the Responsible
party's queue through the ticket workflow, and the Consulted/Informed parties get a mail through the outbox."""

import asyncio
from uuid import UUID

import pytest
from sqlmodel import Session, select

from hub.db import session_scope
from models import Notification, Queue, TicketEvent
from tests.api import assert_problem
from tests.api.co_managed_support import people
from tests.factories import make_sla, make_tenant

SLA = {"name": "RACI", "targets": {"P3": {"response_minutes": 60, "resolution_minutes": 480, "calendar": "24x7"}}}


def raci_url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.id}/raci"


def queue(engine, name, tenant=None) -> Queue:
    with session_scope(engine) as s:
        row = Queue(name=name, display_name=name, tenant_id=tenant.id if tenant else None)
        s.add(row)
    return row


def matrix(a_queue: str) -> dict:
    return {
        "parties": [
            {"name": "MSP", "kind": "msp", "queue": "servicedesk-raci"},
            {"name": "Kunden-IT", "kind": "customer_it", "queue": a_queue},
            {"name": "Softwarehaus", "kind": "external", "email": "support@softwarehaus.example"},
        ],
        "areas": [
            {"name": "Netzwerk", "categories": ["network", "wlan"], "cells": {"MSP": "R", "Kunden-IT": "A"}},
            {
                "name": "Fachanwendungen",
                "categories": ["erp"],
                "cells": {"Kunden-IT": "R", "MSP": "A", "Softwarehaus": "C"},
            },
        ],
    }


@pytest.fixture
def w(engine):
    tenants = {"a": make_tenant(engine, co_managed=True), "b": make_tenant(engine, co_managed=True)}
    make_sla(engine, tenants["a"], SLA)
    w = people(engine, tenants, "admin tech a_it a_user b_it")
    for name in ("servicedesk-raci",):
        with session_scope(engine) as s:
            if s.exec(select(Queue).where(Queue.name == name)).first() is None:
                s.add(Queue(name=name, display_name=name))
    suffix = str(w["a"].id)[:8]
    w["a_queue"] = queue(engine, f"a-it-{suffix}", w["a"]).name
    w["b_queue"] = queue(engine, f"b-it-{suffix}", w["b"]).name
    return w


async def test_matrix_is_written_by_msp_read_by_own_it_and_kept_in_history(api, w):
    url = raci_url(w["a"])
    body = matrix(w["a_queue"])
    resp = await api.put(url, json=body, headers=w["tech_h"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["version"] == 1
    # Customer IT reads its own, writes nothing; nobody of another tenant sees it (404, not 403).
    resp = await api.get(url, headers=w["a_it_h"])
    assert resp.status_code == 200 and resp.json()["areas"][0]["name"] == "Netzwerk"
    assert_problem(await api.put(url, json=body, headers=w["a_it_h"]), 403)
    assert_problem(await api.get(url, headers=w["b_it_h"]), 404)
    assert_problem(await api.get(f"{url}/history", headers=w["b_it_h"]), 404)
    assert_problem(await api.get(url, headers=w["a_user_h"]), 403)
    # Another customer's queue is no queue for this customer.
    foreign = matrix(w["b_queue"])
    resp = await api.put(url, json=foreign, headers=w["tech_h"])
    assert_problem(resp, 422)
    assert "parties[1].queue" in resp.json()["detail"]

    body["areas"][0]["cells"]["MSP"] = "C"
    body["areas"][0]["cells"]["Kunden-IT"] = "R"
    body["areas"][0]["cells"]["Softwarehaus"] = "A"
    assert_problem(await api.put(url, json=body | {"expected_version": 0}, headers=w["admin_h"]), 409)
    resp = await api.put(url, json=body | {"expected_version": 1}, headers=w["admin_h"])
    assert resp.status_code == 200 and resp.json()["version"] == 2
    same = await api.put(url, json=body, headers=w["admin_h"])  # unchanged: no new version
    assert same.json()["version"] == 2

    resp = await api.get(f"{url}/history", headers=w["a_it_h"])
    [second, first] = resp.json()["items"]
    assert (first["version"], first["old"], first["actor_user_id"]) == (1, None, str(w["tech"].id))
    assert second["actor_user_id"] == str(w["admin"].id)
    assert second["old"]["areas"][0]["cells"]["MSP"] == "R" and second["new"]["areas"][0]["cells"]["MSP"] == "C"


async def test_invalid_matrix_is_422_saying_what_is_wrong(api, engine, w):
    url = raci_url(w["a"])
    body = matrix(w["a_queue"])
    body["areas"][0]["cells"] = {"MSP": "A", "Kunden-IT": "A", "Nobody": "R"}
    body["areas"][1]["cells"] = {"MSP": "A", "Kunden-IT": "C"}
    body["areas"][1]["categories"] = ["WLAN"]
    resp = await api.put(url, json=body, headers=w["tech_h"])
    assert_problem(resp, 422)
    messages = [e["message"] for e in resp.json()["errors"]]
    assert "Netzwerk: no party named 'Nobody'" in messages
    assert "Netzwerk: exactly one party must be Accountable (A), found 2 (Kunden-IT, MSP)" in messages
    assert "Fachanwendungen: at least one party must be Responsible (R), found none" in messages
    assert any("'WLAN' belongs to 'Netzwerk'" in m for m in messages)
    assert_problem(
        await api.put(url, json=body | {"areas": [{"name": "X", "cells": {"MSP": "Z"}}]}, headers=w["tech_h"]), 422
    )
    assert_problem(await api.get(url, headers=w["tech_h"]), 404)  # nothing was written


async def eventually(check, timeout: float = 20.0):  # noqa: ANN001
    for _ in range(int(timeout / 0.05)):
        if result := check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_new_ticket_routes_to_responsible_queue_and_notifies_consulted(api, engine, smtp, w):
    assert (await api.put(raci_url(w["a"]), json=matrix(w["a_queue"]), headers=w["tech_h"])).status_code == 200
    new = {"title": "ERP startet nicht", "category": "erp", "tenant_id": str(w["a"].id)}
    resp = await api.post("/api/v1/tickets", json=new, headers=w["tech_h"])
    assert resp.status_code == 201, resp.text
    erp = resp.json()
    # The customer's IT is Responsible: its queue; the ticket is shared with it and it holds it (MSP clocks paused).
    assert (erp["queue"], erp["co_managed"], erp["customer_it_holds"]) == (w["a_queue"], True, True)
    tid = UUID(erp["id"])
    with Session(engine) as s:
        [event] = s.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == tid, TicketEvent.kind == "queue_changed")
        ).all()
    assert event.data == {"from": None, "to": w["a_queue"], "reason": "raci", "area": "Fachanwendungen"}
    events = await api.get(
        f"/api/v1/tickets/{tid}/events", params={"kind": "handed_back_to_customer"}, headers=w["a_it_h"]
    )
    [handed] = events.json()["items"]
    assert handed["actor_user_id"] is None and "Fachanwendungen" in handed["body"]
    # Not the MSP's responsibility: its clocks do not run (no breach however long the customer's IT takes).
    sla = await api.get(f"/api/v1/tickets/{tid}/sla", headers=w["tech_h"])
    assert sla.json()["state"] == "paused"

    # The Consulted vendor gets one mail, sent through the outbox.
    def sent():
        with Session(engine) as s:
            return s.exec(
                select(Notification).where(Notification.ticket_id == tid, Notification.status == "sent")
            ).all()

    [row] = await eventually(sent)
    assert row.destination == "support@softwarehaus.example"
    inbox = smtp[0]
    [mail] = inbox.about(erp["number"], w["a"].customer_number, "Fachanwendungen")
    assert "zu konsultieren (C)" in inbox.text(mail)

    network = await api.post("/api/v1/tickets", json=new | {"category": "WLAN"}, headers=w["tech_h"])
    assert (network.json()["queue"], network.json()["customer_it_holds"]) == ("servicedesk-raci", False)
    assert (await api.get(f"/api/v1/tickets/{network.json()['id']}/sla", headers=w["tech_h"])).json()["state"] == "ok"
    chosen = await api.post(
        "/api/v1/tickets", json=new | {"queue": w["a_queue"], "category": "network"}, headers=w["tech_h"]
    )
    assert chosen.json()["queue"] == w["a_queue"]  # the creator's queue wins
    other = await api.post("/api/v1/tickets", json=new | {"category": "drucker"}, headers=w["tech_h"])
    assert other.json()["queue"] is None  # no area for the category
    # Another tenant (co-managed, no matrix): not routed by a's matrix.
    b = await api.post("/api/v1/tickets", json=new | {"tenant_id": str(w["b"].id)}, headers=w["tech_h"])
    assert b.json()["queue"] is None
