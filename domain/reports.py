"""Ticket and SLA reports per customer and period, split by who handled the ticket (co-managed IT): the MSP, the
customer's IT or an external party. Pure aggregation over facts the API's query loads."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.qbr.kpis import SLA_KINDS  # the clocks reports count: response and resolution
from domain.roles import Role


class Handler(StrEnum):
    MSP = "msp"
    CUSTOMER_IT = "customer_it"
    EXTERNAL = "external"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO week, starting Monday
    MONTH = "month"


def period_start(day: date, period: Period) -> date:
    if period == Period.MONTH:
        return day.replace(day=1)
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day


def handler_of_role(role: Role | None) -> Handler | None:
    if role is None or role == Role.CUSTOMER_USER:
        return None  # a customer's user resolving or holding a ticket does not say who worked it
    if role.is_msp:
        return Handler.MSP
    return Handler.CUSTOMER_IT if role == Role.CUSTOMER_IT else Handler.EXTERNAL


def handler(resolver_role: Role | None, assignee_role: Role | None, customer_it_holds: bool) -> Handler:
    """Who handled a ticket: whoever resolved it; else, while open, the customer's IT if it holds the ticket, else
    the assignee's side; a ticket nobody took is the MSP's (its queue is the MSP's service desk by default)."""
    resolved_by = handler_of_role(resolver_role)
    if resolved_by is not None:
        return resolved_by
    if customer_it_holds:
        return Handler.CUSTOMER_IT
    return handler_of_role(assignee_role) or Handler.MSP


@dataclass(frozen=True)
class SlaFact:
    kind: str  # response, resolution
    met: bool | None  # None: still running or paused
    customer_it_seconds: int = 0
    overdue: bool = False  # still running, past its target: already a breach

    @property
    def breached(self) -> bool:
        return self.met is False or (self.met is None and self.overdue)


@dataclass(frozen=True)
class TicketFact:
    tenant_id: UUID
    created_at: datetime
    resolved: bool
    handler: Handler
    handed_back: bool = False  # the MSP handed it to the customer's IT at least once
    sla: tuple[SlaFact, ...] = ()


@dataclass
class TicketRow:
    tenant_id: UUID
    period: date
    handler: Handler
    opened: int = 0
    resolved: int = 0
    open: int = 0
    handed_back: int = 0


@dataclass
class SlaRow:
    tenant_id: UUID
    period: date
    handler: Handler
    kind: str
    met: int = 0
    breached: int = 0
    running: int = 0  # not yet stopped and not overdue
    customer_it_minutes: int = 0
    attainment: float | None = field(default=None)  # met / (met + breached), None without a stopped clock


def _key(fact: TicketFact, period: Period) -> tuple[UUID, date, Handler]:
    return fact.tenant_id, period_start(fact.created_at.date(), period), fact.handler


def ticket_report(facts: list[TicketFact], period: Period) -> list[TicketRow]:
    """Tickets opened per tenant, period (of their opening) and handler: how many were resolved, are still open,
    were handed back to the customer's IT."""
    rows: dict[tuple[UUID, date, Handler], TicketRow] = {}
    for fact in facts:
        key = _key(fact, period)
        row = rows.setdefault(key, TicketRow(*key))
        row.opened += 1
        row.resolved += fact.resolved
        row.open += not fact.resolved
        row.handed_back += fact.handed_back
    return [rows[k] for k in sorted(rows, key=_order)]


def sla_report(facts: list[TicketFact], period: Period) -> list[SlaRow]:
    """Response and resolution clocks of the tickets opened per tenant, period and handler: met, breached, still
    running, the attainment and the minutes the customer's IT held them (not counted against the MSP)."""
    rows: dict[tuple[UUID, date, Handler, str], SlaRow] = {}
    seconds: dict[tuple[UUID, date, Handler, str], int] = defaultdict(int)
    for fact in facts:
        for clock in fact.sla:
            if clock.kind not in SLA_KINDS:
                continue
            key = (*_key(fact, period), clock.kind)
            row = rows.setdefault(key, SlaRow(*key))
            if clock.breached:
                row.breached += 1
            elif clock.met:
                row.met += 1
            else:
                row.running += 1
            seconds[key] += clock.customer_it_seconds
    for key, row in rows.items():
        row.customer_it_minutes = seconds[key] // 60
        stopped = row.met + row.breached
        row.attainment = round(row.met / stopped, 4) if stopped else None
    return [rows[k] for k in sorted(rows, key=lambda k: (*_order(k[:3]), SLA_KINDS.index(k[3])))]


_HANDLER_ORDER = list(Handler)


def _order(key: tuple[UUID, date, Handler]) -> tuple[str, date, int]:
    return str(key[0]), key[1], _HANDLER_ORDER.index(key[2])
