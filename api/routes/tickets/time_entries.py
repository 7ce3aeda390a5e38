"""Time logged on a ticket: what billing reads; written through the ticket's workflow."""

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from sqlmodel import col, select

from api.deps import MspStaffOrCustomerIt, Principal, SessionDep, TemporalDep, require_roles
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.routes.tickets.access import actor, check_tenant_user, load_ticket, run_update
from api.schemas.tickets import TimeEntryCreate, TimeEntryPublic
from domain.contracts.tickets import TimeEntryRequest
from domain.roles import TICKET_AGENT_ROLES, Role
from models import TimeEntry
from workflows.tickets.ticket import TicketWorkflow

router = APIRouter()

TimeReader = Annotated[Principal, Depends(require_roles(*TICKET_AGENT_ROLES, Role.FINANCE))]


def _public(entry: TimeEntry) -> TimeEntryPublic:
    return TimeEntryPublic.model_validate(entry, from_attributes=True)


@router.post(
    "/{ticket_id}/time-entries",
    response_model=TimeEntryPublic,
    status_code=201,
    summary="Log time; answers with the entry and its Location",
)
async def log_time(
    ticket_id: UUID,
    body: TimeEntryCreate,
    principal: MspStaffOrCustomerIt,
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
):
    ticket = load_ticket(session, ticket_id, principal)
    user_id = body.user_id or principal.user_id
    if user_id != principal.user_id:
        if principal.role != Role.MSP_ADMIN:
            raise Problem(403, "only msp_admin may log time for another user")
        check_tenant_user(session, user_id, ticket.tenant_id, "user_id", agents_only=True)
    entry_id = uuid.uuid4()
    req = TimeEntryRequest(
        actor=actor(principal),
        user_id=user_id,
        started_at=body.started_at,
        minutes=body.minutes,
        billable=body.billable,
        activity_type=body.activity_type,
        note=body.note,
        entry_id=entry_id,
    )
    await run_update(session, temporal, ticket, TicketWorkflow.log_time, req)
    response.headers["Location"] = f"/api/v1/tickets/{ticket_id}/time-entries/{entry_id}"
    return _public(session.get(TimeEntry, entry_id))


@router.get("/{ticket_id}/time-entries", response_model=Page[TimeEntryPublic], summary="Time logged on a ticket")
def list_time(ticket_id: UUID, principal: TimeReader, session: SessionDep, page: PageDep):
    load_ticket(session, ticket_id, principal)
    query = select(TimeEntry).where(TimeEntry.ticket_id == ticket_id).order_by(col(TimeEntry.started_at))
    return paginate(session, query, page, _public)


@router.get("/{ticket_id}/time-entries/{entry_id}", response_model=TimeEntryPublic, summary="One time entry")
def get_time_entry(ticket_id: UUID, entry_id: UUID, principal: TimeReader, session: SessionDep):
    load_ticket(session, ticket_id, principal)
    entry = session.get(TimeEntry, entry_id)
    if entry is None or entry.ticket_id != ticket_id:
        raise not_found("time entry", entry_id)
    return _public(entry)
