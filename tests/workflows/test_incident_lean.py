"""The alerts of one hand-over are one batch (one local activity records them, the new correlated ones become one
combined note, one incident-row write per batch): one ticket, repeats dropped, vendor status changes noted; the
ticket is opened and noted through local activities (no child workflow, no external signal)."""

import asyncio
import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import respx
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.soc.incidents import SocActivities
from activities.soc.summary import SocSummaryActivities
from activities.soc.tickets import SocTicketActivities
from domain.contracts.soc import IncidentAlert, IncidentInput
from domain.processes import incident_workflow_id
from domain.soc.alerts import correlation_key
from domain.soc.notes import NOTE_LIMIT, combine_notes
from domain.soc.sentinelone import normalize_sentinelone
from models import AssetType, SocAlert, Ticket
from tests.activities.test_soc_summary import ANSWER
from tests.api.test_soc_webhook_api import eventually, incident, ticket_of
from tests.connectors.test_llm import completion
from tests.factories import make_asset, make_soc_integration, make_tenant
from tests.workflows.test_incident_lifecycle import later, notes, open_threat
from worker import workflow_runner
from workflows.soc.incident import IncidentWorkflow

LLM = {"llm_base_url": "http://llm.test/v1", "llm_model": "llama3.1:8b-instruct", "llm_timeout": 5.0}


def new_id() -> str:
    return str(uuid.uuid4().int % 10**18)


def _decoded(payloads) -> list:  # noqa: ANN001
    return [json.loads(p.data) for p in payloads]


def local_activities(events) -> list[str]:  # noqa: ANN001
    return [
        _decoded(e.marker_recorded_event_attributes.details["data"].payloads)[0]["activity_type"]
        for e in events
        if e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]


