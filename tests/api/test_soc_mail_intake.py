"""SOC alerts by mail, over real SMTP conversations with the API's receiver: an accepted mail is an inbox alert of
the integration's tenant before the 250; a redelivery adds nothing; a wrong address is refused at RCPT with 550 and
nothing stored; an unreadable mail is answered 250 and kept in the quarantine with its reason; a database error
answers 451; every mail ends as an alert, a refusal or a quarantined item. End to end: the mail opens a ticket."""

import asyncio
import re
import smtplib
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

import api.routes.soc.mail_intake as intake
from api.app import create_app, wall_clock
from domain.roles import Role
from domain.soc.alerts import Severity
from domain.soc.mail_address import mail_local_part
from hub.config import Settings
from hub.db import session_scope
from models import SocInboxItem, SocIntegration, SocQuarantineItem, Ticket, WebhookDelivery
from tests.api.test_soc_webhook_api import eventually, incident, ticket_of
from tests.conftest import auth
from tests.factories import make_soc_integration, make_tenant, make_user

MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "soc" / "mail"


def mail(name: str, ticket: str | None = None, date: datetime | None = None) -> bytes:
    """A fixture dated now (the hub refuses times far from its clock), with its own ticket number if given."""
    lines = (MAIL / name).read_bytes().split(b"\n")
    stamp = format_datetime(date or datetime.now(UTC)).encode()
    lines = [b"Date: " + stamp if line.startswith(b"Date:") else line for line in lines]
    content = b"\n".join(lines)
    if ticket:
        for old in (b"1184273", b"1184290", b"1184301", b"1184322"):
            content = content.replace(old, ticket.encode())
    return content


