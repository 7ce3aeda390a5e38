"""The start sweep's activity (`tickets.start_pending`, run by the schedule `ticket-start-sweep` every minute): the
workflow of each ticket whose row was written but whose start Temporal has not confirmed (`hub.tickets.intake`)."""

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client

from domain.contracts.tickets import TicketActivity
from hub.logging import get_logger
from hub.temporal.errors import WorkflowUnavailable
from hub.tickets.intake import PENDING_GRACE, SWEEP_BATCH, SWEEP_BUDGET, open_ticket, pending_tickets

log = get_logger(__name__)


class TicketIntakeActivities:
    def __init__(self, engine: Engine, client: Client, reopen_days: int):
        self.engine = engine
        self.client = client
        self.reopen_days = reopen_days

    @activity.defn(name=TicketActivity.START_PENDING)
    async def start_pending(self) -> int:
        """Start the workflow of each ticket whose row was written but whose start was not confirmed, page by page
        for up to `SWEEP_BUDGET` (a backlog after a long outage takes several sweeps); the number started. Temporal
        away: the activity fails and the next sweep tries again. A ticket that cannot be started (its data refused)
        is logged and skipped, so it never holds the others up."""
        cutoff = datetime.now(UTC) - PENDING_GRACE
        deadline = time.monotonic() + SWEEP_BUDGET.total_seconds()
        started, after = 0, None
        while time.monotonic() < deadline:
            page = await asyncio.to_thread(pending_tickets, self.engine, cutoff, SWEEP_BATCH, self.reopen_days, after)
            for ticket, created_at in page:
                try:
                    # As it was opened: the same row (found) and clock (from its created_at), then the start.
                    await open_ticket(self.engine, self.client, ticket, at=created_at)
                except WorkflowUnavailable:
                    raise
                except Exception as err:  # noqa: BLE001 - one ticket's fault must not stop the sweep
                    log.error("ticket workflow not started", ticket_id=str(ticket.ticket_id), error=str(err))
                    continue
                started += 1
                log.warning("ticket workflow started by the sweep", ticket_id=str(ticket.ticket_id))
            activity.heartbeat(started)
            if len(page) < SWEEP_BATCH:
                break
            after = (page[-1][1], page[-1][0].ticket_id)
        return started
