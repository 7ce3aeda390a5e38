"""Record workflow histories for the replay tests: `python -m tests.record_histories`.

Run it only when a workflow changes on purpose (a new workflow type or a `workflow.patched` branch); keep
the old history files too, so replay keeps proving that running workflows still replay."""

import asyncio
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


if __name__ == "__main__":
    HISTORIES.mkdir(exist_ok=True)
    asyncio.run(record_ticket_lifecycle(HISTORIES / "ticket_lifecycle_v1.json"))
    print("recorded", HISTORIES / "ticket_lifecycle_v1.json")
