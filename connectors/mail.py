"""Outgoing e-mail over SMTP with the standard library (smtplib, email.message).

Settings come from `hub.config.Settings` (PSA_SMTP_*). Port 465 means implicit TLS (SMTPS); any other port
speaks plain SMTP and upgrades with STARTTLS when `smtp_starttls` is on. Every failure is a `MailError` with
a message that names the server and what went wrong (never the password).
"""

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from hub.config import Settings

SMTPS_PORT = 465


class MailError(Exception):
    """Sending failed; worth retrying later (the server may be down or the settings may get fixed)."""


class MailNotConfigured(MailError):
    """PSA_SMTP_HOST is empty."""


def sender_domain(sender: str) -> str:
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    return domain.strip().lower() if at and domain.strip() else "msp-hub.invalid"


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID that depends only on the idempotency key: a re-send after a crash carries the same id, so
    receiving systems (and people) can recognise the duplicate."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<escalation.{digest}@{domain}>"


def build_message(*, sender: str, to: list[str], subject: str, body: str, message_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to the hub
    msg["X-Auto-Response-Suppress"] = "All"  # the same for Exchange
    # Quoted-printable keeps umlauts safe through any relay, with or without 8BITMIME.
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    return msg


def send_message(settings: Settings, msg: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Deliver `msg` to the recipients in its To header. Returns the recipients the server refused while it
    accepted others (the message went out, so the caller must not resend); raises `MailError` otherwise."""
    host, port = settings.smtp_host.strip(), settings.smtp_port
    if not host:
        raise MailNotConfigured("SMTP is not configured: set PSA_SMTP_HOST (and PSA_SMTP_PORT, PSA_SMTP_FROM)")
    where = f"SMTP server {host}:{port}"
    timeout = settings.notify_timeout
    try:
        if port == SMTPS_PORT:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if settings.smtp_starttls and port != SMTPS_PORT:
                if not smtp.has_extn("starttls"):
                    raise MailError(f"{where} does not offer STARTTLS (set PSA_SMTP_STARTTLS=false to send in clear)")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            return smtp.send_message(msg)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{where} rejected the login of {settings.smtp_username!r}: {_reply(exc)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{addr} ({code})" for addr, (code, _) in exc.recipients.items())
        raise MailError(f"{where} refused all recipients: {refused}") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(f"{where} refused the sender {exc.sender!r}: {_reply(exc)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"{where} answered {_reply(exc)}") from exc
    except (smtplib.SMTPException, ssl.SSLError) as exc:
        raise MailError(f"{where}: {type(exc).__name__}: {exc}") from exc
    except TimeoutError as exc:
        raise MailError(f"{where} did not answer within {timeout:g} s") from exc
    except OSError as exc:
        raise MailError(f"{where} is not reachable: {exc}") from exc


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}".strip()
