"""/healthz reports the database, Temporal and the SOC inbox's progress; it degrades when the inbox is stuck; the API
keeps answering when Temporal is away."""

import uuid
from datetime import timedelta

import httpx

from api.app import create_app
from api.routes.soc import inbox as soc_inbox
from domain.roles import Role
from hub.config import Settings
from hub.db import session_scope
from models import SocInboxItem, SocQuarantineItem, SocQuarantineKind
from tests.api.test_soc_inbox import _items, rows_of
from tests.conftest import auth
from tests.factories import make_tenant, make_user


async def test_healthz_ok(api):
    resp = await api.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["status"], body["database"], body["temporal"], body["reasons"]) == ("ok", "ok", "ok", [])
    assert set(body["soc_inbox"]) == {
        "pending",
        "oldest_received_at",
        "oldest_age_seconds",
        "failing",
        "failing_age_seconds",
        "quarantined",
    }
    assert resp.headers["x-request-id"]


async def test_without_temporal_health_is_503_and_changes_get_a_clear_503(engine):
    app = create_app(Settings(), engine=engine, temporal=None)
    tenant = make_tenant(engine)
    _, key = make_user(engine, Role.CUSTOMER_IT, tenant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        health = await http.get("/healthz")
        assert health.status_code == 503 and health.json()["temporal"].startswith("error")
        assert health.json()["reasons"] == ["temporal: error: not connected"]
        assert (await http.get("/api/v1/tickets", headers=auth(key))).status_code == 200
        create = await http.post("/api/v1/tickets", json={"title": "x"}, headers=auth(key))
        assert create.status_code == 503 and "Temporal" in create.json()["detail"]


def stuck_inbox(engine, waiting: timedelta, failing: int, count: int = 3) -> list[int]:
    """`count` alerts that have waited `waiting`, the first `failing` of them after failed hand-overs; held back
    for an hour, so no dispatcher hands them over meanwhile."""
    items, tenant = _items(engine, count)
    with session_scope(engine) as s:
        soc_inbox.put(s, items)
    ids = sorted(r.id for r in rows_of(engine, tenant.id))
    with session_scope(engine) as s:
        for n, row_id in enumerate(ids):
            row = s.get(SocInboxItem, row_id)
            row.received_at = soc_inbox.utcnow() - waiting
            row.claimed_until = soc_inbox.utcnow() + timedelta(hours=1)
            if n < failing:
                row.attempts, row.last_error = 3, "TimeoutError: no answer within 10 s"
            s.add(row)
    return ids


async def test_a_stuck_inbox_degrades_health_with_the_reason_and_quarantined_items_are_counted(env, engine):
    async def health(settings: Settings) -> httpx.Response:
        app = create_app(settings, engine=engine, temporal=env.client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
            return await http.get("/healthz")

    before = (await health(Settings())).json()["soc_inbox"]
    ids = stuck_inbox(engine, timedelta(minutes=6), failing=2)
    items, tenant = _items(engine, 1)
    with session_scope(engine) as s:
        s.add(
            SocQuarantineItem(
                tenant_id=tenant.id,
                integration_id=uuid.UUID(items[0].alert.integration_id),
                kind=SocQuarantineKind.INBOX.value,
                item=items[0].model_dump(mode="json"),
                reason="RuntimeError: boom",
            )
        )
    try:
        r = await health(Settings())
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "degraded" and (body["database"], body["temporal"]) == ("ok", "ok")
        inbox = body["soc_inbox"]
        assert inbox["pending"] >= before["pending"] + 3 and inbox["failing"] >= before["failing"] + 2
        assert inbox["oldest_age_seconds"] >= 360 and inbox["failing_age_seconds"] >= 360
        assert inbox["quarantined"] == before["quarantined"] + 1
        oldest, failing = body["reasons"]
        assert "the oldest of" in oldest and "has waited 6.0 min" in oldest and "limit 5.0 min" in oldest
        assert "alerts whose hand-over failed" in failing and "limit 5.0 min" in failing

        # The limits are settings: past one of them only, that one is the reason.
        r = await health(Settings(soc_inbox_health_oldest_minutes=10))
        assert r.status_code == 503 and [m for m in r.json()["reasons"] if "the oldest of" in m] == []
        r = await health(Settings(soc_inbox_health_oldest_minutes=10, soc_inbox_health_failing_minutes=10))
        assert r.status_code == 200 and r.json()["status"] == "ok"
    finally:
        soc_inbox.finish(engine, ids)
    # Alerts that wait briefly, even failing ones, are normal (Temporal busy a moment): still ok.
    ids = stuck_inbox(engine, timedelta(minutes=1), failing=1)
    try:
        assert (await health(Settings())).status_code == 200
    finally:
        soc_inbox.finish(engine, ids)
