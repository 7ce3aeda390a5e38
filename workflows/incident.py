"""SOC incident: `incident-<key>`, one per device and threat while alerts keep coming.

Webhooks and pollers signal-with-start it with each normalised alert. The first new alert opens one ticket
(a child ticket workflow that outlives the incident); later alerts become internal notes on that ticket. After
a quiet window without new alerts the incident closes; a later alert with the same key starts a new run, which
is a new incident.
"""

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.soc.alerts import NormalizedAlert
    from domain.soc.incident_flow import (
        CONTAINMENT_ROLES,
        ContainmentDecision,
        ContainmentProposal,
        ContainRequest,
        IncidentAlert,
        IncidentInput,
        IncidentRecord,
        IncidentState,
        RecordAlert,
        RecordedAlert,
        SocActivity,
    )
    from domain.soc.priority import prioritize
    from domain.ticket_flow import TicketWorkflowInput
    from domain.tickets import NewTicket, Priority
    from workflows.common import CUSTOMER_ID, PROCESS, TICKET_PRIORITY, TICKETS_TASK_QUEUE, ticket_workflow_id
    from workflows.ticket import TicketWorkflow

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
VENDOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)
CONTAINMENT_PATCH = "containment-v1"
SOURCE_NAMES = {
    "sentinelone": "SentinelOne",
    "rocketcyber": "RocketCyber",
    "barracuda_xdr": "Barracuda XDR",
    "generic": "SOC",
}


