"""Replay recorded histories against the current workflow code: a non-deterministic change fails here."""

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.common import workflow_runner
from workflows.incident import IncidentWorkflow
from workflows.sla_repin import SlaRepinBatchWorkflow
from workflows.soc_poller import SocPollerWorkflow
from workflows.ticket import TicketWorkflow

HISTORIES = Path(__file__).parent.parent / "histories"
TICKET_HISTORIES = sorted(HISTORIES.glob("ticket_*.json"))
INCIDENT_HISTORIES = sorted(HISTORIES.glob("incident_*.json"))
POLL_HISTORIES = sorted(HISTORIES.glob("soc_poll_*.json"))
REPIN_HISTORIES = sorted(HISTORIES.glob("sla_repin_*.json"))


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


def signal_names(events) -> list[str]:  # noqa: ANN001
    return [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]


def test_histories_exist():
    histories = (TICKET_HISTORIES, INCIDENT_HISTORIES, POLL_HISTORIES, REPIN_HISTORIES)
    assert all(histories), "record: python -m tests.record_histories"
    # Incidents with the lifecycle patches (policy, vendor status, paging + acknowledgement, summary).
    assert HISTORIES / "incident_lifecycle_v1.json" in INCIDENT_HISTORIES, "record: ... record_histories lifecycle"


@pytest.mark.parametrize("path", REPIN_HISTORIES, ids=lambda p: p.name)
async def test_sla_repin_history_replays(path: Path):
    replayer = Replayer(
        workflows=[SlaRepinBatchWorkflow], data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )
    await replayer.replay_workflow(load(path))


@pytest.mark.parametrize("path", POLL_HISTORIES, ids=lambda p: p.name)
async def test_soc_poll_history_replays(path: Path):
    replayer = Replayer(
        workflows=[SocPollerWorkflow], data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )
    await replayer.replay_workflow(load(path))


@pytest.mark.parametrize("path", INCIDENT_HISTORIES, ids=lambda p: p.name)
async def test_incident_history_replays(path: Path):
    replayer = Replayer(
        workflows=[IncidentWorkflow], data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )
    await replayer.replay_workflow(load(path))


@pytest.mark.parametrize("path", TICKET_HISTORIES, ids=lambda p: p.name)
async def test_ticket_history_replays(path: Path):
    replayer = Replayer(
        workflows=[TicketWorkflow], data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )
    await replayer.replay_workflow(load(path))


@workflow.defn(name="TicketLifecycle")
class ReorderedTicketWorkflow:
    """A careless edit: starts with a timer instead of the create activity."""

    @workflow.run
    async def run(self, inp: dict) -> None:
        await workflow.sleep(timedelta(seconds=1))


@pytest.mark.parametrize("path", TICKET_HISTORIES[:1], ids=lambda p: p.name)
async def test_replay_catches_a_nondeterministic_change(path: Path):
    replayer = Replayer(workflows=[ReorderedTicketWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is not None


def test_lean_incident_history_exists():
    # Incidents with patch incident-lean-v1 (batched alerts, combined note, local DB activities).
    path = HISTORIES / "incident_lean_v1.json"
    assert path in INCIDENT_HISTORIES, "record: python -m tests.record_histories lean"
    details = marker_details(load(path).events)
    assert any(b'"incident-lean-v1"' in d for d in details) and any(b'"soc.record_alerts"' in d for d in details)


def test_inline_summary_incident_history_exists():
    # Incidents with patch incident-summary-inline-v1, handed over by the webhook inbox (one `alerts` signal).
    path = HISTORIES / "incident_inline_summary_v1.json"
    assert path in INCIDENT_HISTORIES, "record: python -m tests.record_histories inline"
    events = load(path).events
    details = marker_details(events)
    assert any(b'"incident-summary-inline-v1"' in d for d in details)
    assert signal_names(events) == ["alerts"]
    assert not any(e.HasField("activity_task_scheduled_event_attributes") for e in events)  # no summary activity


def test_direct_incident_history_exists():
    # Incidents with patch incident-direct-v1: the ticket opened and noted through local activities, one quiet timer.
    # (incident_direct_signals_v1.json: the same path fed by `alerts` signals, as an older API process sends them.)
    path = HISTORIES / "incident_direct_v1.json"
    assert path in INCIDENT_HISTORIES, "record: python -m tests.record_histories direct"
    events = load(path).events
    details = marker_details(events)
    assert any(b'"incident-direct-v1"' in d for d in details)
    assert not any(b'"incident-lean-v1"' in d for d in details)  # implied, not asked
    assert any(b'"soc.open_ticket"' in d for d in details) and any(b'"soc.note_ticket"' in d for d in details)
    assert not any(
        e.HasField("start_child_workflow_execution_initiated_event_attributes")
        or e.HasField("signal_external_workflow_execution_initiated_event_attributes")
        for e in events
    )
    # Handed over by the inbox's update (answered once handled), not by signals.
    assert signal_names(events) == []
    updates = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert updates == ["take_alerts", "take_alerts"]
    assert sum(e.HasField("workflow_execution_update_completed_event_attributes") for e in events) == 2
    timers = [e for e in events if e.HasField("timer_started_event_attributes")]
    assert len(timers) == 2 and not any(e.HasField("timer_canceled_event_attributes") for e in events)
