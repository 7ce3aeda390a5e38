"""What the monthly service report shows, taken from the QBR's KPI engine (domain/qbr/kpis.py) computed over a month
and the month before: SLA attainment, tickets opened and closed by priority, security incidents and MFA coverage,
hours against the contingent and device health. Every row is current vs previous month; a value without a source is
"k. A." (NA).

Device health rows the facts do not have yet (RMM coverage, patch, antivirus, backup and online status come with the
RMM sources) are "k. A." until a KPI of that key exists: the report never invents a zero."""

from decimal import Decimal

from pydantic import BaseModel

from domain.qbr.kpis import KpiSet
from domain.qbr.measure import NA, Measure, NotAvailable
from domain.qbr.period import Month
from domain.tickets import Priority

# Most severe first (OCSF names, domain/soc/alerts.py).
SEVERITY_LABELS = {"fatal": "Fatal", "critical": "Kritisch", "high": "Hoch", "medium": "Mittel", "low": "Niedrig",
                   "informational": "Information", "unknown": "Unbekannt"}  # fmt: skip
# The contact's opt-in as forms and the API schema name it.
OPT_IN_LABEL = "Monatlichen Servicebericht per E-Mail erhalten"
SECTION_TITLES = {
    "sla": "SLA-Übersicht",
    "tickets": "Tickets nach Priorität",
    "security": "Sicherheit",
    "hours": "Stunden und Kontingent",
    "devices": "Gerätezustand",
}
SLA_KEYS = ("sla_response", "sla_resolution")
SECURITY_KEYS = ("security_incidents", "time_to_acknowledge")
ACCOUNT_KEYS = ("mfa_coverage",)  # after the incidents: the accounts' protection (Microsoft 365)
HOURS_KEYS = ("hours_used", "contingent_hours", "contingent_use")
# (KPI key, German label, unit): the device health rows in this order, whether or not the KPI engine has the key yet
# (the RMM health KPIs come with the inventory sync); a KPI that exists brings its own label.
DEVICE_ROWS = (
    ("device_coverage", "Geräteabdeckung (EDR)", "%"),
    ("rmm_coverage", "Geräteabdeckung (RMM)", "%"),
    ("antivirus_coverage", "Virenschutz aktiv und aktuell", "%"),
    ("patch_compliance", "Windows-Patchstand", "%"),
    ("backup_success", "Backup-Erfolgsquote", "%"),
    ("availability", "Geräte online (Stichtag)", "%"),
    ("reboot_pending", "Neustart ausstehend", "%"),
    ("warranty_coverage", "Garantieabdeckung", "%"),
)


class ReportRow(BaseModel):
    label: str  # German
    unit: str  # "", "%", "h", "min"
    current: Measure
    previous: Measure
    current_reason: str | None = None  # why k. A., where the source said so (domain.qbr.kpis.Kpi)
    previous_reason: str | None = None


class ReportSection(BaseModel):
    key: str
    title: str
    rows: list[ReportRow]


class ServiceReport(BaseModel):
    customer_number: str
    customer_name: str
    month: str  # YYYY-MM, the month reported
    previous_month: str
    sections: list[ReportSection]

    def section(self, key: str) -> ReportSection:
        return next(s for s in self.sections if s.key == key)

    def title(self) -> str:
        return f"Monatlicher Servicebericht {Month.parse(self.month).label()}"


def _kpi_rows(kpis: KpiSet, keys: tuple[str, ...]) -> list[ReportRow]:
    return [ReportRow(label=k.label, unit=k.unit, current=k.current, previous=k.previous,
                      current_reason=k.current_reason, previous_reason=k.previous_reason)
            for k in (kpis.kpi(key) for key in keys)]  # fmt: skip


def _ticket_rows(kpis: KpiSet) -> list[ReportRow]:
    """Totals, then opened and closed per priority (every priority, also with none: the hub's own data, a real 0)."""
    rows = _kpi_rows(kpis, ("tickets_opened", "tickets_closed"))
    by = {b.key: b for b in kpis.breakdowns}
    for key, verb in (("opened_by_priority", "eröffnet"), ("closed_by_priority", "gelöst")):
        for priority in Priority:
            rows.append(ReportRow(label=f"{priority.value} {verb}", unit="",
                                  current=Decimal(by[key].current.get(priority.value, 0)),
                                  previous=Decimal(by[key].previous.get(priority.value, 0))))  # fmt: skip
    return rows


def _severity_rank(severity: str) -> int:
    order = list(SEVERITY_LABELS)
    return order.index(severity) if severity in order else len(order)


def _security_rows(kpis: KpiSet) -> list[ReportRow]:
    """The count and time to acknowledge; per severity where a SOC source exists in the month or the one before; the
    MFA coverage of the Microsoft 365 members."""
    rows = _kpi_rows(kpis, SECURITY_KEYS)
    count = kpis.kpi("security_incidents")
    b = next(b for b in kpis.breakdowns if b.key == "incidents_by_severity")
    for severity in sorted(set(b.current) | set(b.previous), key=_severity_rank):
        rows.append(ReportRow(
            label=f"davon {SEVERITY_LABELS.get(severity, severity)}", unit="",
            current=NA if isinstance(count.current, NotAvailable) else Decimal(b.current.get(severity, 0)),
            previous=NA if isinstance(count.previous, NotAvailable) else Decimal(b.previous.get(severity, 0)),
        ))  # fmt: skip
    return rows + _kpi_rows(kpis, ACCOUNT_KEYS)


def _device_rows(kpis: KpiSet) -> list[ReportRow]:
    known = {k.key: k for k in kpis.kpis}
    rows = []
    for key, label, unit in DEVICE_ROWS:
        kpi = known.get(key)
        if kpi is None:
            rows.append(ReportRow(label=label, unit=unit, current=NA, previous=NA))
        else:
            rows.append(ReportRow(label=kpi.label, unit=kpi.unit, current=kpi.current, previous=kpi.previous))
    return rows


def service_report(kpis: KpiSet) -> ServiceReport:
    """The report of `kpis` (computed over a month and the month before)."""
    month = Month.parse(kpis.quarter)
    return ServiceReport(
        customer_number=kpis.customer_number,
        customer_name=kpis.customer_name,
        month=str(month),
        previous_month=str(month.previous()),
        sections=[
            ReportSection(key="sla", title=SECTION_TITLES["sla"], rows=_kpi_rows(kpis, SLA_KEYS)),
            ReportSection(key="tickets", title=SECTION_TITLES["tickets"], rows=_ticket_rows(kpis)),
            ReportSection(key="security", title=SECTION_TITLES["security"], rows=_security_rows(kpis)),
            ReportSection(key="hours", title=SECTION_TITLES["hours"], rows=_kpi_rows(kpis, HOURS_KEYS)),
            ReportSection(key="devices", title=SECTION_TITLES["devices"], rows=_device_rows(kpis)),
        ],
    )


def report_summary(report: ServiceReport) -> str:
    """One line for the workflow's memo."""
    sla = report.section("sla").rows
    opened = report.section("tickets").rows[0].current
    return (f"Service report {report.month} [{report.customer_number}]: {opened} tickets, "
            f"SLA response {sla[0].current}, resolution {sla[1].current}")  # fmt: skip
