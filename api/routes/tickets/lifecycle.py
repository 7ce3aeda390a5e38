"""Opening, listing and reading tickets, and the changes of status, assignee and priority."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlmodel import Session, col, or_, select

from api.deps import (
    AnyUser,
    MspStaff,
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
from api.problems import Problem
from api.routes.tickets.access import (
    actor,
    check_tenant_user,
    check_ticket_queue,
    load_ticket,
    send_update,
    ticket_public,
    visible,
)
from api.schemas.common import SearchText, contains, field_error, filter_time
from api.schemas.queues import TicketQueueBody
from api.schemas.tickets import (
    AssignBody,
    CoManagedBody,
    PriorityBody,
    TicketCreate,
    TicketPublic,
    TransitionBody,
)
from domain.contracts.tickets import (
    AssignRequest,
    CoManagedRequest,
    NewTicket,
    PriorityRequest,
    QueueRequest,
    TransitionRequest,
)
from domain.roles import Role
from domain.sla import SlaState
from domain.tickets import Priority, TicketStatus
from hub.logging import get_logger
from hub.temporal.errors import WorkflowUnavailable
from hub.temporal.tickets import wait_opened
from hub.tickets.intake import open_ticket
from models import Tenant, Ticket
from workflows.tickets.ticket import TicketWorkflow

log = get_logger(__name__)
router = APIRouter()

WRITERS = (Role.MSP_ADMIN, Role.MSP_TECH, Role.CUSTOMER_IT, Role.CUSTOMER_USER)
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
# Who changes the status of a ticket it sees: external technicians work the tickets of their queues.
Worker = Annotated[Principal, Depends(require_roles(*WRITERS, Role.EXTERNAL_TECH))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)]


def _fingerprint(tenant_id: UUID, body: TicketCreate) -> str:
    # The resolved tenant, not how it was named: a retry by customer number matches a first try by id.
    fields = body.model_dump(mode="json", exclude={"tenant_id", "customer_number"})
    canonical = json.dumps({"tenant_id": str(tenant_id), **fields}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _ticket_tenant(session: Session, principal: Principal, body: TicketCreate) -> Tenant:
    """The customer a new ticket is for, named by id or by customer number (customers: their own only)."""
    if body.customer_number is not None:
        tenant = session.exec(select(Tenant).where(Tenant.customer_number == body.customer_number)).one_or_none()
        if tenant is None or not (principal.is_msp or tenant.id == principal.tenant_id):
            raise field_error("customer_number", f"no customer with the number {body.customer_number}")
        return tenant
    if principal.is_msp and body.tenant_id is None:
        raise field_error("tenant_id", "required for MSP users (or give customer_number)")
    tenant_id = resolve_tenant_id(principal, body.tenant_id)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise field_error("tenant_id", f"no tenant {tenant_id}")
    return tenant


@router.post(
    "",
    status_code=201,
    response_model=TicketPublic,
    summary="Open a ticket (idempotent with the Idempotency-Key header)",
)
async def create_ticket(
    body: TicketCreate,
    principal: Writer,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    now: NowDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
):
    """The ticket and its SLA clock are committed before its workflow starts: a 201 means the ticket is durable,
    also while Temporal is away (its workflow then starts within a minute of Temporal's return, by the sweep)."""
    tenant = _ticket_tenant(session, principal, body)
    tenant_id = tenant.id
    if body.co_managed is not None and not principal.is_msp:
        raise Problem(403, "co_managed: only MSP staff decide what the customer's IT shares")
    check_ticket_queue(session, body.queue, tenant_id)
    requester = body.requester_user_id or (principal.user_id if not principal.is_msp else None)
    if requester is not None:
        check_tenant_user(session, requester, tenant_id, "requester_user_id", agents_only=False)
    fingerprint = _fingerprint(tenant_id, body)
    if idempotency_key:
        ticket_id = uuid.uuid5(uuid.NAMESPACE_URL, f"psa:ticket:{tenant_id}:{idempotency_key}")
        existing = session.get(Ticket, ticket_id)
        if existing is not None:
            if existing.idempotency_fingerprint != fingerprint:
                raise Problem(409, "Idempotency-Key was already used for a different ticket request")
            response.headers["Idempotent-Replayed"] = "true"
            return ticket_public(existing)
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
        queue=body.queue,
        requester_user_id=requester,
        created_by_user_id=principal.user_id,
        co_managed=body.co_managed,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=fingerprint,
        reopen_days=settings.ticket_reopen_days,
    )
    session.commit()  # end the read transaction
    engine = session.get_bind()
    try:
        opened = await open_ticket(engine, temporal, new, at=now)
    except WorkflowUnavailable as err:
        # The row and its SLA clock are committed: the ticket is durable, the sweep starts its workflow.
        log.warning("ticket stored, its workflow not started yet", ticket_id=str(ticket_id), error=str(err))
    else:
        if opened.routing is not None:
            try:
                await wait_opened(temporal, ticket_id)  # answer with the ticket as the customer's RACI matrix routed it
            except WorkflowUnavailable as err:
                log.warning("ticket stored, not yet routed", ticket_id=str(ticket_id), error=str(err))
    session.expire_all()
    created = session.get(Ticket, ticket_id)
    response.headers["Location"] = f"/api/v1/tickets/{ticket_id}"
    return ticket_public(created)