@pytest.mark.parametrize("llm", [False, True], ids=["template", "llm"])
async def test_alerts_pending_at_one_wake_up_are_one_batch(env, engine, worker_settings, llm):
    """Also the summary: without an LLM the template opens the ticket's description at once; with one, the model's
    text comes as a note from the summary activity."""
    tenant = make_tenant(engine)
    host = f"ws-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=host, asset_type=AssetType.WORKSTATION)
    row = make_soc_integration(engine, tenant)
    first, second, third = (open_threat(new_id(), host) for _ in range(3))  # same device and file: one incident
    resolved = later(first, minutes=30, incidentStatus="resolved")
    alerts = [normalize_sentinelone(t, str(row.id)) for t in (first, first, second, third, resolved)]
    key = correlation_key(alerts[0], tenant.customer_number)
    items = [IncidentAlert(alert=a, tenant_id=tenant.id, customer_number=tenant.customer_number) for a in alerts]
    queue = f"soc-batch-{uuid.uuid4().hex[:8]}"
    settings = worker_settings.model_copy(update=LLM if llm else {})
    soc, summary = SocActivities(engine, settings), SocSummaryActivities(settings)
    tickets = SocTicketActivities(engine, env.client)
    with respx.mock(assert_all_called=False) as router, ThreadPoolExecutor(4) as executor:
        model = router.post(f"{LLM['llm_base_url']}/chat/completions").respond(200, json=completion(ANSWER))
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[IncidentWorkflow],
            activities=[
                soc.record_alerts,
                soc.record_incident,
                summary.summarize,
                tickets.open_ticket,
                tickets.note_ticket,
            ],
            activity_executor=executor,
            workflow_runner=workflow_runner(),
        ):
            # All five in one hand-over, as the inbox sends what waits for one incident: one wake-up.
            await env.client.execute_update_with_start_workflow(
                IncidentWorkflow.take_alerts,
                items,
                start_workflow_operation=WithStartWorkflowOperation(
                    IncidentWorkflow.run,
                    IncidentInput(key=key),
                    id=incident_workflow_id(key),
                    task_queue=queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                ),
            )
            ticket = await eventually(lambda: ticket_of(engine, incident(engine, host)))
            text = await eventually(
                lambda: (
                    (n := notes(engine, ticket.id))
                    and any("offen → behoben" in x for x in n)
                    and (not llm or any(x.startswith("Zusammenfassung (KI):\n") for x in n))
                    and n
                )
            )
            inc = await eventually(lambda: (i := incident(engine, host)) and i.alert_count == 3 and i)
            handle = env.client.get_workflow_handle(incident_workflow_id(key))
            # The notes and rows are written by local activities inside a workflow task, before the task (and its
            # markers) reaches the history: wait for the task that records the last note.
            for _ in range(100):
                history = await handle.fetch_history()
                if Counter(local_activities(history.events))["soc.note_ticket"] == (3 if llm else 2):
                    break
                await asyncio.sleep(0.1)
            # Not left waiting on a queue whose worker goes away: its next task would hold the test server's time.
            await handle.terminate("test over")

    assert inc.ticket_id == ticket.id and ticket.priority.value == "P2" and ticket.queue == "soc"
    with Session(engine) as s:
        assert len(s.exec(select(Ticket).where(Ticket.tenant_id == tenant.id)).all()) == 1
        rows = {r.vendor_alert_id: r for r in s.exec(select(SocAlert).where(SocAlert.tenant_id == tenant.id))}
    assert set(rows) == {first["id"], second["id"], third["id"]}
    # The repeat in the batch was dropped; the status change counted as the second delivery.
    assert rows[first["id"]].vendor_status == "resolved" and rows[first["id"]].deliveries == 2
    # One note for both correlated alerts, each section headed as before; the first alert is the description.
    alert_notes = [n for n in text if n.startswith("Alarm ")]
    assert len(alert_notes) == 1
    assert f"Alarm sentinelone {second['id']}:" in alert_notes[0]
    assert f"\n\nAlarm sentinelone {third['id']}:" in alert_notes[0]
    assert not any(f"Alarm sentinelone {first['id']}:" in n for n in text)
    assert sum("neuen Status" in n for n in text) == 1

    events = history.events
    markers = Counter(e.marker_recorded_event_attributes.marker_name for e in events)
    assert markers["core_patch"] == 0  # one shape, no version branches before the first release
    # Two wake-ups (the batch, then the deferred status change): each one record_alerts, a note and one
    # record_incident; the first one opens the ticket, too (with an LLM, the summary's note is one more).
    local = local_activities(events)
    assert Counter(local) == Counter(
        {"soc.record_alerts": 2, "soc.open_ticket": 1, "soc.note_ticket": 3 if llm else 2, "soc.record_incident": 2}
    )
    assert markers["core_local_activity"] == len(local)
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == (["soc.summarize"] if llm else [])
    assert model.call_count == (1 if llm else 0)
    summaries = [n for n in text if n.startswith("Zusammenfassung")]
    if llm:
        assert summaries == [f"Zusammenfassung (KI):\n{ANSWER}"]
        assert not ticket.description.startswith("Zusammenfassung")
    else:
        assert summaries == []  # in the description, there from the start
        assert ticket.description.startswith("Zusammenfassung:\n") and f"Alarm sentinelone {first['id']}:" in (
            ticket.description
        )
    # No round trips of the incident through the server for its ticket: no child workflow, no external signal.
    round_trips = {
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    }
    assert not [e for e in events if e.event_type in round_trips]


def test_combined_notes_stay_below_the_ticket_limit():
    notes_ = [f"Alarm sentinelone {i}: " + "x" * 4_000 for i in range(12)]
    combined = combine_notes(notes_)
    assert len(combined) == 3 and all(len(c) <= NOTE_LIMIT for c in combined)
    assert all(c.startswith("Alarm sentinelone ") for c in combined)
    assert "\n\n".join(combined) == "\n\n".join(notes_)  # nothing lost, order kept
    assert combine_notes(["a"]) == ["a"] and combine_notes([]) == []
    assert combine_notes(["a" * 30, "b"], limit=20) == ["a" * 30, "b"]  # an oversized note stays alone
