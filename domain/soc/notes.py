"""The German texts a SOC incident writes on its ticket: one note per alert, status changes, combined notes.

Severity and confidence appear as the vendor states them; where the hub derived a value (SentinelOne threats
carry no severity), the note says so.
"""

from domain.contracts.soc import EarlierIncident
from domain.soc.alerts import AlertStatus, NormalizedAlert, Source, Verdict
from domain.soc.triage import is_settled

# The ticket workflow cuts a system note there: a combined note of many alerts is split before it.
NOTE_LIMIT = 20_000
VENDOR_STATUS_DE = {
    AlertStatus.NEW: "offen",
    AlertStatus.IN_PROGRESS: "in Bearbeitung",
    AlertStatus.MITIGATED: "eingedämmt",
    AlertStatus.RESOLVED: "behoben",
    AlertStatus.SUPPRESSED: "als Fehlalarm geschlossen",
}
SOURCE_NAMES = {
    "sentinelone": "SentinelOne",
    "rocketcyber": "RocketCyber",
    "barracuda_xdr": "Barracuda XDR",
    "generic": "SOC",
}


def combine_notes(notes: list[str], limit: int = NOTE_LIMIT) -> list[str]:
    """The alert notes of one batch as few internal notes as fit the ticket's limit, separated by a blank line;
    each still begins with its `Alarm <source> <id>:` line. A single note over the limit stays alone."""
    combined: list[str] = []
    for text in notes:
        if combined and len(combined[-1]) + 2 + len(text) <= limit:
            combined[-1] += "\n\n" + text
        else:
            combined.append(text)
    return combined


# Vendors whose alerts carry no severity: the normaliser derives one (see its module).
_DERIVED_SEVERITY = frozenset({Source.SENTINELONE})


def severity_text(alert: NormalizedAlert) -> str:
    if alert.vendor_severity:
        return alert.vendor_severity
    if alert.source in _DERIVED_SEVERITY:
        return f"keine Angabe des Herstellers (vom Hub abgeleitet: {alert.severity.value})"
    return alert.severity.value


def confidence_text(alert: NormalizedAlert) -> str | None:
    """The vendor's own word for its confidence; a percentage only where the vendor gives a number."""
    if alert.vendor_confidence:
        return alert.vendor_confidence
    return f"{alert.confidence} %" if alert.confidence is not None else None


def alert_note(alert: NormalizedAlert) -> str:
    source = SOURCE_NAMES.get(alert.source.value, "SOC")
    confidence = confidence_text(alert)
    lines = [
        f"Alarm {alert.source.value} {alert.vendor_alert_id}: {alert.title}",
        f"Schweregrad: {severity_text(alert)}, Einstufung: {alert.verdict.value}"
        + (f", Konfidenz: {confidence}" if confidence else ""),
        f"Status bei {source}: {VENDOR_STATUS_DE[alert.status]}",
        f"Erkannt: {alert.detected_at.isoformat()}",
    ]
    for label, value in (
        ("Gerät", alert.device_hostname if len(alert.affected_devices) < 2 else None),
        ("Betroffene Geräte", ", ".join(alert.affected_devices) if len(alert.affected_devices) > 1 else None),
        ("IP", alert.device_ip),
        ("Agent", "außer Betrieb genommen (decommissioned)" if alert.agent_decommissioned else None),
        ("Benutzer", alert.user),
        ("Datei", alert.file_path or alert.file_name),
        ("SHA-256", alert.file_sha256),
        ("Klassifizierung", alert.classification),
        ("Ereignisse", str(alert.event_count) if alert.event_count is not None else None),
        ("Beschreibung", alert.description),
        ("Empfehlung des Herstellers", alert.remediation),
        (f"Link ({source}-Konsole)", alert.vendor_url),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if alert.mitre_techniques:
        lines.append("MITRE ATT&CK: " + ", ".join(alert.mitre_techniques))
    return "\n".join(lines)


def handled_text(alert: NormalizedAlert) -> str:
    """What the vendor did about an already handled threat, e.g. "bereits behoben"."""
    if alert.status == AlertStatus.NEW and alert.verdict == Verdict.BENIGN:
        return "als harmlos eingestuft"
    return f"bereits {VENDOR_STATUS_DE[alert.status]}"


def ticket_title(alert: NormalizedAlert, hostname: str | None, *, handled: bool = False) -> str:
    """`[Vendor] <title> auf <host>`, the host as the vendor spells it; a handled threat says so."""
    source = SOURCE_NAMES.get(alert.source.value, "SOC")
    host = hostname or alert.device_ip or (f"Agent {alert.device_external_id}" if alert.device_external_id else None)
    suffix = f" ({source}: {handled_text(alert)})" if handled else ""
    where = f" auf {host}" if host else ""
    title = alert.title[: max(1, 200 - len(source) - 3 - len(where) - len(suffix))]
    return f"[{source}] {title}{where}{suffix}"[:200]


def informational_notice(alert: NormalizedAlert, policy_name: str) -> str:
    source = SOURCE_NAMES.get(alert.source.value, "SOC")
    return (
        f"Zur Information: {source} meldet diesen Alarm {handled_text(alert)}. Niedrige Priorität, keine "
        f"Alarmierung der Bereitschaft, keine Netztrennung (Richtlinie für erledigte Bedrohungen: {policy_name})."
    )


def status_change_note(alert: NormalizedAlert, before: AlertStatus) -> str:
    source = SOURCE_NAMES.get(alert.source.value, "SOC")
    return (
        f"{source} meldet für Alarm {alert.vendor_alert_id} ({alert.title}) einen neuen Status: "
        f"{VENDOR_STATUS_DE[before]} → {VENDOR_STATUS_DE[alert.status]}."
    )


def settled_note(count: int, overall: AlertStatus) -> str:
    return (
        f"Der Hersteller meldet {'den Alarm' if count == 1 else f'alle {count} Alarme'} dieses Vorfalls als "
        f"{VENDOR_STATUS_DE[overall]}."
    )


def earlier_incident_note(alert: NormalizedAlert, earlier: EarlierIncident) -> str:
    """A new vendor status of an alert whose incident has closed: on that incident's ticket, which stays as it is
    (a person decides whether the news changes anything)."""
    text = f"{status_change_note(alert, earlier.before)} Der Vorfall war bereits abgeschlossen."
    if earlier.now_settled:
        text += f" {settled_note(earlier.alert_count, earlier.overall)} Bitte prüfen, ob das Ticket gelöst werden kann."
    elif not is_settled(earlier.overall):
        text += " Der Hersteller meldet die Bedrohung nicht mehr als erledigt: bitte prüfen."
    return text


def unhandled_in_informational_note(alert: NormalizedAlert) -> str:
    source = SOURCE_NAMES.get(alert.source.value, "SOC")
    return (
        f"Achtung: {source} meldet zu diesem Vorfall einen Alarm, der beim Hersteller nicht erledigt ist "
        f"({alert.vendor_alert_id}, {VENDOR_STATUS_DE[alert.status]}). Das Ticket wurde nur zur Information mit "
        "niedriger Priorität eröffnet: bitte Priorität prüfen."
    )
