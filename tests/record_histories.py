"""Record workflow histories for the replay tests: `python -m tests.record_histories`.

Run it only when a workflow changes on purpose (a new workflow type or a `workflow.patched` branch); keep
the old history files too, so replay keeps proving that running workflows still replay."""

import asyncio
import socket
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.ticket_commands import open_ticket, update_ticket
from domain.roles import Role
from domain.tickets import (
    Actor,
    AssignRequest,
    CommentRequest,
    NewTicket,
    Priority,
    PriorityRequest,
    TicketStatus,
    TimeEntryRequest,
    TransitionRequest,
    Visibility,
)
from hub.db import make_engine, upgrade
from hub.temporal import register_search_attributes
from tests.conftest import binary
from tests.factories import make_tenant, make_user
from worker import build_workers
from workflows.common import ticket_workflow_id
from workflows.ticket import TicketWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def record_ticket_lifecycle(path: Path) -> None:
    url = f"sqlite:///{tempfile.mkdtemp()}/record.db"
    upgrade(url)
    engine = make_engine(url)
    tenant = make_tenant(engine)
    tech_user, _ = make_user(engine, Role.MSP_TECH)
    cust_user, _ = make_user(engine, Role.CUSTOMER_USER, tenant)
    tech = Actor(user_id=tech_user.id, role=Role.MSP_TECH)
    cust = Actor(user_id=cust_user.id, role=Role.CUSTOMER_USER)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    with ThreadPoolExecutor(4) as ex:
        workers = build_workers(env.client, engine, ex)
        for w in workers:
            await w.__aenter__()
        c = env.client
        ticket = NewTicket(
            ticket_id=uuid.uuid4(),
            tenant_id=tenant.id,
            customer_number=tenant.customer_number,
            title="Replay: Drucker",
            priority=Priority.P3,
            created_by_user_id=cust.user_id,
            requester_user_id=cust.user_id,
            reopen_days=2,
        )
        tid = ticket.ticket_id
        await open_ticket(c, ticket)
        steps = [
            (TicketWorkflow.assign, AssignRequest(actor=tech, assignee_user_id=tech.user_id)),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.IN_PROGRESS)),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.WAITING_CUSTOMER)),
            (TicketWorkflow.comment, CommentRequest(actor=cust, body="Modell M404")),
            (TicketWorkflow.comment, CommentRequest(actor=tech, body="intern", visibility=Visibility.INTERNAL)),
            (
                TicketWorkflow.log_time,
                TimeEntryRequest(
                    actor=tech, user_id=tech.user_id, minutes=20, started_at=datetime.now(UTC) - timedelta(hours=1)
                ),
            ),
            (TicketWorkflow.change_priority, PriorityRequest(actor=tech, priority=Priority.P2)),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)),
            (TicketWorkflow.transition, TransitionRequest(actor=cust, to_status=TicketStatus.OPEN)),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)),
        ]
        for update, req in steps:
            await update_ticket(c, tid, update, req)
        await env.sleep(timedelta(days=2, minutes=1))
        handle = c.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(tid))
        assert (await handle.result()).status == TicketStatus.CLOSED
        history = await handle.fetch_history()
        path.write_text(history.to_json())
        for w in workers:
            await w.__aexit__(None, None, None)
    await env.shutdown()


SLA_DEFINITION = {
    "name": "Replay",
    "targets": {
        "P2": {"response_minutes": 60, "resolution_minutes": 480, "calendar": "24x7"},
        "P3": {"response_minutes": 240, "resolution_minutes": 960, "update_minutes": 120, "calendar": "24x7"},
    },
}
SLA_POLICY = {
    "name": "Replay",
    "levels": [
        {
            "name": "Reaktionszeit 50 %",
            "target": "response",
            "trigger": {"type": "percent_used", "percent": 50},
            "actions": [{"type": "notify_email", "to": [{"role": "msp_tech"}]}],
        },
        {
            "name": "Lösung überschritten",
            "target": "resolution",
            "trigger": {"type": "on_breach"},
            "actions": [{"type": "raise_priority"}, {"type": "reassign", "queue": "eskalation"}],
        },
    ],
}


class _Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        return "250 OK"


async def record_ticket_with_sla(path: Path) -> None:
    """Ticket with SLA clock: a mail escalation, a pause, an update cycle, a breach that raises and reassigns."""
    from aiosmtpd.controller import Controller

    from hub.config import Settings
    from tests.factories import make_sla

    url = f"sqlite:///{tempfile.mkdtemp()}/record.db"
    upgrade(url)
    engine = make_engine(url)
    tenant = make_tenant(engine)
    make_sla(engine, tenant, SLA_DEFINITION, SLA_POLICY)
    tech_user, _ = make_user(engine, Role.MSP_TECH)
    cust_user, _ = make_user(engine, Role.CUSTOMER_USER, tenant)
    tech = Actor(user_id=tech_user.id, role=Role.MSP_TECH)
    cust = Actor(user_id=cust_user.id, role=Role.CUSTOMER_USER)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = Controller(_Sink(), hostname="127.0.0.1", port=port)
    sink.start()
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    with ThreadPoolExecutor(8) as ex:
        workers = build_workers(env.client, engine, ex, settings)
        for w in workers:
            await w.__aenter__()
        c = env.client
        ticket = NewTicket(
            ticket_id=uuid.uuid4(),
            tenant_id=tenant.id,
            customer_number=tenant.customer_number,
            title="Replay: VPN",
            priority=Priority.P3,
            created_by_user_id=cust.user_id,
            requester_user_id=cust.user_id,
            reopen_days=1,
        )
        tid = ticket.ticket_id
        await open_ticket(c, ticket)
        await env.sleep(timedelta(minutes=150))  # the 50 % response level mails the technicians
        await update_ticket(c, tid, TicketWorkflow.comment, CommentRequest(actor=tech, body="Welcher Client?"))
        await update_ticket(
            c, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.WAITING_CUSTOMER)
        )
        await env.sleep(timedelta(hours=5))
        await update_ticket(c, tid, TicketWorkflow.comment, CommentRequest(actor=cust, body="Alle Clients."))
        await env.sleep(timedelta(hours=15))  # resolution breaches: priority P3 -> P2, queue eskalation
        await update_ticket(
            c, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)
        )
        await env.sleep(timedelta(days=1, minutes=1))
        handle = c.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(tid))
        final = await handle.result()
        assert final.status == TicketStatus.CLOSED and final.priority == Priority.P2 and final.queue == "eskalation"
        path.write_text((await handle.fetch_history()).to_json())
        for w in workers:
            await w.__aexit__(None, None, None)
    await env.shutdown()
    sink.stop()


if __name__ == "__main__":
    import sys

    HISTORIES.mkdir(exist_ok=True)
    which = sys.argv[1:] or ["sla"]
    if "v1" in which:  # the pre-SLA workflow; kept for replay, re-recording it needs that old code
        asyncio.run(record_ticket_lifecycle(HISTORIES / "ticket_lifecycle_v1.json"))
    if "sla" in which:
        asyncio.run(record_ticket_with_sla(HISTORIES / "ticket_lifecycle_sla_v2.json"))
    print("recorded", which)
