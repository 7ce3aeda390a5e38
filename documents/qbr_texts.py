"""What both QBR documents (PowerPoint and PDF) say and how they write a KPI value: German by default, English
selectable per customer (the language of its billing profile, as for invoices), "k. A." / "n/a" for an unknown
value. One place, so the deck and the PDF show the same figures.

Numbers and amounts are printed in the German format in both languages (decimal comma), as on the invoices
(documents/invoice_texts.py): the MSPs are DACH companies and their figures read the same in every document."""

from collections.abc import Sequence
from decimal import Decimal

from documents.invoice_texts import format_money, format_number
from domain.inventory.mfa import MfaUnavailable
from domain.qbr.kpis import Kpi, KpiSet
from domain.qbr.licences import LicenceLine
from domain.qbr.lifecycle import Lifecycle, LifecycleDevice, Replacement
from domain.qbr.measure import Measure, NotAvailable
from domain.qbr.quarter import Quarter
from domain.qbr.vcio import VcioKind, VcioStatus, of_kind, top_risks

LANGUAGES = ("de", "en")
TITLE = "Quarterly Business Review"
LIFECYCLE_ROWS = 12  # devices listed by name; the rest in one summary row
SECTIONS_BY_LANGUAGE = {
    "de": {
        "summary": "Management-Zusammenfassung",
        "performance": "Service-Performance",
        "tickets": "Ticket-Entwicklung",
        "sla": "SLA-Erfüllung",
        "breakdown": "Tickets nach Priorität und Kategorie",
        "security": "Sicherheit",
        "hours": "Stunden und Vertrag",
        "lifecycle": "Lebenszyklus und Budget",
        "lifecycle_devices": "Geräte mit Handlungsbedarf",
        "budget": "Budgetausblick",
        "licences": "Lizenzen",
        "risks": "Top-3-Risiken",
        "roadmap": "Roadmap",
        "raci": "Verantwortlichkeiten (RACI)",
        "recommendations": "Empfehlungen",
        "decisions": "Entscheidungen und nächste Schritte",
    },
    "en": {
        "summary": "Executive summary",
        "performance": "Service performance",
        "tickets": "Ticket trend",
        "sla": "SLA attainment",
        "breakdown": "Tickets by priority and category",
        "security": "Security",
        "hours": "Hours and contract",
        "lifecycle": "Lifecycle and budget",
        "lifecycle_devices": "Devices needing action",
        "budget": "Budget outlook",
        "licences": "Licences",
        "risks": "Top 3 risks",
        "roadmap": "Roadmap",
        "raci": "Responsibilities (RACI)",
        "recommendations": "Recommendations",
        "decisions": "Decisions and next steps",
    },
}
SECTIONS = SECTIONS_BY_LANGUAGE["de"]

