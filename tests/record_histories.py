"""Record workflow histories for the replay tests: `python -m tests.record_histories [NAME ...]` (all by default).

One history per workflow and important path, recorded through the real time-skipping server and the hub's workers
(names in RECORDERS). Until the first tagged release a change of workflow code re-records them; from then on the
released histories stay and replay next to the new ones (docs/ARCHITECTURE.md, "Versioning workflow code")."""

import asyncio
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.contracts.tickets import (
    Actor,
    AssignRequest,
    CoManagedRequest,
    CommentRequest,
    HandOverRequest,
    NewTicket,
    PriorityRequest,
    QueueRequest,
    RepinSlaRequest,
    TimeEntryRequest,
    TransitionRequest,
)
from domain.processes import ticket_workflow_id
from domain.roles import Role
from domain.tickets import Priority, TicketStatus, Visibility
from hub.config import Settings
from hub.db import make_engine, upgrade
from hub.temporal import register_search_attributes
from hub.temporal.tickets import update_ticket
from models import Notification, RaciMatrixRow, Tenant
from tests.conftest import binary
from tests.factories import make_sla, make_soc_integration, make_tenant, make_user, open_test_ticket
from worker import build_workers
from workflows.tickets.ticket import TicketWorkflow

HISTORIES = Path(__file__).parent / "histories"


@dataclass
class Recording:
    env: WorkflowEnvironment
    engine: Engine
    tenant: Tenant
    tech: Actor
    customer: Actor

    async def open(self, title: str, reopen_days: int) -> uuid.UUID:
        ticket = NewTicket(
            ticket_id=uuid.uuid4(),
            tenant_id=self.tenant.id,
            customer_number=self.tenant.customer_number,
            title=title,
            priority=Priority.P3,
            created_by_user_id=self.customer.user_id,
            requester_user_id=self.customer.user_id,
            reopen_days=reopen_days,
        )
        await open_test_ticket(self.env, self.engine, ticket)
        return ticket.ticket_id

    async def save(self, ticket_id: uuid.UUID, path: Path):  # noqa: ANN201
        handle = self.env.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(ticket_id))
        final = await handle.result()
        path.write_text((await handle.fetch_history()).to_json())
        return final


class _Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd's hook name
        return "250 OK"


@asynccontextmanager
async def recording(sla: tuple[dict, dict] | None = None) -> AsyncIterator[Recording]:
    """A fresh database, a time-skipping server, the hub's workers and an SMTP sink."""
    engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/record.db")
    upgrade(str(engine.url))
    tenant = make_tenant(engine)
    if sla:
        make_sla(engine, tenant, *sla)
    tech, _ = make_user(engine, Role.MSP_TECH)
    customer, _ = make_user(engine, Role.CUSTOMER_USER, tenant)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = Controller(_Sink(), hostname="127.0.0.1", port=port)
    sink.start()
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    try:
        with ThreadPoolExecutor(8) as ex:
            async with AsyncExitStack() as stack:
                for w in build_workers(env.client, engine, ex, settings):
                    await stack.enter_async_context(w)
                yield Recording(
                    env,
                    engine,
                    tenant,
                    Actor(user_id=tech.id, role=Role.MSP_TECH),
                    Actor(user_id=customer.id, role=Role.CUSTOMER_USER),
                )
    finally:
        await env.shutdown()
        sink.stop()


async def record_ticket_lifecycle(path: Path) -> None:
    """Without an SLA: every update kind, a pause, a reopen, the automatic close."""
    async with recording() as r:
        tech, cust = r.tech, r.customer
        tid = await r.open("Replay: Drucker", reopen_days=2)
        started = datetime.now(UTC) - timedelta(hours=1)
        for update, req in [
            (TicketWorkflow.assign, AssignRequest(actor=tech, assignee_user_id=tech.user_id)),
            (TicketWorkflow.change_queue, QueueRequest(actor=tech, queue="servicedesk")),
            (TicketWorkflow.set_co_managed, CoManagedRequest(actor=tech, co_managed=True, reason="Kunden-IT")),
            (TicketWorkflow.hand_back_to_customer, HandOverRequest(actor=tech, reason="Kunden-IT übernimmt")),
            (TicketWorkflow.escalate_to_msp, HandOverRequest(actor=tech, reason="Zurück an den MSP")),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.IN_PROGRESS)),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.WAITING_CUSTOMER)),
            (TicketWorkflow.comment, CommentRequest(actor=cust, body="Modell M404")),
            (TicketWorkflow.comment, CommentRequest(actor=tech, body="intern", visibility=Visibility.INTERNAL)),
            (
                TicketWorkflow.log_time,
                TimeEntryRequest(actor=tech, user_id=tech.user_id, minutes=20, started_at=started),
            ),
            (TicketWorkflow.change_priority, PriorityRequest(actor=tech, priority=Priority.P2)),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)),
            (TicketWorkflow.transition, TransitionRequest(actor=cust, to_status=TicketStatus.OPEN)),
            (TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)),
        ]:
            await update_ticket(r.env.client, tid, update, req)
        await r.env.sleep(timedelta(days=2, minutes=1))
        assert (await r.save(tid, path)).status == TicketStatus.CLOSED


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


