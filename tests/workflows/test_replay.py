"""Replay recorded histories against the current workflow code: a non-deterministic change fails here.

The histories come from `python -m tests.record_histories` (one per workflow and important path)."""

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from tests.record_histories import RECORDERS
from worker import workflow_runner
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

HISTORIES = Path(__file__).parent.parent / "histories"
ALL = sorted(HISTORIES.glob("*.json"))
WORKFLOWS = [
    TicketWorkflow,
    SlaRepinBatchWorkflow,
    TicketStartSweepWorkflow,
    IncidentWorkflow,
    SocPollerWorkflow,
    BillingRunWorkflow,
    InvoiceWorkflow,
    BillingScheduleTickWorkflow,
    QbrWorkflow,
    QbrRunWorkflow,
    QbrScheduleTickWorkflow,
    InventorySyncWorkflow,
    InventoryRunWorkflow,
    ServiceReportWorkflow,
    ServiceReportRunWorkflow,
    ServiceReportScheduleTickWorkflow,
]


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def marker_details(events) -> list[bytes]:  # noqa: ANN001
    """The payloads of every marker (patch ids, local activity types) as raw JSON."""
    return [
        bytes(p.data)
        for e in events
        if e.HasField("marker_recorded_event_attributes")
        for d in e.marker_recorded_event_attributes.details.values()
        for p in d.payloads
    ]


def has(events, field: str) -> bool:  # noqa: ANN001
    return any(e.HasField(field) for e in events)


def test_every_recorder_has_its_history():
    extra = {"ticket_opened_by_incident.json", "invoice_issued.json", "credit_note.json", "qbr_review.json",
             "inventory_sync.json", "service_report.json"}
    files = {file for _, file in RECORDERS.values()} | extra
    assert {p.name for p in ALL} == files, "record: python -m tests.record_histories"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
async def test_history_replays(path: Path):
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner())
    await replayer.replay_workflow(load(path))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_one_shape_per_workflow_no_patch_markers(path: Path):
    # Before the first tagged release workflow code changes directly; a `workflow.patched` call leaves a marker.
    events = load(path).events
    assert not any(
        e.marker_recorded_event_attributes.marker_name == "core_patch"
        for e in events
        if e.HasField("marker_recorded_event_attributes")
    )


def test_incident_hand_over_history_shape():
    # Handed over by the inbox's update (answered once handled); the ticket opened and noted by local activities.
    events = load(HISTORIES / "incident_handover.json").events
    details = marker_details(events)
    assert any(b'"soc.open_ticket"' in d for d in details) and any(b'"soc.note_ticket"' in d for d in details)
    assert not has(events, "start_child_workflow_execution_initiated_event_attributes")
    assert not has(events, "signal_external_workflow_execution_initiated_event_attributes")
    assert not has(events, "workflow_execution_signaled_event_attributes")
    updates = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert updates == ["take_alerts", "take_alerts"]
    assert sum(e.HasField("workflow_execution_update_completed_event_attributes") for e in events) == 2
    timers = [e for e in events if e.HasField("timer_started_event_attributes")]
    assert len(timers) == 2 and not has(events, "timer_canceled_event_attributes")


def test_a_new_ticket_starts_opened():
    # The row and its clock were written before the start: the first workflow task arms the timer and nothing else.
    events = load(HISTORIES / "ticket_sla.json").events
    first_task = []
    for e in events[3:]:  # after the start, the first task's scheduled, started and completed events
        if e.HasField("workflow_task_scheduled_event_attributes"):
            break
        first_task.append(e)
    assert [e.WhichOneof("attributes") for e in first_task[1:]] == ["timer_started_event_attributes"]
    assert not has(events, "marker_recorded_event_attributes") or not any(
        b'"tickets.open"' in d for d in marker_details(events)
    )


def test_ticket_opened_by_an_incident_starts_opened():
    # The incident's local activity wrote the row and started it; later notes arrive as keyed signals.
    events = load(HISTORIES / "ticket_opened_by_incident.json").events
    signals = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signals and set(signals) == {"keyed_system_note"}


@workflow.defn(name="TicketLifecycle")
class ReorderedTicketWorkflow:
    """A careless edit: runs an activity before it arms its timer."""

    @workflow.run
    async def run(self, inp: dict) -> None:
        await workflow.execute_activity("tickets.apply_change", start_to_close_timeout=timedelta(seconds=1))


async def test_replay_catches_a_nondeterministic_change():
    # Not sandboxed: this test module imports the recorders (tables and all), which the sandbox would re-import.
    replayer = Replayer(
        workflows=[ReorderedTicketWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(load(HISTORIES / "ticket_sla.json"), raise_on_replay_failure=False)
    assert result.replay_failure is not None


def test_service_report_history_shape():
    # Both months' facts, the PDF stored, then the mail: stored before it is sent, so a mail always has its file.
    events = load(HISTORIES / "service_report.json").events
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert activities == ["qbr.load_facts", "qbr.load_facts", "service_report.store", "service_report.send"]
