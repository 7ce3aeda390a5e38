"""The SOC webhook refuses at the door what the hub cannot store or compute with: each refusal is a 4xx problem that
says why, is logged in webhook_deliveries, and writes nothing else; free text is cleaned, never refused."""

import copy
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from api.middleware import MAX_BODY_BYTES
from domain.roles import Role
from domain.soc.signatures import signed_headers
from models import SocAlert, SocInboxItem
from tests.api.test_soc_webhook_api import THREAT, count, deliver, eventually
from tests.api.test_soc_webhook_redelivery import last_delivery
from tests.conftest import auth
from tests.factories import make_tenant, make_user

OLDEST = "0001-01-01T00:00:00+14:00"  # no UTC equivalent: overflowed when stored
LAST = "9999-12-31T23:59:59Z"  # overflowed in the incident's local-time summary


def alert_of(source: str, vendor_id: str) -> dict:
    """A minimal valid alert of each source, with `vendor_id` as the vendor's alert id."""
    if source == "generic":
        return {"id": vendor_id, "title": "Mimikatz detected", "detected_at": "2026-11-20T08:15:42Z"}
    if source == "sentinelone":
        threat = copy.deepcopy(THREAT)
        threat["id"] = threat["threatInfo"]["threatId"] = vendor_id
        return threat
    if source == "rocketcyber":
        return {
            "id": vendor_id,
            "title": "Suspicious PowerShell",
            "createdAt": "2026-11-20T08:15:42Z",
            "status": "open",
        }
    return {"alarmId": vendor_id, "title": "Brute force", "createdAt": "2026-11-20T08:15:42Z"}


def put(payload: dict, path: str, value: object) -> dict:
    node = payload
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return payload


@pytest.fixture
async def hooks(api, engine) -> dict[str, dict]:
    """One customer's integration per source, by the webhook path's source name."""
    tenant = make_tenant(engine)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    made = {}
    for slug, source in [
        ("generic", "generic"),
        ("sentinelone", "sentinelone"),
        ("rocketcyber", "rocketcyber"),
        ("barracuda-xdr", "barracuda_xdr"),
    ]:
        r = await api.post(
            "/api/v1/soc/integrations",
            headers=auth(admin),
            json={
                "tenant_id": str(tenant.id),
                "source": source,
                "name": slug,
                # The sample S1 threat's site; the other samples name no vendor tenant.
                "vendor_tenant_ids": [THREAT["agentRealtimeInfo"]["siteId"]] if source == "sentinelone" else [],
            },
        )
        assert r.status_code == 201, r.text
        made[slug] = r.json()
    return made


