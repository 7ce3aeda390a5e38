"""SOC incident: `incident-<key>`, one per device and threat while alerts keep coming.

The webhook inbox and the pollers hand it their normalised alerts with update-with-start (`take_alerts`, answered
once the run has handled them). The first alert pins the triage policy (correlation window, priority matrix,
auto-resolve, on-call chain, already handled threats) and is triaged (`domain.soc.triage.decide`): one ticket (a local
activity writes the ticket row and SLA clock and starts the ticket workflow, which outlives the incident), or, for a
threat the vendor already handled and the policy "none", only the incident row; a later alert that the vendor has not
handled (or a handled one reopened at the vendor) then opens the ticket. Later alerts become internal notes on that
ticket; a known alert with another vendor status is noted, and once the vendor reports every alert settled the ticket
is resolved (policy) or gets a note. After a quiet window without alerts the incident closes; the next alert with
its key starts a new run. A new vendor status of an alert of a closed run reaches a new run too: the activity records
it on the alert and the closed incident's row, the run notes it on that incident's ticket (kept there also when the
ticket is closed), and ends without an incident of its own.
Paging and containment decisions are in `incident_response.py`.
"""

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.contracts.soc import (
    IncidentAlert,
    IncidentInput,
    IncidentRecord,
    IncidentState,
    OpenedTicket,
    OpenTicket,
    PagingState,
    RecordAlert,
    RecordAlerts,
    RecordedAlert,
    RecordedAlerts,
    SocActivity,
    SummaryRequest,
    SummaryResult,
    TicketNote,
)
from domain.contracts.tickets import NewTicket, SystemNote, SystemTransition
from domain.processes import CUSTOMER_ID, PROCESS, SOC_INCIDENT_PROCESS, TICKET_PRIORITY, ticket_workflow_id
from domain.soc.alerts import AlertStatus, NormalizedAlert, device_keys
from domain.soc.notes import (
    alert_note,
    combine_notes,
    earlier_incident_note,
    informational_notice,
    settled_note,
    status_change_note,
    ticket_title,
    unhandled_in_informational_note,
)
from domain.soc.priority import is_handled
from domain.soc.summary import SUMMARIZE_START_TO_CLOSE, template_summary
from domain.soc.triage import HandledThreats, TriagePolicy, decide, incident_vendor_status, is_settled
from domain.tickets import TicketStatus
from workflows.policies import DB_RETRY, LOCAL_DB_TIMEOUT
from workflows.soc.incident_response import IncidentResponse

SUMMARY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=2)


