"""SOC alerts that arrive as mail: an SMTP receiver in the API process (off unless PSA_SOC_MAIL_LISTEN is set).

Barracuda XDR escalates alarms as SOC mails; the MSP forwards them (transport rule, redirect) to
``soc-<integration id>-<token>@<any domain>`` (`mail_address`, domain/soc/mail_address.py) at this receiver.
- RCPT: the address must name an active Barracuda XDR integration with the right token; else 550 with the reason,
  nothing stored but the refusal in the delivery log (`webhook_deliveries`).
- DATA: the sender must be on PSA_SOC_MAIL_ALLOWED_SENDERS when that is set (envelope or From header); the mail is
  read (domain/soc/barracuda_mail.py) and, in one transaction with its delivery log row, put into the SOC inbox
  (api/routes/soc/inbox.py `put`) like a webhook alert, or, when it cannot be read as an alert, into the quarantine
  (`soc_quarantine`, kind `mail`) with the reason. 250 only after the commit, so the answer means durable; a
  database error answers 451 and the sending server tries again. Mail is not bounced for its content: a bounce
  goes to the SOC, which cannot fix it; the MSP finds it in the quarantine.
- Idempotent: a mail whose alert (same ticket number, else Message-ID) is already stored or waiting in the inbox
  is logged as a duplicate and not put again; the incident drops a repeat anyway.

Why SMTP and not IMAP: Exchange Online has turned off IMAP basic auth, and an SMTP answer can wait for the commit.
"""

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

from aiosmtpd.smtp import SMTP
from fastapi import APIRouter, Depends
from prometheus_client import Counter as MetricCounter
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from api.deps import MspAdmin, SettingsDep, get_engine, get_scoped
from api.problems import Problem
from api.routes.soc import inbox as soc_inbox
from domain.contracts.soc import IncidentAlert
from domain.soc.alerts import AlertFormatError, Source
from domain.soc.barracuda_mail import ReadMail, normalize_barracuda_mail, read_mail
from domain.soc.intake import Route, route
from domain.soc.mail_address import mail_local_part, read_local_part, token_matches
from hub.config import Settings
from hub.db import session_scope
from hub.logging import get_logger
from models import SocAlert, SocInboxItem, SocIntegration, SocQuarantineItem, SocQuarantineKind, Tenant, WebhookDelivery
from models.soc import record_without_incident

log = get_logger(__name__)
router = APIRouter(tags=["soc"])
SOURCE = "barracuda-xdr-mail"  # `source` of the delivery log rows
MAX_MAIL_BYTES = 10 * 1024 * 1024  # SOC mails are text; a larger one is refused with 552 by aiosmtpd
MAILS = MetricCounter(
    "psa_soc_mail_deliveries", "SOC mail deliveries (per recipient) by outcome; deferred: answered 451", ["outcome"]
)
for _outcome in ("alert", "duplicate", "quarantined", "refused", "deferred"):
    MAILS.labels(_outcome)


def mail_address(row: SocIntegration, domain: str) -> str:
    """Where the SOC's mails for this integration are forwarded to."""
    return f"{mail_local_part(row.id, row.webhook_secret)}@{domain}"


class MailAddress(BaseModel):
    integration_id: UUID
    local_part: str = Field(description="soc-<integration id>-<token>: the token is derived from the signing secret")
    address: str | None = Field(description="With PSA_SOC_MAIL_DOMAIN; null when that is not set")
    receiver_listening: bool = Field(description="Whether this hub runs the SMTP receiver (PSA_SOC_MAIL_LISTEN)")


@router.get(
    "/soc/integrations/{integration_id}/mail-address",
    response_model=MailAddress,
    summary="Where to forward the SOC's alert mails for a Barracuda XDR integration (MSP admins)",
    description="Rotating the signing secret rotates the address; the previous one works until the previous secret "
    "is revoked. 409 for integrations of other sources.",
)
def get_mail_address(
    integration_id: UUID, principal: MspAdmin, settings: SettingsDep, engine: Annotated[Engine, Depends(get_engine)]
):
    with Session(engine) as s:
        row = get_scoped(s, SocIntegration, integration_id, principal, "integration")
    if row.source != Source.BARRACUDA_XDR.value:
        raise Problem(409, f"integration {integration_id} is a {row.source} integration; only barracuda_xdr takes mail")
    domain = settings.soc_mail_domain
    return MailAddress(
        integration_id=row.id,
        local_part=mail_local_part(row.id, row.webhook_secret),
        address=mail_address(row, domain) if domain else None,
        receiver_listening=bool(settings.soc_mail_listen),
    )


# --- the receiver ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal(Exception):
    reason: str  # for the delivery log (64 characters)
    message: str  # for the SMTP answer


