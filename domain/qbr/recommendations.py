"""Rule-based recommendations and the executive summary of a QBR, from the KPIs alone, in German (the default) or
English. Each rule names its threshold here (device health and MFA: domain/qbr/health_rules.py; lifecycle and
licences: domain/qbr/lifecycle_rules.py), so the MSP can see why a recommendation appears."""

from decimal import Decimal

from domain.qbr.health_rules import health_recommendations
from domain.qbr.kpis import KpiSet
from domain.qbr.lifecycle_rules import lifecycle_recommendations
from domain.qbr.measure import NotAvailable, change

SLA_DROP_POINTS = Decimal(5)  # a drop of more than 5 percentage points against the previous quarter
SLA_TARGET = Decimal(90)
REOPEN_LIMIT = Decimal(10)
CONTINGENT_HIGH, CONTINGENT_LOW = Decimal(100), Decimal(50)
DEVICE_COVERAGE_TARGET = Decimal(95)
WARRANTY_TARGET = Decimal(80)
TICKET_GROWTH = Decimal("1.25")  # 25 % more tickets than the quarter before
CATEGORY_SHARE = Decimal(30)  # one category holds more than 30 % of the quarter's tickets

TEXTS = {
    "de": {
        "response": "Reaktion",
        "resolution": "Lösung",
        "sla_drop": "Die SLA-Erfüllung ({name}) ist von {before} % auf {now} % gesunken: Ursachen (Auslastung, "
                    "Eskalationswege) im Service-Team klären.",
        "sla_target": "Die SLA-Erfüllung ({name}) liegt mit {now} % unter dem Ziel von {target} %.",
        "reopen": "{now} % der gelösten Tickets wurden wieder geöffnet: Lösungen vor dem Schließen mit dem Anwender "
                  "bestätigen.",
        "contingent_high": "Das Stundenkontingent ist zu {now} % ausgeschöpft: eine Erhöhung des Kontingents prüfen.",
        "contingent_low": "Das Stundenkontingent ist nur zu {now} % genutzt: Umfang des Kontingents prüfen.",
        "tickets_up": "Das Ticketaufkommen ist von {before} auf {now} gestiegen: wiederkehrende Ursachen analysieren.",
        "category": "{count} von {total} Tickets betreffen „{category}“: eine dauerhafte Lösung (Problem-Management) "
                    "planen.",
        "coverage": "Nur {now} % der Geräte sind durch EDR geschützt: Agenten auf den übrigen Geräten ausrollen.",
        "warranty": "Nur {now} % der Geräte haben Garantie: Ersatzbeschaffung einplanen.",
        "none": "Keine Auffälligkeiten im Quartal: den Service im bisherigen Umfang fortführen.",
        "summary_tickets": "Im Quartal {quarter} wurden {opened} Tickets eröffnet und {closed} gelöst (Vorquartal: "
                           "{opened_before} / {closed_before}).",
        "summary_sla": "SLA-Erfüllung {name}: {now} % (Vorquartal: {before}).",
        "summary_incidents": "Sicherheitsvorfälle: {now}.",
        "summary_contingent": "Stundenkontingent zu {now} % genutzt.",
    },
    "en": {
        "response": "response",
        "resolution": "resolution",
        "sla_drop": "SLA attainment ({name}) fell from {before} % to {now} %: clarify the causes (workload, "
                    "escalation paths) with the service team.",
        "sla_target": "SLA attainment ({name}) is {now} %, below the target of {target} %.",
        "reopen": "{now} % of the resolved tickets were reopened: confirm solutions with the user before closing.",
        "contingent_high": "{now} % of the hour contingent is used: consider a larger contingent.",
        "contingent_low": "Only {now} % of the hour contingent is used: review the contingent's size.",
        "tickets_up": "Ticket volume rose from {before} to {now}: analyse recurring causes.",
        "category": "{count} of {total} tickets concern “{category}”: plan a permanent fix (problem management).",
        "coverage": "Only {now} % of the devices are protected by EDR: roll out agents to the other devices.",
        "warranty": "Only {now} % of the devices are under warranty: plan replacements.",
        "none": "Nothing unusual this quarter: continue the service at its current scope.",
        "summary_tickets": "In quarter {quarter}, {opened} tickets were opened and {closed} resolved (previous "
                           "quarter: {opened_before} / {closed_before}).",
        "summary_sla": "SLA attainment {name}: {now} % (previous quarter: {before}).",
        "summary_incidents": "Security incidents: {now}.",
        "summary_contingent": "Hour contingent {now} % used.",
    },
}  # fmt: skip


