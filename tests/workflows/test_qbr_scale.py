"""A big customer: 20,000 tickets (with their status changes and SLA clocks) and 500 SOC incidents in one quarter,
3,000 devices. The facts the activity returns are a Temporal payload (refused over 2 MiB): serialised as the
pydantic data converter does, the ticket part stays a few KiB however many tickets there are, the whole payload far
under the limit; a QBR build through the workflow and the hub's worker succeeds with the hand-countable totals."""

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import Session
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.qbr.facts import load_facts
from domain.contracts.qbr import LoadFacts, QbrInput, QbrResult
from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import compute_kpis
from domain.tickets import EventKind, Priority, TicketStatus, Visibility
from hub.db import session_scope
from hub.temporal.qbr import start_qbr
from models import Asset, AssetType, SocIncident, Ticket, TicketEvent, TicketSla
from tests.factories import make_soc_integration, make_tenant

TICKETS = 20_000
INCIDENTS = 500
DEVICES = 3_000
RESOLVED_EVERY = 4  # every 4th ticket stays open
Q4_START = datetime(2026, 10, 1, 6, tzinfo=UTC)  # 08:00 in Berlin: well inside the quarter


def _payload_bytes(value: object) -> int:
    return len(pydantic_data_converter.payload_converter.to_payloads([value])[0].data)


@pytest.fixture(scope="module")
def big(engine):
    tenant = make_tenant(engine)
    make_soc_integration(engine, tenant, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    rng = random.Random(20_000)
    tickets, events, clocks = [], [], []
    for n in range(TICKETS):
        created = Q4_START + timedelta(minutes=6 * n)  # 20,000 × 6 min ≈ 83 days: all in Q4
        resolved = created + timedelta(hours=2) if n % RESOLVED_EVERY else None
        tid = uuid.uuid4()
        tickets.append({"id": tid, "tenant_id": tenant.id, "number": f"S{tid.hex[:15]}", "title": "t",
                        "status": TicketStatus.RESOLVED if resolved else TicketStatus.OPEN,
                        "priority": rng.choice(list(Priority)), "category": rng.choice(("Netzwerk", "Drucker", None)),
                        "created_at": created, "updated_at": created, "resolved_at": resolved})  # fmt: skip
        clocks.append({"ticket_id": tid, "kind": "response", "tenant_id": tenant.id, "target_minutes": 60,
                       "state": "stopped", "stopped_at": created + timedelta(minutes=10), "met": n % 10 != 0,
                       "updated_at": created})  # fmt: skip
        if resolved:
            events.append({"id": uuid.uuid4(), "ticket_id": tid, "tenant_id": tenant.id,
                           "kind": EventKind.STATUS_CHANGED, "at": resolved, "visibility": Visibility.INTERNAL,
                           "data": {"from": "in_progress", "to": "resolved"}})  # fmt: skip
            clocks.append({"ticket_id": tid, "kind": "resolution", "tenant_id": tenant.id, "target_minutes": 480,
                           "state": "stopped", "stopped_at": resolved, "met": True,
                           "updated_at": resolved})  # fmt: skip
    incidents = [{"key": f"big-{tenant.id.hex[:8]}-{n}", "tenant_id": tenant.id, "status": "resolved",
                  "priority": "P2", "title": "i", "first_alert_at": Q4_START + timedelta(hours=3 * n),
                  "last_alert_at": Q4_START + timedelta(hours=3 * n),
                  "acknowledged_at": Q4_START + timedelta(hours=3 * n, minutes=12) if n % 2 else None}
                 for n in range(INCIDENTS)]  # fmt: skip
    devices = [{"id": uuid.uuid4(), "tenant_id": tenant.id, "hostname": f"pc-{tenant.id.hex[:6]}-{n:05d}",
                "asset_type": AssetType.WORKSTATION, "os": "Microsoft Windows 10 Pro (10.0.19045)",
                "agent_uuid": uuid.uuid4().hex if n % 3 else None, "tags": [],
                "warranty_end": date(2026, 1, 1) + timedelta(days=n % 900), "created_at": Q4_START}
               for n in range(DEVICES)]  # fmt: skip
    with session_scope(engine) as s:
        for table, rows in ((Ticket, tickets), (TicketEvent, events), (TicketSla, clocks), (SocIncident, incidents),
                            (Asset, devices)):  # fmt: skip
            s.execute(insert(table), rows)
    return tenant


def _load(engine, tenant, period: str, snapshot: bool) -> QbrFacts:  # noqa: ANN001
    with Session(engine) as session:
        return load_facts(session, LoadFacts(tenant_id=tenant.id, quarter=period, with_snapshot=snapshot))


def test_the_facts_payload_does_not_grow_with_the_tickets(engine, big):
    current = _load(engine, big, "2026-Q4", snapshot=True)
    previous = _load(engine, big, "2026-Q3", snapshot=False)
    month = _load(engine, big, "2026-11", snapshot=True)  # the monthly service report's load
    counted = current.model_dump_json(include={"tickets", "incidents"})
    assert len(counted) < 4 * 1024  # 20,000 tickets, 35,000 clocks and 500 incidents as counts
    assert _payload_bytes(previous) < 4 * 1024
    assert _payload_bytes(current) < 512 * 1024  # the 3,000 devices are the bulk: about 150 bytes each
    assert _payload_bytes(current.model_copy(update={"devices": []})) < 16 * 1024
    assert _payload_bytes(month) < 512 * 1024

    kpis = compute_kpis(current, previous, big.customer_number, big.name)
    resolved = TICKETS - TICKETS // RESOLVED_EVERY
    assert kpis.kpi("tickets_opened").current == TICKETS
    assert kpis.kpi("tickets_closed").current == resolved
    assert kpis.kpi("sla_response").current == 90  # every 10th missed
    assert kpis.kpi("mttr_hours").current == 2
    assert kpis.kpi("security_incidents").current == INCIDENTS
    assert kpis.kpi("time_to_acknowledge").current == 12
    assert kpis.lifecycle is not None and len(kpis.lifecycle.devices) == DEVICES  # Windows 10: all out of support
    assert _payload_bytes(kpis) < 1024 * 1024  # what the summary and deck activities receive (the device list)


async def test_a_qbr_build_of_the_big_customer_succeeds(client, engine, big, documents_dir):
    handle_id = await start_qbr(client, QbrInput(tenant_id=big.id, customer_number=big.customer_number,
                                                 customer_name=big.name, quarter="2026-Q4"))  # fmt: skip
    result = await client.get_workflow_handle(handle_id, result_type=QbrResult).result()
    assert {f.kind for f in result.files} == {"pptx", "pdf"}
    assert result.summary.startswith(f"QBR 2026-Q4 [{big.customer_number}]: 20000 tickets, SLA response 90.0%")