async def record_ticket_with_sla(path: Path) -> None:
    """Ticket with SLA clock: a mail escalation, a pause, an update cycle, a breach that raises and reassigns."""
    async with recording((SLA_DEFINITION, SLA_POLICY)) as r:
        c, tech, cust = r.env.client, r.tech, r.customer
        tid = await r.open("Replay: VPN", reopen_days=1)
        # Handed to the customer's IT and straight back: the clock pauses and runs on (no time passes).
        await update_ticket(c, tid, TicketWorkflow.hand_back_to_customer, HandOverRequest(actor=tech, reason="IT"))
        await update_ticket(c, tid, TicketWorkflow.escalate_to_msp, HandOverRequest(actor=tech, reason="MSP"))
        await r.env.sleep(timedelta(minutes=150))  # the 50 % response level mails the technicians
        await update_ticket(c, tid, TicketWorkflow.repin_sla, RepinSlaRequest(actor=tech))  # nothing to re-pin
        await update_ticket(c, tid, TicketWorkflow.comment, CommentRequest(actor=tech, body="Welcher Client?"))
        await update_ticket(
            c, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.WAITING_CUSTOMER)
        )
        await r.env.sleep(timedelta(hours=5))
        await update_ticket(c, tid, TicketWorkflow.comment, CommentRequest(actor=cust, body="Alle Clients."))
        await r.env.sleep(timedelta(hours=15))  # resolution breaches: priority P3 -> P2, queue eskalation
        await update_ticket(
            c, tid, TicketWorkflow.transition, TransitionRequest(actor=tech, to_status=TicketStatus.RESOLVED)
        )
        await r.env.sleep(timedelta(days=1, minutes=1))
        final = await r.save(tid, path)
        assert final.status == TicketStatus.CLOSED and final.priority == Priority.P2 and final.queue == "eskalation"


async def record_ticket_raci(path: Path) -> None:
    """A co-managed customer's RACI matrix routes a new ticket to the Responsible party's queue and mails the
    Informed party through the outbox; resolved, it closes itself."""
    async with recording() as r:
        matrix = {
            "parties": [
                {"name": "MSP", "kind": "msp", "queue": "servicedesk"},
                {"name": "Softwarehaus", "kind": "external", "email": "support@softwarehaus.example"},
            ],
            "areas": [{"name": "Fachanwendungen", "categories": ["erp"], "cells": {"MSP": "R", "Softwarehaus": "I"}}],
        }
        with Session(r.engine) as s, s.begin():
            s.get(Tenant, r.tenant.id).co_managed = True
            s.add(RaciMatrixRow(tenant_id=r.tenant.id, matrix=matrix))
        ticket = NewTicket(
            ticket_id=uuid.uuid4(),
            tenant_id=r.tenant.id,
            customer_number=r.tenant.customer_number,
            title="Replay: ERP",
            priority=Priority.P3,
            category="erp",
            created_by_user_id=r.tech.user_id,
            reopen_days=1,
        )
        await open_test_ticket(r.env, r.engine, ticket)
        req = TransitionRequest(actor=r.tech, to_status=TicketStatus.RESOLVED)
        await update_ticket(r.env.client, ticket.ticket_id, TicketWorkflow.transition, req)
        await r.env.sleep(timedelta(days=1, minutes=1))
        final = await r.save(ticket.ticket_id, path)
        assert final.status == TicketStatus.CLOSED and final.queue == "servicedesk"
        with Session(r.engine) as s:
            sent = s.exec(select(Notification).where(Notification.ticket_id == ticket.ticket_id)).one()
        assert sent.status == "sent", sent


def _item(r: Recording, alert):  # noqa: ANN001, ANN202
    from domain.contracts.soc import IncidentAlert

    return IncidentAlert(alert=alert, tenant_id=r.tenant.id, customer_number=r.tenant.customer_number)


def _threat() -> dict:
    import json

    return json.loads((Path(__file__).parent / "fixtures/soc/sentinelone_threat_webhook.json").read_text())