def _texts(language: str) -> dict[str, str]:
    return TEXTS["en" if language == "en" else "de"]


def _num(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return text.replace(".", ",")


def _value(kpis: KpiSet, key: str) -> tuple[Decimal | None, Decimal | None]:
    """(current, previous), each None where not available: rules only fire on known values."""
    k = kpis.kpi(key)
    return (None if isinstance(k.current, NotAvailable) else k.current,
            None if isinstance(k.previous, NotAvailable) else k.previous)  # fmt: skip


def recommendations(kpis: KpiSet, language: str = "de") -> list[str]:
    t = _texts(language)
    out: list[str] = []
    for key in ("sla_response", "sla_resolution"):
        kpi, name = kpis.kpi(key), t[key.removeprefix("sla_")]
        delta = change(kpi.current, kpi.previous)
        if not isinstance(delta, NotAvailable) and delta < -SLA_DROP_POINTS:
            out.append(t["sla_drop"].format(name=name, before=_num(kpi.previous), now=_num(kpi.current)))
        elif not isinstance(kpi.current, NotAvailable) and kpi.current < SLA_TARGET:
            out.append(t["sla_target"].format(name=name, now=_num(kpi.current), target=_num(SLA_TARGET)))
    reopen, _ = _value(kpis, "reopen_rate")
    if reopen is not None and reopen > REOPEN_LIMIT:
        out.append(t["reopen"].format(now=_num(reopen)))
    use, _ = _value(kpis, "contingent_use")
    if use is not None and use > CONTINGENT_HIGH:
        out.append(t["contingent_high"].format(now=_num(use)))
    elif use is not None and use < CONTINGENT_LOW:
        out.append(t["contingent_low"].format(now=_num(use)))
    opened, opened_before = _value(kpis, "tickets_opened")
    if opened is not None and opened_before and opened > opened_before * TICKET_GROWTH:
        out.append(t["tickets_up"].format(before=_num(opened_before), now=_num(opened)))
    if opened and kpis.top_categories:
        category, count = kpis.top_categories[0]
        if Decimal(100) * count / opened > CATEGORY_SHARE:
            out.append(t["category"].format(count=count, total=_num(opened), category=category))
    coverage, _ = _value(kpis, "device_coverage")
    if coverage is not None and coverage < DEVICE_COVERAGE_TARGET:
        out.append(t["coverage"].format(now=_num(coverage)))
    warranty, _ = _value(kpis, "warranty_coverage")
    if warranty is not None and warranty < WARRANTY_TARGET:
        out.append(t["warranty"].format(now=_num(warranty)))
    out += health_recommendations(kpis, language)
    out += lifecycle_recommendations(kpis, language)
    return out or [t["none"]]


def executive_summary(kpis: KpiSet, language: str = "de") -> list[str]:
    """Three to five sentences of facts, each only where its KPI is known."""
    t = _texts(language)
    opened, closed = kpis.kpi("tickets_opened"), kpis.kpi("tickets_closed")
    lines = [t["summary_tickets"].format(quarter=kpis.quarter, opened=_num(opened.current), closed=_num(closed.current),
                                         opened_before=_num_or_na(opened.previous, language),
                                         closed_before=_num_or_na(closed.previous, language))]  # fmt: skip
    for key in ("sla_response", "sla_resolution"):
        kpi = kpis.kpi(key)
        if not isinstance(kpi.current, NotAvailable):
            before = _num_or_na(kpi.previous, language) + ("" if isinstance(kpi.previous, NotAvailable) else " %")
            lines.append(t["summary_sla"].format(name=t[key.removeprefix("sla_")], now=_num(kpi.current),
                                                 before=before))  # fmt: skip
    incidents = kpis.kpi("security_incidents")
    if not isinstance(incidents.current, NotAvailable):
        lines.append(t["summary_incidents"].format(now=_num(incidents.current)))
    use = kpis.kpi("contingent_use")
    if not isinstance(use.current, NotAvailable):
        lines.append(t["summary_contingent"].format(now=_num(use.current)))
    return lines


def _num_or_na(value: Decimal | NotAvailable, language: str = "de") -> str:
    if isinstance(value, NotAvailable):
        return "n/a" if language == "en" else value.value
    return _num(value)