LABELS = {
    "de": {
        "na": "k. A.",
        "performance_header": ("Kennzahl", "Aktueller Wert", "Vorheriger Wert", "Quelle"),
        "raci_header": ("Bereich", "Verantwortlich (R)", "Rechenschaftspflichtig (A)", "Konsultiert (C)",
                        "Informiert (I)"),  # fmt: skip
        "decisions_header": ("Entscheidung / nächster Schritt", "Verantwortlich", "Termin", "Status"),
        "breakdown_header": ("Eröffnete Tickets", "Aktuell", "Vorquartal"),
        "risks_header": ("Risiko", "Wahrscheinlichkeit (1–5)", "Auswirkung (1–5)", "Wert", "Verantwortlich"),
        "roadmap_header": ("Vorhaben", "Quartal", "Geschätzte Kosten", "Status", "Verantwortlich"),
        "priority": "Priorität {name}",
        "incidents": "Vorfälle {name}",
        "top": "Top {n}: {name}",
        "no_category": "ohne Kategorie",
        "no_risks": "Keine offenen Risiken erfasst",
        "no_roadmap": "Keine Roadmap-Einträge erfasst",
        "no_raci": "Keine RACI-Matrix hinterlegt",
        "opened": "Eröffnet",
        "closed": "Gelöst",
        "sla_response": "Reaktion (%)",
        "sla_resolution": "Lösung (%)",
        "lifecycle_header": ("Lebenszyklus (Stand {date})", "Geräte"),
        "devices_total": "Geräte im Inventar",
        "warranty_expired": "Garantie abgelaufen",
        "warranty_6": "Garantieende in den nächsten 6 Monaten",
        "warranty_12": "Garantieende in den nächsten 12 Monaten",
        "warranty_unknown": "Ohne Garantiedatum",
        "os_unsupported": "Betriebssystem ohne Herstellersupport",
        "os_ending": "Support-Ende des Betriebssystems in den nächsten 12 Monaten",
        "devices_header": ("Gerät", "Typ", "Betriebssystem", "Garantieende", "Handlungsbedarf"),
        "no_devices": "Keine Geräte mit Handlungsbedarf in den nächsten 12 Monaten",
        "no_inventory": "Kein Inventar vorhanden",
        "more_devices": "… und {n} weitere Geräte",
        "os_support_end": "{name}, Support-Ende {date}",
        "budget_header": ("Jahr", "Roadmap", "Ersatzbeschaffungen", "Geräte", "Summe"),
        "budget_roadmap": "Roadmap",
        "budget_replacements": "Ersatzbeschaffungen",
        "licences_header": ("Hersteller", "Produkt", "Gekauft", "Zugewiesen", "Ungenutzt", "Überzählig zugewiesen"),
        "licences_total": "Summe",
        "no_licences": "Keine Lizenzdaten vorhanden",
        "open": "offen",
        "continued": "Fortsetzung",
    },
    "en": {
        "na": "n/a",
        "performance_header": ("Metric", "Current value", "Previous value", "Source"),
        "raci_header": ("Area", "Responsible (R)", "Accountable (A)", "Consulted (C)", "Informed (I)"),
        "decisions_header": ("Decision / next step", "Owner", "Due", "Status"),
        "breakdown_header": ("Tickets opened", "Current", "Previous quarter"),
        "risks_header": ("Risk", "Likelihood (1–5)", "Impact (1–5)", "Score", "Owner"),
        "roadmap_header": ("Initiative", "Quarter", "Estimated cost", "Status", "Owner"),
        "priority": "Priority {name}",
        "incidents": "Incidents {name}",
        "top": "Top {n}: {name}",
        "no_category": "no category",
        "no_risks": "No open risks recorded",
        "no_roadmap": "No roadmap items recorded",
        "no_raci": "No RACI matrix on file",
        "opened": "Opened",
        "closed": "Resolved",
        "sla_response": "Response (%)",
        "sla_resolution": "Resolution (%)",
        "lifecycle_header": ("Lifecycle (as of {date})", "Devices"),
        "devices_total": "Devices in the inventory",
        "warranty_expired": "Warranty expired",
        "warranty_6": "Warranty ends within 6 months",
        "warranty_12": "Warranty ends within 12 months",
        "warranty_unknown": "No warranty date",
        "os_unsupported": "Operating system out of vendor support",
        "os_ending": "Operating system support ends within 12 months",
        "devices_header": ("Device", "Type", "Operating system", "Warranty end", "Action"),
        "no_devices": "No devices needing action in the next 12 months",
        "no_inventory": "No inventory available",
        "more_devices": "… and {n} more devices",
        "os_support_end": "{name}, support ends {date}",
        "budget_header": ("Year", "Roadmap", "Replacements", "Devices", "Total"),
        "budget_roadmap": "Roadmap",
        "budget_replacements": "Replacements",
        "licences_header": ("Vendor", "Product", "Bought", "Assigned", "Unused", "Over-assigned"),
        "licences_total": "Total",
        "no_licences": "No licence data available",
        "open": "open",
        "continued": "continued",
    },
}
STATUS_LABELS = {
    "de": {VcioStatus.OPEN: "offen", VcioStatus.PLANNED: "geplant", VcioStatus.IN_PROGRESS: "in Arbeit",
           VcioStatus.DONE: "erledigt"},
    "en": {VcioStatus.OPEN: "open", VcioStatus.PLANNED: "planned", VcioStatus.IN_PROGRESS: "in progress",
           VcioStatus.DONE: "done"},
}  # fmt: skip
REPLACEMENT_LABELS = {
    "de": {Replacement.OVERDUE: "Garantie abgelaufen: Ersatz überfällig", Replacement.DUE: "Ersatz fällig (< 90 Tage)",
           Replacement.DUE_SOON: "Ersatz bald fällig (90 Tage – 12 Monate)", None: "Betriebssystem-Upgrade"},
    "en": {Replacement.OVERDUE: "Warranty expired: replacement overdue", Replacement.DUE: "Replacement due (< 90 days)",
           Replacement.DUE_SOON: "Replacement due soon (90 days – 12 months)", None: "Operating system upgrade"},
}  # fmt: skip
ASSET_TYPES = {
    "de": {"server": "Server", "workstation": "Arbeitsplatz", "laptop": "Laptop", "network": "Netzwerk",
           "mobile": "Mobilgerät", "printer": "Drucker", "other": "Sonstiges"},
    "en": {"server": "Server", "workstation": "Workstation", "laptop": "Laptop", "network": "Network",
           "mobile": "Mobile", "printer": "Printer", "other": "Other"},
}  # fmt: skip
SEVERITY_BY_LANGUAGE = {
    "de": {"critical": "Kritisch", "high": "Hoch", "medium": "Mittel", "low": "Niedrig",
           "informational": "Information", "unknown": "Unbekannt"},
    "en": {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low",
           "informational": "Informational", "unknown": "Unknown"},
}  # fmt: skip
SEVERITY = SEVERITY_BY_LANGUAGE["de"]
# The English labels and sources of the KPIs (the German ones are the definitions' own, domain/qbr/kpis.py).
KPI_LABELS_EN = {
    "tickets_opened": "Tickets opened",
    "tickets_closed": "Tickets resolved",
    "sla_response": "SLA attainment response",
    "sla_resolution": "SLA attainment resolution",
    "mttr_hours": "Mean time to resolve",
    "reopen_rate": "Reopen rate",
    "security_incidents": "Security incidents",
    "time_to_acknowledge": "Time to acknowledge",
    "hours_used": "Hours used",
    "contingent_hours": "Hour contingent",
    "contingent_use": "Contingent use",
    "monthly_contract_value": "Monthly contract value",
    "device_coverage": "Device coverage (EDR)",
    "warranty_coverage": "Warranty coverage",
    "licences_bought": "Licences bought",
    "licences_assigned": "Licences assigned",
    "licences_unused": "Licences unused",
    "licences_over_assigned": "Licences over-assigned",
    "licence_use": "Licence use",
    "rmm_coverage": "Device coverage (RMM)",
    "antivirus_coverage": "Antivirus running and up to date",
    "patch_compliance": "Windows patch status",
    "availability": "Devices online (snapshot day)",
    "reboot_pending": "Reboot pending",
    "mfa_coverage": "MFA coverage",
}
SOURCES_EN = {"Tickets": "Tickets", "SLA-Ergebnisse": "SLA outcomes", "Ticket-Verlauf": "Ticket history",
              "SOC": "SOC", "Zeiterfassung": "Time tracking", "Verträge": "Contracts",
              "Zeiterfassung, Verträge": "Time tracking, contracts", "Inventar": "Inventory",
              "Lizenzen": "Licences", "RMM-Snapshot": "RMM snapshot"}  # fmt: skip
