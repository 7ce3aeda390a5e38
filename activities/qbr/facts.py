"""Load what the QBR reports for one customer and quarter (`QbrFacts`) and the customers a quarterly run covers.
Reads only; every query is scoped by the tenant. The quarter's bounds are local midnights in the tenant's time zone.
Tickets, SLA clocks and incidents are counted here (domain/qbr/aggregate.py): the result is a Temporal payload
(at most 2 MiB) and its size must not grow with the customer's tickets.

What a quarter holds:
* tickets created before its end that were created in it, resolved in it or are not resolved, with the status
  changes of the quarter (to resolved; back from resolved/closed to an open status);
* stopped response and resolution SLA clocks with their outcome (met or not) stopped in it;
* SOC incidents whose first alert lies in it, with the highest severity of their alerts; whether the tenant has a
  SOC integration at all (without one: "k. A.", not 0 incidents);
* the asset inventory, licences, vCIO entries and the MSP's replacement costs (snapshots of now, asked for only for
  the reported quarter);
* the last daily device health snapshot whose day lies in the quarter (each quarter its own: `_health`);
* lines and hour contingents of contracts overlapping it; billable time entries started in it."""

from collections import defaultdict
from datetime import date
from uuid import UUID

from sqlalchemy import Engine, func
from sqlmodel import Session, col, or_, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.qbr.branding import deck_language
from domain.contracts.qbr import CustomerRef, LoadFacts, QbrActivity, QbrRunInput
from domain.inventory.health import HealthCounts
from domain.qbr.aggregate import period_stats
from domain.qbr.facts import (
    ContingentFact,
    ContractLineFact,
    HealthFact,
    IncidentFact,
    QbrFacts,
    SlaFact,
    TicketFact,
)
from domain.qbr.kpis import SLA_KINDS
from domain.qbr.period import report_period
from domain.qbr.quarter import Quarter
from domain.qbr.vcio import VcioEntry
from domain.raci import RaciMatrix, raci_rows
from domain.soc.alerts import Severity
from domain.tickets import EventKind, TicketStatus
from models import (
    Contract,
    ContractLine,
    HealthSnapshot,
    RaciMatrixRow,
    SocAlert,
    SocIncident,
    SocIntegration,
    Tenant,
    Ticket,
    TicketEvent,
    TicketSla,
    TimeEntry,
    VcioItem,
)
from models.qbr_lifecycle import device_facts, lifecycle_facts

DONE = {TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value}
SEVERITY_ORDER = list(Severity)


