"""German words of the portal: statuses, SLA state in words, messages."""

from datetime import datetime
from zoneinfo import ZoneInfo

from api.schemas.tickets import SlaClockPublic, TicketSlaPublic

STATUS = {
    "new": "Neu",
    "open": "Offen",
    "in_progress": "In Bearbeitung",
    "waiting_customer": "Wartet auf Sie",
    "resolved": "Gelöst",
    "closed": "Geschlossen",
}
CLOCK = {"response": "Reaktion", "resolution": "Lösung", "update": "Rückmeldung"}
VISIBILITY = {"public": "öffentlich", "co_managed": "Co-Managed (MSP und Ihre IT)", "internal": "intern"}
CSRF_REFUSED = "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Bitte laden Sie die Seite neu."
ZONE = ZoneInfo("Europe/Berlin")


def local_time(value: datetime | None) -> str:
    return value.astimezone(ZONE).strftime("%d.%m.%Y %H:%M") if value else ""


def duration(minutes: int) -> str:
    """Business minutes in words: "2 Std. 10 Min.", "45 Min.", "1 Tag 3 Std." (a day: 24 h of clock time)."""
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {'Tag' if days == 1 else 'Tage'}")
    if hours:
        parts.append(f"{hours} Std.")
    if mins or not parts:
        parts.append(f"{mins} Min.")
    return " ".join(parts)


def clock_words(clock: SlaClockPublic, ticket_status: str, customer_it_holds: bool) -> str:
    name = CLOCK.get(clock.kind, clock.kind)
    if clock.stopped_at is not None or clock.state in ("met", "missed"):
        return f"{name}: {'eingehalten' if clock.met or clock.state == 'met' else 'verfehlt'}"
    if clock.state == "paused":
        if ticket_status == "waiting_customer":
            return f"{name} pausiert: wartet auf Sie"
        if customer_it_holds:
            return f"{name} pausiert: liegt bei Ihrer IT"
        return f"{name} pausiert"
    remaining = clock.business_minutes_remaining
    if remaining < 0 or clock.state == "breached":
        return f"{name} überfällig seit {duration(remaining)}"
    return f"{name} fällig in {duration(remaining)}"


def sla_words(sla: TicketSlaPublic | None, ticket_status: str, customer_it_holds: bool) -> list[str]:
    if sla is None or not sla.clocks:
        return ["Für dieses Ticket gilt keine SLA."]
    return [clock_words(c, ticket_status, customer_it_holds) for c in sla.clocks]


def problem_message(status: int, detail: str) -> str:
    if status == 404:
        return "Nicht gefunden: diese Seite gibt es nicht, oder sie ist für Sie nicht sichtbar."
    if status == 403:
        return f"Nicht erlaubt für Ihre Rolle ({detail})."
    if status == 503:
        return "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal."
    return detail