@workflow.defn(name="SocIncident")
class IncidentWorkflow(IncidentResponse):
    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        self._pending: list[IncidentAlert] = []
        self._arrived = self._handled = 0  # alerts received / taken from _pending and handled (or dropped)
        self._closing = False  # the quiet window has passed: no more alerts for this run
        self._seen: set[str] = set()
        self._state = IncidentState(key=inp.key)
        self._first_at = self._last_at = None
        self._expiry = timedelta(minutes=inp.containment_expiry_minutes)
        self._containment: asyncio.Task | None = None
        self._quiet = timedelta(hours=inp.quiet_window_hours)  # until the policy's window is pinned
        self._policy: TriagePolicy | None = None
        self._statuses: dict[str, AlertStatus] = {}  # vendor status of each alert of this incident
        self._background: list[asyncio.Task] = []  # paging and summary; finished before the incident closes
        self._asset_id: uuid.UUID | None = None
        self._title = ""  # the ticket's
        self._alert_title = ""  # the latest new alert's, for the incident row
        self._resolve_sent = False
        self._record_lock = asyncio.Lock()
        self._quiet_timer: asyncio.Task | None = None  # one timer for the quiet window
        self._quiet_timer_at = None
        self._llm_summary: bool | None = None  # pinned with the policy
        self._informational = False  # the ticket was opened as information only (the vendor had handled the threat)

    @workflow.update
    async def take_alerts(self, items: list[IncidentAlert]) -> None:
        """The hand-over of the webhook inbox and the pollers, answered once this run has handled the alerts
        (recorded, ticket opened or noted). The inbox thus sends only as much as the workers handle, and its backlog
        waits in the database, where it is ordered (new and dangerous incidents first), not in Temporal's queue."""
        self._pending.extend(items)
        self._arrived += len(items)
        mark = self._arrived
        await workflow.wait_condition(lambda: self._handled >= mark)

    @take_alerts.validator
    def _validate_take_alerts(self, items: list[IncidentAlert]) -> None:
        if self._closing:  # rejected, so not in the history: the sender retries and starts the next run
            raise ApplicationError("this incident run is closing; its next run takes the alerts", type="Closing")

    @workflow.query
    def state(self) -> IncidentState:
        return self._state

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentState:
        while await self._alerts_within_quiet_window():
            while self._pending:
                await self._handle_batch()
                self._handled = self._arrived - len(self._pending)  # what arrived meanwhile is still pending
            if self._state.tenant_id is None and not self._pending:
                break  # only repeats of alerts an earlier incident handled: nothing to open
        self._closing = True
        if self._containment is not None:
            await self._containment  # a pending proposal is decided or expires before the incident closes
        for task in self._background:
            await task  # paging ends acknowledged or with its last level; the summary within its timeout
        self._state.status = "closed"
        if self._state.tenant_id is not None:  # also an incident recorded without a ticket
            await self._record()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _alerts_within_quiet_window(self) -> bool:
        """Wait for alerts; False once the window (the policy's) passed without any since this wait began.

        One durable timer serves many wake-ups: a timer that fires before the window's end is armed again for the
        rest, instead of a new timer started and cancelled at every wake-up (each is a history event and a timer
        task in the server)."""
        deadline = workflow.now() + self._quiet
        while not self._pending:
            if self._quiet_timer is None or self._quiet_timer_at > deadline:  # none yet, or the window shrank
                if self._quiet_timer is not None:
                    self._quiet_timer.cancel()
                self._quiet_timer_at = deadline
                self._quiet_timer = asyncio.create_task(workflow.sleep(deadline - workflow.now()))
            timer = self._quiet_timer
            await workflow.wait_condition(lambda timer=timer: bool(self._pending) or timer.done())
            if timer.done() and not self._pending:
                if workflow.now() >= deadline:
                    return False
                self._quiet_timer = None  # fired for an earlier wait: arm it again for the rest of this window
        return True

    async def _handle_batch(self) -> None:
        """Every alert pending now, in delivery order: a new alert opens the ticket or becomes part of one combined
        note; a known alert with another vendor status is recorded and noted; repeats are dropped. A second
        delivery of an alert already in the batch waits for the next round (it may change that alert's status)."""
        batch: list[tuple[IncidentAlert, AlertStatus | None]] = []
        later: list[IncidentAlert] = []
        for item in self._pending:
            key = item.alert.dedupe_key
            if any(key == queued.alert.dedupe_key for queued, _ in batch):
                later.append(item)
                continue
            known = self._statuses.get(key)
            if known is None and key in self._seen:
                continue  # an alert an earlier incident handled, delivered again
            if known is not None and known == item.alert.status:
                continue  # the same vendor alert again with nothing new
            batch.append((item, known))
        self._pending = later  # before the first await: signals arriving meanwhile queue for the next round
        if not batch:
            return
        self._seen.update(item.alert.dedupe_key for item, _ in batch)
        first_policy = self._policy is None
        recorded: RecordedAlerts = await workflow.execute_local_activity(
            SocActivity.RECORD_ALERTS,
            RecordAlerts(
                alerts=[
                    RecordAlert(
                        incident_key=self._state.key, item=item, known_status=known, with_policy=first_policy and i == 0
                    )
                    for i, (item, known) in enumerate(batch)
                ]
            ),
            result_type=RecordedAlerts,
            start_to_close_timeout=LOCAL_DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if self._policy is None:
            self._policy = recorded.results[0].policy or TriagePolicy()
            self._llm_summary = recorded.results[0].llm_summary
            self._quiet = timedelta(hours=self._policy.quiet_window_hours)
        policy = self._policy
        notes: list[str] = []  # the new correlated alerts of this batch: one note on the ticket
        changed = False
        for (item, known), result in zip(batch, recorded.results, strict=True):
            alert = item.alert
            if known is not None:
                if result.applied:  # else: an older delivery than the one we have (late poll)
                    await self._send_alert_notes(notes)  # the ticket shows what happened in order
                    await self._status_change(alert, known)
                    await self._unhandled(item, result, policy)  # reopened at the vendor
                    changed = True
                continue
            if not result.is_new:
                if result.earlier is not None and result.earlier.ticket_id is not None:
                    await self._note(earlier_incident_note(alert, result.earlier), result.earlier.ticket_id)
                continue
            changed = True
            self._statuses[alert.dedupe_key] = alert.status
            now = workflow.now()
            self._first_at = self._first_at or now
            self._last_at = now
            self._state.alert_count += 1
            self._state.devices = list(dict.fromkeys([*self._state.devices, *device_keys(alert)]))
            self._state.vendor_status = incident_vendor_status(list(self._statuses.values()))
            self._asset_id, self._alert_title = result.asset_id or self._asset_id, alert.title
            if self._state.ticket_id is None:
                await self._open_ticket(item, result, policy)
            else:
                notes.append(alert_note(alert))
                if self._informational and not is_handled(alert):
                    await self._send_alert_notes(notes)  # the alert first, then what it means
                    await self._unhandled(item, result, policy)
        if changed:  # the note and the incident row at once: one workflow task for both
            await asyncio.gather(self._send_alert_notes(notes), self._record())
        else:
            await self._send_alert_notes(notes)

    async def _send_alert_notes(self, notes: list[str]) -> None:
        texts, notes[:] = combine_notes(notes), []
        for text in texts:
            await self._note(text)

    async def _status_change(self, alert: NormalizedAlert, before: AlertStatus) -> None:
        self._statuses[alert.dedupe_key] = alert.status
        overall = incident_vendor_status(list(self._statuses.values()))
        was_settled = self._state.vendor_resolved_at is not None
        self._state.vendor_status = overall
        await self._note(status_change_note(alert, before))
        if not is_settled(overall):
            self._state.vendor_resolved_at = None  # reopened at the vendor
        elif not was_settled:
            self._state.vendor_resolved_at = workflow.now()
            await self._all_settled(overall)

    async def _all_settled(self, overall: AlertStatus) -> None:
        text = settled_note(len(self._statuses), overall)
        policy = self._policy or TriagePolicy()
        if not policy.auto_resolve or self._state.ticket_id is None:
            await self._note(text + " Automatisches Lösen ist nicht eingestellt: bitte prüfen und das Ticket lösen.")
            return
        if self._resolve_sent:
            await self._note(text + " Das Ticket wurde bereits einmal automatisch gelöst; bitte prüfen.")
            return
        self._resolve_sent = True  # once per incident: a ticket reopened by a person stays open
        await workflow.get_external_workflow_handle(ticket_workflow_id(self._state.ticket_id)).signal(
            "system_transition",
            SystemTransition(
                to_status=TicketStatus.RESOLVED,
                note=text + " Das Ticket wird automatisch gelöst (Richtlinie der Integration).",
                reason="soc_vendor_resolved",
            ),
        )

    async def _unhandled(self, item: IncidentAlert, recorded: RecordedAlert, policy: TriagePolicy) -> None:
        """An alert the vendor has not handled (new, or reopened) in an incident that has no ticket yet opens it;
        in one whose ticket was opened as information only, a note asks for the priority to be checked."""
        if is_handled(item.alert):
            return
        if self._state.ticket_id is None:
            await self._open_ticket(item, recorded, policy)
        elif self._informational:
            self._informational = False  # said once
            await self._note(unhandled_in_informational_note(item.alert))

    async def _open_ticket(self, item: IncidentAlert, recorded: RecordedAlert, policy: TriagePolicy) -> None:
        alert = item.alert
        decision = decide(alert, recorded.asset_type, recorded.asset_tags, policy)
        priority = decision.priority
        if not decision.ticket:  # handled by the vendor, policy "none": the incident row records it
            if self._state.tenant_id is None:
                workflow.upsert_search_attributes(
                    [CUSTOMER_ID.value_set(item.customer_number), PROCESS.value_set(SOC_INCIDENT_PROCESS)]
                )
            self._state.tenant_id, self._state.priority = item.tenant_id, priority
            return
        self._state.tenant_id, self._state.priority = item.tenant_id, priority
        informational = decision.handled and policy.handled_threats == HandledThreats.INFORMATIONAL
        ticket_id = workflow.uuid4()  # deterministic on replay; a new incident run gets a new ticket
        request = SummaryRequest(
            incident_key=self._state.key,
            tenant_id=item.tenant_id,
            priority=priority,
            alerts=[alert],
            asset_hostname=recorded.asset_hostname,
            asset_type=recorded.asset_type,
            asset_tags=recorded.asset_tags,
        )
        # Without an LLM the template summary opens the ticket's description: no activity, no later note.
        inline_summary = not self._llm_summary
        description = alert_note(alert)
        if inline_summary:
            description = f"Zusammenfassung:\n{template_summary(request)}\n\n{description}"
        if informational:
            description = f"{informational_notice(alert, policy.handled_threats.value)}\n\n{description}"
        ticket = NewTicket(
            ticket_id=ticket_id,
            tenant_id=item.tenant_id,
            customer_number=item.customer_number,
            # The host as the vendor spells it; our inventory's spelling only when the vendor names none.
            title=ticket_title(alert, alert.device_hostname or recorded.asset_hostname, handled=decision.handled),
            description=description,
            priority=priority,
            category="security",
            # An alert on a device the hub does not know is never dropped: it waits in its own queue.
            queue="soc" if recorded.asset_id else "soc-unassigned",
        )
        await workflow.execute_local_activity(
            SocActivity.OPEN_TICKET,
            OpenTicket(ticket=ticket, at=workflow.now(), incident_key=self._state.key),
            result_type=OpenedTicket,
            start_to_close_timeout=LOCAL_DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._state.ticket_id, self._informational = ticket_id, informational
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(item.customer_number),
                TICKET_PRIORITY.value_set(priority.value),
                PROCESS.value_set(SOC_INCIDENT_PROCESS),
            ]
        )
        workflow.upsert_memo({"summary": f"{priority.value} [{item.customer_number}] {ticket.title}"})
        self._title = ticket.title
        if decision.page:
            self._state.paging = paging = PagingState(levels=len(policy.oncall_chain))
            self._background.append(asyncio.create_task(self._page_chain(item, policy, paging, ticket_id, priority)))
        if not inline_summary:
            self._background.append(asyncio.create_task(self._summarize(request)))
        if decision.contain:
            await self._propose_containment(alert)

    # --- LLM summary (or its template) -------------------------------------------------------------------------

    async def _summarize(self, request: SummaryRequest) -> None:
        try:
            result: SummaryResult = await workflow.execute_activity(
                SocActivity.SUMMARIZE,
                request,
                result_type=SummaryResult,
                start_to_close_timeout=SUMMARIZE_START_TO_CLOSE,
                retry_policy=SUMMARY_RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning("incident summary skipped", extra={"error": str(err.cause)})
            return
        prefix = "Zusammenfassung (KI)" if result.source == "llm" else "Zusammenfassung"
        await self._note(f"{prefix}:\n{result.text}")

    async def _note(self, text: str, ticket_id: uuid.UUID | None = None) -> None:
        """On this incident's ticket, or on `ticket_id` (an earlier incident's, for an update of one of its alerts)."""
        ticket_id = ticket_id or self._state.ticket_id
        if ticket_id is None:
            return
        # Under an id chosen here: a retried local activity still makes one note.
        await workflow.execute_local_activity(
            SocActivity.NOTE_TICKET,
            TicketNote(ticket_id=ticket_id, note=SystemNote(note_id=workflow.uuid4(), text=text)),
            start_to_close_timeout=LOCAL_DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    async def _record(self, asset_id: uuid.UUID | None = None, title: str = "") -> None:
        # Remembered, so a later record (status change, paging, close) does not blank them out.
        self._asset_id, self._alert_title = asset_id or self._asset_id, title or self._alert_title
        async with self._record_lock:  # paging and alerts record concurrently: the row must end with the latest
            await self._write_record()

    async def _write_record(self) -> None:
        s, paging = self._state, self._state.paging
        record = IncidentRecord(
            key=s.key,
            tenant_id=s.tenant_id,
            ticket_id=s.ticket_id,
            asset_id=self._asset_id,
            status=s.status,
            priority=s.priority,
            title=self._alert_title or s.key,
            alert_count=s.alert_count,
            first_alert_at=self._first_at,
            last_alert_at=self._last_at,
            resolved_at=workflow.now() if s.status == "closed" else None,
            vendor_status=s.vendor_status.value if s.vendor_status is not None else None,
            vendor_resolved_at=s.vendor_resolved_at,
            paged_level=paging.level if paging is not None and paging.level else None,
            acknowledged_by=paging.acknowledged_by if paging is not None else None,
            acknowledged_at=paging.acknowledged_at if paging is not None else None,
            device_keys=s.devices,
        )
        await workflow.execute_local_activity(
            SocActivity.RECORD_INCIDENT, record, start_to_close_timeout=LOCAL_DB_TIMEOUT, retry_policy=DB_RETRY
        )
