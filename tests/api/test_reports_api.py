"""Ticket and SLA reports per customer through the API on tickets worked by the MSP, the customer's IT (after a
hand-back) and an external technician: split by who handled them; the customer's IT sees its own tenant only, the
MSP every tenant (or one), everyone else is refused."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.roles import Role
from tests.api import assert_problem
from tests.api.co_managed_support import people
from tests.conftest import auth
from tests.factories import make_sla, make_tenant, make_user

TICKETS, REPORTS = "/api/v1/tickets", "/api/v1/reports"
DEFINITION = {
    "name": "Reports",
    "targets": {"P2": {"response_minutes": 60, "resolution_minutes": 480, "calendar": "24x7"}},
}


@pytest.fixture
def w(engine):
    a, b = make_tenant(engine, co_managed=True), make_tenant(engine, co_managed=True)
    make_sla(engine, a, DEFINITION)
    w = people(engine, {"a": a, "b": b}, "admin tech a_it a_user b_it")
    w["ext"], key = make_user(engine, Role.EXTERNAL_TECH, a, access_expires_at=datetime.now(UTC) + timedelta(days=30))
    w["ext_h"] = auth(key)
    return w


async def ok(resp) -> dict:
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def open_ticket(api, w, tenant, title) -> str:
    body = {"title": title, "priority": "P2", "tenant_id": str(w[tenant].id)}
    return (await ok(await api.post(TICKETS, json=body, headers=w["tech_h"])))["id"]


async def resolve(api, w, who, tid):
    await ok(await api.post(f"{TICKETS}/{tid}/transitions", json={"to_status": "resolved"}, headers=w[who + "_h"]))


def rows_of(report, *tenants):
    ids = {str(t.id) for t in tenants}
    return [{k: v for k, v in r.items() if k != "period"} for r in report["rows"] if r["tenant_id"] in ids]


async def test_reports_split_by_handler_and_scoped_to_the_tenant(api, env, w):
    by_msp = await open_ticket(api, w, "a", "VPN")
    by_it = await open_ticket(api, w, "a", "Drucker im Lager")
    by_ext = await open_ticket(api, w, "a", "ERP-Fehler")
    other = await open_ticket(api, w, "b", "Anderer Kunde")
    body = {"title": "Personalsache", "priority": "P2", "tenant_id": str(w["a"].id), "co_managed": False}
    await ok(await api.post(TICKETS, json=body, headers=w["tech_h"]))  # kept from the customer's IT
    await env.sleep(timedelta(minutes=10))
    await resolve(api, w, "tech", by_msp)
    reason = {"reason": "Machen wir selbst"}
    await ok(await api.post(f"{TICKETS}/{by_it}/hand-back-to-customer", json=reason, headers=w["tech_h"]))
    await env.sleep(timedelta(hours=2))  # past the response target: held by the customer's IT, not the MSP's
    await resolve(api, w, "a_it", by_it)
    body = {"assignee_user_id": str(w["ext"].id)}
    await ok(await api.put(f"{TICKETS}/{by_ext}/assignee", json=body, headers=w["tech_h"]))
    await env.sleep(timedelta(hours=1))  # the response clock of the external's ticket breaches
    await resolve(api, w, "tech", other)

    a, b = str(w["a"].id), str(w["b"].id)
    # Rows go by the day a ticket was opened: all of them within the first second, so one row per handler.
    mine = await ok(await api.get(f"{REPORTS}/tickets", params={"period": "day"}, headers=w["a_it_h"]))
    assert mine["tenant_id"] == a and mine["period"] == "day"
    assert {r["tenant_id"] for r in mine["rows"]} == {a}  # never another tenant's, nor a ticket kept from it
    assert sorted(rows_of(mine, w["a"]), key=lambda r: r["handler"]) == [
        {"tenant_id": a, "handler": "customer_it", "opened": 1, "resolved": 1, "open": 0, "handed_back": 1},
        {"tenant_id": a, "handler": "external", "opened": 1, "resolved": 0, "open": 1, "handed_back": 0},
        {"tenant_id": a, "handler": "msp", "opened": 1, "resolved": 1, "open": 0, "handed_back": 0},
    ]

    sla = await ok(await api.get(f"{REPORTS}/sla", headers=w["a_it_h"]))
    got = {(r["handler"], r["kind"]): (r["met"], r["breached"], r["running"], r["attainment"]) for r in sla["rows"]}
    assert got == {
        ("msp", "response"): (1, 0, 0, 1.0),
        ("msp", "resolution"): (1, 0, 0, 1.0),
        ("customer_it", "response"): (1, 0, 0, 1.0),  # 10 minutes of the MSP's time, 2 hours paused
        ("customer_it", "resolution"): (1, 0, 0, 1.0),
        ("external", "response"): (0, 1, 0, 0.0),
        ("external", "resolution"): (0, 0, 1, None),
    }
    held = [r["customer_it_minutes"] for r in sla["rows"] if r["handler"] == "customer_it"]
    assert held == [120, 120]

    # The MSP: every tenant, or one.
    everyone = await ok(await api.get(f"{REPORTS}/tickets", headers=w["tech_h"]))
    assert {r["tenant_id"] for r in rows_of(everyone, w["a"], w["b"])} == {a, b}
    msp_a = [r for r in rows_of(everyone, w["a"]) if r["handler"] == "msp"]
    assert [(r["opened"], r["open"]) for r in msp_a] == [(2, 1)]  # the MSP counts the unshared ticket too
    only_b = await ok(await api.get(f"{REPORTS}/tickets", params={"tenant_id": b}, headers=w["admin_h"]))
    assert rows_of(only_b, w["b"]) == [
        {"tenant_id": b, "handler": "msp", "opened": 1, "resolved": 1, "open": 0, "handed_back": 0}
    ] and {r["tenant_id"] for r in only_b["rows"]} == {b}

    # A window before the tickets: empty.
    today = datetime.fromisoformat(mine["to_date"]).date()
    params = {"from": str(today - timedelta(days=40)), "to": str(today - timedelta(days=35)), "tenant_id": a}
    assert (await ok(await api.get(f"{REPORTS}/tickets", params=params, headers=w["admin_h"])))["rows"] == []


async def test_report_refusals(api, w):
    b = str(w["b"].id)
    for path in ("tickets", "sla"):
        assert_problem(await api.get(f"{REPORTS}/{path}", params={"tenant_id": b}, headers=w["a_it_h"]), 404, "tenant")
        assert_problem(await api.get(f"{REPORTS}/{path}", headers=w["a_user_h"]), 403, "customer_it")
        assert_problem(await api.get(f"{REPORTS}/{path}", headers=w["ext_h"]), 403, "customer_it")
        params = {"from": "2026-05-02", "to": "2026-05-01"}
        assert_problem(await api.get(f"{REPORTS}/{path}", params=params, headers=w["tech_h"]), 422, "from")
        params = {"from": "2020-01-01", "to": "2026-05-01"}
        assert_problem(await api.get(f"{REPORTS}/{path}", params=params, headers=w["tech_h"]), 422, "at most")
        assert_problem(
            await api.get(f"{REPORTS}/{path}", params={"period": "year"}, headers=w["tech_h"]), 422, "period"
        )
        missing = "00000000-0000-0000-0000-000000000001"
        assert_problem(await api.get(f"{REPORTS}/{path}", params={"tenant_id": missing}, headers=w["tech_h"]), 404, "")
