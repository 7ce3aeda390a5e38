"""SLA activities: run the clock (a local activity: pure, recorded in history), and
keep the per-ticket SLA records that the API and reports read."""

from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from domain.contracts.tickets import RecordSla, RepinCandidates, RepinRequest, RepinResult, SlaActivity, SlaStep
from domain.sla import (
    AdvanceResult,
    LoadSlaContext,
    SlaCarry,
    SlaContext,
    advance,
    plan,
    repin,
)
from domain.tickets import EventKind, TicketStatus, Visibility
from hub.db import session_scope, write_transaction
from hub.logging import get_logger
from hub.tickets.sla_rows import recorded, write_sla
from models import Ticket, TicketEvent
from models.sla_context import resolve_context

log = get_logger(__name__)


class SlaActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=SlaActivity.ADVANCE)
    def advance(self, step: SlaStep) -> AdvanceResult:
        """Feed the clock and write its new state; run as a local activity, so the answer is recorded in history
        and a replay never recomputes it. Idempotent: the clock is a pure function of the request, a retry writes
        the same values."""
        result = advance(step.advance)
        with write_transaction(self.engine) as conn:
            write_sla(conn, recorded(step.ticket_id, step.tenant_id, step.advance, result))
        log.info(
            "sla recorded",
            ticket_id=str(step.ticket_id),
            tenant_id=str(step.tenant_id),
            sla_state=result.plan.state.value,
            workflow_id=activity.info().workflow_id,
        )
        return result

    @activity.defn(name=SlaActivity.LIST_REPIN_CANDIDATES)
    def list_repin_candidates(self, req: RepinCandidates) -> list[UUID]:
        """One page of open tickets with an SLA clock, in id order (the batch's cursor)."""
        query = select(Ticket.id).where(Ticket.status != TicketStatus.CLOSED, col(Ticket.sla_state).is_not(None))
        if req.tenant_id is not None:
            query = query.where(Ticket.tenant_id == req.tenant_id)
        if req.after_ticket_id is not None:
            query = query.where(Ticket.id > req.after_ticket_id)
        with Session(self.engine) as session:
            return list(session.exec(query.order_by(Ticket.id).limit(req.limit)))

    @activity.defn(name=SlaActivity.REPIN)
    def repin(self, req: RepinRequest) -> RepinResult:
        """Load the context in force now and move the ticket's clocks onto it, with an audit event; run as a
        local activity. Idempotent: a retry finds its event and answers from the recorded outcome."""
        old = req.carry.context
        with session_scope(self.engine) as session:
            done = session.get(TicketEvent, req.event_id)
            new = resolve_context(
                session,
                LoadSlaContext(
                    tenant_id=req.tenant_id, customer_number=req.customer_number, category=req.category, at=req.at
                ),
            )
            if new is None:
                return RepinResult(changed=False, carry=req.carry, reason="für diesen Kunden gilt kein SLA mehr")
            if new == old and done is None:
                return RepinResult(changed=False, carry=req.carry, reason="das SLA des Tickets ist bereits aktuell")
            clocks, sla_plan = plan(new, repin(old, new, req.carry.clocks, req.at), req.at)
            if done is None:
                write_sla(
                    session.connection(),
                    RecordSla(
                        ticket_id=req.ticket_id, tenant_id=req.tenant_id, clocks=clocks, plan=sla_plan, at=req.at
                    ),
                )
                session.add(
                    TicketEvent(
                        id=req.event_id,
                        ticket_id=req.ticket_id,
                        tenant_id=req.tenant_id,
                        kind=EventKind.SLA_REPINNED,
                        at=req.at,
                        actor_user_id=req.actor_user_id,
                        visibility=Visibility.INTERNAL,
                        body=_repin_note(old, new),
                        data={"from": _pin(old), "to": _pin(new)},
                    )
                )
        log.info("sla repinned", ticket_id=str(req.ticket_id), tenant_id=str(req.tenant_id), to=_pin(new))
        return RepinResult(changed=True, carry=SlaCarry(context=new, clocks=clocks, plan=sla_plan))


def _pin(ctx: SlaContext) -> dict:
    return {
        "sla_definition_id": str(ctx.definition_id) if ctx.definition_id else None,
        "escalation_policy_version_id": str(ctx.policy_version_id) if ctx.policy_version_id else None,
        "time_zone": ctx.calendar.time_zone,
    }


def _repin_note(old: SlaContext, new: SlaContext) -> str:
    parts = []
    if old.definition != new.definition or old.definition_id != new.definition_id:
        parts.append(f"SLA-Definition '{old.definition.name}' -> '{new.definition.name}'")
    if old.calendar != new.calendar:
        parts.append("Geschäftszeiten-Kalender aktualisiert")
    if old.policy_version_id != new.policy_version_id or old.policy != new.policy:
        parts.append("Eskalationsrichtlinie: neue Version")
    return "SLA neu zugeordnet (bisher verbrauchte Zeit bleibt): " + ("; ".join(parts) or "Kontext aktualisiert") + "."


__all__ = ["SlaActivities"]