def assert_refused(engine, integration: dict, response, status: int, reason: str) -> dict:  # noqa: ANN001
    """The answer is a problem with `status`, logged with `reason`; nothing of the delivery waits in the inbox."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    logged = last_delivery(engine, integration)
    assert logged is not None and not logged.accepted and logged.reason == reason
    assert count(engine, SocInboxItem, SocInboxItem.integration_id == uuid.UUID(integration["id"])) == 0
    assert count(engine, SocAlert, SocAlert.integration_id == uuid.UUID(integration["id"])) == 0
    return response.json()


@pytest.mark.parametrize(
    ("source", "path", "value", "field"),
    [
        ("generic", "detected_at", OLDEST, "detected_at"),
        ("generic", "detected_at", LAST, "detected_at"),
        ("generic", "detected_at", "1999-12-31T23:59:59.999999Z", "detected_at"),
        ("generic", "detected_at", "tomorrow", "detected_at"),
        ("generic", "updated_at", LAST, "vendor_updated_at"),
        ("sentinelone", "threatInfo.identifiedAt", OLDEST, "detected_at"),
        ("sentinelone", "threatInfo.updatedAt", LAST, "vendor_updated_at"),
        ("rocketcyber", "createdAt", LAST, "detected_at"),
        ("rocketcyber", "updatedAt", OLDEST, "vendor_updated_at"),
        ("barracuda-xdr", "createdAt", OLDEST, "detected_at"),
    ],
)
async def test_a_time_outside_the_window_is_refused_naming_the_field_and_the_window(
    api, env, engine, hooks, source, path, value, field
):
    if value == "tomorrow":  # a little more than the day of clock drift the hub tolerates
        value = (await env.get_current_time() + timedelta(days=1, minutes=1)).isoformat()
    payload = put(alert_of(source, f"t-{uuid.uuid4().hex[:8]}"), path, value)
    r = await deliver(api, env, hooks[source], payload)
    problem = assert_refused(engine, hooks[source], r, 422, "out_of_window")
    assert problem["errors"][0]["field"] == field
    assert field in problem["detail"] and "2000-01-01T00:00:00Z" in problem["detail"], problem


async def test_a_time_outside_the_window_in_a_list_names_the_item_and_refuses_it_alone(api, env, engine, hooks):
    good = alert_of("generic", "ok-1")
    bad = put(alert_of("generic", "late-1"), "detected_at", LAST)
    r = await deliver(api, env, hooks["generic"], {"data": [good, bad]})
    assert r.status_code == 202, r.text
    answer = r.json()
    assert (answer["accepted"], answer["refused"]) == (1, 1)
    accepted, refused = answer["items"]
    assert accepted["status"] == "accepted" and accepted["vendor_alert_id"] == "ok-1"
    assert refused["status"] == "refused" and refused["reason"] == "out_of_window"
    assert refused["field"] == "data.1.detected_at" and refused["vendor_alert_id"] == "late-1"
    assert last_delivery(engine, hooks["generic"]).reason == "partly_refused"


async def test_a_signature_timestamp_beyond_the_calendar_is_a_401(api, env, engine, hooks):
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "999999999999", "webhook-signature": "v1,AAAA"}
    r = await deliver(api, env, hooks["generic"], alert_of("generic", "x"), headers=headers)
    problem = assert_refused(engine, hooks["generic"], r, 401, "future_timestamp")
    assert "999999999999" in problem["detail"]


async def test_a_bad_signature_is_a_401_whatever_the_body(api, env, engine, hooks):
    r = await deliver(api, env, hooks["generic"], b"{not json", secret="whsec_" + "A" * 43)
    assert_refused(engine, hooks["generic"], r, 401, "bad_signature")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"id": "x",\n "title": }', "the body is not valid JSON: Expecting value at line 2 column 11"),
        (b'{"id": "x", "title": "caf\xe9"}', "the body is not valid JSON: it is not UTF-8 (line 1 column 26"),
    ],
)
async def test_a_signed_body_that_is_not_json_is_a_422_saying_where(api, env, engine, hooks, body, says):
    r = await deliver(api, env, hooks["generic"], body)
    problem = assert_refused(engine, hooks["generic"], r, 422, "malformed_json")
    assert problem["detail"].startswith(says), problem


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"id": "x", "confidence": ' + b"9" * 5000 + b"}", "more than 100 digits"),
        (b'{"id": "x", "extra": ' + b"[" * 65 + b"]" * 65 + b"}", "nested deeper than 64 levels"),
        (b'{"id": "x", "extra": ' + b"[" * 300 + b"]" * 300 + b"}", "nested deeper than 64 levels"),
    ],
)
async def test_json_the_hub_cannot_carry_is_a_422_with_its_reason(api, env, engine, hooks, body, says):
    r = await deliver(api, env, hooks["generic"], body)
    problem = assert_refused(engine, hooks["generic"], r, 422, "json_limits")
    assert says in problem["detail"]


@pytest.mark.parametrize(
    ("source", "path", "field"),
    [
        ("generic", "id", "id"),
        ("generic", "device.hostname", "device.hostname"),
        ("generic", "user", "user"),
        ("sentinelone", "id", "vendor_alert_id"),
        ("sentinelone", "agentRealtimeInfo.agentId", "device_external_id"),
        ("rocketcyber", "id", "vendor_alert_id"),
        ("barracuda-xdr", "alarmId", "vendor_alert_id"),
    ],
)
async def test_a_control_character_in_an_id_or_key_is_a_422_naming_the_field(
    api, env, engine, hooks, source, path, field
):
    """The same answer on both databases (PostgreSQL cannot store NUL: it was a 503, then retried forever)."""
    vendor_id = f"n-{uuid.uuid4().hex[:8]}"
    payload = put(alert_of(source, vendor_id), path, "abc\x00def")
    if source == "sentinelone" and path == "id":
        payload["threatInfo"]["threatId"] = "abc\x00def"
    r = await deliver(api, env, hooks[source], payload)
    problem = assert_refused(engine, hooks[source], r, 422, "bad_alert")
    assert problem["errors"][0]["field"] == field and "U+0000" in problem["detail"], problem


async def test_an_overlong_hostname_is_a_422(api, env, engine, hooks):
    """It would not fit the alert's column on PostgreSQL: the incident could never record it."""
    payload = put(alert_of("generic", "h-1"), "device.hostname", "h" * 254)
    r = await deliver(api, env, hooks["generic"], payload)
    problem = assert_refused(engine, hooks["generic"], r, 422, "bad_alert")
    assert problem["errors"][0]["field"] == "device.hostname"


async def test_control_characters_in_free_text_are_stripped(api, env, engine, hooks):
    vendor_id = f"c-{uuid.uuid4().hex[:8]}"
    payload = alert_of("generic", vendor_id) | {
        "title": "Mimi\x00katz\x1b detected\ud800",
        "description": "first line\nsecond\x00 line\x7f",
    }
    r = await deliver(api, env, hooks["generic"], payload)
    assert r.status_code == 202, r.text

    def stored() -> SocAlert | None:
        with Session(engine) as s:
            return s.exec(select(SocAlert).where(SocAlert.vendor_alert_id == vendor_id)).first()

    alert = await eventually(stored)
    assert alert.title == "Mimikatz detected"
    assert alert.normalized["description"] == "first line\nsecond line"


async def chunks(total: int, sent: list[int], size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """`total` bytes in chunks; `sent` counts what the server actually pulled."""
    while sum(sent) < total:
        sent.append(size)
        yield b" " * size


async def test_a_chunked_body_over_the_limit_is_a_logged_413_without_reading_it_all(api, env, engine, hooks):
    integration, sent = hooks["generic"], []
    now = await env.get_current_time()
    headers = signed_headers(integration["webhook_secret"], "msg_big", now, b"")  # the body is never verified
    r = await api.post(integration["webhook_url"], content=chunks(8 * MAX_BODY_BYTES, sent), headers=headers)
    assert_refused(engine, integration, r, 413, "too_large")
    assert sum(sent) <= MAX_BODY_BYTES + 2 * 64 * 1024  # it stopped reading at the limit


async def test_a_declared_body_over_the_limit_is_a_logged_413(api, env, engine, hooks):
    """Needs `BodyLimit` to leave /api/v1/webhooks/ to the route (it answers 413 itself, unlogged, otherwise)."""
    integration = hooks["generic"]
    body = b" " * (MAX_BODY_BYTES + 1)
    r = await deliver(api, env, integration, body)
    problem = assert_refused(engine, integration, r, 413, "too_large")
    assert str(MAX_BODY_BYTES) in problem["detail"]
