"""SLA activities: run the clock (a local activity: pure, recorded in history), and
keep the per-ticket SLA records that the API and reports read."""

from uuid import UUID

from sqlalchemy import Connection, Engine, bindparam, insert, update
from sqlmodel import Session, col, select
from temporalio import activity

from domain.contracts.tickets import RecordSla, RepinCandidates, RepinRequest, RepinResult, SlaActivity, SlaStep
from domain.sla import (
    AdvanceRequest,
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
from models import Ticket, TicketEvent, TicketSla
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


def _clock_values(req: RecordSla) -> list[dict]:
    """The `ticket_sla` columns of each clock of the plan."""
    rows = []
    for view in req.plan.clocks:
        stopped = view.stopped_at is not None
        rows.append(
            {
                "ticket_id": req.ticket_id,
                "kind": view.kind.value,
                "tenant_id": req.tenant_id,
                "target_minutes": view.target_minutes,
                "state": view.state,
                "due_at": view.due_at,
                "used_seconds": view.used_seconds,
                "paused_seconds": view.paused_seconds,
                "customer_it_seconds": view.customer_it_seconds,
                "running_since": view.running_since,
                "stopped_at": view.stopped_at,
                "cycle": req.clocks.clocks[view.kind].cycle,
                "met": (view.state == "met") if stopped else None,
                "diff_minutes": view.target_minutes - view.used_seconds // 60 if stopped else None,
                "updated_at": req.at,
            }
        )
    return rows


_CLOCKS = TicketSla.__table__
_INSERT_CLOCKS = insert(_CLOCKS)
# Built once (bind parameters): every change that feeds the clock runs these. Each names the columns it sets in the
# execute parameters; the key columns are bound under other names.
_UPDATE_CLOCK = update(_CLOCKS).where(
    _CLOCKS.c.ticket_id == bindparam("key_ticket_id"), _CLOCKS.c.kind == bindparam("key_kind")
)
_UPDATE_SLA_STATE = update(Ticket.__table__).where(Ticket.__table__.c.id == bindparam("key_ticket_id"))


def insert_sla(conn: Connection, req: RecordSla) -> None:
    """The clock rows of a ticket inserted in this very transaction (its opening), which has none yet."""
    if rows := _clock_values(req):
        conn.execute(_INSERT_CLOCKS, rows)


def write_sla(conn: Connection, req: RecordSla, ticket_state: bool = True) -> None:
    """Upsert the clocks' latest state and (unless the caller writes the ticket row itself) the ticket's SLA state;
    re-running writes the same values. Statements, not ORM loads: this runs for every change of a ticket."""
    for values in _clock_values(req):
        changed = {k: v for k, v in values.items() if k not in ("ticket_id", "kind")}
        keys = {"key_ticket_id": values["ticket_id"], "key_kind": values["kind"]}
        if conn.execute(_UPDATE_CLOCK, changed | keys).rowcount == 0:
            conn.execute(_INSERT_CLOCKS, values)  # a target the ticket did not have yet (e.g. a new priority's)
    if ticket_state:
        conn.execute(_UPDATE_SLA_STATE, {"key_ticket_id": req.ticket_id, "sla_state": req.plan.state.value})


def recorded(ticket_id: UUID, tenant_id: UUID, req: AdvanceRequest, result: AdvanceResult) -> RecordSla:
    """What to write of a clock fed by `req`."""
    return RecordSla(ticket_id=ticket_id, tenant_id=tenant_id, clocks=result.clocks, plan=result.plan, at=req.now)


__all__ = ["SlaActivities", "insert_sla", "recorded", "write_sla"]
