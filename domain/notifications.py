"""Escalation notifications: the request the ticket workflow passes to the `sla.notify` activity, and pure
renderers of the German texts (e-mail, Microsoft Teams card, generic JSON, paging payload).

No I/O and no clock: the activity passes `now` in, renders once and stores the result in the outbox, so a
retried attempt sends exactly the same message.
"""

import math
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.contracts.tickets import NotifyRequest
from domain.escalation import NotifyWebhook, PageOnCall, TargetKind
from domain.raci import LETTER_DE
from domain.tickets import TicketStatus

# --- German wording ---------------------------------------------------------------------------------------

TARGET_DE = {
    TargetKind.RESPONSE: "Reaktionszeit",
    TargetKind.RESOLUTION: "Lösungszeit",
    TargetKind.UPDATE: "Aktualisierung",
}
STATUS_DE = {
    TicketStatus.NEW: "Neu",
    TicketStatus.OPEN: "Offen",
    TicketStatus.IN_PROGRESS: "In Bearbeitung",
    TicketStatus.WAITING_CUSTOMER: "Wartet auf Kunde",
    TicketStatus.RESOLVED: "Gelöst",
    TicketStatus.CLOSED: "Geschlossen",
}
SLA_STATE_DE = {
    "ok": "im Plan",
    "warning": "Warnung",
    "breached": "überschritten",
    "paused": "pausiert",
    "none": "kein SLA",
    "met": "eingehalten",
    "missed": "verfehlt",
}
_WEEKDAYS_DE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_COLOR_BREACHED = "D13438"  # red
_COLOR_WARNING = "FF8C00"  # orange


def format_local(at: datetime, time_zone: str) -> str:
    """'Mo, 30.03.2026 11:55' in the given zone."""
    local = at.astimezone(ZoneInfo(time_zone))
    return f"{_WEEKDAYS_DE[local.weekday()]}, {local:%d.%m.%Y %H:%M}"