@router.get("", response_model=Page[TicketPublic], summary="List tickets visible to the caller")
def list_tickets(
    principal: AnyUser,
    session: SessionDep,
    page: PageDep,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    tenant_id: UUID | None = None,
    customer_number: Annotated[str | None, Query(max_length=32, description="The customer's number")] = None,
    assignee_user_id: UUID | None = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    customer_it_holds: Annotated[bool | None, Query(description="Held by the customer's IT (true) or the MSP")] = None,
    sla_state: Annotated[list[SlaState] | None, Query(description="e.g. breached")] = None,
    q: Annotated[SearchText | None, Query(description="Text in title or ticket number")] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
):
    query = visible(select(Ticket), principal)
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
    if customer_it_holds is not None:
        query = query.where(Ticket.customer_it_holds == customer_it_holds)
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
    return paginate(session, query, page, ticket_public)


@router.get("/{ticket_id}", response_model=TicketPublic)
def get_ticket(ticket_id: UUID, principal: AnyUser, session: SessionDep):
    return ticket_public(load_ticket(session, ticket_id, principal))


@router.post("/{ticket_id}/transitions", response_model=TicketPublic, summary="Change the status")
async def transition(
    ticket_id: UUID, body: TransitionBody, principal: Worker, session: SessionDep, temporal: TemporalDep
):
    ticket = load_ticket(session, ticket_id, principal)
    req = TransitionRequest(actor=actor(principal), to_status=body.to_status, note=body.note)
    return await send_update(session, temporal, ticket, TicketWorkflow.transition, req)


@router.put("/{ticket_id}/assignee", response_model=TicketPublic, summary="Assign or unassign")
async def assign(
    ticket_id: UUID, body: AssignBody, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    ticket = load_ticket(session, ticket_id, principal)
    if body.assignee_user_id is not None:
        check_tenant_user(
            session, body.assignee_user_id, ticket.tenant_id, "assignee_user_id", agents_only=True, ticket_id=ticket.id
        )
    req = AssignRequest(actor=actor(principal), assignee_user_id=body.assignee_user_id)
    return await send_update(session, temporal, ticket, TicketWorkflow.assign, req)


@router.put("/{ticket_id}/queue", response_model=TicketPublic, summary="Move to a queue (the queue holds it)")
async def change_queue(
    ticket_id: UUID, body: TicketQueueBody, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    ticket = load_ticket(session, ticket_id, principal)
    check_ticket_queue(session, body.queue, ticket.tenant_id)
    req = QueueRequest(actor=actor(principal), queue=body.queue)
    return await send_update(session, temporal, ticket, TicketWorkflow.change_queue, req)


@router.put(
    "/{ticket_id}/co-managed",
    response_model=TicketPublic,
    summary="Share the ticket with the customer's IT, or stop sharing it (MSP staff)",
)
async def set_co_managed(
    ticket_id: UUID, body: CoManagedBody, principal: MspStaff, session: SessionDep, temporal: TemporalDep
):
    ticket = load_ticket(session, ticket_id, principal)
    if ticket.co_managed == body.co_managed:
        return ticket_public(ticket)
    req = CoManagedRequest(actor=actor(principal), co_managed=body.co_managed, reason=body.reason)
    return await send_update(session, temporal, ticket, TicketWorkflow.set_co_managed, req)


@router.put("/{ticket_id}/priority", response_model=TicketPublic, summary="Change the priority")
async def change_priority(
    ticket_id: UUID, body: PriorityBody, principal: MspStaffOrCustomerIt, session: SessionDep, temporal: TemporalDep
):
    ticket = load_ticket(session, ticket_id, principal)
    req = PriorityRequest(actor=actor(principal), priority=body.priority, reason=body.reason)
    return await send_update(session, temporal, ticket, TicketWorkflow.change_priority, req)
