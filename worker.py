"""Temporal worker: serves every task queue of the hub from one process (production may run several).

`registrations` is the one list of which workflows and activities run on which task queue; a test checks that
every activity a workflow calls is registered on that workflow's queue."""

import asyncio
import gc
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import PollerBehaviorSimpleMaximum, UnsandboxedWorkflowRunner, Worker

from activities.billing.drafts import BillingDraftActivities
from activities.billing.issue import BillingIssueActivities
from activities.billing.outputs import BillingOutputActivities
from activities.inventory.sync import InventoryActivities
from activities.qbr.decks import QbrDeckActivities
from activities.qbr.facts import QbrFactActivities
from activities.qbr.summary import QbrSummaryActivities
from activities.service_report.customers import ServiceReportCustomerActivities
from activities.service_report.files import ServiceReportFileActivities
from activities.service_report.mail import ServiceReportMailActivities
from activities.soc.containment import SocContainActivities
from activities.soc.incidents import SocActivities
from activities.soc.polling import SocPollActivities
from activities.soc.summary import SocSummaryActivities
from activities.soc.tickets import SocTicketActivities
from activities.tickets.intake import TicketIntakeActivities
from activities.tickets.notifications import NotificationActivities
from activities.tickets.sla import SlaActivities
from activities.tickets.ticket import TicketActivities
from domain.processes import (
    BILLING_TASK_QUEUE,
    INVENTORY_TASK_QUEUE,
    REPORTS_TASK_QUEUE,
    SOC_TASK_QUEUE,
    TICKETS_TASK_QUEUE,
)
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.file_store import FileStore
from hub.logging import configure_logging, get_logger
from hub.render_pool import RenderPool
from hub.temporal import connect
from hub.temporal.schedules import ensure_hub_schedules
from workflows.billing.invoice import InvoiceWorkflow
from workflows.billing.run import BillingRunWorkflow, BillingScheduleTickWorkflow
from workflows.inventory.sync import InventoryRunWorkflow, InventorySyncWorkflow
from workflows.qbr.review import QbrWorkflow
from workflows.qbr.run import QbrRunWorkflow, QbrScheduleTickWorkflow
from workflows.service_report.report import ServiceReportWorkflow
from workflows.service_report.run import ServiceReportRunWorkflow, ServiceReportScheduleTickWorkflow
from workflows.soc.incident import IncidentWorkflow
from workflows.soc.poller import SocPollerWorkflow
from workflows.tickets.sla_repin import SlaRepinBatchWorkflow
from workflows.tickets.start_sweep import TicketStartSweepWorkflow
from workflows.tickets.ticket import TicketWorkflow

log = get_logger(__name__)

WORKFLOW_TASK_POLLERS = 16


def registrations(
    engine: Engine, client: Client, settings: Settings | None = None, render_pool: RenderPool | None = None
) -> dict[str, tuple[list[type], list[Callable]]]:
    """Per task queue: its workflows and activities (rendering in `render_pool`; None: in the activity's thread)."""
    settings = settings or get_settings()
    tickets, sla = TicketActivities(engine), SlaActivities(engine)
    intake = TicketIntakeActivities(engine, client, settings.ticket_reopen_days)
    notifications = NotificationActivities(engine, settings)
    soc, contain = SocActivities(engine, settings), SocContainActivities(engine)
    poll = SocPollActivities(engine, client)
    summary = SocSummaryActivities(settings)
    soc_tickets = SocTicketActivities(engine, client)
    drafts, issue = BillingDraftActivities(engine), BillingIssueActivities(engine)
    outputs = BillingOutputActivities(engine, settings, render_pool)
    store = FileStore(settings.documents_path)
    qbr_facts, qbr_decks = QbrFactActivities(engine), QbrDeckActivities(engine, store)
    qbr_summary = QbrSummaryActivities(settings)
    inventory = InventoryActivities(engine)
    report_customers, report_files = ServiceReportCustomerActivities(engine), ServiceReportFileActivities(engine, store)
    report_mail = ServiceReportMailActivities(engine, settings, store)
    return {
        TICKETS_TASK_QUEUE: (
            [TicketWorkflow, SlaRepinBatchWorkflow, TicketStartSweepWorkflow],
            [
                intake.start_pending,
                tickets.apply_change,
                sla.advance,
                sla.repin,
                sla.list_repin_candidates,
                notifications.notify,
            ],
        ),
        SOC_TASK_QUEUE: (
            [IncidentWorkflow, SocPollerWorkflow],
            [
                soc.record_alerts,
                soc.record_incident,
                soc.page,
                contain.contain,
                poll.poll_page,
                summary.summarize,
                soc_tickets.open_ticket,
                soc_tickets.note_ticket,
            ],
        ),
        BILLING_TASK_QUEUE: (
            [BillingRunWorkflow, InvoiceWorkflow, BillingScheduleTickWorkflow],
            [
                drafts.list_customers,
                drafts.compose_draft,
                drafts.adjust_draft,
                drafts.set_draft_status,
                drafts.draft_credit_note,
                issue.issue,
                outputs.deliver,
                outputs.remind,
            ],
        ),
        REPORTS_TASK_QUEUE: (
            [QbrWorkflow, QbrRunWorkflow, QbrScheduleTickWorkflow, ServiceReportWorkflow, ServiceReportRunWorkflow,
             ServiceReportScheduleTickWorkflow],  # fmt: skip
            [qbr_facts.list_customers, qbr_facts.load_facts, qbr_summary.summarize, qbr_decks.store_deck,
             report_customers.list_customers, report_files.store_report, report_mail.send],  # fmt: skip
        ),
        INVENTORY_TASK_QUEUE: (
            [InventorySyncWorkflow, InventoryRunWorkflow],
            [
                inventory.list_customers,
                inventory.load_sources,
                inventory.sync_rmm,
                inventory.sync_m365,
                inventory.record_outcome,
                inventory.write_snapshot,
            ],
        ),
    }


