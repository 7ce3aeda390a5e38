"""How deliveries prove where they come from, per integration: Standard Webhooks (default; interoperable with the
`standardwebhooks` library as the sender, secrets a plain base64 decoder reads), a static secret header, a bearer
token, an HMAC-SHA256 of the raw body; the webhook_url is absolute under PSA_PUBLIC_BASE_URL; the OpenAPI document
names the body and the headers."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from api.app import create_app
from domain.roles import Role
from hub.config import Settings
from tests.api.test_soc_webhook_api import SITE, deliver, threat
from tests.api.test_soc_webhook_redelivery import last_delivery
from tests.conftest import auth
from tests.factories import make_tenant, make_user

INTEGRATIONS = "/api/v1/soc/integrations"


@pytest.fixture
async def make(api, engine):  # noqa: ANN001
    """Creates an S1 integration of a fresh tenant with the given verification settings."""
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)

    async def create(**settings) -> dict:  # noqa: ANN003
        body = {"tenant_id": str(tenant.id), "source": "sentinelone", "name": "S1", "vendor_tenant_ids": [SITE]}
        r = await api.post(INTEGRATIONS, headers=auth(admin), json=body | settings)
        assert r.status_code == 201, r.text
        return r.json() | {"admin": admin}

    return create


def body_of(host: str = "ws-auth") -> bytes:
    return json.dumps(threat(f"{uuid.uuid4().int % 10**18}", host)).encode()


async def post(api, integration: dict, body: bytes, headers: dict[str, str]) -> httpx.Response:  # noqa: ANN001
    return await api.post(
        integration["webhook_url"], content=body, headers=headers | {"content-type": "application/json"}
    )


def assert_decodes_as_plain_base64(secret: str) -> None:
    """What a sender without the library does: strip `whsec_`, decode standard base64 (padding required)."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert 24 <= len(key) <= 64


