"""The `sla.notify` activity: send one escalation notification (e-mail, webhook or page), once.

The `notifications` table is an outbox keyed by the workflow's idempotency key:
1. find the row, or resolve recipients, render the message and insert it as "pending" (one transaction);
2. a row already "sent" means an earlier attempt delivered it: return "already_sent" without sending;
3. send exactly what the row holds (a retry repeats the same message, Message-ID and Idempotency-Key);
4. mark it "sent"; on a failure record attempts and last_error (own transaction) and raise, so Temporal
   retries with the workflow's backoff.
The remaining window for a duplicate is a crash between a successful send and step 4 (or a retry that starts
while a timed-out attempt is still sending); the deterministic Message-ID / Idempotency-Key lets receivers
drop it.
"""

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.mail import MailError, MailNotConfigured, build_message, message_id_for, send_message, sender_domain
from connectors.webhooks import WebhookError, post_json, redact_url
from domain.contracts.tickets import NotifyRequest, NotifyResult, SlaActivity
from domain.escalation import AddressRecipient, NotifyEmail, RoleRecipient, UserRecipient
from domain.notifications import email_body, email_subject, ticket_url, webhook_body
from hub.config import Settings
from hub.db import session_scope, write_transaction
from hub.logging import get_logger
from models import Notification, Tenant, Ticket, User

log = get_logger(__name__)

PENDING = "pending"
SENT = "sent"
_OUTBOX = Notification.__table__
# Column reads, not entity loads: every escalation notice renders once.
_TICKET_TENANT = select(Ticket.__table__.c.tenant_id).where(Ticket.__table__.c.id == bindparam("id"))
_TENANT_NAME = select(Tenant.__table__.c.name).where(Tenant.__table__.c.id == bindparam("id"))
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.key == bindparam("b_key"))
    .values(status=SENT, sent_at=bindparam("sent_at"), attempts=_OUTBOX.c.attempts + 1)
)
_MAX_TEXT = 2000  # Notification.destination / last_error