@workflow.defn(name="SocIncident")
class IncidentWorkflow:
    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        self._pending: list[IncidentAlert] = []
        self._seen: set[str] = set()
        self._state = IncidentState(key=inp.key)
        self._first_at = self._last_at = None
        self._expiry = timedelta(minutes=inp.containment_expiry_minutes)
        self._containment: asyncio.Task | None = None

    @workflow.signal
    def alert(self, item: IncidentAlert) -> None:
        self._pending.append(item)

    @workflow.query
    def state(self) -> IncidentState:
        return self._state

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentState:
        quiet = timedelta(hours=inp.quiet_window_hours)
        while True:
            try:
                await workflow.wait_condition(lambda: bool(self._pending), timeout=quiet)
            except TimeoutError:
                break  # quiet for the whole window: the incident is over
            while self._pending:
                await self._handle(self._pending.pop(0))
            if self._state.ticket_id is None and not self._pending:
                break  # only repeats of alerts an earlier incident handled: nothing to open
        if self._containment is not None:
            await self._containment  # a pending proposal is decided or expires before the incident closes
        self._state.status = "closed"
        if self._state.ticket_id is not None:
            await self._record()
        return self._state

    async def _handle(self, item: IncidentAlert) -> None:
        alert = item.alert
        if alert.dedupe_key in self._seen:
            return  # the same vendor alert again (webhook and poller, or a retry)
        self._seen.add(alert.dedupe_key)
        recorded: RecordedAlert = await workflow.execute_activity(
            SocActivity.RECORD_ALERT,
            RecordAlert(incident_key=self._state.key, item=item),
            result_type=RecordedAlert,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        if not recorded.is_new:
            return
        now = workflow.now()
        self._first_at = self._first_at or now
        self._last_at = now
        self._state.alert_count += 1
        if self._state.ticket_id is None:
            await self._open_ticket(item, recorded)
        else:
            await self._note(_note(alert))
        await self._record(asset_id=recorded.asset_id, title=alert.title)

    async def _open_ticket(self, item: IncidentAlert, recorded: RecordedAlert) -> None:
        alert = item.alert
        priority = prioritize(alert, recorded.asset_type, recorded.asset_tags)
        ticket_id = workflow.uuid4()  # deterministic on replay; a new incident run gets a new ticket
        device = recorded.asset_hostname or alert.device_hostname or "unbekanntes Gerät"
        ticket = NewTicket(
            ticket_id=ticket_id,
            tenant_id=item.tenant_id,
            customer_number=item.customer_number,
            title=f"[{SOURCE_NAMES.get(alert.source.value, 'SOC')}] {alert.title} auf {device}"[:200],
            description=_note(alert),
            priority=priority,
            category="security",
            # An alert on a device the hub does not know is never dropped: it waits in its own queue.
            queue="soc" if recorded.asset_id else "soc-unassigned",
        )
        await workflow.start_child_workflow(
            TicketWorkflow.run,
            TicketWorkflowInput(ticket=ticket),
            id=ticket_workflow_id(ticket_id),
            task_queue=TICKETS_TASK_QUEUE,
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=workflow.info().typed_search_attributes.updated(
                CUSTOMER_ID.value_set(item.customer_number),
                TICKET_PRIORITY.value_set(priority.value),
                PROCESS.value_set("ticket"),
            ),
        )
        self._state.tenant_id, self._state.ticket_id, self._state.priority = item.tenant_id, ticket_id, priority
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(item.customer_number),
                TICKET_PRIORITY.value_set(priority.value),
                PROCESS.value_set("soc"),
            ]
        )
        workflow.upsert_memo({"summary": f"{priority.value} [{item.customer_number}] {ticket.title}"})
        if priority == Priority.P1 and alert.source.value == "sentinelone" and alert.device_external_id:
            if workflow.patched(CONTAINMENT_PATCH):
                await self._propose_containment(alert)

    # --- containment: proposed by the hub, decided by a person, executed by an activity ----------------------

    async def _propose_containment(self, alert: NormalizedAlert) -> None:
        now = workflow.now()
        self._state.containment = ContainmentProposal(
            integration_id=alert.integration_id,
            agent_id=alert.device_external_id,
            hostname=alert.device_hostname,
            proposed_at=now,
            expires_at=now + self._expiry,
        )
        await self._note(
            f"Vorschlag: {alert.device_hostname or alert.device_external_id} vom Netzwerk trennen "
            f"(SentinelOne). Wartet auf Freigabe bis {self._state.containment.expires_at.isoformat()}."
        )
        self._containment = asyncio.create_task(self._expire_containment())

    async def _expire_containment(self) -> None:
        proposal = self._state.containment
        assert proposal is not None
        try:
            await workflow.wait_condition(
                lambda: proposal.status != "pending", timeout=proposal.expires_at - workflow.now()
            )
        except TimeoutError:
            proposal.status = "expired"
            await self._note("Vorschlag zur Netztrennung ist ohne Entscheidung abgelaufen.")
        await workflow.wait_condition(lambda: proposal.status not in ("pending", "approved"))

    @workflow.update
    async def decide_containment(self, decision: ContainmentDecision) -> ContainmentProposal:
        proposal = self._state.containment
        assert proposal is not None
        proposal.status = "approved" if decision.approve else "rejected"
        proposal.decided_by, proposal.decided_at, proposal.reason = (
            decision.actor_user_id,
            workflow.now(),
            decision.reason,
        )
        verdict = "freigegeben" if decision.approve else "abgelehnt"
        await self._note(
            f"Netztrennung {verdict} von {decision.actor_user_id} ({decision.actor_role.value})"
            + (f": {decision.reason}" if decision.reason else ".")
        )
        if decision.approve:
            try:
                proposal.result = await workflow.execute_activity(
                    SocActivity.CONTAIN,
                    ContainRequest(
                        integration_id=proposal.integration_id, agent_id=proposal.agent_id, incident_key=self._state.key
                    ),
                    result_type=str,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=VENDOR_RETRY,
                )
                proposal.status = "executed"
            except ActivityError as err:
                proposal.status, proposal.result = "failed", str(err.cause)
            await self._note(
                f"Netztrennung {'ausgeführt' if proposal.status == 'executed' else 'fehlgeschlagen'}: {proposal.result}"
            )
        return proposal

    @decide_containment.validator
    def _validate_decision(self, decision: ContainmentDecision) -> None:
        proposal = self._state.containment
        if proposal is None:
            raise ApplicationError("this incident has no containment proposal", type="NoProposal")
        if proposal.status != "pending":
            raise ApplicationError(f"the proposal is already {proposal.status}", type="AlreadyDecided")
        if workflow.now() >= proposal.expires_at:
            raise ApplicationError("the proposal has expired", type="Expired")
        if decision.actor_role not in CONTAINMENT_ROLES:
            raise ApplicationError("only MSP administrators and technicians decide on containment", type="Forbidden")

    async def _note(self, text: str) -> None:
        if self._state.ticket_id is not None:
            await workflow.get_external_workflow_handle(ticket_workflow_id(self._state.ticket_id)).signal(
                "system_note", text
            )

    async def _record(self, asset_id: uuid.UUID | None = None, title: str = "") -> None:
        s = self._state
        await workflow.execute_activity(
            SocActivity.RECORD_INCIDENT,
            IncidentRecord(
                key=s.key,
                tenant_id=s.tenant_id,
                ticket_id=s.ticket_id,
                asset_id=asset_id,
                status=s.status,
                priority=s.priority,
                title=title or s.key,
                alert_count=s.alert_count,
                first_alert_at=self._first_at,
                last_alert_at=self._last_at,
                resolved_at=workflow.now() if s.status == "closed" else None,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )


def _note(alert: NormalizedAlert) -> str:
    lines = [
        f"Alarm {alert.source.value} {alert.vendor_alert_id}: {alert.title}",
        f"Schweregrad: {alert.severity.value}, Einstufung: {alert.verdict.value}"
        + (f", Konfidenz {alert.confidence} %" if alert.confidence is not None else ""),
        f"Erkannt: {alert.detected_at.isoformat()}",
    ]
    for label, value in (
        ("Gerät", alert.device_hostname),
        ("IP", alert.device_ip),
        ("Benutzer", alert.user),
        ("Datei", alert.file_path or alert.file_name),
        ("SHA-256", alert.file_sha256),
        ("Klassifizierung", alert.classification),
        ("Link", alert.vendor_url),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if alert.mitre_techniques:
        lines.append("MITRE ATT&CK: " + ", ".join(alert.mitre_techniques))
    return "\n".join(lines)