async def test_the_secret_is_padded_base64_and_the_reference_library_signs_deliveries_we_accept(api, env, make):
    integration = await make()
    assert integration["webhook_auth"] == "standard_webhooks" and integration["webhook_auth_header"] is None
    secret = integration["webhook_secret"]
    assert_decodes_as_plain_base64(secret)

    body = body_of()
    now = await env.get_current_time()
    msg_id = f"msg_{uuid.uuid4().hex}"
    sender = Webhook(secret)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sender.sign(msg_id, now, body.decode()),
    }
    r = await post(api, integration, body, headers)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1

    # Signed by a sender with the plain decoder (no library): the same answer.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = body_of()
    stamp = str(int(now.timestamp()))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    plain = {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
    assert (await post(api, integration, body, plain)).status_code == 202

    rotated = await api.post(f"{INTEGRATIONS}/{integration['id']}/rotate-secret", headers=auth(integration["admin"]))
    assert rotated.status_code == 200
    assert_decodes_as_plain_base64(rotated.json()["webhook_secret"])


async def test_a_static_secret_header(api, env, engine, make):
    integration = await make(webhook_auth="header_secret", webhook_auth_header="X-S1-Secret")
    assert integration["webhook_auth_header"] == "X-S1-Secret"
    secret = integration["webhook_secret"]
    assert not secret.startswith("whsec_")
    assert (await post(api, integration, body_of(), {"X-S1-Secret": secret})).status_code == 202
    wrong = await post(api, integration, body_of(), {"X-S1-Secret": secret[:-1] + "#"})
    assert wrong.status_code == 401 and wrong.json()["reason"] == "bad_signature"
    assert last_delivery(engine, integration).reason == "bad_signature"
    # Standard Webhooks headers do not open an integration that expects its header.
    other = await deliver(
        api, env, integration, threat("1", "ws-auth"), secret="whsec_" + base64.b64encode(b"k" * 32).decode()
    )
    assert other.status_code == 401 and "X-S1-Secret" in other.json()["detail"]


async def test_a_bearer_token(api, make):
    integration = await make(webhook_auth="bearer")
    assert integration["webhook_auth_header"] == "Authorization"
    token = integration["webhook_secret"]
    assert (await post(api, integration, body_of(), {"Authorization": f"Bearer {token}"})).status_code == 202
    assert (await post(api, integration, body_of(), {"Authorization": "Bearer guessed"})).status_code == 401


async def test_an_hmac_of_the_raw_body_in_a_named_header_and_rotation(api, make):
    integration = await make(webhook_auth="hmac_sha256")
    assert integration["webhook_auth_header"] == "X-Signature-SHA256"
    old = integration["webhook_secret"]
    body = body_of()
    signature = hmac.new(old.encode(), body, hashlib.sha256).hexdigest()
    assert (await post(api, integration, body, {"X-Signature-SHA256": signature})).status_code == 202
    tampered = body.replace(b"ws-auth", b"ws-evil")
    assert (await post(api, integration, tampered, {"X-Signature-SHA256": signature})).status_code == 401

    rotated = await api.post(f"{INTEGRATIONS}/{integration['id']}/rotate-secret", headers=auth(integration["admin"]))
    new = rotated.json()["webhook_secret"]
    for secret in (old, new):  # the grace period: both work
        body = body_of()
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert (await post(api, integration, body, {"X-Signature-SHA256": sig})).status_code == 202


async def test_the_method_can_be_changed_and_a_bad_header_name_is_a_422(api, make):
    integration = await make()
    path, headers = f"{INTEGRATIONS}/{integration['id']}", auth(integration["admin"])
    changed = await api.patch(path, headers=headers, json={"webhook_auth": "header_secret"})
    assert changed.status_code == 200 and changed.json()["webhook_auth_header"] == "X-Webhook-Secret", changed.text
    secret = integration["webhook_secret"]  # kept: used as is
    assert (await post(api, integration, body_of(), {"X-Webhook-Secret": secret})).status_code == 202
    back = await api.patch(
        path, headers=headers, json={"webhook_auth": "standard_webhooks", "webhook_auth_header": "X-A"}
    )
    assert back.json()["webhook_auth_header"] is None  # Standard Webhooks reads its own three headers
    bad = await api.patch(path, headers=headers, json={"webhook_auth_header": "X Secret: yes"})
    assert bad.status_code == 422 and "webhook_auth_header" in bad.text
    assert (await api.patch(path, headers=headers, json={"webhook_auth": "md5"})).status_code == 422
    assert (await api.patch(path, headers=headers, json={"webhook_auth": None})).status_code == 422


async def test_webhook_url_is_absolute_under_the_public_base_url(env, engine):
    settings = Settings(public_base_url="https://hub.example.com/psa/")
    app = create_app(settings, engine=engine, temporal=env.client, clock=env.get_current_time)
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as api:
        r = await api.post(
            INTEGRATIONS, headers=auth(admin), json={"tenant_id": str(tenant.id), "source": "generic", "name": "G"}
        )
        assert r.status_code == 201, r.text
        assert r.json()["webhook_url"] == f"https://hub.example.com/psa/api/v1/webhooks/generic/{r.json()['id']}"
        listed = await api.get(INTEGRATIONS, headers=auth(admin), params={"tenant_id": str(tenant.id)})
        assert listed.json()["items"][0]["webhook_url"].startswith("https://hub.example.com/psa/api/v1/webhooks/")
    with pytest.raises(ValueError, match="public_base_url"):
        Settings(public_base_url="hub.example.com")


async def test_the_openapi_document_names_the_body_the_headers_and_the_answer(api):
    schema = (await api.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/webhooks/{source}/{integration_id}"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    assert {"sentinelone", "rocketcyber", "barracuda_xdr", "generic"} <= set(content["examples"])
    assert content["examples"]["sentinelone"]["value"]["agentRealtimeInfo"]["siteId"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature", "Authorization", "X-Webhook-Secret"} <= headers
    assert "X-Signature-SHA256" in headers
    answer = operation["responses"]["202"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/DeliveryResult")
    assert "hmac_sha256" in operation["description"] and "foreign_site" in operation["description"]


async def test_a_stale_standard_webhooks_delivery_is_still_refused(api, env, make):
    integration = await make()
    r = await deliver(api, env, integration, threat("9", "ws-auth"), shift=timedelta(minutes=-6))
    assert r.status_code == 401 and r.json()["reason"] == "stale_timestamp"
