"""Customer IT shares tickets, not the MSP's internal notes; tickets can be listed by customer number."""

from domain.roles import Role
from tests.conftest import auth
from tests.factories import make_tenant, make_user


async def test_customer_it_cannot_write_an_internal_note_it_could_not_read(api, engine):
    tenant = make_tenant(engine)
    _, customer_it = make_user(engine, Role.CUSTOMER_IT, tenant)
    tid = (await api.post("/api/v1/tickets", json={"title": "Drucker"}, headers=auth(customer_it))).json()["id"]
    r = await api.post(
        f"/api/v1/tickets/{tid}/comments", json={"body": "x", "visibility": "internal"}, headers=auth(customer_it)
    )
    assert r.status_code == 403 and "public replies only" in r.json()["detail"]
    r = await api.post(f"/api/v1/tickets/{tid}/comments", json={"body": "Danke"}, headers=auth(customer_it))
    assert r.status_code == 201, r.text


async def test_tickets_listed_by_customer_number(api, engine):
    a, b = make_tenant(engine), make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    ids = {}
    for tenant in (a, b):
        r = await api.post("/api/v1/tickets", json={"title": "x", "tenant_id": str(tenant.id)}, headers=auth(admin))
        assert r.status_code == 201, r.text
        ids[tenant.customer_number] = r.json()["id"]
    r = await api.get("/api/v1/tickets", params={"customer_number": a.customer_number}, headers=auth(admin))
    assert [t["id"] for t in r.json()["items"]] == [ids[a.customer_number]]