def format_duration(seconds: float) -> str:
    """A rounded-up wall-clock duration: '30 Min.', '2 Std. 5 Min.', '3 Tagen 4 Std.' (dative, after in/seit)."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return f"{minutes} Min."
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} Std." + (f" {rest} Min." if rest else "")
    days, hours = divmod(hours, 24)
    text = f"{days} {'Tag' if days == 1 else 'Tagen'}"
    return text + (f" {hours} Std." if hours else "")


def ticket_url(template: str, req: NotifyRequest) -> str:
    """`Settings.ticket_url_template` with {ticket_id} and {number} replaced (plain replace: no format errors)."""
    return template.replace("{ticket_id}", str(req.ticket_id)).replace("{number}", req.ticket_number)


def customer_label(req: NotifyRequest) -> str:
    return f"{req.customer_name} ({req.customer_number})" if req.customer_name else req.customer_number


def is_overdue(req: NotifyRequest, now: datetime) -> bool:
    """This target's due time has passed (`sla_state` is the ticket's overall state: only a fallback)."""
    if req.due_at is not None:
        return req.due_at <= now
    return req.sla_state == "breached"


def due_phrase(req: NotifyRequest, now: datetime) -> str:
    """'Lösungszeit in 30 Min. fällig', 'Reaktionszeit seit 2 Std. überschritten', 'Aktualisierung überschritten'."""
    target = TARGET_DE[req.target]
    if req.due_at is None:
        return f"{target} überschritten" if req.sla_state == "breached" else f"{target}: Stufe {req.level} erreicht"
    delta = (req.due_at - now).total_seconds()
    if delta > 0:
        return f"{target} in {format_duration(delta)} fällig"
    if delta > -60:
        return f"{target} jetzt fällig"
    return f"{target} seit {format_duration(-delta)} überschritten"


def email_subject(req: NotifyRequest, now: datetime) -> str:
    """'[Eskalation P2] 2026-000123 Müller Maschinenbau: Lösungszeit in 30 Min. fällig'."""
    if req.raci is not None:
        return _one_line(f"[Neues Ticket {req.raci.area}] {req.ticket_number} {customer_label(req)}: {req.title}")
    who = req.customer_name or req.customer_number
    return _one_line(f"[Eskalation {req.priority.value}] {req.ticket_number} {who}: {due_phrase(req, now)}")


def _facts(req: NotifyRequest) -> list[tuple[str, str]]:
    due = f"{format_local(req.due_at, req.time_zone)} ({req.time_zone})" if req.due_at is not None else "nicht geplant"
    return [
        ("Ticket", req.ticket_number),
        ("Betreff", _one_line(req.title)),
        ("Kunde", customer_label(req)),
        ("Priorität", req.priority.value),
        ("Status", STATUS_DE.get(req.status, req.status.value)),
        ("SLA-Ziel", TARGET_DE[req.target]),
        ("SLA-Status", SLA_STATE_DE.get(req.sla_state, req.sla_state)),
        ("Fällig", due),
        ("Eskalationsstufe", req.level),
    ]


def email_body(req: NotifyRequest, now: datetime, url: str) -> str:
    """Plain text, German."""
    message = getattr(req.action, "message", None)
    if req.raci is not None:
        facts = _facts(req)[:5] + [("Bereich", req.raci.area), ("Ihre Rolle", LETTER_DE[req.raci.letter])]
        intro = f"Neues Ticket {req.ticket_number} im Bereich {req.raci.area}."
        role = f"Laut RACI-Matrix des Kunden ist {req.raci.party} {LETTER_DE[req.raci.letter]}."
        lines = [intro, "", role, ""]
    else:
        facts = _facts(req)
        lines = [
            f'Eskalationsstufe "{req.level}" für Ticket {req.ticket_number} wurde erreicht.',
            "",
            f"{due_phrase(req, now)}.",
            "",
        ]
    width = max(len(name) for name, _ in facts) + 2
    if message:
        lines += ["Hinweis:", message.strip(), ""]
    lines += [f"{name + ':':<{width}}{value}" for name, value in facts]
    lines += [
        "",
        f"Ticket öffnen: {url}",
        "",
        "-- ",
        "Diese Nachricht wurde automatisch vom MSP Hub versendet. Bitte nicht darauf antworten.",
        "",
    ]
    return "\n".join(lines)


def teams_payload(req: NotifyRequest, now: datetime, url: str) -> dict[str, Any]:
    """A legacy Office 365 connector card ("MessageCard"), which Teams incoming webhooks accept.

    Every text field of a MessageCard is rendered as Markdown, so text from tickets is escaped.
    """
    subject = email_subject(req, now)
    section: dict[str, Any] = {
        "activityTitle": _md(_one_line(req.title)),
        "activitySubtitle": _md(due_phrase(req, now)),
        "facts": [{"name": name, "value": _md(value)} for name, value in _facts(req)],
        "markdown": True,
    }
    message = getattr(req.action, "message", None)
    if message:
        section["text"] = _md(message)
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": subject,
        "themeColor": _COLOR_BREACHED if is_overdue(req, now) else _COLOR_WARNING,
        "title": _md(subject),
        "sections": [section],
        "potentialAction": [
            {"@type": "OpenUri", "name": "Ticket öffnen", "targets": [{"os": "default", "uri": url}]},
        ],
    }


def json_payload(req: NotifyRequest, url: str, *, event: str = "sla.escalation") -> dict[str, Any]:
    """The generic webhook body: data only, stable field names (English), times in UTC ISO 8601."""
    return {
        "event": event,
        "key": req.key,
        "ticket": {
            "id": str(req.ticket_id),
            "number": req.ticket_number,
            "title": req.title,
            "priority": req.priority.value,
            "status": req.status.value,
            "tenant_id": str(req.tenant_id),
            "customer_number": req.customer_number,
            "customer_name": req.customer_name,
            "url": url,
        },
        "level": req.level,
        "target": req.target.value,
        "sla_state": req.sla_state,
        "due_at": req.due_at.isoformat() if req.due_at is not None else None,
    }


def page_payload(req: NotifyRequest, now: datetime, url: str) -> dict[str, Any]:
    """Paging an on-call tool: the generic body as `sla.page`, urgent, with a German one-line summary."""
    return json_payload(req, url, event="sla.page") | {"urgency": "high", "summary": email_subject(req, now)}


def webhook_body(req: NotifyRequest, now: datetime, url: str) -> dict[str, Any]:
    """The body for the request's webhook or paging action."""
    match req.action:
        case PageOnCall():
            return page_payload(req, now, url)
        case NotifyWebhook(format="teams"):
            return teams_payload(req, now, url)
        case NotifyWebhook():
            return json_payload(req, url)
    raise ValueError(f"{req.action.type} is not a webhook action")


_MD_SPECIAL = re.compile(r"([\\`*_~#\[\]<>|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _one_line(text: str) -> str:
    return " ".join(text.split())
