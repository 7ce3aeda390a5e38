"""A ticket's SLA clocks, read live from its workflow (or as recorded once it ended), and re-pinning them."""

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from sqlmodel import select
from temporalio.service import RPCError

from api.deps import (
    AnyUser,
    MspAdmin,
    NowDep,
    SessionDep,
    TemporalDep,
)
from api.routes.tickets.access import actor, load_ticket
from api.schemas.tickets import (
    SlaClockPublic,
    SlaRepinPublic,
    TicketSlaPublic,
)
from domain.contracts.tickets import (
    RepinSlaRequest,
)
from domain.sla import SlaCarry, SlaState
from domain.sla import plan as sla_plan
from hub.temporal.errors import WorkflowRejected, WorkflowUnavailable
from hub.temporal.tickets import query_sla, update_ticket
from models import TicketSla
from workflows.tickets.ticket import TicketWorkflow

router = APIRouter()


@router.get("/{ticket_id}/sla", response_model=TicketSlaPublic, summary="SLA clocks: due times, time left, state")
async def get_sla(ticket_id: UUID, principal: AnyUser, session: SessionDep, temporal: TemporalDep, now: NowDep):
    ticket = load_ticket(session, ticket_id, principal)
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
        _clock_public(
            r.kind,
            r.target_minutes,
            r.state,
            r.due_at,
            r.used_seconds,
            r.paused_seconds,
            r.stopped_at,
            r.customer_it_seconds,
        )
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
    ticket = load_ticket(session, ticket_id, principal)
    session.commit()
    result = await update_ticket(temporal, ticket.id, TicketWorkflow.repin_sla, RepinSlaRequest(actor=actor(principal)))
    # The answer carries the clock the workflow holds now: no second round trip to ask for it.
    return SlaRepinPublic(changed=result.changed, reason=result.reason, sla=_live_sla(ticket_id, result.carry, now))


def _live_sla(ticket_id: UUID, carry: SlaCarry, now: datetime) -> TicketSlaPublic:
    """The running clock as of `now`, computed from what the workflow holds."""
    _, live = sla_plan(carry.context, carry.clocks, now)
    clocks = [
        _clock_public(
            v.kind.value,
            v.target_minutes,
            v.state,
            v.due_at,
            v.used_seconds,
            v.paused_seconds,
            v.stopped_at,
            v.customer_it_seconds,
        )
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


def _clock_public(
    kind: str,
    target: int,
    state: str,
    due_at,
    used: int,
    paused: int,
    stopped_at,  # noqa: ANN001
    customer_it: int = 0,
) -> SlaClockPublic:
    stopped = stopped_at is not None
    return SlaClockPublic(
        kind=kind,
        target_minutes=target,
        state=state,
        due_at=due_at,
        business_minutes_used=used // 60,
        business_minutes_remaining=target - used // 60,
        paused_minutes=paused // 60,
        customer_it_minutes=customer_it // 60,
        stopped_at=stopped_at,
        met=(used <= target * 60) if stopped else None,
    )