async def record_incident_containment(path: Path) -> None:
    """A P1 incident on a critical server: containment proposed, approved, executed at SentinelOne."""
    import os

    import httpx
    import respx

    from domain.contracts.soc import ContainmentDecision, IncidentState
    from domain.soc.sentinelone import normalize_sentinelone
    from hub.temporal.soc import hand_over_and_wait
    from models import AssetType
    from tests.factories import make_asset
    from workflows.soc.incident import IncidentWorkflow

    os.environ["PSA_SOC_CREDENTIALS__REPLAY__BASE_URL"] = "https://s1.example.net"
    os.environ["PSA_SOC_CREDENTIALS__REPLAY__TOKEN"] = "token"
    async with recording() as r:
        make_asset(r.engine, r.tenant, hostname="acme-ws-042", asset_type=AssetType.SERVER, tags=["critical"])
        row = make_soc_integration(
            r.engine, r.tenant, credentials_ref="replay", triage_settings={"quiet_window_hours": 1}
        )
        threat = _threat()
        threat["threatInfo"]["mitigationStatus"] = "not_mitigated"  # a mitigated one would be information only
        alert = normalize_sentinelone(threat, str(row.id))
        workflow_id = await hand_over_and_wait(r.env.client, [_item(r, alert)])
        handle = r.env.client.get_workflow_handle(workflow_id, result_type=IncidentState)
        assert (await handle.query(IncidentWorkflow.state)).containment is not None  # proposed while handling
        with respx.mock() as mock:
            mock.post("https://s1.example.net/web/api/v2.1/agents/actions/disconnect").mock(
                return_value=httpx.Response(200, json={"data": {"affected": 1}})
            )
            decision = ContainmentDecision(actor_user_id=r.tech.user_id, actor_role=Role.MSP_TECH, approve=True)
            assert (await handle.execute_update(IncidentWorkflow.decide_containment, decision)).status == "executed"
        await r.env.sleep(timedelta(hours=1, minutes=1))
        final = await handle.result()
        assert final.containment.status == "executed" and final.status == "closed"
        path.write_text((await handle.fetch_history()).to_json())


async def record_incident_paging(path: Path) -> None:
    """A P1 incident: policy from the integration, a page acknowledged in time, an unchanged redelivery, the
    vendor's resolution (auto-resolve on: the ticket is resolved by a signal)."""
    import json

    import httpx
    import respx

    from domain.contracts.soc import Acknowledgement, IncidentState
    from domain.soc.sentinelone import normalize_sentinelone
    from hub.temporal.soc import hand_over_and_wait
    from models import AssetType
    from tests.factories import make_asset
    from workflows.soc.incident import IncidentWorkflow

    threat = _threat()
    threat["threatInfo"]["mitigationStatus"] = "not_mitigated"
    resolved = json.loads(json.dumps(threat))
    resolved["threatInfo"].update(incidentStatus="resolved", updatedAt="2026-11-20T09:30:00Z")
    pager = "https://pager.example.net/replay"
    async with recording() as r:
        make_asset(r.engine, r.tenant, hostname="acme-ws-042", asset_type=AssetType.SERVER, tags=["critical"])
        row = make_soc_integration(
            r.engine, r.tenant, triage_settings={"quiet_window_hours": 1, "auto_resolve": True, "oncall_chain": [pager]}
        )
        alert = normalize_sentinelone(threat, str(row.id))
        with respx.mock() as mock:
            paged = mock.post(pager).mock(return_value=httpx.Response(202))
            workflow_id = await hand_over_and_wait(r.env.client, [_item(r, alert)])
            handle = r.env.client.get_workflow_handle(workflow_id, result_type=IncidentState)
            while paged.call_count == 0:
                await asyncio.sleep(0.1)
            ack = Acknowledgement(actor_user_id=r.tech.user_id, actor_role=Role.MSP_TECH, actor_name="Replay")
            assert (await handle.execute_update(IncidentWorkflow.acknowledge, ack)).status == "acknowledged"
            await hand_over_and_wait(r.env.client, [_item(r, alert)])  # unchanged: dropped
            await hand_over_and_wait(r.env.client, [_item(r, normalize_sentinelone(resolved, str(row.id)))])
            assert (await handle.query(IncidentWorkflow.state)).vendor_resolved_at is not None
            await r.env.sleep(timedelta(hours=1, minutes=1))
            final = await handle.result()
        assert final.status == "closed" and final.vendor_status == "resolved" and final.paging.level == 1
        path.write_text((await handle.fetch_history()).to_json())


