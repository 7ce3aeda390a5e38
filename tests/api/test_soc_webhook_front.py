"""The webhook's lean way in (api/routes/soc/webhook_front.py): a delivery gets its request id and one log line with
its outcome (no second "request" line), an error the webhook does not expect is the app's 500 problem, and what is
not a plain delivery (a query string, another method) goes on to the app, which answers as on every route."""

import json
import uuid

import pytest
import structlog

import api.routes.soc.webhooks as route
from domain.roles import Role
from domain.soc.signatures import signed_headers
from models import AssetType, SocAlert
from tests.api.test_soc_webhook_api import SITE, count, deliver, eventually, threat
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user


@pytest.fixture
async def integration(api, engine) -> dict:
    tenant = make_tenant(engine)
    make_asset(engine, tenant, hostname="ws-front", asset_type=AssetType.WORKSTATION)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    body = {"tenant_id": str(tenant.id), "source": "sentinelone", "name": "S1", "vendor_tenant_ids": [SITE]}
    r = await api.post("/api/v1/soc/integrations", headers=auth(admin), json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def post(api, env, integration: dict, payload: dict, request_id: str | None = None):  # noqa: ANN001, ANN201
    """A signed delivery, with the sender's request id when given."""
    body = json.dumps(payload).encode()
    now = await env.get_current_time()
    headers = signed_headers(integration["webhook_secret"], f"msg_{uuid.uuid4().hex}", now, body)
    given = {"x-request-id": request_id} if request_id else {}
    return await api.post(integration["webhook_url"], content=body, headers=headers | given)


async def test_a_delivery_has_its_request_id_and_one_log_line_with_its_outcome(api, env, engine, integration):
    vendor_id = str(uuid.uuid4().int % 10**18)
    alert = threat(vendor_id, "ws-front")
    with structlog.testing.capture_logs() as logs:
        first = await post(api, env, integration, alert, "sender-42")
        await eventually(lambda: count(engine, SocAlert, SocAlert.vendor_alert_id == vendor_id))
        again = await post(api, env, integration, alert)  # stored and unchanged: logged as a duplicate
    assert first.status_code == 202 and again.status_code == 202, (first.text, again.text)
    assert first.headers["x-request-id"] == "sender-42"
    fresh = again.headers["x-request-id"]
    assert len(fresh) == 32 and fresh != "sender-42"
    lines = [e for e in logs if e.get("log_level") == "info" and e["event"] in ("webhook delivery", "request")]
    assert [(e["event"], e["request_id"], e["status"], e["reason"]) for e in lines] == [
        ("webhook delivery", "sender-42", 202, None),
        ("webhook delivery", fresh, 202, "duplicate"),
    ]
    assert lines[0]["integration_id"] == integration["id"] and lines[0]["source"] == "sentinelone"

    with structlog.testing.capture_logs() as logs:
        refused = await deliver(api, env, integration, alert, headers={})
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["x-request-id"]
    (line,) = [e for e in logs if e["event"] in ("webhook delivery", "request")]
    assert (line["status"], line["accepted"], line["reason"]) == (401, False, "missing_header")


async def test_an_unexpected_error_is_the_apps_500_problem(api, env, integration, monkeypatch):
    def broken(*_args):  # noqa: ANN002, ANN202
        raise RuntimeError("boom")

    monkeypatch.setattr(route, "_lookup", broken)
    r = await post(api, env, integration, threat("1", "ws-front"), "r-500")
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["x-request-id"] == "r-500"
    assert r.json()["detail"] == "an unexpected error occurred; it has been logged"


async def test_what_is_not_a_plain_delivery_goes_on_to_the_app(api, env, integration):
    url = integration["webhook_url"]
    query = await api.post(f"{url}?debug=1", content=b"{}", headers={"content-type": "application/json"})
    assert query.status_code == 422 and query.headers["x-request-id"]
    assert query.json()["detail"] == "unknown query parameter(s): debug; this route takes: none"
    assert (await api.get(url)).status_code == 405
    assert (await api.post(f"{url}/more", content=b"{}")).status_code == 404
