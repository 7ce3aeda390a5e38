"""Temporal worker: serves every task queue of the hub from one process (production may run several)."""

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

from activities.notifications import NotificationActivities
from activities.sla import SlaActivities, advance_clock
from activities.soc import SocActivities
from activities.soc_contain import SocContainActivities
from activities.soc_poll import SocPollActivities
from activities.soc_summary import SocSummaryActivities
from activities.soc_tickets import SocTicketActivities
from activities.tickets import TicketActivities
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.logging import configure_logging, get_logger
from hub.temporal import connect
from workflows.common import SOC_TASK_QUEUE, TICKETS_TASK_QUEUE, workflow_runner
from workflows.incident import IncidentWorkflow
from workflows.sla_repin import SlaRepinBatchWorkflow
from workflows.soc_poller import SocPollerWorkflow
from workflows.ticket import TicketWorkflow

log = get_logger(__name__)

WORKFLOW_TASK_POLLERS = 16
WORKFLOWS_BY_QUEUE = {
    TICKETS_TASK_QUEUE: [TicketWorkflow, SlaRepinBatchWorkflow],
    SOC_TASK_QUEUE: [IncidentWorkflow, SocPollerWorkflow],
}


def build_workers(
    client: Client, engine: Engine, executor: ThreadPoolExecutor, settings: Settings | None = None
) -> list[Worker]:
    """One Worker per task queue."""
    settings = settings or get_settings()
    tickets, sla = TicketActivities(engine), SlaActivities(engine)
    notifications = NotificationActivities(engine, settings)
    soc, contain = SocActivities(engine, settings), SocContainActivities(engine)
    poll = SocPollActivities(engine, client)
    summary = SocSummaryActivities(settings)
    soc_tickets = SocTicketActivities(engine, client)
    activities_by_queue = {
        TICKETS_TASK_QUEUE: [
            tickets.create_record,
            tickets.open,
            tickets.apply_change,
            sla.load_context,
            sla.record,
            sla.repin,
            sla.list_repin_candidates,
            advance_clock,
            notifications.notify,
        ],
        SOC_TASK_QUEUE: [
            soc.record_alert,
            soc.record_alerts,
            soc.record_incident,
            soc.page,
            contain.contain,
            poll.poll_page,
            summary.summarize,
            soc_tickets.open_ticket,
            soc_tickets.note_ticket,
        ],
    }
    return [
        Worker(
            client,
            task_queue=queue,
            workflows=WORKFLOWS_BY_QUEUE[queue],
            activities=activities_by_queue.get(queue, []),
            activity_executor=executor,
            workflow_runner=workflow_runner(),
            # Bursts (a storm of tickets or alerts) wait in the server's queue, not half-done in this process.
            max_concurrent_workflow_tasks=settings.worker_workflow_tasks,
            max_concurrent_local_activities=settings.worker_local_activities,
            # Every new ticket's first task comes from the normal (non-sticky) queue: the SDK default of 5 pollers
            # at a 0.2 ratio leaves one poller for it, and starts queue behind its round trips.
            workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=WORKFLOW_TASK_POLLERS),
            nonsticky_to_sticky_poll_ratio=1.0,
            graceful_shutdown_timeout=timedelta(seconds=20),
        )
        for queue in WORKFLOWS_BY_QUEUE
    ]


async def run_worker(settings: Settings) -> None:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    engine = make_engine(settings.effective_database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=32) as executor:
        async with AsyncExitStack() as stack:
            for w in build_workers(client, engine, executor, settings):
                await stack.enter_async_context(w)
            log.info("worker started", task_queues=list(WORKFLOWS_BY_QUEUE), temporal=settings.temporal_address)
            await stop.wait()
            log.info("worker stopping")
    engine.dispose()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