async def record_incident_handled(path: Path) -> None:
    """A threat S1 already closed as a false positive, policy "none" for handled threats: recorded without a ticket;
    the analyst reopens it at the console: the ticket opens then; the quiet window closes the incident."""
    import json

    from domain.contracts.soc import IncidentState
    from domain.soc.sentinelone import normalize_sentinelone
    from hub.temporal.soc import hand_over_and_wait
    from models import AssetType
    from tests.factories import make_asset
    from workflows.soc.incident import IncidentWorkflow

    fp = json.loads((Path(__file__).parent / "fixtures/soc/threat_states/sentinelone_false_positive.json").read_text())
    reopened = json.loads(json.dumps(fp))
    reopened["threatInfo"].update(
        analystVerdict="true_positive",
        mitigationStatus="not_mitigated",
        incidentStatus="unresolved",
        updatedAt="2026-11-20T09:30:00Z",
    )
    async with recording() as r:
        make_asset(r.engine, r.tenant, hostname="contoso-ws-008", asset_type=AssetType.WORKSTATION)
        row = make_soc_integration(
            r.engine, r.tenant, triage_settings={"quiet_window_hours": 1, "handled_threats": "none"}
        )
        workflow_id = await hand_over_and_wait(r.env.client, [_item(r, normalize_sentinelone(fp, str(row.id)))])
        handle = r.env.client.get_workflow_handle(workflow_id, result_type=IncidentState)
        assert (await handle.query(IncidentWorkflow.state)).ticket_id is None
        await hand_over_and_wait(r.env.client, [_item(r, normalize_sentinelone(reopened, str(row.id)))])
        assert (await handle.query(IncidentWorkflow.state)).ticket_id is not None
        await r.env.sleep(timedelta(hours=1, minutes=1))
        final = await handle.result()
        assert final.status == "closed" and final.vendor_status == "new" and final.priority == "P2", final
        path.write_text((await handle.fetch_history()).to_json())


async def record_incident_closed_update(path: Path) -> None:
    """A new vendor status of an alert whose incident has closed: a run of its own records it, notes it on the closed
    incident's ticket and ends without an incident, ticket or page."""
    import json

    from domain.contracts.soc import IncidentState
    from domain.soc.sentinelone import normalize_sentinelone
    from hub.temporal.soc import hand_over_and_wait
    from models import AssetType, SocIncident
    from tests.factories import make_asset

    threat = _threat()
    threat["threatInfo"]["mitigationStatus"] = "not_mitigated"
    resolved = json.loads(json.dumps(threat))
    resolved["threatInfo"].update(incidentStatus="resolved", updatedAt="2026-11-20T12:00:00Z")
    async with recording() as r:
        make_asset(r.engine, r.tenant, hostname="acme-ws-042", asset_type=AssetType.WORKSTATION)
        row = make_soc_integration(r.engine, r.tenant, triage_settings={"quiet_window_hours": 1})
        workflow_id = await hand_over_and_wait(r.env.client, [_item(r, normalize_sentinelone(threat, str(row.id)))])
        await r.env.sleep(timedelta(hours=1, minutes=1))
        first = await r.env.client.get_workflow_handle(workflow_id, result_type=IncidentState).result()
        assert first.status == "closed" and first.ticket_id is not None
        await hand_over_and_wait(r.env.client, [_item(r, normalize_sentinelone(resolved, str(row.id)))])
        handle = r.env.client.get_workflow_handle(workflow_id, result_type=IncidentState)
        final = await handle.result()
        assert final.ticket_id is None and final.alert_count == 0, final
        with Session(r.engine) as s:
            assert s.get(SocIncident, workflow_id.removeprefix("incident-")).vendor_status == "resolved"
        path.write_text((await handle.fetch_history()).to_json())


def _five_deliveries(r: Recording) -> list:
    """A workstation, an S1 integration with a one-hour window, and five normalised deliveries for one incident: a
    first alert, its repeat, two correlated alerts, the first one resolved at the vendor."""
    import json

    from domain.soc.sentinelone import normalize_sentinelone
    from models import AssetType
    from tests.factories import make_asset

    threat = json.loads((Path(__file__).parent / "fixtures/soc/sentinelone_threat_webhook.json").read_text())
    threat["threatInfo"]["mitigationStatus"] = "not_mitigated"

    def variant(threat_id: str, **info) -> dict:
        t = json.loads(json.dumps(threat))
        t["id"] = t["threatInfo"]["threatId"] = threat_id
        t["threatInfo"].update(info)
        return t

    make_asset(r.engine, r.tenant, hostname="acme-ws-042", asset_type=AssetType.WORKSTATION)
    row = make_soc_integration(r.engine, r.tenant, triage_settings={"quiet_window_hours": 1})
    payloads = [
        variant("1"),
        variant("1"),
        variant("2"),
        variant("3"),
        variant("1", incidentStatus="resolved", updatedAt="2026-11-20T09:30:00Z"),
    ]
    return [normalize_sentinelone(p, str(row.id)) for p in payloads]