def _recipient(session: Session, address: str) -> tuple[SocIntegration, Tenant]:
    """The integration and tenant an address names; Refusal when it names none that takes mail."""
    parsed = read_local_part(address)
    if parsed is None:
        raise Refusal("unknown_recipient", f"{address} is not a SOC intake address (soc-<integration>-<token>@...)")
    row = session.get(SocIntegration, parsed[0])
    tenant = session.get(Tenant, row.tenant_id) if row is not None else None
    if row is None or tenant is None or not token_matches(parsed[1], (row.webhook_secret, row.previous_webhook_secret)):
        # One answer for an unknown id and a wrong token: the id alone must not be testable.
        raise Refusal("unknown_recipient", f"{address}: no integration with this address (unknown or old token)")
    if row.source != Source.BARRACUDA_XDR.value:
        raise Refusal("not_a_mail_source", f"{address}: a {row.source} integration does not take mail")
    if not row.is_active:
        raise Refusal("inactive_integration", f"{address}: the integration is deactivated in the hub")
    return row, tenant


def _delivery(
    integration_id: UUID | None,
    peer: str | None,
    content: bytes,
    accepted: bool,
    reason: str | None,
    mail_id: str | None = None,
) -> WebhookDelivery:
    log.info("soc mail delivery", integration_id=str(integration_id), accepted=accepted, reason=reason)
    return WebhookDelivery(
        source=SOURCE,
        integration_id=integration_id,
        accepted=accepted,
        reason=reason,
        webhook_id=(mail_id or "")[:200] or None,
        remote_addr=peer,
        body_bytes=len(content),
        body_sha256=hashlib.sha256(content).hexdigest() if content else None,
    )


def check_recipient(engine: Engine, address: str, peer: str | None) -> Refusal | None:
    """At RCPT: None when the address is good; a refusal is logged."""
    with Session(engine) as s:
        try:
            _recipient(s, address)
            return None
        except Refusal as refusal:
            found = refusal
    parsed = read_local_part(address)
    with session_scope(engine) as s:
        s.add(_delivery(parsed[0] if parsed else None, peer, b"", False, found.reason))
    return found


@dataclass(frozen=True)
class Stored:
    alerts: int  # put into the inbox
    duplicates: int
    quarantined: int
    reply: str


def sender_allowed(allowed: list[str], mail_from: str | None, mail: ReadMail) -> bool:
    """An empty list allows every sender; entries are addresses or "@domain"."""
    if not allowed:
        return True
    senders = {a.strip().strip("<>").lower() for a in (mail_from, mail.sender) if a}
    entries = {e.strip().lower() for e in allowed}
    return any(s in entries or "@" + s.rsplit("@", 1)[-1] in entries for s in senders)


def store_mail(
    engine: Engine,
    content: bytes,
    recipients: list[str],
    mail_from: str | None,
    peer: str | None,
    now: datetime,
    allowed: list[str],
) -> Stored:
    """In one transaction for all recipients: the alert into the inbox (or the mail into the quarantine) and the
    delivery log. Refusal (nothing stored but the log) when a recipient or the sender is not accepted."""
    mail = read_mail(content)
    if not sender_allowed(allowed, mail_from, mail):
        reason = f"sender {mail.sender or mail_from or '(none)'} is not on PSA_SOC_MAIL_ALLOWED_SENDERS"
        with session_scope(engine) as s:
            for address in recipients:
                parsed = read_local_part(address)
                s.add(_delivery(parsed[0] if parsed else None, peer, content, False, "sender_not_allowed"))
        raise Refusal("sender_not_allowed", reason)
    alerts = duplicates = quarantined = 0
    with session_scope(engine) as s:
        for address in recipients:
            row, tenant = _recipient(s, address)  # checked at RCPT; again here, in the transaction
            try:
                alert = normalize_barracuda_mail(mail, str(row.id), now)
            except AlertFormatError as err:
                s.add(_quarantine_item(row, mail, mail_from, address, f"{err.field}: {err.message}"))
                s.add(_delivery(row.id, peer, content, True, "quarantined", mail.message_id))
                quarantined += 1
                log.warning("soc mail quarantined", integration_id=str(row.id), reason=str(err))
                continue
            if _known(s, alert.dedupe_key):
                s.add(_delivery(row.id, peer, content, True, "duplicate", mail.message_id))
                duplicates += 1
                continue
            if route(alert, False, None, row.created_at) == Route.RECORD:  # the webhook's and the poller's rule
                record_without_incident(s, row.tenant_id, alert)
                s.add(_delivery(row.id, peer, content, True, "recorded", mail.message_id))
                continue
            soc_inbox.put(
                s, [IncidentAlert(alert=alert, tenant_id=row.tenant_id, customer_number=tenant.customer_number)]
            )
            s.add(_delivery(row.id, peer, content, True, None, mail.message_id))
            alerts += 1
    if quarantined:
        reply = "250 2.0.0 Kept in the hub's SOC quarantine: it could not be read as an alert"
    else:
        reply = f"250 2.0.0 Accepted: {alerts} alert(s) stored, {duplicates} already known"
    return Stored(alerts, duplicates, quarantined, reply)


