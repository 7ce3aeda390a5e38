"""/healthz reports the database and Temporal; the API keeps answering when Temporal is away."""

import httpx

from api.app import create_app
from domain.roles import Role
from hub.config import Settings
from tests.conftest import auth
from tests.factories import make_tenant, make_user


async def test_healthz_ok(api):
    resp = await api.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["status"], body["database"], body["temporal"]) == ("ok", "ok", "ok")
    assert set(body["soc_inbox"]) == {"pending", "oldest_received_at", "failing"}
    assert resp.headers["x-request-id"]


async def test_without_temporal_health_is_503_and_changes_get_a_clear_503(engine):
    app = create_app(Settings(), engine=engine, temporal=None)
    tenant = make_tenant(engine)
    _, key = make_user(engine, Role.CUSTOMER_IT, tenant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        health = await http.get("/healthz")
        assert health.status_code == 503 and health.json()["temporal"].startswith("error")
        assert (await http.get("/api/v1/tickets", headers=auth(key))).status_code == 200
        create = await http.post("/api/v1/tickets", json={"title": "x"}, headers=auth(key))
        assert create.status_code == 503 and "Temporal" in create.json()["detail"]