async def record_incident_handover(path: Path) -> None:
    """Five deliveries in one hand-over of the inbox (`take_alerts` update-with-start, answered once handled), then
    a correlated alert half an hour later; the incident opens its ticket and sends its notes through local activities
    (no child workflow, no external signal), one quiet-window timer armed again after the wake-up; the window closes
    it. Also records the ticket's own run, started with the opened ticket and fed keyed notes."""
    from domain.contracts.soc import IncidentAlert, IncidentState
    from domain.soc.alerts import make_dedupe_key
    from hub.temporal.soc import hand_over_and_wait
    from models import Ticket
    from workflows.soc.incident import IncidentWorkflow

    async with recording() as r:
        deliveries = _five_deliveries(r)
        items = [
            IncidentAlert(alert=alert, tenant_id=r.tenant.id, customer_number=r.tenant.customer_number)
            for alert in deliveries
        ]
        workflow_id = await hand_over_and_wait(r.env.client, items)
        handle = r.env.client.get_workflow_handle(workflow_id, result_type=IncidentState)
        # Answered once handled, except the vendor's status change of the first alert, deferred to the next round.
        while (await handle.query(IncidentWorkflow.state)).vendor_status is None:
            await asyncio.sleep(0.1)
        await r.env.sleep(timedelta(minutes=30))
        fourth = deliveries[2]
        fourth = fourth.model_copy(
            update={
                "vendor_alert_id": "4",
                "dedupe_key": make_dedupe_key(fourth.source, fourth.integration_id, "4"),
            }
        )
        late = items[2].model_copy(update={"alert": fourth})
        await hand_over_and_wait(r.env.client, [late])
        assert (await handle.query(IncidentWorkflow.state)).alert_count == 4
        await r.env.sleep(timedelta(hours=1, minutes=1))
        final = await handle.result()
        assert final.status == "closed" and final.alert_count == 4, final
        with Session(r.engine) as s:
            assert s.get(Ticket, final.ticket_id).description.startswith("Zusammenfassung:\n")
        path.write_text((await handle.fetch_history()).to_json())
        # The ticket's own run, started with the opened ticket (no opening of its own) and fed keyed notes.
        ticket = r.env.client.get_workflow_handle(f"ticket-{final.ticket_id}")
        (path.parent / "ticket_opened_by_incident.json").write_text((await ticket.fetch_history()).to_json())


async def record_soc_poll(path: Path) -> None:
    """A SentinelOne poll through three pages, handing every threat to its incident."""
    import json
    import os

    import httpx
    import respx

    from domain.contracts.soc import SocPollInput
    from domain.processes import SOC_TASK_QUEUE
    from workflows.soc.poller import SocPollerWorkflow

    vendors = Path(__file__).parent / "fixtures/vendors"
    pages = [json.loads((vendors / f"sentinelone_threats_page{i}.json").read_text()) for i in (1, 2, 3)]
    os.environ["PSA_SOC_CREDENTIALS__REPLAYPOLL__BASE_URL"] = "https://s1.example.net"
    os.environ["PSA_SOC_CREDENTIALS__REPLAYPOLL__TOKEN"] = "token"
    async with recording() as r:
        from datetime import UTC, datetime

        from domain.soc.polling import PollCursor

        # Watching since before the fixtures' threats (2026-11-20): they are new threats, handed to their incidents.
        watching = PollCursor.first(datetime(2026, 11, 1, tzinfo=UTC)).to_json()
        row = make_soc_integration(r.engine, r.tenant, credentials_ref="replaypoll", poll_cursor=watching)
        with respx.mock() as mock:
            mock.get("https://s1.example.net/web/api/v2.1/threats").mock(
                side_effect=[httpx.Response(200, json=p) for p in pages]
            )
            handle = await r.env.client.start_workflow(
                SocPollerWorkflow.run,
                SocPollInput(integration_id=row.id),
                id=f"soc-poll-replay-{row.id}",
                task_queue=SOC_TASK_QUEUE,
            )
            await handle.result()
        path.write_text((await handle.fetch_history()).to_json())