class NotificationActivities:
    def __init__(self, engine: Engine, settings: Settings):
        self.engine = engine
        self.settings = settings
        # One client for all webhooks: keep-alive, and no TLS context built per notification (~40 ms of CPU).
        self._http = httpx.Client(timeout=httpx.Timeout(settings.notify_timeout), follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    @activity.defn(name=SlaActivity.NOTIFY)
    def notify(self, req: NotifyRequest) -> NotifyResult:
        ids = {
            "ticket_id": str(req.ticket_id),
            "tenant_id": str(req.tenant_id),
            "key": req.key,
            "channel": req.channel,
            "workflow_id": activity.info().workflow_id,
        }
        row = self._create(req)
        if row.status == SENT:
            log.info("notification already sent", **ids, sent_at=row.sent_at.isoformat() if row.sent_at else None)
            return NotifyResult(status="already_sent", channel=row.channel, recipients=_recipients(row))
        try:
            self._send(row, ids)
        except Exception as exc:
            attempts = self._record_failure(req.key, exc)
            log.warning("notification failed", **ids, attempts=attempts, error=str(exc))
            converted = _application_error(exc)
            if converted is exc:
                raise
            raise converted from exc
        self._mark_sent(req.key)
        log.info(
            "notification sent",
            **ids,
            recipients=len(_recipients(row)),
            destination=_recipients(row) if row.channel != "email" else None,
            attempt=activity.info().attempt,
        )
        return NotifyResult(status="sent", channel=row.channel, recipients=_recipients(row))

    # --- outbox ------------------------------------------------------------------------------------------

    def _find(self, key: str) -> Notification | None:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(select(Notification).where(Notification.key == key)).one_or_none()

    def _create(self, req: NotifyRequest) -> Notification:
        """The outbox row of this key: an earlier attempt's, or a new one rendered now."""
        try:
            with session_scope(self.engine) as session:
                existing = session.exec(select(Notification).where(Notification.key == req.key)).one_or_none()
                if existing is not None:
                    return existing
                row = self._render(session, req)
                session.add(row)
                session.flush()
                return row
        except IntegrityError:
            # A concurrent attempt inserted the same key first: its row is ours.
            row = self._find(req.key)
            if row is None:
                raise
            return row

    def _render(self, session: Session, req: NotifyRequest) -> Notification:
        conn = session.connection()
        owner = conn.execute(_TICKET_TENANT, {"id": req.ticket_id}).scalar_one_or_none()
        if owner != req.tenant_id:
            raise ApplicationError(
                f"ticket {req.ticket_id} of tenant {req.tenant_id} does not exist",
                type="TicketNotFound",
                non_retryable=True,
            )
        if req.customer_name is None:
            name = conn.execute(_TENANT_NAME, {"id": req.tenant_id}).scalar_one_or_none()
            req = req.model_copy(update={"customer_name": name})
        now = datetime.now(UTC)
        url = ticket_url(self.settings.ticket_url_template, req)
        payload: dict[str, Any]
        if isinstance(req.action, NotifyEmail):
            to = self._resolve_recipients(session, req, req.action)
            payload = {
                "to": to,
                "subject": email_subject(req, now),
                "body": email_body(req, now, url),
                "message_id": message_id_for(req.key, sender_domain(self.settings.smtp_from)),
            }
            destination = ", ".join(to)
        else:
            destination = str(req.action.url)
            payload = {"url": destination, "body": webhook_body(req, now, url)}
        return Notification(
            key=req.key,
            ticket_id=req.ticket_id,
            tenant_id=req.tenant_id,
            channel=req.channel,
            destination=destination[:_MAX_TEXT],
            status=PENDING,
            payload=payload,
        )

    def _resolve_recipients(self, session: Session, req: NotifyRequest, action: NotifyEmail) -> list[str]:
        """Active users by role (customer roles: only of the ticket's tenant; MSP roles: only MSP staff), single
        users if active and MSP staff or of the ticket's tenant, and literal addresses; de-duplicated."""
        ids = {"ticket_id": str(req.ticket_id), "tenant_id": str(req.tenant_id), "key": req.key}
        found: list[str] = []
        for recipient in action.to:
            match recipient:
                case RoleRecipient(role=role):
                    query = select(User.email).where(User.role == role, col(User.is_active).is_(True))
                    if role.is_customer_side:
                        query = query.where(User.tenant_id == req.tenant_id)
                    else:
                        query = query.where(col(User.tenant_id).is_(None))
                    emails = list(session.exec(query.order_by(User.email)).all())
                    if not emails:
                        log.info("no active users with role", **ids, role=role.value)
                    found += emails
                case UserRecipient(user_id=user_id):
                    user = session.get(User, user_id)
                    if user is None or not user.is_active:
                        log.info("recipient skipped: user missing or inactive", **ids, user_id=str(user_id))
                    elif user.tenant_id is not None and user.tenant_id != req.tenant_id:
                        log.warning("recipient skipped: user of another tenant", **ids, user_id=str(user_id))
                    else:
                        found.append(user.email)
                case AddressRecipient(address=address):
                    found.append(address)
        unique: dict[str, str] = {}
        for address in found:
            unique.setdefault(address.strip().lower(), address.strip())
        if not unique:
            raise ApplicationError(
                f"notification {req.key}: no active recipient (roles without active users, users inactive or "
                "of another tenant)",
                type="NoRecipients",
                non_retryable=True,
            )
        return list(unique.values())

    def _send(self, row: Notification, ids: dict[str, Any]) -> None:
        payload = row.payload
        if row.channel == "email":
            msg = build_message(
                sender=self.settings.smtp_from,
                to=payload["to"],
                subject=payload["subject"],
                body=payload["body"],
                message_id=payload["message_id"],
            )
            refused = send_message(self.settings, msg)
            if refused:  # the others got it: a resend would duplicate, so only log
                log.warning("some recipients refused", **ids, refused=sorted(refused))
        else:
            post_json(
                payload["url"],
                payload["body"],
                idempotency_key=row.key,
                timeout=self.settings.notify_timeout,
                client=self._http,
            )

    def _record_failure(self, key: str, exc: BaseException) -> int | None:
        error = f"{type(exc).__name__}: {exc}"[:_MAX_TEXT]
        try:
            with session_scope(self.engine) as session:
                return session.execute(
                    update(Notification)
                    .where(Notification.key == key, Notification.status == PENDING)
                    .values(attempts=Notification.attempts + 1, last_error=error)
                    .returning(Notification.attempts)
                    .execution_options(synchronize_session=False)
                ).scalar_one_or_none()
        except Exception:  # never hide the send error behind a bookkeeping error
            log.exception("could not record the failed notification attempt", key=key)
            return None

    def _mark_sent(self, key: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(_MARK_SENT, {"b_key": key, "sent_at": datetime.now(UTC)})


def _recipients(row: Notification) -> list[str]:
    if row.channel == "email":
        return list(row.payload.get("to", []))
    return [redact_url(row.payload.get("url") or row.destination)]


def _application_error(exc: Exception) -> Exception:
    """Connector errors become typed ApplicationErrors (retryable; the workflow's policy sets the backoff)."""
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, MailNotConfigured):
        return ApplicationError(str(exc), type="MailNotConfigured")
    if isinstance(exc, MailError):
        return ApplicationError(str(exc), type="MailError")
    if isinstance(exc, WebhookError):
        return ApplicationError(str(exc), exc.status_code, type="WebhookError")
    return exc