def workflow_runner() -> UnsandboxedWorkflowRunner:
    """Workflows run without Temporal's sandbox. The sandbox re-executed each workflow module for every new run and
    proxied every module it used: ~11 of the worker's ~26 CPU-ms per ticket start (bench/WORKER_CPU.md), while it
    only ever checked the workflow modules themselves (`domain/` was passed through). What it caught at run time is
    checked on the source instead (tests/architecture/determinism.py: clocks, randomness, I/O, shared state, for
    `workflows/` and `domain/`), and every workflow replays its recorded history (tests/workflows/test_replay.py)."""
    return UnsandboxedWorkflowRunner()


def build_workers(
    client: Client,
    engine: Engine,
    executor: ThreadPoolExecutor,
    settings: Settings | None = None,
    render_pool: RenderPool | None = None,
) -> list[Worker]:
    """One Worker per task queue."""
    settings = settings or get_settings()
    return [
        Worker(
            client,
            task_queue=queue,
            workflows=workflows,
            activities=activities,
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
        for queue, (workflows, activities) in registrations(engine, client, settings, render_pool).items()
    ]


def metrics_runtime(address: str) -> Runtime | None:
    """An SDK runtime that serves the worker's Temporal metrics (task latencies, slots, polls) in Prometheus format
    at http://<address>/metrics; None (the default runtime, no endpoint) when the address is empty."""
    if not address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


async def run_worker(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # first: a stop during start-up is not lost
        loop.add_signal_handler(sig, stop.set)
    runtime = metrics_runtime(settings.worker_metrics_address)
    client = await connect(settings.temporal_address, settings.temporal_namespace, runtime=runtime)
    try:
        await ensure_hub_schedules(client)  # idempotent; the schedules exist wherever a worker runs
    except Exception as err:  # noqa: BLE001 - a missing schedule must not keep the worker from serving
        log.warning("a schedule not ensured (billing, QBR, inventory, reports, start sweep)", error=str(err))
    engine = make_engine(settings.effective_database_url)
    # Invoice PDFs and XML are rendered in processes beside this one, started at the first render.
    render_pool = RenderPool(settings.render_processes, preload=("documents.invoice_files",))
    with ThreadPoolExecutor(max_workers=32) as executor:
        async with AsyncExitStack() as stack:
            stack.callback(render_pool.shutdown)  # last: after the workers, whose activities may still render
            workers = build_workers(client, engine, executor, settings, render_pool)
            for w in workers:
                await stack.enter_async_context(w)
            # What start-up loaded (modules, models, compiled statements) lives as long as the process: out of the
            # cyclic collector's way, so its full collections scan only what the workflows and activities made.
            gc.collect()
            gc.freeze()
            log.info(
                "worker started",
                task_queues=[w.task_queue for w in workers],
                temporal=settings.temporal_address,
                metrics=settings.worker_metrics_address or None,
            )
            await stop.wait()
            log.info("worker stopping")
    engine.dispose()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