# Why a KPI is k. A. although its source was read (Kpi.current_reason / previous_reason), as the cell shows it.
NA_REASONS = {
    "de": {MfaUnavailable.NO_LICENCE: "k. A.: Microsoft 365 ohne Entra ID P1/P2",
           MfaUnavailable.FORBIDDEN: "k. A.: Berechtigung AuditLog.Read.All fehlt",
           MfaUnavailable.UNREADABLE: "k. A.: Antwort von Microsoft Graph unlesbar"},
    "en": {MfaUnavailable.NO_LICENCE: "n/a: Microsoft 365 without Entra ID P1/P2",
           MfaUnavailable.FORBIDDEN: "n/a: permission AuditLog.Read.All missing",
           MfaUnavailable.UNREADABLE: "n/a: Microsoft Graph's answer unreadable"},
}  # fmt: skip
# Kept for callers of the German texts (the MSP's business report, documents/qbr_business_pdf.py).
PERFORMANCE_HEADER = LABELS["de"]["performance_header"]
RACI_HEADER = LABELS["de"]["raci_header"]
DECISIONS_HEADER = LABELS["de"]["decisions_header"]
DECISION_ROWS = 4  # empty rows to fill in during the meeting
SECURITY_KEYS = ("security_incidents", "time_to_acknowledge", "device_coverage", "warranty_coverage", "mfa_coverage")
HOURS_KEYS = ("hours_used", "contingent_hours", "contingent_use", "monthly_contract_value")
LICENCE_KEYS = ("licences_bought", "licences_assigned", "licences_unused", "licences_over_assigned", "licence_use")