def _known(session: Session, dedupe_key: str) -> bool:
    """The alert is stored already or waits in the inbox (a mail delivered twice, by the SOC or a forwarder)."""
    stored = session.exec(select(SocAlert.id).where(SocAlert.dedupe_key == dedupe_key)).first()
    waiting = session.exec(select(SocInboxItem.id).where(SocInboxItem.dedupe_key == dedupe_key)).first()
    return stored is not None or waiting is not None


def _quarantine_item(
    row: SocIntegration, mail: ReadMail, mail_from: str | None, address: str, reason: str
) -> SocQuarantineItem:
    item = mail.raw() | {"envelope": {"mail_from": mail_from, "rcpt_to": address}}
    return SocQuarantineItem(
        tenant_id=row.tenant_id,
        integration_id=row.id,
        kind=SocQuarantineKind.MAIL.value,
        item=item,
        reason=reason[:2000],
        received_at=soc_inbox.utcnow(),
    )


class _Handler:
    """aiosmtpd hooks, on the API's event loop; the database work runs in threads, never on that loop."""

    def __init__(
        self,
        engine: Callable[[], Engine | None],
        clock: Callable[[], Awaitable[datetime]],
        wake: Callable[[], None],
        allowed: list[str],
    ) -> None:
        self._engine, self._clock, self._wake, self._allowed = engine, clock, wake, allowed

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802, ARG002
        engine = self._engine()
        if engine is None:
            return "451 4.3.0 The hub is starting; try again later"
        try:
            refusal = await asyncio.to_thread(check_recipient, engine, address, _peer(session))
        except (SQLAlchemyError, TimeoutError) as err:
            log.warning("soc mail: recipient not checked", error=repr(err))
            MAILS.labels("deferred").inc()
            return "451 4.3.0 The hub cannot check the recipient right now; try again later"
        if refusal is not None:
            MAILS.labels("refused").inc()
            return f"550 5.1.1 {refusal.message}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802, ARG002
        engine = self._engine()
        if engine is None:
            return "451 4.3.0 The hub is starting; try again later"
        now = await self._clock()
        try:
            stored = await asyncio.to_thread(
                store_mail,
                engine,
                envelope.original_content or envelope.content,
                list(envelope.rcpt_tos),
                envelope.mail_from,
                _peer(session),
                now,
                self._allowed,
            )
        except Refusal as refusal:
            MAILS.labels("refused").inc(len(envelope.rcpt_tos))
            return f"550 5.7.1 {refusal.message}"
        except (SQLAlchemyError, TimeoutError) as err:  # rolled back: nothing of this mail is stored
            log.warning("soc mail not stored", error=repr(err))
            MAILS.labels("deferred").inc(len(envelope.rcpt_tos))
            return "451 4.3.0 The hub could not store the mail right now; try again later"
        for outcome, count in (
            ("alert", stored.alerts),
            ("duplicate", stored.duplicates),
            ("quarantined", stored.quarantined),
        ):
            MAILS.labels(outcome).inc(count)
        if stored.alerts:
            self._wake()
        return stored.reply


def _peer(session) -> str | None:  # noqa: ANN001
    peer = getattr(session, "peer", None)
    return str(peer[0])[:64] if isinstance(peer, tuple) and peer else None


def listen_address(settings: Settings) -> tuple[str, int] | None:
    """(host, port) of PSA_SOC_MAIL_LISTEN ("0.0.0.0:2525", "[::]:2525"); None when it is empty."""
    if not settings.soc_mail_listen:
        return None
    host, port = settings.soc_mail_listen.rsplit(":", 1)
    return host.strip("[]"), int(port)


class MailReceiver:
    """The SMTP server on the API's own event loop, started and stopped with the API (api/app.py lifespan)."""

    def __init__(
        self,
        settings: Settings,
        engine: Callable[[], Engine | None],
        clock: Callable[[], Awaitable[datetime]],
        wake: Callable[[], None],
    ) -> None:
        self.listen = listen_address(settings)
        self._handler = _Handler(engine, clock, wake, settings.soc_mail_allowed_senders)
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int | None:
        """The port listened on (the system's choice when the setting says port 0)."""
        return self._server.sockets[0].getsockname()[1] if self._server and self._server.sockets else None

    async def start(self) -> None:
        if self.listen is None or self._server is not None:
            return
        # aiosmtpd logs every client's ordinary hang-up ("Connection lost") at INFO, which reads like an error.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

        def protocol() -> SMTP:
            return SMTP(self._handler, data_size_limit=MAX_MAIL_BYTES, enable_SMTPUTF8=True, hostname="psa-hub")

        self._server = await asyncio.get_running_loop().create_server(protocol, *self.listen)
        log.info("soc mail receiver listening", host=self.listen[0], port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):  # newer Pythons wait for open conversations too
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
