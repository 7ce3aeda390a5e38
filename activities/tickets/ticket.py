"""Activities of the ticket lifecycle: every write is idempotent, keyed by ids the workflow chose."""


from sqlalchemy import Engine, bindparam, insert, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.contracts.tickets import (
    TicketActivity,
    TicketChange,
)
from domain.sla import (
    AdvanceResult,
    advance,
)
from hub.db import write_transaction
from hub.logging import get_logger
from hub.tickets.sla_rows import recorded, write_sla
from models import Ticket, TicketEvent, TimeEntry
from models.base import utcnow

log = get_logger(__name__)
_INSERT_EVENT = insert(TicketEvent.__table__)
_INSERT_TIME_ENTRY = insert(TimeEntry.__table__)
_EVENT_EXISTS = select(TicketEvent.__table__.c.id).where(TicketEvent.__table__.c.id == bindparam("id"))
# Sets the columns named in the execute parameters; the key is bound under another name.
_UPDATE_TICKET = update(Ticket.__table__).where(Ticket.__table__.c.id == bindparam("key_id"))


def _refused(err: BaseException) -> str | None:
    """The reason when `err` is the data's fault (a value out of range, invalid text); None for errors that heal."""
    if isinstance(err, DataError):
        return (str(err.orig).strip().splitlines() or ["a value is out of range or invalid"])[0]
    if isinstance(err, StatementError) and not isinstance(err, DBAPIError):
        err = err.orig  # a value SQLAlchemy could not bind, e.g. a time with no UTC equivalent
    if isinstance(err, (OverflowError, ValueError)):
        return str(err)
    return None


class TicketActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=TicketActivity.APPLY_CHANGE)
    def apply_change(self, change: TicketChange) -> AdvanceResult | None:
        """The change and, if it feeds the SLA clock, the clock's new state: one transaction. Idempotent: the
        event's id is the key, and the clock is a pure function of the request (a retry answers the same)."""
        sla = advance(change.sla) if change.sla is not None else None
        try:
            self._apply(change, sla)
        except IntegrityError:
            # A concurrent attempt of this very activity wrote first; its write is ours.
            with Session(self.engine) as session:
                if session.get(TicketEvent, change.event_id) is None:
                    raise
        except (StatementError, OverflowError, ValueError) as err:
            reason = _refused(err)
            if reason is None:
                raise  # the database is away or busy: a retry heals that
            # Retrying the same data fails the same way, and would hold every later change of the ticket.
            raise ApplicationError(
                f"the database refused the {change.kind.value} change of ticket {change.ticket_id}: {reason}",
                type="TicketDataRefused",
                non_retryable=True,
            ) from err
        return sla

    def _apply(self, change: TicketChange, sla: AdvanceResult | None) -> None:
        """Event, ticket columns, time entry and SLA clocks in one transaction, by statements built once: this runs
        for every change of every ticket (the ORM's loads and unit of work cost more than the statements)."""
        with write_transaction(self.engine) as conn:
            if conn.execute(_EVENT_EXISTS, {"id": change.event_id}).first() is not None:
                return  # already applied by an earlier attempt
            columns = {
                "status": change.status,
                "priority": change.priority,
                "assignee_user_id": change.assignee_user_id,
                "queue": change.queue,
                "resolved_at": change.resolved_at,
                "closed_at": change.closed_at,
                "updated_at": change.at,
            }
            if change.co_managed is not None:
                columns["co_managed"] = change.co_managed
            if change.customer_it_holds is not None:
                columns["customer_it_holds"] = change.customer_it_holds
            if sla is not None:
                columns["sla_state"] = sla.plan.state.value
            if conn.execute(_UPDATE_TICKET, columns | {"key_id": change.ticket_id}).rowcount == 0:
                raise ApplicationError(
                    f"ticket {change.ticket_id} does not exist", type="TicketNotFound", non_retryable=True
                )
            conn.execute(
                _INSERT_EVENT,
                {
                    "id": change.event_id,
                    "ticket_id": change.ticket_id,
                    "tenant_id": change.tenant_id,
                    "kind": change.kind,
                    "at": change.at,
                    "actor_user_id": change.actor_user_id,
                    "visibility": change.visibility,
                    "body": change.body,
                    "data": change.data,
                },
            )
            if change.time_entry is not None:
                te = change.time_entry
                conn.execute(
                    _INSERT_TIME_ENTRY,
                    {
                        "id": change.event_id,
                        "ticket_id": change.ticket_id,
                        "tenant_id": change.tenant_id,
                        "user_id": te.user_id,
                        "started_at": te.started_at,
                        "minutes": te.minutes,
                        "billable": te.billable,
                        "activity_type": te.activity_type,
                        "note": te.note,
                        "created_at": utcnow(),
                        "invoice_id": None,
                    },
                )
            if sla is not None:
                write_sla(conn, recorded(change.ticket_id, change.tenant_id, change.sla, sla), ticket_state=False)
        log.info(
            "ticket changed",
            ticket_id=str(change.ticket_id),
            tenant_id=str(change.tenant_id),
            kind=change.kind.value,
            workflow_id=activity.info().workflow_id,
        )