def lang(language: str | None) -> str:
    """Anything but English is German, the hub's default."""
    return "en" if language == "en" else "de"


def sections(language: str = "de") -> dict[str, str]:
    return SECTIONS_BY_LANGUAGE[lang(language)]


def labels(language: str = "de") -> dict:
    return LABELS[lang(language)]


def format_date(value, language: str = "de") -> str:  # noqa: ANN001
    return value.strftime("%d.%m.%Y") if lang(language) == "de" else value.strftime("%Y-%m-%d")


def format_measure(value: Measure, unit: str, currency: str = "EUR", language: str = "de") -> str:
    if isinstance(value, NotAvailable):
        return labels(language)["na"]
    if unit == "EUR":
        return format_money(value, currency)
    text = format_number(value)
    return f"{text} {unit}" if unit else text


def kpi_label(kpi: Kpi, language: str = "de") -> str:
    return KPI_LABELS_EN.get(kpi.key, kpi.label) if lang(language) == "en" else kpi.label


def measure_cell(value: Measure, reason: str | None, unit: str, currency: str = "EUR", language: str = "de") -> str:
    """The value, or for k. A. the reason its source gave (if any)."""
    if isinstance(value, NotAvailable) and reason is not None:
        return NA_REASONS[lang(language)].get(reason, labels(language)["na"])
    return format_measure(value, unit, currency, language)


def kpi_row(kpi: Kpi, currency: str, language: str = "de") -> tuple[str, str, str, str]:
    source = SOURCES_EN.get(kpi.source, kpi.source) if lang(language) == "en" else kpi.source
    return (kpi_label(kpi, language), measure_cell(kpi.current, kpi.current_reason, kpi.unit, currency, language),
            measure_cell(kpi.previous, kpi.previous_reason, kpi.unit, currency, language), source)  # fmt: skip


def quarter_label(quarter: str) -> str:
    return Quarter.parse(quarter).label()


def subtitle(kpis: KpiSet) -> str:
    return f"{kpis.customer_name} ({kpis.customer_number}) · {quarter_label(kpis.quarter)}"


def month_label(month: str) -> str:
    return f"{month[5:]}/{month[:4]}"


def chart_value(value: Measure) -> float | None:
    """A chart point: None (a gap, not a zero) where the value is unknown."""
    return None if isinstance(value, NotAvailable) else float(value)


def breakdown_rows(kpis: KpiSet, key: str, language: str = "de") -> list[tuple[str, str, str]]:
    b = next(b for b in kpis.breakdowns if b.key == key)
    names = sorted(set(b.current) | set(b.previous))
    severity, no_category = SEVERITY_BY_LANGUAGE[lang(language)], labels(language)["no_category"]
    return [(severity.get(n, no_category if n == labels("de")["no_category"] else n), str(b.current.get(n, 0)),
             str(b.previous.get(n, 0))) for n in names]  # fmt: skip


def percent(value: Decimal) -> str:
    return f"{format_number(value)} %"


Table = tuple[Sequence[str], list[Sequence[str]]]


def performance_table(kpis: KpiSet, language: str = "de") -> Table:
    """Every KPI but the licence figures (their own section)."""
    rows = [kpi_row(k, kpis.currency, language) for k in kpis.kpis if k.key not in LICENCE_KEYS]
    return labels(language)["performance_header"], rows


