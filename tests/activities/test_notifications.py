"""The `sla.notify` activity: real SMTP on loopback (aiosmtpd), webhooks via respx, the outbox on both databases.

Retried attempts must never deliver twice, and customer roles must never reach another tenant's users.
"""

import email
import email.policy
import re
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from aiosmtpd.controller import Controller
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.tickets.notifications import NotificationActivities
from connectors.mail import message_id_for
from domain.contracts.tickets import NotifyRequest
from domain.escalation import (
    AddressRecipient,
    NotifyEmail,
    NotifyWebhook,
    PageOnCall,
    RoleRecipient,
    TargetKind,
    UserRecipient,
)
from domain.notifications import email_body, email_subject, format_duration, format_local, json_payload, teams_payload
from domain.roles import Role
from domain.tickets import Priority, TicketStatus
from hub.config import Settings
from hub.db import session_scope
from models import Notification, Tenant, Ticket
from tests.factories import make_tenant, make_user

HOOK = "https://hooks.example.test/webhookb2/abc@def/IncomingWebhook/s3cr3t/xyz"
URL_TEMPLATE = "https://hub.example.test/tickets/{number}?id={ticket_id}"


# --- fixtures and helpers ---------------------------------------------------------------------------------


class Collector:
    """aiosmtpd handler that keeps every delivered envelope."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _settings(port: int = 25, host: str = "127.0.0.1") -> Settings:
    return Settings(
        _env_file=None,
        smtp_host=host,
        smtp_port=port,
        smtp_starttls=False,
        smtp_username="",
        smtp_password="",
        smtp_from="MSP Hub <hub@msp.example>",
        notify_timeout=5,
        ticket_url_template=URL_TEMPLATE,
    )


def _ticket(engine, tenant: Tenant) -> Ticket:
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        ticket = Ticket(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            number=f"T{uuid.uuid4().int % 10**12:012d}",
            title="Drucker im 2. OG druckt nicht",
            status=TicketStatus.IN_PROGRESS,
            priority=Priority.P2,
            created_at=now,
            updated_at=now,
        )
        s.add(ticket)
    return ticket


def _request(ticket: Ticket, tenant: Tenant, action, **fields) -> NotifyRequest:
    values = {
        "key": f"{ticket.id}:resolution:0:L2:{uuid.uuid4().hex[:8]}",
        "ticket_id": ticket.id,
        "tenant_id": tenant.id,
        "ticket_number": ticket.number,
        "title": ticket.title,
        "priority": Priority.P2,
        "status": TicketStatus.IN_PROGRESS,
        "customer_number": tenant.customer_number,
        "level": "L2",
        "target": TargetKind.RESOLUTION,
        "sla_state": "warning",
        "due_at": datetime.now(UTC) + timedelta(minutes=30),
        "action": action,
    } | fields
    return NotifyRequest(**values)


def _row(engine, key: str) -> Notification | None:
    with Session(engine) as s:
        return s.exec(select(Notification).where(Notification.key == key)).one_or_none()


@pytest.fixture
def customer(engine) -> tuple[Tenant, Ticket]:
    tenant = make_tenant(engine, name="Müller Maschinenbau GmbH")
    return tenant, _ticket(engine, tenant)


# --- e-mail through a real SMTP server --------------------------------------------------------------------


def test_email_reaches_roles_of_own_tenant_only_and_is_sent_once(engine, smtp, customer):
    handler, port = smtp
    tenant, ticket = customer
    other = make_tenant(engine)
    it_own, _ = make_user(engine, Role.CUSTOMER_IT, tenant)
    it_own_inactive, _ = make_user(engine, Role.CUSTOMER_IT, tenant, is_active=False)
    it_other, _ = make_user(engine, Role.CUSTOMER_IT, other)
    user_own, _ = make_user(engine, Role.CUSTOMER_USER, tenant)
    tech, _ = make_user(engine, Role.MSP_TECH)
    tech_inactive, _ = make_user(engine, Role.MSP_TECH, is_active=False)
    action = NotifyEmail(
        to=[
            RoleRecipient(role=Role.CUSTOMER_IT),
            RoleRecipient(role=Role.MSP_TECH),
            AddressRecipient(address="noc@msp.example"),
            AddressRecipient(address=it_own.email.upper()),  # a duplicate in another spelling
        ],
        message="Bitte sofort Rückruf beim Kunden.",
    )
    req = _request(ticket, tenant, action)
    acts, env = NotificationActivities(engine, _settings(port)), ActivityEnvironment()

    result = env.run(acts.notify, req)

    assert result.status == "sent" and result.channel == "email"
    assert len(handler.envelopes) == 1
    rcpt = [a.lower() for a in handler.envelopes[0].rcpt_tos]
    assert len(rcpt) == len(set(rcpt))
    assert {it_own.email, tech.email, "noc@msp.example"} <= set(rcpt)
    for absent in (it_own_inactive, it_other, user_own, tech_inactive):
        assert absent.email not in rcpt
    assert sorted(rcpt) == sorted(a.lower() for a in result.recipients)
    assert handler.envelopes[0].mail_from == "hub@msp.example"

    msg = handler.messages()[0]
    assert msg["Subject"] == (
        f"[Eskalation P2] {ticket.number} Müller Maschinenbau GmbH: Lösungszeit in 30 Min. fällig"
    )
    assert msg["Message-ID"] == message_id_for(req.key, "msp.example")
    assert msg["Auto-Submitted"] == "auto-generated"
    body = msg.get_content()
    assert f'Eskalationsstufe "L2" für Ticket {ticket.number} wurde erreicht.' in body
    assert "Bitte sofort Rückruf beim Kunden." in body
    assert f"Kunde:            Müller Maschinenbau GmbH ({tenant.customer_number})" in body
    assert "Status:           In Bearbeitung" in body
    assert "SLA-Ziel:         Lösungszeit" in body
    assert re.search(r"Fällig:\s+(Mo|Di|Mi|Do|Fr|Sa|So), \d\d\.\d\d\.\d{4} \d\d:\d\d \(Europe/Berlin\)", body)
    assert f"Ticket öffnen: https://hub.example.test/tickets/{ticket.number}?id={ticket.id}" in body

    again = env.run(acts.notify, req)
    assert again.status == "already_sent" and again.recipients == result.recipients
    assert len(handler.envelopes) == 1
    row = _row(engine, req.key)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None and row.last_error is None
    assert row.channel == "email" and it_own.email in row.destination


def test_single_users_of_other_tenants_or_inactive_are_skipped(engine, smtp, customer):
    handler, port = smtp
    tenant, ticket = customer
    other = make_tenant(engine)
    own, _ = make_user(engine, Role.CUSTOMER_USER, tenant)
    foreign, _ = make_user(engine, Role.CUSTOMER_IT, other)
    inactive, _ = make_user(engine, Role.MSP_ADMIN, is_active=False)
    admin, _ = make_user(engine, Role.MSP_ADMIN)
    action = NotifyEmail(
        to=[
            UserRecipient(user_id=foreign.id),
            UserRecipient(user_id=inactive.id),
            UserRecipient(user_id=uuid.uuid4()),
            UserRecipient(user_id=own.id),
            UserRecipient(user_id=admin.id),
            UserRecipient(user_id=own.id),
        ]
    )
    result = ActivityEnvironment().run(NotificationActivities(engine, _settings(port)).notify,
                                       _request(ticket, tenant, action))
    assert result.recipients == [own.email, admin.email]
    assert sorted(handler.envelopes[0].rcpt_tos) == sorted([own.email, admin.email])


def test_no_recipients_is_not_retried(engine, customer):
    tenant, ticket = customer
    other = make_tenant(engine)
    foreign, _ = make_user(engine, Role.CUSTOMER_USER, other)
    action = NotifyEmail(to=[RoleRecipient(role=Role.CUSTOMER_USER), UserRecipient(user_id=foreign.id)])
    req = _request(ticket, tenant, action)
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(NotificationActivities(engine, _settings()).notify, req)
    assert err.value.non_retryable and err.value.type == "NoRecipients"
    assert _row(engine, req.key) is None


def test_smtp_not_configured_fails_clearly_and_a_later_attempt_sends(engine, smtp, customer):
    handler, port = smtp
    tenant, ticket = customer
    req = _request(ticket, tenant, NotifyEmail(to=[AddressRecipient(address="noc@msp.example")]))
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as err:
        env.run(NotificationActivities(engine, _settings(host="")).notify, req)
    assert err.value.type == "MailNotConfigured" and not err.value.non_retryable
    assert "SMTP is not configured" in str(err.value)
    row = _row(engine, req.key)
    assert row.status == "pending" and row.attempts == 1 and "SMTP is not configured" in row.last_error

    # The operator fixes the settings; Temporal's next attempt delivers the stored message.
    result = env.run(NotificationActivities(engine, _settings(port)).notify, req)
    assert result.status == "sent" and len(handler.envelopes) == 1
    assert handler.messages()[0]["Message-ID"] == message_id_for(req.key, "msp.example")
    row = _row(engine, req.key)
    assert row.status == "sent" and row.attempts == 2


def test_unreachable_smtp_server_is_a_retryable_error(engine, customer):
    tenant, ticket = customer
    req = _request(ticket, tenant, NotifyEmail(to=[AddressRecipient(address="noc@msp.example")]))
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(NotificationActivities(engine, _settings(_free_port())).notify, req)
    assert err.value.type == "MailError" and not err.value.non_retryable
    assert "is not reachable" in str(err.value)
    assert _row(engine, req.key).attempts == 1


def test_ticket_of_another_tenant_is_refused(engine, customer):
    tenant, ticket = customer
    other = make_tenant(engine)
    req = _request(ticket, other, NotifyEmail(to=[AddressRecipient(address="noc@msp.example")]))
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(NotificationActivities(engine, _settings()).notify, req)
    assert err.value.non_retryable and err.value.type == "TicketNotFound"
    assert _row(engine, req.key) is None


# --- webhooks and paging ----------------------------------------------------------------------------------


def test_teams_card_is_posted_once_with_idempotency_key(engine, customer):
    tenant, ticket = customer
    req = _request(ticket, tenant, NotifyWebhook(url=HOOK, format="teams"))
    acts, env = NotificationActivities(engine, _settings()), ActivityEnvironment()
    with respx.mock(assert_all_called=True) as router:
        route = router.post(HOOK).mock(return_value=httpx.Response(200, text="1"))
        result = env.run(acts.notify, req)
        again = env.run(acts.notify, req)

    assert result.status == "sent" and result.channel == "webhook"
    assert result.recipients == ["https://hooks.example.test"]  # no secret path in results or logs
    assert again.status == "already_sent" and route.call_count == 1
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == req.key
    assert request.headers["User-Agent"] == "msp-hub"
    assert request.headers["Content-Type"] == "application/json"
    card = httpx.Response(200, content=request.content).json()
    assert card["@type"] == "MessageCard" and card["@context"] == "https://schema.org/extensions"
    assert card["summary"].startswith(f"[Eskalation P2] {ticket.number} Müller Maschinenbau GmbH: Lösungszeit in ")
    assert card["themeColor"] == "FF8C00"
    facts = {f["name"]: f["value"] for f in card["sections"][0]["facts"]}
    assert facts["Kunde"] == f"Müller Maschinenbau GmbH ({tenant.customer_number})"
    assert facts["SLA-Ziel"] == "Lösungszeit" and facts["Eskalationsstufe"] == "L2"
    assert card["potentialAction"] == [
        {
            "@type": "OpenUri",
            "name": "Ticket öffnen",
            "targets": [{"os": "default", "uri": f"https://hub.example.test/tickets/{ticket.number}?id={ticket.id}"}],
        }
    ]


def test_generic_json_webhook_body(engine, customer):
    tenant, ticket = customer
    due = datetime(2026, 3, 30, 9, 55, tzinfo=UTC)
    req = _request(ticket, tenant, NotifyWebhook(url="https://ops.example.test/hook?token=x"), due_at=due,
                   sla_state="breached")
    with respx.mock(assert_all_called=True) as router:
        route = router.post("https://ops.example.test/hook?token=x").mock(return_value=httpx.Response(204))
        result = ActivityEnvironment().run(NotificationActivities(engine, _settings()).notify, req)
    assert result.status == "sent" and result.recipients == ["https://ops.example.test"]
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == req.key
    assert httpx.Response(200, content=request.content).json() == {
        "event": "sla.escalation",
        "key": req.key,
        "ticket": {
            "id": str(ticket.id),
            "number": ticket.number,
            "title": "Drucker im 2. OG druckt nicht",
            "priority": "P2",
            "status": "in_progress",
            "tenant_id": str(tenant.id),
            "customer_number": tenant.customer_number,
            "customer_name": "Müller Maschinenbau GmbH",
            "url": f"https://hub.example.test/tickets/{ticket.number}?id={ticket.id}",
        },
        "level": "L2",
        "target": "resolution",
        "sla_state": "breached",
        "due_at": "2026-03-30T09:55:00+00:00",
    }


def test_page_on_call_is_urgent(engine, customer):
    tenant, ticket = customer
    req = _request(ticket, tenant, PageOnCall(url="https://pager.example.test/v1/page"),
                   target=TargetKind.RESPONSE, priority=Priority.P1)
    with respx.mock(assert_all_called=True) as router:
        route = router.post("https://pager.example.test/v1/page").mock(return_value=httpx.Response(202))
        result = ActivityEnvironment().run(NotificationActivities(engine, _settings()).notify, req)
    assert result.channel == "page" and result.status == "sent"
    body = httpx.Response(200, content=route.calls.last.request.content).json()
    assert body["event"] == "sla.page" and body["urgency"] == "high" and body["key"] == req.key
    assert body["target"] == "response" and body["ticket"]["priority"] == "P1"
    assert body["summary"].startswith(f"[Eskalation P1] {ticket.number} ")
    assert "Reaktionszeit in " in body["summary"]


def test_webhook_error_is_recorded_and_a_retry_sends_once(engine, customer):
    tenant, ticket = customer
    req = _request(ticket, tenant, NotifyWebhook(url=HOOK, format="json"))
    acts, env = NotificationActivities(engine, _settings()), ActivityEnvironment()
    with respx.mock(assert_all_called=True) as router:
        route = router.post(HOOK).mock(
            side_effect=[httpx.Response(500, text="Internal Server Error"), httpx.Response(200)]
        )
        with pytest.raises(ApplicationError) as err:
            env.run(acts.notify, req)
        assert err.value.type == "WebhookError" and not err.value.non_retryable
        assert "HTTP 500" in str(err.value) and "s3cr3t" not in str(err.value)
        row = _row(engine, req.key)
        assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in row.last_error

        assert env.run(acts.notify, req).status == "sent"
        assert env.run(acts.notify, req).status == "already_sent"
    assert route.call_count == 2  # one failure, one delivery
    assert [c.request.headers["Idempotency-Key"] for c in route.calls] == [req.key, req.key]
    assert route.calls[0].request.content == route.calls[1].request.content  # the stored message, unchanged
    row = _row(engine, req.key)
    assert row.status == "sent" and row.attempts == 2 and row.sent_at is not None


def test_a_concurrent_insert_of_the_same_key_is_treated_as_existing(engine, customer):
    """Another attempt inserts and sends between our look-up and our insert: we hit the unique key and use its
    row (already sent), so nothing is sent twice."""
    tenant, ticket = customer
    req = _request(ticket, tenant, NotifyWebhook(url=HOOK))

    class Racing(NotificationActivities):
        def _render(self, session, req):
            row = super()._render(session, req)
            with session_scope(self.engine) as other:  # the competing attempt, committed first
                competing = row.model_dump(exclude={"id", "status", "attempts"})
                other.add(Notification(**competing, status="sent", attempts=1))
            return row

    with respx.mock(assert_all_called=False) as router:
        route = router.post(HOOK).mock(return_value=httpx.Response(200))
        result = ActivityEnvironment().run(Racing(engine, _settings()).notify, req)
    assert result.status == "already_sent" and not route.called
    with Session(engine) as s:
        assert len(s.exec(select(Notification).where(Notification.key == req.key)).all()) == 1


# --- pure renderers ---------------------------------------------------------------------------------------


def _plain_request(**fields) -> NotifyRequest:
    values = {
        "key": "t:resolution:0:L2:0",
        "ticket_id": uuid.uuid4(),
        "tenant_id": uuid.uuid4(),
        "ticket_number": "2026-000123",
        "title": "Server *down* [dringend]",
        "priority": Priority.P2,
        "status": TicketStatus.OPEN,
        "customer_number": "K-10023",
        "customer_name": "Müller Maschinenbau",
        "level": "L2",
        "target": TargetKind.RESOLUTION,
        "sla_state": "warning",
        "due_at": datetime(2026, 3, 30, 9, 55, tzinfo=UTC),
        "action": NotifyEmail(to=[AddressRecipient(address="a@example.com")]),
    } | fields
    return NotifyRequest(**values)


def test_local_time_and_durations_in_german():
    assert format_local(datetime(2026, 3, 30, 9, 55, tzinfo=UTC), "Europe/Berlin") == "Mo, 30.03.2026 11:55"  # CEST
    assert format_local(datetime(2026, 3, 27, 9, 55, tzinfo=UTC), "Europe/Vienna") == "Fr, 27.03.2026 10:55"  # CET
    assert format_duration(29 * 60 + 1) == "30 Min."
    assert format_duration(125 * 60) == "2 Std. 5 Min."
    assert format_duration(26 * 3600) == "1 Tag 2 Std."
    assert format_duration(3 * 86400) == "3 Tagen"


def test_subject_wording_for_due_and_breached():
    req = _plain_request()
    due = req.due_at
    assert email_subject(req, due - timedelta(minutes=30)) == (
        "[Eskalation P2] 2026-000123 Müller Maschinenbau: Lösungszeit in 30 Min. fällig"
    )
    assert email_subject(req, due + timedelta(hours=2)) == (
        "[Eskalation P2] 2026-000123 Müller Maschinenbau: Lösungszeit seit 2 Std. überschritten"
    )
    upd = _plain_request(target=TargetKind.UPDATE, due_at=None, customer_name=None, sla_state="breached")
    assert email_subject(upd, due) == "[Eskalation P2] 2026-000123 K-10023: Aktualisierung überschritten"
    body = email_body(req, due - timedelta(minutes=30), "https://hub/t/1")
    assert "Fällig:           Mo, 30.03.2026 11:55 (Europe/Berlin)" in body
    assert "Status:           Offen" in body


def test_teams_card_escapes_markdown_and_turns_red_when_overdue():
    req = _plain_request(action=NotifyWebhook(url=HOOK, format="teams"))
    card = teams_payload(req, req.due_at + timedelta(minutes=5), "https://hub/t/1")
    assert card["themeColor"] == "D13438"
    assert card["sections"][0]["activityTitle"] == r"Server \*down\* \[dringend\]"
    assert card["summary"].endswith("Lösungszeit seit 5 Min. überschritten")
    assert json_payload(req, "https://hub/t/1")["ticket"]["title"] == "Server *down* [dringend]"


def test_request_validates_time_zone_and_action_type():
    with pytest.raises(ValueError, match="time zone"):
        _plain_request(time_zone="Mars/Olympus")
    req = NotifyRequest.model_validate_json(
        _plain_request(action=PageOnCall(url="https://pager.example.test/")).model_dump_json()
    )
    assert isinstance(req.action, PageOnCall) and req.channel == "page"