async def record_sla_repin(path: Path) -> None:
    """A re-pin batch over two open tickets of one customer (one page, then done)."""
    from datetime import UTC, datetime

    from domain.contracts.tickets import RepinBatchInput
    from domain.processes import TICKETS_TASK_QUEUE
    from workflows.tickets.sla_repin import SlaRepinBatchWorkflow

    async with recording((SLA_DEFINITION, SLA_POLICY)) as r:
        for title in ("Replay: Drucker", "Replay: VPN"):
            await r.open(title, reopen_days=1)
        handle = await r.env.client.start_workflow(
            SlaRepinBatchWorkflow.run,
            RepinBatchInput(tenant_id=r.tenant.id, actor_user_id=r.tech.user_id, requested_at=datetime.now(UTC)),
            id="sla-repin-replay",
            task_queue=TICKETS_TASK_QUEUE,
        )
        result = await handle.result()
        assert result.signalled == 2, result
        path.write_text((await handle.fetch_history()).to_json())


async def record_ticket_start_sweep(path: Path) -> None:
    """The sweep finds a ticket whose row was written a minute ago but whose workflow never started, and starts it."""
    from domain.contracts.tickets import TicketCreation
    from domain.processes import TICKETS_TASK_QUEUE
    from hub.tickets.opening import open_ticket as write_opening
    from workflows.tickets.start_sweep import TicketStartSweepWorkflow

    async with recording((SLA_DEFINITION, SLA_POLICY)) as r:
        ticket = NewTicket(ticket_id=uuid.uuid4(), tenant_id=r.tenant.id, customer_number=r.tenant.customer_number,
                           title="Replay: liegengeblieben", priority=Priority.P2, created_by_user_id=r.tech.user_id,
                           reopen_days=1)  # fmt: skip
        at = await r.env.get_current_time() - timedelta(minutes=1)
        write_opening(r.engine, TicketCreation(ticket=ticket, at=at))
        handle = await r.env.client.start_workflow(
            TicketStartSweepWorkflow.run, id="ticket-start-sweep-replay", task_queue=TICKETS_TASK_QUEUE
        )
        assert await handle.result() == 1
        await r.env.client.get_workflow_handle(ticket_workflow_id(ticket.ticket_id)).describe()
        path.write_text((await handle.fetch_history()).to_json())


async def record_billing_run(path: Path) -> None:
    """A month's run over two customers: one draft adjusted and approved (issued, rendered, mailed), one rejected;
    then a credit note for a line of the issued invoice (`invoice_issued.json`, `credit_note.json` beside it)."""
    from datetime import date

    from domain.contracts.billing import (
        AdjustLineRequest,
        ApproveRequest,
        BillingRunInput,
        RejectRequest,
        RunProgress,
    )
    from domain.processes import billing_workflow_id
    from hub.temporal import billing as billing_client
    from models import Invoice
    from tests.billing_setup import billing_customer, set_seller

    month = "2031-06"
    async with recording() as r:
        set_seller(r.engine, "RP")
        a = billing_customer(r.engine, start=date(2031, 6, 10), seats=3, seat_price="30.00")
        b = billing_customer(r.engine, start=date(2031, 6, 1), seats=1, seat_price="10.00")
        finance = Actor(user_id=r.tech.user_id, role=Role.FINANCE)
        client = r.env.client
        await billing_client.start_run(client, BillingRunInput(
            month=month, customer_numbers=[a.tenant.customer_number, b.tenant.customer_number]))  # fmt: skip
        rows = {}
        for _ in range(300):
            with Session(r.engine) as s:
                rows = {x.customer_number: x for x in s.exec(select(Invoice).where(Invoice.period == month))}
            if len(rows) == 2 and all(x.status == "draft" for x in rows.values()):
                break
            await asyncio.sleep(0.1)
        draft_a, draft_b = rows[a.tenant.customer_number], rows[b.tenant.customer_number]
        await billing_client.adjust_line(client, draft_a.workflow_id, AdjustLineRequest(
            actor=finance, line_index=0, quantity=2, reason="ein Gerät weniger"))  # fmt: skip
        await billing_client.approve(client, draft_a.workflow_id, ApproveRequest(actor=finance))
        await billing_client.reject(client, draft_b.workflow_id, RejectRequest(actor=finance, reason="falsch"))
        run = client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress)
        result = await run.result()
        assert result.issued == 1 and result.rejected == 1, result
        path.write_text((await run.fetch_history()).to_json())
        invoice = client.get_workflow_handle(draft_a.workflow_id)
        await invoice.result()
        (path.parent / "invoice_issued.json").write_text((await invoice.fetch_history()).to_json())
        with Session(r.engine) as s:
            issued = s.get(Invoice, draft_a.id)
        inp = billing_client.new_credit_note_input(uuid.uuid4(), issued.tenant_id, issued.customer_number, month,
                                                   issued.id, [0], "Gutschrift", r.tech.user_id)  # fmt: skip
        credit = client.get_workflow_handle(await billing_client.start_credit_note(client, inp, issued.number))
        await credit.result()
        (path.parent / "credit_note.json").write_text((await credit.fetch_history()).to_json())