def detail_tables(kpis: KpiSet, language: str = "de") -> list[tuple[str, Table]]:
    """The table sections after the charts, in the deck's order: (section title, (header, rows))."""
    t, s, status = labels(language), sections(language), STATUS_LABELS[lang(language)]
    breakdown = [(t["priority"].format(name=p), c, v) for p, c, v in breakdown_rows(kpis, "opened_by_priority")]
    breakdown += breakdown_rows(kpis, "opened_by_category", language)
    no_category = labels("de")["no_category"]
    breakdown += [(t["top"].format(n=i, name=t["no_category"] if name == no_category else name), str(n), "")
                  for i, (name, n) in enumerate(kpis.top_categories, start=1)]  # fmt: skip
    security = [kpi_row(kpis.kpi(k), kpis.currency, language)[:3] for k in SECURITY_KEYS]
    security += [(t["incidents"].format(name=sev), c, v)
                 for sev, c, v in breakdown_rows(kpis, "incidents_by_severity", language)]  # fmt: skip
    hours = [kpi_row(kpis.kpi(k), kpis.currency, language)[:3] for k in HOURS_KEYS]
    risks = [(r.title, str(r.likelihood or "–"), str(r.impact or "–"), str(r.risk_score), r.owner or "")
             for r in top_risks(kpis.vcio)] or [(t["no_risks"], "", "", "", "")]  # fmt: skip
    cost = kpis.currency
    roadmap = [
        (e.title, e.quarter or "", _cost(e.estimated_cost, cost), status[e.status], e.owner or "")
        for e in of_kind(kpis.vcio, VcioKind.ROADMAP)
    ] or [(t["no_roadmap"], "", "", "", "")]
    raci = [
        (r.area, ", ".join(r.responsible), ", ".join(r.accountable), ", ".join(r.consulted), ", ".join(r.informed))
        for r in kpis.raci
    ] or [(t["no_raci"], "", "", "", "")]
    return [
        (s["breakdown"], (t["breakdown_header"], breakdown)),
        (s["security"], (t["performance_header"][:3], security)),
        (s["hours"], (t["performance_header"][:3], hours)),
        (s["risks"], (t["risks_header"], risks)),
        (s["roadmap"], (t["roadmap_header"], roadmap)),
        (s["raci"], (t["raci_header"], raci)),
    ]


def _cost(value: Decimal | None, currency: str) -> str:
    return format_money(value, currency) if value is not None else ""


def decisions_table(kpis: KpiSet, language: str = "de") -> Table:
    """The decisions and next steps entered (open and done, so the last QBR's are shown with their state), then
    empty rows to fill in during the meeting."""
    t, status = labels(language), STATUS_LABELS[lang(language)]
    entered = [(e.title, e.owner or "", format_date(e.due_date, language) if e.due_date else "", status[e.status])
               for e in of_kind(kpis.vcio, VcioKind.DECISION)]  # fmt: skip
    return t["decisions_header"], entered + [("", "", "", t["open"])] * DECISION_ROWS


def chart_series(kpis: KpiSet, language: str = "de") -> tuple[list[str], dict[str, list[float | None]],
                                                              dict[str, list[float | None]]]:  # fmt: skip
    """Month labels, ticket series and SLA series (percent; None where no clock stopped) for both documents."""
    t = labels(language)
    months = [month_label(m.month) for m in kpis.months]
    tickets = {t["opened"]: [float(m.opened) for m in kpis.months], t["closed"]: [float(m.closed) for m in kpis.months]}
    sla = {t["sla_response"]: [chart_value(m.sla_response) for m in kpis.months],
           t["sla_resolution"]: [chart_value(m.sla_resolution) for m in kpis.months]}  # fmt: skip
    return months, tickets, sla


# ---- lifecycle, budget, licences --------------------------------------------------------------------------------