def send(port: int, rcpt: str, content: bytes, mail_from: str = "soc@barracuda.com") -> tuple[int, str]:
    """One SMTP transaction; the answer to RCPT when it refuses, else the answer to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
        smtp.ehlo("mx.msp.example")
        smtp.mail(mail_from)
        code, message = smtp.rcpt(rcpt)
        if code != 250:
            return code, message.decode()
        code, message = smtp.data(re.sub(rb"\r?\n", b"\r\n", content))  # on the wire lines end in CRLF
        return code, message.decode()


async def send_async(*args, **kwargs) -> tuple[int, str]:
    return await asyncio.to_thread(send, *args, **kwargs)


def address(row: SocIntegration, domain: str = "hub.msp.example") -> str:
    return intake.mail_address(row, domain)


def outcomes(outcome: str) -> float:
    return REGISTRY.get_sample_value("psa_soc_mail_deliveries_total", {"outcome": outcome}) or 0.0


def rows(engine, model, **where) -> list:
    with Session(engine) as s:
        query = select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return list(s.exec(query).all())


@pytest.fixture
async def hub(engine):
    """The API app with its mail receiver on a free port; Temporal away, so accepted alerts wait in the inbox."""
    app = create_app(
        Settings(soc_mail_listen="127.0.0.1:0", soc_mail_domain="hub.msp.example"),
        engine=engine,
        temporal=None,
        clock=wall_clock,
    )
    await app.state.soc_mail.start()
    yield app
    await app.state.soc_mail.stop()
    await app.state.soc_inbox.stop()


@pytest.fixture
def xdr(engine):
    tenant = make_tenant(engine)
    return tenant, make_soc_integration(
        engine, tenant, source="barracuda_xdr", name="XDR", webhook_secret=f"s{uuid.uuid4()}"
    )


async def test_accepted_mail_is_an_inbox_alert_of_the_integrations_tenant_before_the_250(hub, engine, xdr):
    tenant, row = xdr
    other_tenant = make_tenant(engine)
    make_soc_integration(engine, other_tenant, source="barracuda_xdr", name="XDR B")
    code, message = await send_async(hub.state.soc_mail.port, address(row), mail("plain_linux_brute_force.eml"))
    assert code == 250 and "1 alert(s) stored" in message, message
    (waiting,) = rows(engine, SocInboxItem, tenant_id=tenant.id)  # there at the 250, not later
    alert = waiting.item["alert"]
    assert waiting.item["tenant_id"] == str(tenant.id) and waiting.integration_id == row.id
    assert (alert["vendor_alert_id"], alert["severity"], alert["device_hostname"]) == (
        "1184273",
        Severity.HIGH.value,
        "muc-web02.contoso.local",
    )
    assert alert["title"] == "Linux Brute Force User" and alert["source"] == "barracuda_xdr"
    assert rows(engine, SocInboxItem, tenant_id=other_tenant.id) == []
    (logged,) = rows(engine, WebhookDelivery, integration_id=row.id)
    assert logged.accepted and logged.reason is None and logged.source == intake.SOURCE
    assert logged.webhook_id == "20261202081403.7f3a91c2@soc.barracuda.com" and logged.remote_addr == "127.0.0.1"


async def test_redelivery_of_the_same_mail_gives_one_alert(hub, engine, xdr):
    tenant, row = xdr
    content = mail("count_x2_windows_forwarded_de.eml")
    for _ in range(2):
        code, _message = await send_async(hub.state.soc_mail.port, address(row), content)
        assert code == 250
    # The SOC's next mail for the same ticket (another Message-ID) is the same alert too.
    again = content.replace(b"AM0PR01MB1234", b"AM0PR01MB9999")
    code, message = await send_async(hub.state.soc_mail.port, address(row), again)
    assert code == 250 and "1 already known" in message
    (waiting,) = rows(engine, SocInboxItem, tenant_id=tenant.id)
    assert waiting.item["alert"]["vendor_alert_id"] == "1184301"
    reasons = sorted(str(d.reason) for d in rows(engine, WebhookDelivery, integration_id=row.id))
    assert reasons == ["None", "duplicate", "duplicate"]


@pytest.mark.parametrize("case", ["wrong_token", "unknown_integration", "inactive", "not_xdr", "not_an_intake_address"])
async def test_wrong_recipients_are_refused_at_rcpt_and_nothing_is_stored(hub, engine, xdr, case):
    tenant, row = xdr
    rcpt = address(row)
    expected = "no integration with this address"
    if case == "wrong_token":
        rcpt = f"{mail_local_part(row.id, 'another secret')}@hub.msp.example"
    elif case == "unknown_integration":
        rcpt = f"{mail_local_part(uuid.uuid4(), row.webhook_secret)}@hub.msp.example"
    elif case == "inactive":
        with session_scope(engine) as s:
            s.get(SocIntegration, row.id).is_active = False
        expected = "deactivated"
    elif case == "not_xdr":
        s1 = make_soc_integration(engine, tenant, webhook_secret="whsec_s1")
        rcpt, expected = address(s1), "a sentinelone integration does not take mail"
    else:
        rcpt, expected = "security@hub.msp.example", "is not a SOC intake address"
    code, message = await send_async(hub.state.soc_mail.port, rcpt, mail("plain_linux_brute_force.eml"))
    assert code == 550 and expected in message
    assert rows(engine, SocInboxItem, tenant_id=tenant.id) == []
    assert rows(engine, SocQuarantineItem, tenant_id=tenant.id) == []
    if case in ("wrong_token", "inactive"):
        (logged,) = rows(engine, WebhookDelivery, integration_id=row.id)
        assert not logged.accepted and logged.reason in ("unknown_recipient", "inactive_integration")


async def test_unreadable_mail_is_answered_250_and_kept_in_the_quarantine(hub, engine, xdr):
    tenant, row = xdr
    code, message = await send_async(hub.state.soc_mail.port, address(row), mail("unreadable_weekly_report.eml"))
    assert code == 250 and "quarantine" in message
    assert rows(engine, SocInboxItem, tenant_id=tenant.id) == []
    (held,) = rows(engine, SocQuarantineItem, tenant_id=tenant.id)
    assert (held.kind, held.integration_id) == ("mail", row.id)
    assert held.reason.startswith("subject: not a Barracuda XDR alarm subject")
    assert held.item["envelope"] == {"mail_from": "soc@barracuda.com", "rcpt_to": address(row)}
    assert "weekly-report.pdf" not in held.item["text"] and "Your weekly summary" in held.item["text"]

    _, admin = make_user(engine, Role.MSP_ADMIN)
    transport = httpx.ASGITransport(app=hub, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as api:
        listed = await api.get(f"/api/v1/soc/quarantine?tenant_id={tenant.id}&kind=mail", headers=auth(admin))
        assert listed.status_code == 200, listed.text
        (item,) = listed.json()["items"]
        assert item["id"] == str(held.id) and item["reason"] == held.reason
        released = await api.post(f"/api/v1/soc/quarantine/{held.id}/release", headers=auth(admin))
        assert released.status_code == 409 and "mail item cannot be re-played" in released.json()["detail"]


async def test_every_mail_ends_as_an_alert_a_refusal_or_a_quarantined_item(hub, engine, xdr):
    tenant, row = xdr
    port, good, bad = hub.state.soc_mail.port, address(row), f"{mail_local_part(row.id, 'old')}@hub.msp.example"
    names = sorted(p.name for p in MAIL.glob("*.eml"))
    before = {o: outcomes(o) for o in ("alert", "duplicate", "quarantined", "refused")}
    sends = [(good, name) for name in names] + [(bad, names[0]), (bad, names[1]), (good, names[0])]
    answers = [await send_async(port, rcpt, mail(name)) for rcpt, name in sends]
    accepted = [m for c, m in answers if c == 250]
    refused = [m for c, m in answers if c == 550]
    assert len(accepted) + len(refused) == len(sends) == 8 and len(refused) == 2
    alerts = rows(engine, SocInboxItem, tenant_id=tenant.id)
    held = rows(engine, SocQuarantineItem, tenant_id=tenant.id)
    duplicates = [m for m in accepted if "1 already known" in m]
    assert (len(alerts), len(held), len(duplicates)) == (4, 1, 1)
    assert len(alerts) + len(duplicates) + len(held) + len(refused) == len(sends)
    logged = rows(engine, WebhookDelivery, integration_id=row.id)
    assert sum(d.accepted for d in logged) == 6 and sum(not d.accepted for d in logged) == 2
    assert {o: outcomes(o) - n for o, n in before.items()} == {
        "alert": 4,
        "duplicate": 1,
        "quarantined": 1,
        "refused": 2,
    }


async def test_database_error_answers_451_and_stores_nothing_then_the_retry_goes_through(hub, engine, xdr, monkeypatch):
    tenant, row = xdr

    def failing_put(session, items):  # noqa: ANN001
        raise OperationalError("INSERT INTO soc_inbox", {}, Exception("database is away"))

    monkeypatch.setattr(intake.soc_inbox, "put", failing_put)
    content = mail("no_host_inbox_rule.eml")
    code, message = await send_async(hub.state.soc_mail.port, address(row), content)
    assert code == 451 and "try again later" in message
    assert rows(engine, SocInboxItem, tenant_id=tenant.id) == []
    assert [d.reason for d in rows(engine, WebhookDelivery, integration_id=row.id)] == []  # rolled back
    monkeypatch.undo()
    assert (await send_async(hub.state.soc_mail.port, address(row), content))[0] == 250
    assert len(rows(engine, SocInboxItem, tenant_id=tenant.id)) == 1


async def test_allowed_senders_envelope_or_from_header(engine, xdr):
    tenant, row = xdr
    settings = Settings(soc_mail_listen="127.0.0.1:0", soc_mail_allowed_senders=["@barracuda.com"])
    app = create_app(settings, engine=engine, temporal=None, clock=wall_clock)
    await app.state.soc_mail.start()
    try:
        port = app.state.soc_mail.port
        spoofed = mail("plain_linux_brute_force.eml").replace(b"<soc@barracuda.com>", b"<soc@evil.example>")
        code, message = await send_async(port, address(row), spoofed, mail_from="bounce@evil.example")
        assert code == 550 and "soc@evil.example is not on PSA_SOC_MAIL_ALLOWED_SENDERS" in message
        assert rows(engine, SocInboxItem, tenant_id=tenant.id) == []
        # Forwarded by the MSP's own server (its envelope sender), the From header still the SOC's: accepted.
        forwarded = mail("plain_linux_brute_force.eml")
        assert (await send_async(port, address(row), forwarded, mail_from="security@msp.example"))[0] == 250
        assert len(rows(engine, SocInboxItem, tenant_id=tenant.id)) == 1
    finally:
        await app.state.soc_mail.stop()


async def test_mail_address_route(engine, xdr):
    tenant, row = xdr
    s1 = make_soc_integration(engine, tenant)
    app = create_app(Settings(soc_mail_domain="hub.msp.example"), engine=engine, temporal=None, clock=wall_clock)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    _, tech = make_user(engine, Role.MSP_TECH)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as api:
        r = await api.get(f"/api/v1/soc/integrations/{row.id}/mail-address", headers=auth(admin))
        assert r.status_code == 200, r.text
        assert r.json() == {
            "integration_id": str(row.id),
            "local_part": mail_local_part(row.id, row.webhook_secret),
            "address": address(row),
            "receiver_listening": False,
        }
        assert (await api.get(f"/api/v1/soc/integrations/{s1.id}/mail-address", headers=auth(admin))).status_code == 409
        assert (await api.get(f"/api/v1/soc/integrations/{row.id}/mail-address", headers=auth(tech))).status_code == 403


async def test_mail_opens_a_ticket_through_the_incident_with_the_api_lifespan(env, engine, xdr):
    tenant, row = xdr
    settings = Settings(soc_mail_listen="127.0.0.1:0")
    app = create_app(settings, engine=engine, temporal=env.client, clock=env.get_current_time)
    async with app.router.lifespan_context(app):  # as `psa api` runs it: the receiver starts with the app
        port = app.state.soc_mail.port
        content = mail("plain_linux_brute_force.eml", date=await env.get_current_time())
        for _ in range(2):  # the second is a redelivery
            assert (await send_async(port, address(row), content))[0] == 250
        ticket = await eventually(lambda: ticket_of(engine, incident(engine, f"{tenant.customer_number}-muc-web02")))
        assert ticket.tenant_id == tenant.id and "Linux Brute Force User" in ticket.title
        assert len(rows(engine, Ticket, tenant_id=tenant.id)) == 1
    with pytest.raises(OSError):  # stopped with the app
        send(port, address(row), content)
