"""Ticket and SLA reports per customer and period, split by who handled what (the MSP, the customer's IT, an
external party). The MSP reads every customer's (or one's, with `tenant_id`); the customer's IT its own only."""

from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from sqlmodel import col, select

from api.deps import NowDep, Principal, SessionDep, require_roles
from api.problems import Problem, not_found
from api.routes.tickets.access import visible
from api.schemas.reports import SlaReport, TicketReport
from domain.reports import Period, TicketFact, sla_report, ticket_report
from domain.roles import MSP_ROLES, Role
from models import Tenant, Ticket
from models.reports import load_ticket_facts

router = APIRouter(prefix="/reports", tags=["reports"])
ReportReader = Annotated[Principal, Depends(require_roles(*MSP_ROLES, Role.CUSTOMER_IT))]
MAX_DAYS = 3 * 366


class Scope:
    def __init__(
        self,
        principal: ReportReader,
        session: SessionDep,
        now: NowDep,
        from_date: Annotated[date | None, Query(alias="from", description="First day (UTC)")] = None,
        to_date: Annotated[date | None, Query(alias="to", description="Last day, inclusive (UTC)")] = None,
        period: Annotated[Period, Query(description="Rows per day, ISO week or month")] = Period.MONTH,
        tenant_id: Annotated[UUID | None, Query(description="One customer; the customer's IT: its own only")] = None,
    ) -> None:
        self.to_date = to_date or now.astimezone(UTC).date()
        self.from_date = from_date or (self.to_date.replace(day=1) - timedelta(days=335)).replace(day=1)
        if self.from_date > self.to_date:
            raise _bad("from", "must not be after to")
        if (self.to_date - self.from_date).days >= MAX_DAYS:
            raise _bad("to", f"a report spans at most {MAX_DAYS} days")
        if not principal.is_msp:
            if tenant_id is not None and tenant_id != principal.tenant_id:
                raise not_found("tenant", tenant_id)
            tenant_id = principal.tenant_id
        elif tenant_id is not None and session.get(Tenant, tenant_id) is None:
            raise not_found("tenant", tenant_id)
        self.tenant_id, self.period = tenant_id, period
        start = datetime.combine(self.from_date, time(), UTC)
        end = datetime.combine(self.to_date + timedelta(days=1), time(), UTC)
        # The customer's IT counts what it sees: its own tickets and the shared ones, not those kept from it.
        only = [] if principal.is_msp else [col(Ticket.id).in_(visible(select(Ticket.id), principal))]
        self.facts: list[TicketFact] = load_ticket_facts(session, start, end, tenant_id, *only)

    def fields(self) -> dict:
        dates = {"from_date": self.from_date, "to_date": self.to_date}
        return dates | {"period": self.period, "tenant_id": self.tenant_id}


def _bad(field: str, message: str) -> Problem:
    return Problem(422, f"{field}: {message}", errors=[{"field": field, "message": message}])


ScopeDep = Annotated[Scope, Depends()]


@router.get("/tickets", response_model=TicketReport, summary="Tickets opened per period and handler")
def tickets_report(scope: ScopeDep):
    return {**scope.fields(), "rows": [asdict(r) for r in ticket_report(scope.facts, scope.period)]}


@router.get("/sla", response_model=SlaReport, summary="SLA attainment (response, resolution) per period and handler")
def sla_attainment(scope: ScopeDep):
    return {**scope.fields(), "rows": [asdict(r) for r in sla_report(scope.facts, scope.period)]}