def lifecycle_counts(kpis: KpiSet, language: str = "de") -> Table:
    """The counts of the lifecycle section; "k. A." without an inventory."""
    t, life = labels(language), kpis.lifecycle
    keys = ("devices_total", "warranty_expired", "warranty_6", "warranty_12", "warranty_unknown", "os_unsupported",
            "os_ending")  # fmt: skip
    values = _lifecycle_values(life)
    as_of = format_date(life.as_of, language) if life else t["na"]
    header = (t["lifecycle_header"][0].format(date=as_of), t["lifecycle_header"][1])
    return header, [(t[k], str(values[k]) if life else t["na"]) for k in keys]


def _lifecycle_values(life: Lifecycle | None) -> dict[str, int]:
    if life is None:
        return {}
    return {"devices_total": life.devices_total, "warranty_expired": life.warranty_expired,
            "warranty_6": life.warranty_ending_6_months, "warranty_12": life.warranty_ending_12_months,
            "warranty_unknown": life.warranty_unknown, "os_unsupported": life.os_unsupported,
            "os_ending": life.os_ending_12_months}  # fmt: skip


def _device_row(d: LifecycleDevice, language: str) -> tuple[str, str, str, str, str]:
    t = labels(language)
    os_text = d.os or ""
    if d.os_name and d.os_end_of_support:
        os_text = t["os_support_end"].format(name=d.os_name, date=format_date(d.os_end_of_support, language))
    return (d.hostname, ASSET_TYPES[lang(language)].get(d.asset_type, d.asset_type), os_text,
            format_date(d.warranty_end, language) if d.warranty_end else "",
            REPLACEMENT_LABELS[lang(language)][d.replacement])  # fmt: skip


def lifecycle_devices(kpis: KpiSet, language: str = "de", limit: int = LIFECYCLE_ROWS) -> Table:
    """The devices needing action, the earliest date first: the first `limit` by name, the rest in one row."""
    t, life = labels(language), kpis.lifecycle
    if life is None:
        return t["devices_header"], [(t["no_inventory"], "", "", "", "")]
    rows: list[Sequence[str]] = [_device_row(d, language) for d in life.devices[:limit]]
    if len(life.devices) > limit:
        rows.append((t["more_devices"].format(n=len(life.devices) - limit), "", "", "", ""))
    return t["devices_header"], rows or [(t["no_devices"], "", "", "", "")]


def budget_table(kpis: KpiSet, language: str = "de") -> Table:
    t = labels(language)
    if not kpis.budget:
        return t["budget_header"], [(t["no_inventory"], "", "", "", "")]
    money = kpis.currency
    return t["budget_header"], [
        (str(y.year), format_money(y.roadmap, money), format_money(y.replacements, money), str(y.replacement_devices),
         format_money(y.total, money))
        for y in kpis.budget
    ]  # fmt: skip


def budget_series(kpis: KpiSet, language: str = "de") -> tuple[list[str], dict[str, list[float | None]]]:
    """Years and the two stacked series (roadmap, replacements) of the budget chart, in the currency's units."""
    t = labels(language)
    years = [str(y.year) for y in kpis.budget]
    return years, {t["budget_roadmap"]: [float(y.roadmap) for y in kpis.budget],
                   t["budget_replacements"]: [float(y.replacements) for y in kpis.budget]}  # fmt: skip


def _licence_row(line: LicenceLine) -> tuple[str, str, str, str, str, str]:
    return (line.vendor, line.product, str(line.quantity), str(line.assigned), str(line.unused),
            str(line.over_assigned))  # fmt: skip


def licences_table(kpis: KpiSet, language: str = "de") -> Table:
    """One row per product and the totals (the licence KPIs); "k. A." without licence data."""
    t = labels(language)
    if not kpis.licences:
        return t["licences_header"], [(t["no_licences"], t["na"], t["na"], t["na"], t["na"], t["na"])]
    total = [format_measure(kpis.kpi(k).current, "", kpis.currency, language) for k in LICENCE_KEYS[:4]]
    return t["licences_header"], [*[_licence_row(ln) for ln in kpis.licences], (t["licences_total"], "", *total)]


def licence_kpi_rows(kpis: KpiSet, language: str = "de") -> list[tuple[str, str, str]]:
    return [kpi_row(kpis.kpi(k), kpis.currency, language)[:3] for k in LICENCE_KEYS]
