"""Contracts over HTTP: lines priced from the price list, terms, items and credits, the history of every change,
refusals that write nothing, roles and tenant scoping."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from domain.calendar_spec import CalendarSpec
from domain.sla import LoadSlaContext
from hub.db import session_scope
from models import BusinessCalendarRow, Contract, ContractHistory, ContractLine, SlaDefinitionRow
from models.sla_context import resolve_context
from tests.api import assert_problem, audit_events, make_world, row
from tests.api.billing_support import CONTRACTS, PRODUCTS, nothing_billed, product_body
from tests.factories import unique

TERMS = {
    "round_up_minutes": 15,
    "minimum_minutes": 0,
    "rates": {"support": "120.00"},
    "surcharges": {"after_hours": "50", "weekend": 100},
}
CONTINGENT = {"included_minutes": 60, "overage_rate": "100", "carry_over": "next_month",
              "carry_over_cap_minutes": 30, "activity_types": ["support"]}


@pytest.fixture
def w(engine):
    return make_world(engine)


@pytest.fixture
async def product(api, w):
    resp = await api.post(PRODUCTS, json=product_body(), headers=w.h("finance"))
    assert resp.status_code == 201, resp.text
    return resp.json()


def sla_definition(engine) -> uuid.UUID:  # noqa: ANN001
    document = {"name": "Premium", "targets": {p: {"response_minutes": 30, "resolution_minutes": 240}
                                               for p in ("P1", "P2", "P3", "P4")}}
    with session_scope(engine) as s:
        definition = SlaDefinitionRow(name=unique("sla"), document=document)
        s.add(definition)
    return definition.id


def contract_body(tenant, product, **fields) -> dict:  # noqa: ANN001
    return {
        "tenant_id": str(tenant.id),
        "number": unique("V").upper(),
        "name": "Managed Services",
        "start_date": "2026-01-01",
        "time_terms": TERMS,
        "contingent": CONTINGENT,
        "lines": [{"product_code": product["code"], "quantity": "20"}],
        "reason": "Angebot A-17 angenommen",
    } | fields


async def create(api, w, body) -> dict:  # noqa: ANN001
    resp = await api.post(CONTRACTS, json=body, headers=w.h("finance"))
    assert resp.status_code == 201, resp.text
    return resp.json()


def history(engine, contract_id) -> list[ContractHistory]:  # noqa: ANN001
    from sqlmodel import Session, select

    with Session(engine) as s:
        query = select(ContractHistory).where(ContractHistory.contract_id == uuid.UUID(str(contract_id)))
        return list(s.exec(query.order_by(ContractHistory.changed_at, ContractHistory.id)))


async def test_contract_lifecycle_with_history(api, engine, w, product):
    definition_id = sla_definition(engine)
    created = await create(api, w, contract_body(w.a, product, sla_definition_id=str(definition_id)))
    cid = created["id"]
    # The line takes description, unit, price and cycle from the price list; the currency follows the tenant.
    [line] = created["lines"]
    assert (line["description"], line["unit"], line["unit_price"], line["billing_cycle"], line["quantity"],
            line["start_date"]) == ("Managed Workstation", "device", "39.00", "monthly", "20", "2026-01-01")
    assert created["currency"] == "EUR" and created["sla_definition_id"] == str(definition_id)
    assert created["time_terms"] == {"round_up_minutes": 15, "minimum_minutes": 0, "rates": {"support": "120.00"},
                                     "default_rate": None, "surcharges": {"after_hours": "50.00", "weekend": "100.00"}}
    [first] = history(engine, cid)
    assert (first.action, first.reason, first.changed_by_user_id) == ("created", "Angebot A-17 angenommen",
                                                                      w.users["finance"].id)
    assert first.change["old"] == {} and first.change["new"]["number"] == created["number"]
    assert [e.action for e in audit_events(engine, cid)] == ["created"]

    # Terms and plain fields in one PATCH: two history rows, each with old and new values and the reason.
    patch = {"name": "Managed Services Plus", "auto_approve": True, "reason": "Nachtrag 1"}
    resp = await api.patch(f"{CONTRACTS}/{cid}", json=patch, headers=w.h("msp_admin"))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["name"], resp.json()["auto_approve"]) == ("Managed Services Plus", True)
    updated, terms = history(engine, cid)[1:]
    assert (updated.action, updated.change, updated.reason) == (
        "updated", {"old": {"name": "Managed Services"}, "new": {"name": "Managed Services Plus"}}, "Nachtrag 1")
    assert (terms.action, terms.change) == ("terms_changed", {"old": {"auto_approve": False},
                                                              "new": {"auto_approve": True}})

    resp = await api.post(f"{CONTRACTS}/{cid}/lines", json={"product_code": product["code"], "quantity": "2.5",
                                                            "unit_price": "35", "start_date": "2026-03-01",
                                                            "reason": "2 neue Plätze"}, headers=w.h("finance"))
    assert resp.status_code == 201, resp.text
    added = resp.json()
    assert (added["quantity"], added["unit_price"]) == ("2.5", "35.00")
    resp = await api.patch(f"{CONTRACTS}/{cid}/lines/{added['id']}", json={"quantity": 3, "reason": "Zählung"},
                           headers=w.h("finance"))
    assert resp.status_code == 200 and resp.json()["quantity"] == "3"
    resp = await api.patch(f"{CONTRACTS}/{cid}/lines/{line['id']}", json={"end_date": "2026-06-30"},
                           headers=w.h("finance"))
    assert resp.status_code == 200 and resp.json()["end_date"] == "2026-06-30"
    assert row(engine, ContractLine, uuid.UUID(line["id"])).end_date.isoformat() == "2026-06-30"

    for item in ({"kind": "one_off", "description": "Einrichtung Firewall", "unit_price": "450.00",
                  "service_date": "2026-03-10"},
                 {"kind": "credit", "product_code": product["code"], "quantity": 2, "service_date": "2026-03-31",
                  "reason": "SLA-Verletzung März"}):
        resp = await api.post(f"{CONTRACTS}/{cid}/items", json=item, headers=w.h("msp_admin"))
        assert resp.status_code == 201, resp.text
    items = (await api.get(f"{CONTRACTS}/{cid}/items", headers=w.h("a_user"))).json()["items"]
    assert [(i["kind"], i["unit_price"], i["quantity"]) for i in items] == [("one_off", "450.00", "1"),
                                                                             ("credit", "39.00", "2")]

    listed = (await api.get(f"{CONTRACTS}/{cid}/history", headers=w.h("msp_tech"))).json()
    assert [h["action"] for h in listed["items"]] == ["created", "updated", "terms_changed", "line_added",
                                                      "line_changed", "line_ended", "item_added", "item_added"]
    changed, ended = listed["items"][4:6]
    assert (changed["change"], changed["reason"]) == (
        {"old": {"quantity": "2.5"}, "new": {"quantity": "3"}, "line_id": added["id"]}, "Zählung")
    assert ended["change"] == {"old": {"end_date": None}, "new": {"end_date": "2026-06-30"}, "line_id": line["id"]}
    assert listed["items"][7]["reason"] == "SLA-Verletzung März"
    assert [e.action for e in audit_events(engine, added["id"])] == ["created", "updated"]


async def test_contract_list_filters(api, engine, w, product):
    old = await create(api, w, contract_body(w.a, product, start_date="2025-01-01", end_date="2025-12-31"))
    current = await create(api, w, contract_body(w.a, product, name="Backup as a Service"))
    other = await create(api, w, contract_body(w.b, product))

    async def ids(who: str, **params) -> list[str]:
        resp = await api.get(CONTRACTS, params=params, headers=w.h(who))
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    assert set(await ids("msp_tech", tenant_id=str(w.a.id))) == {old["id"], current["id"]}
    assert set(await ids("finance", customer_number=w.a.customer_number)) == {old["id"], current["id"]}
    assert await ids("finance", tenant_id=str(w.a.id), active_on="2026-02-01") == [current["id"]]
    assert await ids("finance", tenant_id=str(w.a.id), active_on="2025-06-30") == [old["id"]]
    assert await ids("finance", q="backup as", tenant_id=str(w.a.id)) == [current["id"]]
    assert await ids("msp_admin", q=other["number"]) == [other["id"]]
    assert_problem(await api.get(CONTRACTS, params={"active": "2026-01-01"}, headers=w.h("finance")), 422,
                   "unknown query parameter")


@pytest.mark.parametrize(("fields", "status", "fragment"), [
    ({"end_date": "2025-12-31"}, 422, "end_date: Value error, 2025-12-31 lies before the start"),
    ({"lines": [{"product_code": "NOPE-1", "quantity": 1}]}, 422, "lines.0.product_code: unknown product code"),
    ({"lines": [{"product_code": "PRODUCT", "quantity": "-1"}]}, 422, "lines.0.quantity"),
    ({"lines": [{"product_code": "PRODUCT", "quantity": 1, "billing_cycle": "weekly"}]}, 422,
     "lines.0.billing_cycle"),
    ({"lines": [{"product_code": "PRODUCT", "quantity": 1, "start_date": "2025-12-01"}]}, 422,
     "lines.0.start_date: 2025-12-01 lies before the contract's start"),
    ({"lines": [{"product_code": "PRODUCT", "quantity": 1, "unit_price": "-5"}]}, 422, "lines.0.unit_price"),
    ({"time_terms": TERMS | {"surcharges": {"business_hours": 10}}}, 422,
     "time_terms.surcharges: Value error, no surcharge for business_hours"),
    ({"time_terms": TERMS | {"surcharges": {"night": 10}}}, 422, "time_terms.surcharges"),
    ({"time_terms": TERMS | {"round_up_minutes": 0}}, 422, "time_terms.round_up_minutes"),
    ({"time_terms": TERMS | {"rates": {"support": "-1"}}}, 422, "time_terms.rates.support"),
    ({"contingent": CONTINGENT | {"carry_over": "none"}}, 422, "contingent.carry_over_cap_minutes"),
    ({"contingent": CONTINGENT | {"carry_over": "forever"}}, 422, "contingent.carry_over"),
    ({"currency": "USD"}, 422, "currency"),
    ({"number": "v 1"}, 422, "number"),
    ({"sla_definition_id": str(uuid.UUID(int=5))}, 422, "sla_definition_id: no SLA definition"),
    ({"calendar_id": str(uuid.UUID(int=5))}, 422, "calendar_id: no calendar"),
    ({"tenant_id": str(uuid.UUID(int=5))}, 422, "tenant_id: no tenant"),
    ({"discount": "10"}, 422, "discount: Extra inputs are not permitted"),
    ({"number": "TAKEN"}, 409, "already taken"),
])
async def test_contract_refusals_write_nothing(api, engine, w, product, fields, status, fragment):
    taken = (await create(api, w, contract_body(w.a, product)))["number"]
    fields = {k: taken if v == "TAKEN" else v for k, v in fields.items()}
    if "lines" in fields:  # copies: the parameters are shared by both databases' runs
        fields["lines"] = [line | {"product_code": product["code"]} if line["product_code"] == "PRODUCT" else line
                           for line in fields["lines"]]
    with nothing_billed(engine):
        resp = await api.post(CONTRACTS, json=contract_body(w.a, product) | fields, headers=w.h("finance"))
        assert_problem(resp, status, fragment)


async def test_patch_refusals_write_nothing(api, engine, w, product):
    created = await create(api, w, contract_body(w.a, product, end_date="2026-12-31"))
    cid, line_id = created["id"], created["lines"][0]["id"]
    other = await create(api, w, contract_body(w.a, product))
    inactive = (await api.post(PRODUCTS, json=product_body(active=False), headers=w.h("finance"))).json()
    cases = [
        ("PATCH", f"{CONTRACTS}/{cid}", {"end_date": "2025-01-01"}, 422, "end_date: 2025-01-01 lies before"),
        ("PATCH", f"{CONTRACTS}/{cid}", {"number": other["number"]}, 409, "already taken"),
        ("PATCH", f"{CONTRACTS}/{cid}", {"time_terms": None}, 422, "time_terms: Value error, may not be null"),
        ("PATCH", f"{CONTRACTS}/{cid}", {"start_date": "2026-02-01"}, 422, "start_date: Extra inputs"),
        ("PATCH", f"{CONTRACTS}/{cid}/lines/{line_id}", {"end_date": "2025-06-30"}, 422, "end_date: 2025-06-30 lies"),
        ("PATCH", f"{CONTRACTS}/{cid}/lines/{line_id}", {"end_date": "2027-01-31"}, 422, "end_date: runs past"),
        ("PATCH", f"{CONTRACTS}/{cid}/lines/{line_id}", {"quantity": 0}, 422, "quantity"),
        ("PATCH", f"{CONTRACTS}/{other['id']}/lines/{line_id}", {"quantity": 2}, 404, "contract line"),
        ("POST", f"{CONTRACTS}/{cid}/lines", {"product_code": inactive["code"], "quantity": 1}, 422,
         "product_code: product"),
        ("POST", f"{CONTRACTS}/{cid}/items", {"kind": "credit", "unit_price": "10", "service_date": "2026-02-01"},
         422, "description: required without a product_code"),
        ("POST", f"{CONTRACTS}/{cid}/items", {"kind": "one_off", "description": "X", "service_date": "2026-02-01"},
         422, "unit_price: required"),
        ("POST", f"{CONTRACTS}/{cid}/items", {"kind": "credit", "description": "X", "unit_price": "-10",
                                              "service_date": "2026-02-01"}, 422, "unit_price"),
        ("POST", f"{CONTRACTS}/{cid}/items", {"kind": "one_off", "description": "X", "unit_price": "10",
                                              "service_date": "2027-02-01"}, 422, "service_date: 2027-02-01 lies"),
        ("POST", f"{CONTRACTS}/{cid}/items", {"kind": "refund", "description": "X", "unit_price": "10",
                                              "service_date": "2026-02-01"}, 422, "kind"),
    ]
    with nothing_billed(engine):
        for method, path, body, status, fragment in cases:
            assert_problem(await api.request(method, path, json=body, headers=w.h("finance")), status, fragment)
    assert row(engine, Contract, uuid.UUID(cid)).end_date.isoformat() == "2026-12-31"


async def test_contract_roles_and_tenant_scoping(api, engine, w, product):
    created = await create(api, w, contract_body(w.a, product))
    cid, line_id = created["id"], created["lines"][0]["id"]
    path = f"{CONTRACTS}/{cid}"
    # The customer reads its own contract with lines and terms.
    assert (await api.get(path, headers=w.h("a_user"))).json() == created
    assert [c["id"] for c in (await api.get(CONTRACTS, headers=w.h("a_it"))).json()["items"]] == [cid]
    with nothing_billed(engine):
        for who in ("b_user", "b_it"):
            assert_problem(await api.get(path, headers=w.h(who)), 404, f"contract {cid} not found")
            assert_problem(await api.get(f"{path}/items", headers=w.h(who)), 404, "not found")
            assert (await api.get(CONTRACTS, params={"tenant_id": str(w.a.id)}, headers=w.h(who))).json()["total"] == 0
        for who in ("msp_tech", "a_it", "b_it", "a_user"):
            assert_problem(await api.patch(path, json={"name": "X"}, headers=w.h(who)), 403, "allowed roles")
            assert_problem(await api.post(CONTRACTS, json=contract_body(w.a, product), headers=w.h(who)), 403)
            assert_problem(await api.post(f"{path}/lines", json={"product_code": product["code"], "quantity": 1},
                                          headers=w.h(who)), 403)
            assert_problem(await api.patch(f"{path}/lines/{line_id}", json={"quantity": 1}, headers=w.h(who)), 403)
            assert_problem(await api.post(f"{path}/items", json={}, headers=w.h(who)), 403)
        # The history (who changed what and why) is internal.
        assert_problem(await api.get(f"{path}/history", headers=w.h("a_it")), 403)
        missing = uuid.uuid4()
        assert_problem(await api.get(f"{CONTRACTS}/{missing}", headers=w.h("finance")), 404, f"contract {missing}")


async def test_contract_gives_the_customer_its_own_sla(api, engine, w, product):
    """A contract made over the API is what the ticket clock resolves: its SLA definition and calendar, not the
    default, while it is in force."""
    definition_id = sla_definition(engine)
    spec = CalendarSpec.twenty_four_seven("Europe/Berlin").model_dump(mode="json")
    with session_scope(engine) as s:
        calendar = BusinessCalendarRow(name=unique("cal"), spec=spec)
        s.add(calendar)
    body = contract_body(w.a, product, sla_definition_id=str(definition_id), calendar_id=str(calendar.id),
                         end_date="2026-12-31")
    await create(api, w, body)
    with Session(engine) as s:
        inside = resolve_context(s, LoadSlaContext(tenant_id=w.a.id, customer_number=w.a.customer_number,
                                                   at=datetime(2026, 6, 1, 9, tzinfo=UTC)))
        after = resolve_context(s, LoadSlaContext(tenant_id=w.a.id, customer_number=w.a.customer_number,
                                                  at=datetime(2027, 1, 4, 9, tzinfo=UTC)))
    assert inside.definition_id == definition_id and inside.calendar.always_open
    assert after is None or after.definition_id != definition_id
