"""SLA activities: load the pinned context, run the clock (a local activity: pure, recorded in history), and
keep the per-ticket SLA records that the API and reports read."""

from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select
from temporalio import activity

from domain.business_calendar import CalendarSpec
from domain.escalation import EscalationPolicyDocument
from domain.sla import (
    AdvanceRequest,
    AdvanceResult,
    LoadSlaContext,
    RecordSla,
    RepinRequest,
    RepinResult,
    SlaActivity,
    SlaCarry,
    SlaContext,
    SlaDefinition,
    advance,
    plan,
    repin,
)
from domain.sla_repin import LIST_REPIN_CANDIDATES, RepinCandidates
from domain.tickets import EventKind, TicketStatus, Visibility
from hub.db import session_scope
from hub.logging import get_logger
from models import (
    BusinessCalendarRow,
    Contract,
    EscalationPolicy,
    EscalationPolicyVersion,
    SlaDefinitionRow,
    Tenant,
    Ticket,
    TicketEvent,
    TicketSla,
)

log = get_logger(__name__)


def resolve_context(session: Session, req: LoadSlaContext) -> SlaContext | None:
    """Contract (in force at `at`) -> its SLA definition and calendar; else the MSP default definition and the
    tenant's calendar (or Mon-Fri 08-17 with its regional holidays)."""
    tenant = session.get(Tenant, req.tenant_id)
    if tenant is None:
        return None
    day = req.at.date()
    contract = session.exec(
        select(Contract)
        .where(Contract.tenant_id == tenant.id, col(Contract.start_date) <= day)
        .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= day))
        .where(col(Contract.sla_definition_id).is_not(None))
        .order_by(col(Contract.start_date).desc())
    ).first()
    definition_row = session.get(SlaDefinitionRow, contract.sla_definition_id) if contract else None
    if definition_row is None:
        definition_row = session.exec(select(SlaDefinitionRow).where(SlaDefinitionRow.is_default)).first()
    if definition_row is None:
        return None
    calendar_id = (contract.calendar_id if contract else None) or tenant.calendar_id
    calendar_row = session.get(BusinessCalendarRow, calendar_id) if calendar_id else None
    calendar = (
        CalendarSpec.model_validate(calendar_row.spec)
        if calendar_row
        else CalendarSpec.standard_dach(tenant.country, tenant.subdivision, tenant.time_zone)
    )
    policy = version = None
    if definition_row.escalation_policy_id:
        pol = session.get(EscalationPolicy, definition_row.escalation_policy_id)
        version = session.get(EscalationPolicyVersion, pol.active_version_id) if pol and pol.active_version_id else None
        policy = EscalationPolicyDocument.model_validate(version.document) if version else None
    return SlaContext(
        definition=SlaDefinition.model_validate(definition_row.document),
        calendar=calendar,
        policy=policy,
        definition_id=definition_row.id,
        policy_version_id=version.id if version else None,
        customer_number=req.customer_number,
        category=req.category,
    )


class SlaActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=SlaActivity.LOAD_CONTEXT)
    def load_context(self, req: LoadSlaContext) -> SlaContext | None:
        with Session(self.engine) as session:
            return resolve_context(session, req)

    @activity.defn(name=SlaActivity.RECORD)
    def record(self, req: RecordSla) -> None:
        with session_scope(self.engine) as session:
            write_sla(session, req)
        log.info(
            "sla recorded",
            ticket_id=str(req.ticket_id),
            tenant_id=str(req.tenant_id),
            sla_state=req.plan.state.value,
            workflow_id=activity.info().workflow_id,
        )


    @activity.defn(name=LIST_REPIN_CANDIDATES)
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
                    session,
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


def write_sla(session: Session, req: RecordSla) -> None:
    """Upsert the clocks' latest state and the ticket's SLA state; re-running writes the same values."""
    for view in req.plan.clocks:
        kind, clock = view.kind.value, req.clocks.clocks[view.kind]
        stopped = view.stopped_at is not None
        row = session.get(TicketSla, (req.ticket_id, kind)) or TicketSla(
            ticket_id=req.ticket_id,
            kind=kind,
            tenant_id=req.tenant_id,
            target_minutes=view.target_minutes,
            state=view.state,
            updated_at=req.at,
        )
        row.target_minutes, row.state, row.due_at = view.target_minutes, view.state, view.due_at
        row.used_seconds, row.paused_seconds = view.used_seconds, view.paused_seconds
        row.running_since, row.stopped_at, row.cycle = view.running_since, view.stopped_at, clock.cycle
        row.met = (view.state == "met") if stopped else None
        row.diff_minutes = view.target_minutes - view.used_seconds // 60 if stopped else None
        row.updated_at = req.at
        session.add(row)
    ticket = session.get(Ticket, req.ticket_id)
    if ticket is not None:
        ticket.sla_state = req.plan.state.value


@activity.defn(name=SlaActivity.ADVANCE)
def advance_clock(req: AdvanceRequest) -> AdvanceResult:
    """Pure computation, run as a local activity so its answer is recorded and replays never recompute it."""
    return advance(req)


__all__ = ["SlaActivities", "advance_clock", "resolve_context"]