def _earlier(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


def _health(session: Session, tenant_id: UUID, quarter: Quarter) -> HealthFact | None:
    """The last health snapshot taken on a day of the quarter (days are the tenant's local days)."""
    row = session.exec(
        select(HealthSnapshot).where(HealthSnapshot.tenant_id == tenant_id)
        .where(col(HealthSnapshot.day) >= quarter.first_day, col(HealthSnapshot.day) <= quarter.last_day)
        .order_by(col(HealthSnapshot.day).desc())
    ).first()  # fmt: skip
    return HealthFact(day=row.day, counts=HealthCounts.model_validate(row.counts)) if row else None


def load_facts(session: Session, req: LoadFacts) -> QbrFacts:
    tenant = session.get(Tenant, req.tenant_id)
    if tenant is None:
        raise ApplicationError(f"no tenant {req.tenant_id}", type="UnknownTenant", non_retryable=True)
    quarter = report_period(req.quarter)  # a quarter (QBR) or a month (service report)
    start, end = quarter.bounds(tenant.time_zone)
    tid = req.tenant_id
    tickets = session.exec(
        select(Ticket)
        .where(Ticket.tenant_id == tid, col(Ticket.created_at) < end)
        .where(
            or_(col(Ticket.created_at) >= start, col(Ticket.resolved_at).is_(None), col(Ticket.resolved_at) >= start)
        )
    ).all()
    changes: dict[UUID, list[TicketEvent]] = defaultdict(list)
    for event in session.exec(
        select(TicketEvent)
        .where(TicketEvent.tenant_id == tid, TicketEvent.kind == EventKind.STATUS_CHANGED)
        .where(col(TicketEvent.at) >= start, col(TicketEvent.at) < end)
        .order_by(col(TicketEvent.at))
    ):
        changes[event.ticket_id].append(event)
    ticket_rows = (
        TicketFact(
            priority=t.priority.value,
            category=t.category,
            created_at=t.created_at,
            resolved_at=t.resolved_at,
            resolutions=[e.at for e in changes[t.id] if e.data.get("to") == TicketStatus.RESOLVED.value],
            reopens=[e.at for e in changes[t.id] if e.data.get("from") in DONE and e.data.get("to") not in DONE],
        )
        for t in tickets
    )
    sla = session.exec(
        select(TicketSla).where(TicketSla.tenant_id == tid, col(TicketSla.kind).in_(SLA_KINDS))
        .where(col(TicketSla.met).is_not(None), col(TicketSla.stopped_at) >= start, col(TicketSla.stopped_at) < end)
    ).all()  # fmt: skip
    security_source = session.exec(
        select(func.count()).select_from(SocIntegration)
        .where(SocIntegration.tenant_id == tid, col(SocIntegration.created_at) < end)
    ).one() > 0  # fmt: skip
    incidents = session.exec(
        select(SocIncident).where(SocIncident.tenant_id == tid)
        .where(col(SocIncident.first_alert_at) >= start, col(SocIncident.first_alert_at) < end)
    ).all()  # fmt: skip
    severities: dict[str, int] = {}
    if incidents:
        for key, severity in session.exec(
            select(SocAlert.incident_key, SocAlert.severity)
            .where(SocAlert.tenant_id == tid, col(SocAlert.incident_key).in_([i.key for i in incidents]))
        ):  # fmt: skip
            rank = SEVERITY_ORDER.index(Severity(severity)) if severity in Severity.__members__.values() else 0
            severities[key] = max(severities.get(key, 0), rank)
    vcio = (
        session.exec(select(VcioItem).where(VcioItem.tenant_id == tid).order_by(col(VcioItem.created_at))).all()
        if req.with_snapshot
        else []
    )
    matrix = (
        session.exec(select(RaciMatrixRow.matrix).where(RaciMatrixRow.tenant_id == tid)).one_or_none()
        if req.with_snapshot
        else None
    )
    contracts = session.exec(
        select(Contract).where(Contract.tenant_id == tid, col(Contract.start_date) <= quarter.last_day)
        .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= quarter.first_day))
        .order_by(col(Contract.start_date))
    ).all()  # fmt: skip
    by_id = {c.id: c for c in contracts}
    lines = session.exec(select(ContractLine).where(col(ContractLine.contract_id).in_(list(by_id)))).all()
    minutes = session.exec(
        select(func.coalesce(func.sum(TimeEntry.minutes), 0))
        .where(TimeEntry.tenant_id == tid, TimeEntry.billable, col(TimeEntry.started_at) >= start)
        .where(col(TimeEntry.started_at) < end)
    ).one()  # fmt: skip
    incident_rows = (
        IncidentFact(
            severity=SEVERITY_ORDER[severities.get(i.key, 0)].value,
            first_alert_at=i.first_alert_at,
            acknowledged_at=i.acknowledged_at,
        )  # fmt: skip
        for i in incidents
    )
    sla_rows = (SlaFact(kind=s.kind, met=bool(s.met), stopped_at=s.stopped_at) for s in sla)
    return QbrFacts(
        quarter=str(quarter),
        time_zone=tenant.time_zone,
        currency=contracts[-1].currency if contracts else "EUR",
        **period_stats(str(quarter), tenant.time_zone, ticket_rows, sla_rows, incident_rows),
        security_source=security_source,
        devices_source=req.with_snapshot,
        devices=device_facts(session, tid) if req.with_snapshot else [],
        contract_lines=[
            ContractLineFact(
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                billing_cycle=ln.billing_cycle.value,
                start_date=max(ln.start_date, by_id[ln.contract_id].start_date),
                end_date=_earlier(ln.end_date, by_id[ln.contract_id].end_date),
            )  # fmt: skip
            for ln in lines
        ],
        contingents=[
            ContingentFact(
                included_minutes=int(c.contingent.get("included_minutes", 0)),
                start_date=c.start_date,
                end_date=c.end_date,
            )  # fmt: skip
            for c in contracts
            if c.contingent
        ],
        billable_minutes=int(minutes),
        vcio=[VcioEntry.model_validate(row, from_attributes=True) for row in vcio],
        raci=raci_rows(RaciMatrix.model_validate(matrix)) if matrix else [],
        health=_health(session, tid, quarter),
        **(lifecycle_facts(session, tid) | {"language": deck_language(session, tid)} if req.with_snapshot else {}),
    )


def list_customers(session: Session, req: QbrRunInput) -> list[CustomerRef]:
    """Tenants with a contract running on any day of the quarter (its customers), by customer number."""
    quarter = Quarter.parse(req.quarter)
    query = (
        select(Tenant)
        .where(
            select(Contract.id)
            .where(Contract.tenant_id == Tenant.id, col(Contract.start_date) <= quarter.last_day)
            .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= quarter.first_day))
            .exists()
        )
        .order_by(col(Tenant.customer_number))
    )
    if req.customer_numbers is not None:
        query = query.where(col(Tenant.customer_number).in_(req.customer_numbers))
    return [CustomerRef(tenant_id=t.id, customer_number=t.customer_number, name=t.name) for t in session.exec(query)]


class QbrFactActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=QbrActivity.LOAD_FACTS)
    def load_facts(self, req: LoadFacts) -> QbrFacts:
        with Session(self.engine) as session:
            return load_facts(session, req)

    @activity.defn(name=QbrActivity.LIST_CUSTOMERS)
    def list_customers(self, req: QbrRunInput) -> list[CustomerRef]:
        with Session(self.engine) as session:
            return list_customers(session, req)
