"""Ticket routes. Reads come from the database; every change goes through the ticket's workflow."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, or_, select
from temporalio.service import RPCError

from api.deps import (
    CurrentUser,
    MspAdmin,
    MspStaffOrCustomerIt,
    NowDep,
    Principal,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require_roles,
    resolve_tenant_id,
)
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.schemas.common import SearchText, contains, field_error, filter_time
from api.schemas.tickets import (
    AssignBody,
    CommentBody,
    PriorityBody,
    SlaClockPublic,
    SlaRepinPublic,
    TicketAccepted,
    TicketCreate,
    TicketEventPublic,
    TicketPublic,
    TicketSlaPublic,
    TimeEntryCreate,
    TimeEntryPublic,
    TransitionBody,
)
from domain.contracts.tickets import (
    Actor,
    AssignRequest,
    CommentRequest,
    NewTicket,
    PriorityRequest,
    RepinSlaRequest,
    TimeEntryRequest,
    TransitionRequest,
)
from domain.roles import TICKET_AGENT_ROLES, Role
from domain.sla import SlaCarry, SlaState
from domain.sla import plan as sla_plan
from domain.tickets import EventKind, Priority, TicketStatus, Visibility
from hub.temporal.errors import WorkflowRejected, WorkflowUnavailable
from hub.temporal.tickets import TicketPending, open_ticket, query_sla, update_ticket
from models import Tenant, Ticket, TicketEvent, TicketSla, TimeEntry, User
from workflows.tickets.ticket import TicketWorkflow

router = APIRouter(prefix="/tickets", tags=["tickets"])

WRITERS = (Role.MSP_ADMIN, Role.MSP_TECH, Role.CUSTOMER_IT, Role.CUSTOMER_USER)
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
TimeReader = Annotated[Principal, Depends(require_roles(*TICKET_AGENT_ROLES, Role.FINANCE))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)]


def _visible(query, principal: Principal):  # noqa: ANN001, ANN202
    """Customer users see the tickets they requested or opened; customer IT sees its tenant; MSP staff all."""
    if principal.is_msp:
        return query
    query = query.where(Ticket.tenant_id == principal.tenant_id)
    if principal.role == Role.CUSTOMER_USER:
        query = query.where(
            or_(Ticket.requester_user_id == principal.user_id, Ticket.created_by_user_id == principal.user_id)
        )
    return query


def _load(session: Session, ticket_id: UUID, principal: Principal) -> Ticket:
    ticket = session.exec(_visible(select(Ticket).where(Ticket.id == ticket_id), principal)).one_or_none()
    if ticket is None:
        raise not_found("ticket", ticket_id)
    return ticket


def _public(ticket: Ticket) -> TicketPublic:
    return TicketPublic.model_validate(ticket, from_attributes=True)


def _actor(principal: Principal) -> Actor:
    return Actor(user_id=principal.user_id, role=principal.role)


def _check_tenant_user(session: Session, user_id: UUID, tenant_id: UUID, field: str, *, agents_only: bool) -> None:
    user = session.get(User, user_id)
    ok = (
        user is not None
        and user.is_active
        and (user.role in (Role.MSP_ADMIN, Role.MSP_TECH) if user.tenant_id is None else user.tenant_id == tenant_id)
    )
    if ok and agents_only:
        ok = user.role in TICKET_AGENT_ROLES
    if not ok:
        kind = "technician or customer IT user" if agents_only else "user"
        raise field_error(field, f"{user_id} is not an active {kind} of this ticket's customer")


def _fingerprint(tenant_id: UUID, body: TicketCreate) -> str:
    canonical = json.dumps({"tenant_id": str(tenant_id), **body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@router.post(
    "",
    status_code=201,
    response_model=TicketPublic,
    responses={202: {"model": TicketAccepted}},
    summary="Open a ticket (idempotent with the Idempotency-Key header)",
)
async def create_ticket(
    body: TicketCreate,
    principal: Writer,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
):
    tenant_id = resolve_tenant_id(principal, body.tenant_id)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise field_error("tenant_id", f"no tenant {tenant_id}")
    requester = body.requester_user_id or (principal.user_id if not principal.is_msp else None)
    if requester is not None:
        _check_tenant_user(session, requester, tenant_id, "requester_user_id", agents_only=False)
    fingerprint = _fingerprint(tenant_id, body)
    if idempotency_key:
        ticket_id = uuid.uuid5(uuid.NAMESPACE_URL, f"psa:ticket:{tenant_id}:{idempotency_key}")
        existing = session.get(Ticket, ticket_id)
        if existing is not None:
            if existing.idempotency_fingerprint != fingerprint:
                raise Problem(409, "Idempotency-Key was already used for a different ticket request")
            response.headers["Idempotent-Replayed"] = "true"
            return _public(existing)
    else:
        ticket_id = uuid.uuid4()
    new = NewTicket(
        ticket_id=ticket_id,
        tenant_id=tenant_id,
        customer_number=tenant.customer_number,
        title=body.title,
        description=body.description,
        priority=body.priority,
        category=body.category,
        requester_user_id=requester,
        created_by_user_id=principal.user_id,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=fingerprint,
        reopen_days=settings.ticket_reopen_days,
    )
    session.commit()  # end the read transaction; the workflow's activity writes the row
    location = f"/api/v1/tickets/{ticket_id}"
    try:
        # Temporal unreachable, or the start not confirmed: WorkflowUnavailable, a 503; nothing is acknowledged.
        await open_ticket(temporal, new)
    except TicketPending:
        pending = True  # Temporal holds the workflow; only the worker is late
    else:
        pending = False
    session.expire_all()
    created = session.get(Ticket, ticket_id)
    if created is None:
        if not pending:  # cannot happen: the update returns only after the row committed
            raise Problem(503, "ticket accepted but not yet readable; fetch it shortly")
        accepted = TicketAccepted(id=ticket_id).model_dump(mode="json")
        return JSONResponse(accepted, status_code=202, headers={"Location": location})
    response.headers["Location"] = location
    return _public(created)


@router.get("", response_model=Page[TicketPublic], summary="List tickets visible to the caller")
def list_tickets(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    tenant_id: UUID | None = None,
    customer_number: Annotated[str | None, Query(max_length=32, description="The customer's number")] = None,
    assignee_user_id: UUID | None = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    sla_state: Annotated[list[SlaState] | None, Query(description="e.g. breached")] = None,
    q: Annotated[SearchText | None, Query(description="Text in title or ticket number")] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
):
    query = _visible(select(Ticket), principal)
    if status:
        query = query.where(col(Ticket.status).in_(status))
    if priority:
        query = query.where(col(Ticket.priority).in_(priority))
    if tenant_id:
        query = query.where(Ticket.tenant_id == tenant_id)
    if customer_number:
        customer = select(Tenant.id).where(Tenant.customer_number == customer_number)
        query = query.where(col(Ticket.tenant_id).in_(customer))
    if assignee_user_id:
        query = query.where(Ticket.assignee_user_id == assignee_user_id)
    if queue:
        query = query.where(Ticket.queue == queue)
    if sla_state:
        query = query.where(col(Ticket.sla_state).in_([s.value for s in sla_state]))
    if q:
        pattern = contains(q)
        query = query.where(
            or_(col(Ticket.title).ilike(pattern, escape="\\"), col(Ticket.number).ilike(pattern, escape="\\"))
        )
    for name, bound, op in (("created_from", created_from, "ge"), ("created_to", created_to, "lt")):
        if bound is not None:
            query = query.where(getattr(col(Ticket.created_at), f"__{op}__")(filter_time(name, bound)))
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.number).desc())
    return paginate(session, query, page, _public)


@router.get("/{ticket_id}", response_model=TicketPublic)
def get_ticket(ticket_id: UUID, principal: CurrentUser, session: SessionDep):
    return _public(_load(session, ticket_id, principal))


@router.get("/{ticket_id}/sla", response_model=TicketSlaPublic, summary="SLA clocks: due times, time left, state")
async def get_sla(ticket_id: UUID, principal: CurrentUser, session: SessionDep, temporal: TemporalDep, now: NowDep):
    ticket = _load(session, ticket_id, principal)
    session.commit()
    try:
        carry = await query_sla(temporal, ticket_id)
    except (WorkflowRejected, WorkflowUnavailable, RPCError):
        carry = None  # the workflow has completed, or Temporal cannot be asked now: report what was recorded
    else:
        if carry is None:
            return TicketSlaPublic(
                ticket_id=ticket_id,
                state=SlaState.NONE.value,
                live=True,
                time_zone=None,
                sla_definition_id=None,
                escalation_policy_version_id=None,
                clocks=[],
            )
    if carry is not None:
        return _live_sla(ticket_id, carry, now)
    rows = session.exec(select(TicketSla).where(TicketSla.ticket_id == ticket_id)).all()
    clocks = [
        _clock_public(r.kind, r.target_minutes, r.state, r.due_at, r.used_seconds, r.paused_seconds, r.stopped_at)
        for r in rows
    ]
    return TicketSlaPublic(
        ticket_id=ticket_id,
        state=ticket.sla_state or SlaState.NONE.value,
        live=False,
        time_zone=None,
        sla_definition_id=None,
        escalation_policy_version_id=None,
        clocks=clocks,
    )


@router.post(
    "/{ticket_id}/sla/repin",
    response_model=SlaRepinPublic,
    summary="Apply the SLA calendar, definition and escalation policy in force now to this running ticket",
    description="A ticket keeps the SLA context it started with; after an edit of its calendar, SLA definition or "
    "policy, this moves it onto the current one. Business time used so far stays; levels that fired stay fired. "
    "Recorded as an internal ticket event (msp_admin).",
)
async def repin_sla(
    ticket_id: UUID, principal: MspAdmin, session: SessionDep, temporal: TemporalDep, now: NowDep
) -> SlaRepinPublic:
    ticket = _load(session, ticket_id, principal)
    session.commit()
    result = await update_ticket(
        temporal, ticket.id, TicketWorkflow.repin_sla, RepinSlaRequest(actor=_actor(principal))
    )
    # The answer carries the clock the workflow holds now: no second round trip to ask for it.
    return SlaRepinPublic(changed=result.changed, reason=result.reason, sla=_live_sla(ticket_id, result.carry, now))


def _live_sla(ticket_id: UUID, carry: SlaCarry, now: datetime) -> TicketSlaPublic:
    """The running clock as of `now`, computed from what the workflow holds."""
    _, live = sla_plan(carry.context, carry.clocks, now)
    clocks = [
        _clock_public(v.kind.value, v.target_minutes, v.state, v.due_at, v.used_seconds, v.paused_seconds, v.stopped_at)
        for v in live.clocks
    ]
    return TicketSlaPublic(
        ticket_id=ticket_id,
        state=live.state.value,
        live=True,
        time_zone=carry.context.calendar.time_zone,
        sla_definition_id=carry.context.definition_id,
        escalation_policy_version_id=carry.context.policy_version_id,
        clocks=clocks,
    )


def _clock_public(kind: str, target: int, state: str, due_at, used: int, paused: int, stopped_at) -> SlaClockPublic:  # noqa: ANN001
    stopped = stopped_at is not None
    return SlaClockPublic(
        kind=kind,
        target_minutes=target,
        state=state,
        due_at=due_at,
        business_minutes_used=used // 60,
        business_minutes_remaining=target - used // 60,
        paused_minutes=paused // 60,
        stopped_at=stopped_at,
        met=(used <= target * 60) if stopped else None,
    )


@router.get("/{ticket_id}/events", response_model=Page[TicketEventPublic], summary="The ticket's history")
def list_events(
    ticket_id: UUID,
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[list[EventKind] | None, Query()] = None,
):
    _load(session, ticket_id, principal)
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if principal.role.is_customer_side:
        query = query.where(TicketEvent.visibility == Visibility.PUBLIC)
    if kind:
        query = query.where(col(TicketEvent.kind).in_(kind))
    query = query.order_by(col(TicketEvent.at), col(TicketEvent.id))
    return paginate(session, query, page, lambda e: TicketEventPublic.model_validate(e, from_attributes=True))


async def _send(session: Session, temporal, ticket: Ticket, update, request) -> TicketPublic:  # noqa: ANN001
    session.commit()
    await update_ticket(temporal, ticket.id, update, request)  # a refusal or no answer becomes a 409 or 503
    session.expire_all()
    return _public(session.get(Ticket, ticket.id))


@router.post("/{ticket_id}/transitions", response_model=TicketPublic, summary="Change the status")
async def transition(
    ticket_id: UUID, body: TransitionBody, principal: Writer, session: SessionDep, temporal: TemporalDep
):
    ticket = _load(session, ticket_id, principal)
    req = TransitionRequest(actor=_actor(principal), to_status=body.to_status, note=body.note)
    return await _send(session, temporal, ticket, TicketWorkflow.transition, req)


@router.post("/{ticket_id}/comments", response_model=TicketPublic, status_code=201, summary="Reply or add a note")
async def comment(ticket_id: UUID, body: CommentBody, principal: Writer, session: SessionDep, temporal: TemporalDep):
    ticket = _load(session, ticket_id, principal)
    if body.visibility == Visibility.INTERNAL and principal.role.is_customer_side:
        # Customer IT shares the ticket, not the MSP's internal notes: it could not read what it wrote.
        raise Problem(403, "customer roles write public replies only; internal notes are the MSP's")
    req = CommentRequest(actor=_actor(principal), body=body.body, visibility=body.visibility)
    return await _send(session, temporal, ticket, TicketWorkflow.comment, req)


@router.put("/{ticket_id}/assignee", response_model=TicketPublic, summary="Assign or unassign")
async def assign(
    ticket_id: UUID, body: AssignBody, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    ticket = _load(session, ticket_id, principal)
    if body.assignee_user_id is not None:
        _check_tenant_user(session, body.assignee_user_id, ticket.tenant_id, "assignee_user_id", agents_only=True)
    req = AssignRequest(actor=_actor(principal), assignee_user_id=body.assignee_user_id)
    return await _send(session, temporal, ticket, TicketWorkflow.assign, req)


@router.put("/{ticket_id}/priority", response_model=TicketPublic, summary="Change the priority")
async def change_priority(
    ticket_id: UUID, body: PriorityBody, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    ticket = _load(session, ticket_id, principal)
    req = PriorityRequest(actor=_actor(principal), priority=body.priority, reason=body.reason)
    return await _send(session, temporal, ticket, TicketWorkflow.change_priority, req)


@router.post("/{ticket_id}/time-entries", response_model=TicketPublic, status_code=201, summary="Log time")
async def log_time(
    ticket_id: UUID, body: TimeEntryCreate, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    ticket = _load(session, ticket_id, principal)
    user_id = body.user_id or principal.user_id
    if user_id != principal.user_id:
        if principal.role != Role.MSP_ADMIN:
            raise Problem(403, "only msp_admin may log time for another user")
        _check_tenant_user(session, user_id, ticket.tenant_id, "user_id", agents_only=True)
    req = TimeEntryRequest(
        actor=_actor(principal),
        user_id=user_id,
        started_at=body.started_at,
        minutes=body.minutes,
        billable=body.billable,
        activity_type=body.activity_type,
        note=body.note,
    )
    return await _send(session, temporal, ticket, TicketWorkflow.log_time, req)


@router.get("/{ticket_id}/time-entries", response_model=Page[TimeEntryPublic], summary="Time logged on a ticket")
def list_time(ticket_id: UUID, principal: TimeReader, session: SessionDep, page: PageDep):
    _load(session, ticket_id, principal)
    query = select(TimeEntry).where(TimeEntry.ticket_id == ticket_id).order_by(col(TimeEntry.started_at))
    return paginate(session, query, page, lambda t: TimeEntryPublic.model_validate(t, from_attributes=True))
