"""Opening a ticket by customer number: the number people know, resolved to the customer; scoped like the id."""

import pytest
from sqlmodel import Session, select

from domain.roles import Role
from models import Ticket
from tests.conftest import auth
from tests.factories import make_tenant, make_user


@pytest.fixture
def world(engine):
    a, b = make_tenant(engine), make_tenant(engine)
    w = {"a": a, "b": b}
    for name, role, tenant in [("tech", Role.MSP_TECH, None), ("a_it", Role.CUSTOMER_IT, a)]:
        w[name], w[name + "_key"] = make_user(engine, role, tenant)
    return w


def tickets_of(engine, tenant) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Ticket).where(Ticket.tenant_id == tenant.id)).all())


async def test_msp_opens_a_ticket_by_customer_number(api, engine, world):
    body = {"customer_number": world["b"].customer_number, "title": "Server langsam", "priority": "P2"}
    resp = await api.post("/api/v1/tickets", json=body, headers=auth(world["tech_key"]))
    assert resp.status_code == 201, resp.text
    assert resp.json()["tenant_id"] == str(world["b"].id)
    assert tickets_of(engine, world["b"]) == 1 and tickets_of(engine, world["a"]) == 0


async def test_unknown_or_foreign_customer_number_is_refused_and_writes_nothing(api, engine, world):
    unknown = {"customer_number": "K99999999", "title": "x"}
    resp = await api.post("/api/v1/tickets", json=unknown, headers=auth(world["tech_key"]))
    assert resp.status_code == 422 and "customer_number" in resp.json()["detail"], resp.text
    # Customer IT of A naming B's number learns nothing about B and files nothing anywhere.
    foreign = {"customer_number": world["b"].customer_number, "title": "x"}
    resp = await api.post("/api/v1/tickets", json=foreign, headers=auth(world["a_it_key"]))
    assert resp.status_code == 422 and "no customer with the number" in resp.json()["detail"], resp.text
    assert tickets_of(engine, world["a"]) == tickets_of(engine, world["b"]) == 0


async def test_customer_it_may_name_its_own_number(api, engine, world):
    own = {"customer_number": world["a"].customer_number, "title": "Drucker"}
    resp = await api.post("/api/v1/tickets", json=own, headers=auth(world["a_it_key"]))
    assert resp.status_code == 201 and resp.json()["tenant_id"] == str(world["a"].id), resp.text


async def test_id_and_number_together_or_malformed_number_are_422(api, world):
    both = {"tenant_id": str(world["a"].id), "customer_number": world["a"].customer_number, "title": "x"}
    resp = await api.post("/api/v1/tickets", json=both, headers=auth(world["tech_key"]))
    assert resp.status_code == 422 and "not both" in resp.text, resp.text
    bad = {"customer_number": "k 1", "title": "x"}
    resp = await api.post("/api/v1/tickets", json=bad, headers=auth(world["tech_key"]))
    assert resp.status_code == 422 and "customer_number" in resp.text, resp.text
    resp = await api.post("/api/v1/tickets", json={"title": "x"}, headers=auth(world["tech_key"]))
    assert resp.status_code == 422 and "customer_number" in resp.json()["detail"], resp.text


async def test_idempotent_retry_by_number_lands_on_the_ticket_opened_by_id(api, world):
    headers = auth(world["tech_key"]) | {"Idempotency-Key": "mail-0815"}
    first = await api.post(
        "/api/v1/tickets", json={"tenant_id": str(world["a"].id), "title": "Mail"}, headers=headers
    )
    retry = await api.post(
        "/api/v1/tickets", json={"customer_number": world["a"].customer_number, "title": "Mail"}, headers=headers
    )
    assert first.status_code == retry.status_code == 201, retry.text
    assert first.json()["id"] == retry.json()["id"] and retry.headers["idempotent-replayed"] == "true"