async def record_billing_tick(path: Path) -> None:
    """The schedule's tick on 1 December: starts the run of November (nobody to bill in this database)."""
    from domain.contracts.billing import ScheduleTickInput
    from domain.processes import BILLING_TASK_QUEUE
    from workflows.billing.run import BillingScheduleTickWorkflow

    async with recording() as r:
        handle = await r.env.client.start_workflow(
            BillingScheduleTickWorkflow.run, ScheduleTickInput(), id="billing-monthly-replay",
            task_queue=BILLING_TASK_QUEUE)  # fmt: skip
        assert (await handle.result()).startswith("billing-"), "tick did not start a run"
        path.write_text((await handle.fetch_history()).to_json())


async def record_qbr_run(path: Path) -> None:
    """The quarterly QBR run over one customer with two quarters of data (`qbr_review.json`: that customer's build,
    facts of both quarters loaded, the deck stored)."""
    from domain.contracts.qbr import QbrRunInput, QbrRunProgress
    from domain.processes import qbr_workflow_id
    from hub.temporal.qbr import start_qbr_run
    from tests.qbr_setup import seed_two_quarters

    async with recording() as r:
        seeded = seed_two_quarters(r.engine)
        number = seeded.tenant.customer_number
        run_id = await start_qbr_run(r.env.client, QbrRunInput(quarter="2026-Q4", customer_numbers=[number]))
        run = r.env.client.get_workflow_handle(run_id, result_type=QbrRunProgress)
        result = await run.result()
        assert result.done == 1, result
        path.write_text((await run.fetch_history()).to_json())
        review = r.env.client.get_workflow_handle(qbr_workflow_id(number, "2026-Q4"))
        await review.result()
        (path.parent / "qbr_review.json").write_text((await review.fetch_history()).to_json())


async def record_qbr_tick(path: Path) -> None:
    """The schedule's tick on the next quarter's first working day (time skipped there): starts that quarter's
    previous quarter's run."""
    from zoneinfo import ZoneInfo

    from domain.business_calendar import BusinessCalendar
    from domain.calendar_spec import CalendarSpec
    from domain.contracts.qbr import QbrTickInput
    from domain.processes import REPORTS_TASK_QUEUE
    from domain.qbr.quarter import Quarter, first_working_day
    from workflows.qbr.run import QbrScheduleTickWorkflow

    berlin = ZoneInfo("Europe/Berlin")
    async with recording() as r:
        now = await r.env.get_current_time()
        holidays = BusinessCalendar(CalendarSpec(time_zone="Europe/Berlin", country="DE", always_open=True))
        day = first_working_day(Quarter.of(now.astimezone(berlin).date()).next(), holidays.is_holiday)
        await r.env.sleep(datetime(day.year, day.month, day.day, 6, tzinfo=berlin) - now)
        handle = await r.env.client.start_workflow(
            QbrScheduleTickWorkflow.run, QbrTickInput(), id="qbr-quarterly-replay", task_queue=REPORTS_TASK_QUEUE
        )
        assert (await handle.result()).endswith("started"), "tick did not start a run"
        path.write_text((await handle.fetch_history()).to_json())


