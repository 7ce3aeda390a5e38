"""The period's rows counted into what the KPIs need (`TicketStats`, `IncidentStats`): the facts activity calls
these on the rows it read, so what leaves it has a size independent of the number of tickets. Pure.

The period is [start, end) of the quarter or month in the customer's time zone (`report_period(...).bounds`); a row
counts where its timestamp lies in it, and in the local month that holds its timestamp. Rows outside the period
(the activity reads open tickets of earlier periods too) count nowhere. Every count here is one term of a KPI's
formula in domain/qbr/kpis.py."""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.qbr.facts import IncidentFact, IncidentStats, MonthStats, QbrFacts, SlaFact, TicketFact, TicketStats
from domain.qbr.kpis import NO_CATEGORY
from domain.qbr.period import report_period


class _Bounds:
    def __init__(self, period: str, time_zone: str):
        self.months = report_period(period).months
        self.start, self.end = report_period(period).bounds(time_zone)
        self.zone = ZoneInfo(time_zone)

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    def month(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m")


def _sorted(counter: Counter) -> dict[str, int]:
    return dict(sorted(counter.items()))


def ticket_stats(tickets: Iterable[TicketFact], sla: Iterable[SlaFact], period: str, time_zone: str) -> TicketStats:
    """Per month: tickets opened (created_at in it), closed (resolved_at in it), SLA clocks stopped and met per
    kind; per priority and category: opened and closed; Σ hours to resolve of the closed tickets; tickets resolved
    in the period (a change to resolved in it) and of those reopened (a change back to open in it)."""
    b = _Bounds(period, time_zone)
    months = {m: MonthStats(month=m) for m in b.months}
    opened_p: Counter = Counter()
    closed_p: Counter = Counter()
    opened_c: Counter = Counter()
    closed_c: Counter = Counter()
    hours, resolved, reopened = Decimal(0), 0, 0
    for t in tickets:
        if b.holds(t.created_at):
            months[b.month(t.created_at)].opened += 1
            opened_p[t.priority] += 1
            opened_c[t.category or NO_CATEGORY] += 1
        if t.resolved_at is not None and b.holds(t.resolved_at):
            months[b.month(t.resolved_at)].closed += 1
            closed_p[t.priority] += 1
            closed_c[t.category or NO_CATEGORY] += 1
            hours += Decimal((t.resolved_at - t.created_at).total_seconds()) / 3600
        if any(b.holds(at) for at in t.resolutions):
            resolved += 1
            reopened += any(b.holds(at) for at in t.reopens)
    for s in sla:
        if b.holds(s.stopped_at):
            month = months[b.month(s.stopped_at)]
            month.sla_stopped[s.kind] = month.sla_stopped.get(s.kind, 0) + 1
            month.sla_met[s.kind] = month.sla_met.get(s.kind, 0) + s.met
    return TicketStats(
        months=list(months.values()),
        opened_by_priority=_sorted(opened_p),
        closed_by_priority=_sorted(closed_p),
        opened_by_category=_sorted(opened_c),
        closed_by_category=_sorted(closed_c),
        resolve_hours=hours,
        resolved=resolved,
        reopened=reopened,
    )


def incident_stats(incidents: Iterable[IncidentFact], period: str, time_zone: str) -> IncidentStats:
    """Incidents whose first alert lies in the period: per severity; acknowledged ones and Σ their minutes from the
    first alert to the acknowledgement."""
    b = _Bounds(period, time_zone)
    severities: Counter = Counter()
    acknowledged, minutes = 0, Decimal(0)
    for i in incidents:
        if not b.holds(i.first_alert_at):
            continue
        severities[i.severity] += 1
        if i.acknowledged_at is not None:
            acknowledged += 1
            minutes += Decimal((i.acknowledged_at - i.first_alert_at).total_seconds()) / 60
    return IncidentStats(by_severity=_sorted(severities), acknowledged=acknowledged, acknowledge_minutes=minutes)


def period_stats(period: str, time_zone: str, tickets: Iterable[TicketFact] = (), sla: Iterable[SlaFact] = (),
                 incidents: Iterable[IncidentFact] = ()) -> dict:  # fmt: skip
    """`QbrFacts` fields `tickets` and `incidents` from the rows of one load."""
    return {"tickets": ticket_stats(tickets, sla, period, time_zone),
            "incidents": incident_stats(incidents, period, time_zone)}  # fmt: skip


def facts_from_rows(quarter: str, time_zone: str, *, tickets: Iterable[TicketFact] = (), sla: Iterable[SlaFact] = (),
                    incidents: Iterable[IncidentFact] = (), **fields: object) -> QbrFacts:  # fmt: skip
    """`QbrFacts` of a period with its tickets, SLA clocks and incidents given as rows (tests, the benchmark)."""
    return QbrFacts(quarter=quarter, time_zone=time_zone, **period_stats(quarter, time_zone, tickets, sla, incidents),
                    **fields)  # type: ignore[arg-type]  # fmt: skip
