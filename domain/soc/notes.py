"""The German texts a SOC incident writes on its ticket: one note per alert, status changes, combined notes."""

from domain.soc.alerts import AlertStatus, NormalizedAlert

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


def alert_note(alert: NormalizedAlert) -> str:
    lines = [
        f"Alarm {alert.source.value} {alert.vendor_alert_id}: {alert.title}",
        f"Schweregrad: {alert.severity.value}, Einstufung: {alert.verdict.value}"
        + (f", Konfidenz {alert.confidence} %" if alert.confidence is not None else ""),
        f"Erkannt: {alert.detected_at.isoformat()}",
    ]
    for label, value in (
        ("Gerät", alert.device_hostname),
        ("IP", alert.device_ip),
        ("Benutzer", alert.user),
        ("Datei", alert.file_path or alert.file_name),
        ("SHA-256", alert.file_sha256),
        ("Klassifizierung", alert.classification),
        ("Link", alert.vendor_url),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if alert.mitre_techniques:
        lines.append("MITRE ATT&CK: " + ", ".join(alert.mitre_techniques))
    return "\n".join(lines)


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
