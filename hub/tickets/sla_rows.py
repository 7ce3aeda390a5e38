"""The `ticket_sla` rows of a ticket's clocks and its SLA state, written by statements built once (every change
that feeds the clock writes them): at the opening (`insert_sla`) and on every later step (`write_sla`)."""

from uuid import UUID

from sqlalchemy import Connection, bindparam, insert, update

from domain.contracts.tickets import RecordSla
from domain.sla import AdvanceRequest, AdvanceResult
from models import Ticket, TicketSla


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