async def record_inventory_run(path: Path) -> None:
    """The daily inventory run over one customer with a Datto RMM and a Microsoft 365 source (vendors mocked by
    respx; `inventory_sync.json`: that customer's sync, both sources, the snapshot)."""
    import os

    import respx

    from domain.contracts.inventory import InventoryRunInput, InventoryRunProgress
    from domain.processes import INVENTORY_TASK_QUEUE, inventory_sync_workflow_id
    from hub.db import session_scope
    from models import InventorySource
    from tests.inventory_mocks import DATTO, M365_TENANT, SITE, credentials, datto_pages, graph_skus
    from workflows.inventory.sync import InventoryRunWorkflow

    os.environ.update(credentials(None))
    async with recording() as r:
        with session_scope(r.engine) as s:
            s.add(InventorySource(tenant_id=r.tenant.id, kind="datto_rmm", name="Datto RMM", credentials_ref="msp",
                                  settings={"base_url": DATTO, "site_uids": [SITE]}))  # fmt: skip
            s.add(InventorySource(tenant_id=r.tenant.id, kind="m365", name="Microsoft 365", credentials_ref="msp",
                                  settings={"tenant": M365_TENANT}))  # fmt: skip
        with respx.mock:
            datto_pages(respx.mock)
            graph_skus(respx.mock)
            run = await r.env.client.start_workflow(
                InventoryRunWorkflow.run, InventoryRunInput(), id="inventory-daily-replay",
                task_queue=INVENTORY_TASK_QUEUE, result_type=InventoryRunProgress,
            )  # fmt: skip
            result = await run.result()
        assert (result.total, result.done) == (1, 1), result
        path.write_text((await run.fetch_history()).to_json())
        sync = r.env.client.get_workflow_handle(inventory_sync_workflow_id(r.tenant.customer_number))
        (path.parent / "inventory_sync.json").write_text((await sync.fetch_history()).to_json())
async def record_service_report_run(path: Path) -> None:
    """The month's service report run over one customer with two months of data and two opted-in contacts
    (`service_report.json`: that customer's report, facts of both months loaded, the PDF stored, two mails sent)."""
    from domain.contracts.service_report import ServiceReportRunInput, ServiceReportRunProgress
    from domain.processes import service_report_workflow_id
    from hub.temporal.service_report import start_service_report_run
    from tests.service_report_setup import seed_report_customer

    async with recording() as r:
        seeded = seed_report_customer(r.engine)
        number = seeded.tenant.customer_number
        inp = ServiceReportRunInput(month="2026-11", customer_numbers=[number])
        run = r.env.client.get_workflow_handle(await start_service_report_run(r.env.client, inp),
                                               result_type=ServiceReportRunProgress)  # fmt: skip
        result = await run.result()
        assert result.done == 1, result
        path.write_text((await run.fetch_history()).to_json())
        report = r.env.client.get_workflow_handle(service_report_workflow_id(number, "2026-11"))
        assert (await report.result())["mailed"] == 2
        (path.parent / "service_report.json").write_text((await report.fetch_history()).to_json())


async def record_service_report_tick(path: Path) -> None:
    """The schedule's tick: starts the run of the month before (nobody to report on in this database)."""
    from domain.contracts.service_report import ServiceReportTickInput
    from domain.processes import REPORTS_TASK_QUEUE
    from workflows.service_report.run import ServiceReportScheduleTickWorkflow

    async with recording() as r:
        handle = await r.env.client.start_workflow(
            ServiceReportScheduleTickWorkflow.run, ServiceReportTickInput(), id="service-report-monthly-replay",
            task_queue=REPORTS_TASK_QUEUE)  # fmt: skip
        assert (await handle.result()).endswith("started"), "tick did not start a run"
        path.write_text((await handle.fetch_history()).to_json())


RECORDERS = {
    "ticket": (record_ticket_lifecycle, "ticket_lifecycle.json"),
    "sla": (record_ticket_with_sla, "ticket_sla.json"),
    "raci": (record_ticket_raci, "ticket_raci.json"),
    "repin": (record_sla_repin, "sla_repin.json"),
    "start_sweep": (record_ticket_start_sweep, "ticket_start_sweep.json"),
    "handover": (record_incident_handover, "incident_handover.json"),  # and ticket_opened_by_incident.json
    "paging": (record_incident_paging, "incident_paging.json"),
    "containment": (record_incident_containment, "incident_containment.json"),
    "handled": (record_incident_handled, "incident_handled.json"),
    "closed_update": (record_incident_closed_update, "incident_closed_update.json"),
    "poll": (record_soc_poll, "soc_poll.json"),
    "billing": (record_billing_run, "billing_run.json"),  # and invoice_issued.json, credit_note.json
    "tick": (record_billing_tick, "billing_tick.json"),
    "qbr": (record_qbr_run, "qbr_run.json"),  # and qbr_review.json
    "qbr_tick": (record_qbr_tick, "qbr_tick.json"),
    "inventory": (record_inventory_run, "inventory_run.json"),  # and inventory_sync.json
    "service_report": (record_service_report_run, "service_report_run.json"),  # and service_report.json
    "service_report_tick": (record_service_report_tick, "service_report_tick.json"),
}

if __name__ == "__main__":
    import sys

    HISTORIES.mkdir(exist_ok=True)
    which = sys.argv[1:] or list(RECORDERS)
    for name in which:
        record, file = RECORDERS[name]
        asyncio.run(record(HISTORIES / file))
    print("recorded", which)
