"""Rule-based recommendations and the executive summary of a QBR, from the KPIs alone (German, as the deck shows
them). Each rule names its threshold here, so the MSP can see why a recommendation appears."""

from decimal import Decimal

from domain.qbr.kpis import KpiSet
from domain.qbr.measure import NotAvailable, change

SLA_DROP_POINTS = Decimal(5)  # a drop of more than 5 percentage points against the previous quarter
SLA_TARGET = Decimal(90)
REOPEN_LIMIT = Decimal(10)
CONTINGENT_HIGH, CONTINGENT_LOW = Decimal(100), Decimal(50)
DEVICE_COVERAGE_TARGET = Decimal(95)
WARRANTY_TARGET = Decimal(80)
TICKET_GROWTH = Decimal("1.25")  # 25 % more tickets than the quarter before
CATEGORY_SHARE = Decimal(30)  # one category holds more than 30 % of the quarter's tickets


def _num(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return text.replace(".", ",")


def _value(kpis: KpiSet, key: str) -> tuple[Decimal | None, Decimal | None]:
    """(current, previous), each None where not available: rules only fire on known values."""
    k = kpis.kpi(key)
    return (None if isinstance(k.current, NotAvailable) else k.current,
            None if isinstance(k.previous, NotAvailable) else k.previous)  # fmt: skip


def recommendations(kpis: KpiSet) -> list[str]:
    out: list[str] = []
    for key, name in (("sla_response", "Reaktion"), ("sla_resolution", "Lösung")):
        kpi = kpis.kpi(key)
        delta = change(kpi.current, kpi.previous)
        if not isinstance(delta, NotAvailable) and delta < -SLA_DROP_POINTS:
            out.append(f"Die SLA-Erfüllung ({name}) ist von {_num(kpi.previous)} % auf {_num(kpi.current)} % "
                       "gesunken: Ursachen (Auslastung, Eskalationswege) im Service-Team klären.")  # fmt: skip
        elif not isinstance(kpi.current, NotAvailable) and kpi.current < SLA_TARGET:
            out.append(f"Die SLA-Erfüllung ({name}) liegt mit {_num(kpi.current)} % unter dem Ziel von "
                       f"{_num(SLA_TARGET)} %.")  # fmt: skip
    reopen, _ = _value(kpis, "reopen_rate")
    if reopen is not None and reopen > REOPEN_LIMIT:
        out.append(f"{_num(reopen)} % der gelösten Tickets wurden wieder geöffnet: Lösungen vor dem Schließen mit "
                   "dem Anwender bestätigen.")  # fmt: skip
    use, _ = _value(kpis, "contingent_use")
    if use is not None and use > CONTINGENT_HIGH:
        out.append(f"Das Stundenkontingent ist zu {_num(use)} % ausgeschöpft: eine Erhöhung des Kontingents prüfen.")
    elif use is not None and use < CONTINGENT_LOW:
        out.append(f"Das Stundenkontingent ist nur zu {_num(use)} % genutzt: Umfang des Kontingents prüfen.")
    opened, opened_before = _value(kpis, "tickets_opened")
    if opened is not None and opened_before and opened > opened_before * TICKET_GROWTH:
        out.append(f"Das Ticketaufkommen ist von {_num(opened_before)} auf {_num(opened)} gestiegen: wiederkehrende "
                   "Ursachen analysieren.")  # fmt: skip
    if opened and kpis.top_categories:
        category, count = kpis.top_categories[0]
        if Decimal(100) * count / opened > CATEGORY_SHARE:
            out.append(f"{count} von {_num(opened)} Tickets betreffen „{category}“: eine dauerhafte Lösung "
                       "(Problem-Management) planen.")  # fmt: skip
    coverage, _ = _value(kpis, "device_coverage")
    if coverage is not None and coverage < DEVICE_COVERAGE_TARGET:
        out.append(f"Nur {_num(coverage)} % der Geräte sind durch EDR geschützt: Agenten auf den übrigen Geräten "
                   "ausrollen.")  # fmt: skip
    warranty, _ = _value(kpis, "warranty_coverage")
    if warranty is not None and warranty < WARRANTY_TARGET:
        out.append(f"Nur {_num(warranty)} % der Geräte haben Garantie: Ersatzbeschaffung einplanen.")
    return out or ["Keine Auffälligkeiten im Quartal: den Service im bisherigen Umfang fortführen."]


def executive_summary(kpis: KpiSet) -> list[str]:
    """Three to five sentences of facts, each only where its KPI is known."""
    lines = []
    opened, closed = kpis.kpi("tickets_opened"), kpis.kpi("tickets_closed")
    lines.append(f"Im Quartal {kpis.quarter} wurden {_num(opened.current)} Tickets eröffnet und "
                 f"{_num(closed.current)} gelöst (Vorquartal: {_num_or_na(opened.previous)} / "
                 f"{_num_or_na(closed.previous)}).")  # fmt: skip
    for key, name in (("sla_response", "Reaktion"), ("sla_resolution", "Lösung")):
        kpi = kpis.kpi(key)
        if not isinstance(kpi.current, NotAvailable):
            lines.append(f"SLA-Erfüllung {name}: {_num(kpi.current)} % (Vorquartal: {_num_or_na(kpi.previous)}"
                         f"{'' if isinstance(kpi.previous, NotAvailable) else ' %'}).")  # fmt: skip
    incidents = kpis.kpi("security_incidents")
    if not isinstance(incidents.current, NotAvailable):
        lines.append(f"Sicherheitsvorfälle: {_num(incidents.current)}.")
    use = kpis.kpi("contingent_use")
    if not isinstance(use.current, NotAvailable):
        lines.append(f"Stundenkontingent zu {_num(use.current)} % genutzt.")
    return lines


def _num_or_na(value: Decimal | NotAvailable) -> str:
    return value.value if isinstance(value, NotAvailable) else _num(value)
