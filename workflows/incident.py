"""SOC incident: `incident-<key>`, one per device and threat while alerts keep coming.

The webhook inbox and the pollers hand it their normalised alerts with update-with-start (`take_alerts`, answered
once the run has handled them; older callers signal-with-start). The first new alert opens one ticket (a ticket
workflow that outlives the incident); later alerts become internal notes on that ticket. After a quiet window
without new alerts the incident closes (a closing run refuses further hand-overs); a later alert with the same key
starts a new run, which is a new incident.

Lifecycle (patches incident-lifecycle-v1, incident-paging-v1, incident-summary-v1): the triage policy (correlation
window, priority matrix, auto-resolve, on-call chain) comes pinned from the first `soc.record_alert`; a later
delivery of a known alert with another vendor status is recorded and noted, and once the vendor reports every
alert settled the ticket is resolved (policy auto_resolve) or gets a note; a P1 incident pages the on-call chain
level by level until someone acknowledges; the ticket gets a German summary (LLM or template).

Lean (patch incident-lean-v1): the alerts pending at one wake-up are handled together: one local activity records
them all, the new correlated ones become one combined internal note, the incident row is written once per batch, as
a local activity. It implies the earlier patches, which a lean run does not ask (each asked patch costs a marker).
Since patch incident-summary-inline-v1 a lean run without an LLM configured puts the template summary into the
ticket's description instead of running the summary activity and adding it as a note.

Direct (patch incident-direct-v1, implies the two above): the ticket is opened by a local activity (row and SLA
clock, then the ticket workflow started with them; before: a child workflow) and notes are keyed signals sent by a
local activity (before: external signals, each one more workflow task of the incident); one timer per quiet window.
"""

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.soc.alerts import AlertStatus, NormalizedAlert, correlation_key, incident_workflow_id
    from domain.soc.incident_flow import (
        ACKNOWLEDGE_ROLES,
        CONTAINMENT_ROLES,
        Acknowledgement,
        ContainmentDecision,
        ContainmentProposal,
        ContainRequest,
        IncidentAlert,
        IncidentInput,
        IncidentRecord,
        IncidentState,
        OpenedTicket,
        OpenTicket,
        PageRequest,
        PagingState,
        RecordAlert,
        RecordAlerts,
        RecordedAlert,
        RecordedAlerts,
        SocActivity,
        TicketNote,
    )
    from domain.soc.priority import DEFAULT_MATRIX, prioritize
    from domain.soc.summary import (
        SUMMARIZE_ACTIVITY,
        SUMMARIZE_START_TO_CLOSE,
        SummaryRequest,
        SummaryResult,
        template_summary,
    )
    from domain.soc.triage import TriagePolicy, incident_vendor_status, is_settled
    from domain.ticket_flow import TicketWorkflowInput
    from domain.tickets import NewTicket, Priority, SystemNote, SystemTransition, TicketStatus
    from workflows.common import (
        CUSTOMER_ID,
        PROCESS,
        SOC_TASK_QUEUE,
        TICKET_PRIORITY,
        TICKETS_TASK_QUEUE,
        ticket_workflow_id,
    )
    from workflows.ticket import LOCAL_DB_TIMEOUT, TicketWorkflow

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
VENDOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)
CONTAINMENT_PATCH = "containment-v1"
# Policy pinned from soc.record_alert; vendor status updates of known alerts are recorded, noted, may resolve.
LIFECYCLE_PATCH = "incident-lifecycle-v1"
# A P1 incident pages the on-call chain until acknowledged.
PAGING_PATCH = "incident-paging-v1"
# A German summary (LLM or template) as an internal note after the ticket is opened.
SUMMARY_PATCH = "incident-summary-v1"
# Pending alerts in batches, DB writes as local activities (see the module docstring and bench/SOC_STORM.md).
LEAN_PATCH = "incident-lean-v1"
# No LLM configured: the template summary goes into the ticket's description (no summary activity and note).
INLINE_SUMMARY_PATCH = "incident-summary-inline-v1"
# The incident opens its ticket (row, SLA clock, then the ticket workflow) and sends its notes through local
# activities: no child-started task, no external-signal task per note. Implies the lean and inline-summary patches.
DIRECT_PATCH = "incident-direct-v1"
# The ticket workflow cuts a system note there: a combined note of many alerts is split before it.
NOTE_LIMIT = 20_000
# A page that keeps failing must not hold up the next level for long.
PAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=20), maximum_attempts=4
)
SUMMARY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=2)
VENDOR_STATUS_DE = {
    AlertStatus.NEW: "offen",
    AlertStatus.IN_PROGRESS: "in Bearbeitung",
    AlertStatus.MITIGATED: "eingedämmt",
    AlertStatus.RESOLVED: "behoben",
    AlertStatus.SUPPRESSED: "als Fehlalarm geschlossen",
}
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
        self._arrived = self._handled = 0  # alerts received / taken from _pending and handled (or dropped)
        self._closing = False  # the quiet window has passed: no more alerts for this run
        self._seen: set[str] = set()
        self._state = IncidentState(key=inp.key)
        self._first_at = self._last_at = None
        self._expiry = timedelta(minutes=inp.containment_expiry_minutes)
        self._containment: asyncio.Task | None = None
        self._quiet = timedelta(hours=inp.quiet_window_hours)
        self._policy: TriagePolicy | None = None
        self._statuses: dict[str, AlertStatus] = {}  # vendor status of each alert of this incident
        self._background: list[asyncio.Task] = []  # paging and summary; finished before the incident closes
        self._asset_id: uuid.UUID | None = None
        self._title = ""  # the ticket's
        self._alert_title = ""  # the latest new alert's, for the incident row
        self._resolve_sent = False
        self._record_lock = asyncio.Lock()
        self._lean = False  # decided at the start of the run
        self._direct = False  # likewise
        self._quiet_timer: asyncio.Task | None = None  # incident-direct-v1: one timer for the quiet window
        self._quiet_timer_at = None
        self._llm_summary: bool | None = None  # pinned with the policy; None in histories from before

    @workflow.signal
    def alert(self, item: IncidentAlert) -> None:
        self._take([item])

    @workflow.signal
    def alerts(self, items: list[IncidentAlert]) -> None:
        """Several alerts of this incident in one hand-over, in delivery order (senders from before `take_alerts`)."""
        self._take(items)

    @workflow.update
    async def take_alerts(self, items: list[IncidentAlert]) -> None:
        """The hand-over of the webhook inbox and the pollers: like `alerts`, answered once this run has handled them
        (recorded, ticket opened or noted). The inbox thus sends only as much as the workers handle, and its backlog
        waits in the database, where it is ordered (new and dangerous incidents first), not in Temporal's queue."""
        mark = self._take(items)
        await workflow.wait_condition(lambda: self._handled >= mark)

    @take_alerts.validator
    def _validate_take_alerts(self, items: list[IncidentAlert]) -> None:
        if self._closing:  # rejected, so not in the history: the sender retries and starts the next run
            raise ApplicationError("this incident run is closing; its next run takes the alerts", type="Closing")

    def _take(self, items: list[IncidentAlert]) -> int:
        self._pending.extend(items)
        self._arrived += len(items)
        return self._arrived

    @workflow.query
    def state(self) -> IncidentState:
        return self._state

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentState:
        # Asked once, first thing: a run begun before the patch keeps its recorded shape to the end. The newest patch
        # implies the older ones, which a new run then does not ask (each asked patch costs a marker and an upsert).
        self._direct = workflow.patched(DIRECT_PATCH)
        self._lean = self._direct or workflow.patched(LEAN_PATCH)
        while True:
            if self._direct:
                if not await self._alerts_within_quiet_window():
                    break
            else:
                try:
                    # The window comes from the policy once the first alert is recorded (before: the input's).
                    await workflow.wait_condition(lambda: bool(self._pending), timeout=self._quiet)
                except TimeoutError:
                    break  # quiet for the whole window: the incident is over
            while self._pending:
                if self._lean:
                    await self._handle_batch()
                else:
                    await self._handle(self._pending.pop(0))
                self._handled = self._arrived - len(self._pending)  # what arrived meanwhile is still pending
            if self._state.ticket_id is None and not self._pending:
                break  # only repeats of alerts an earlier incident handled: nothing to open
        self._closing = True
        if self._containment is not None:
            await self._containment  # a pending proposal is decided or expires before the incident closes
        for task in self._background:
            await task  # paging ends acknowledged or with its last level; the summary within its timeout
        self._state.status = "closed"
        if self._state.ticket_id is not None:
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

    async def _handle(self, item: IncidentAlert) -> None:
        if workflow.patched(LIFECYCLE_PATCH):
            await self._handle_with_status(item)
            return
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

    async def _handle_with_status(self, item: IncidentAlert) -> None:
        alert, key = item.alert, item.alert.dedupe_key
        known = self._statuses.get(key)
        if known is None and key in self._seen:
            return  # an alert an earlier incident handled, delivered again
        if known is not None and known == alert.status:
            return  # the same vendor alert again with nothing new (webhook and poller, or a retry)
        self._seen.add(key)
        recorded: RecordedAlert = await workflow.execute_activity(
            SocActivity.RECORD_ALERT,
            RecordAlert(incident_key=self._state.key, item=item, known_status=known, with_policy=self._policy is None),
            result_type=RecordedAlert,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        if self._policy is None:
            self._policy = recorded.policy or TriagePolicy()
            self._quiet = timedelta(hours=self._policy.quiet_window_hours)
        if known is not None:
            if recorded.applied:  # else: an older delivery than the one we have (late poll)
                await self._vendor_status_changed(alert, known)
            return
        if not recorded.is_new:
            return
        self._statuses[key] = alert.status
        now = workflow.now()
        self._first_at = self._first_at or now
        self._last_at = now
        self._state.alert_count += 1
        self._state.vendor_status = incident_vendor_status(list(self._statuses.values()))
        if self._state.ticket_id is None:
            await self._open_ticket(item, recorded)
        else:
            await self._note(_note(alert))
        await self._record(asset_id=recorded.asset_id, title=alert.title)

    async def _handle_batch(self) -> None:
        """The lean path: every alert pending now, with the rules of _handle_with_status applied in order. A second
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
        notes: list[str] = []  # the new correlated alerts of this batch: one note on the ticket
        changed = False
        for (item, known), result in zip(batch, recorded.results, strict=True):
            alert = item.alert
            if known is not None:
                if result.applied:  # else: an older delivery than the one we have (late poll)
                    await self._send_alert_notes(notes)  # the ticket shows what happened in order
                    await self._status_change(alert, known)
                    changed = True
                continue
            if not result.is_new:
                continue
            changed = True
            self._statuses[alert.dedupe_key] = alert.status
            now = workflow.now()
            self._first_at = self._first_at or now
            self._last_at = now
            self._state.alert_count += 1
            self._state.vendor_status = incident_vendor_status(list(self._statuses.values()))
            self._asset_id, self._alert_title = result.asset_id or self._asset_id, alert.title
            if self._state.ticket_id is None:
                await self._open_ticket(item, result)
            else:
                notes.append(_note(alert))
        if changed:  # the note and the incident row at once: one workflow task for both
            await asyncio.gather(self._send_alert_notes(notes), self._record())
        else:
            await self._send_alert_notes(notes)

    async def _send_alert_notes(self, notes: list[str]) -> None:
        texts, notes[:] = combine_notes(notes), []
        for text in texts:
            await self._note(text)

    async def _vendor_status_changed(self, alert: NormalizedAlert, before: AlertStatus) -> None:
        await self._status_change(alert, before)
        await self._record()

    async def _status_change(self, alert: NormalizedAlert, before: AlertStatus) -> None:
        self._statuses[alert.dedupe_key] = alert.status
        overall = incident_vendor_status(list(self._statuses.values()))
        was_settled = self._state.vendor_resolved_at is not None
        self._state.vendor_status = overall
        source = SOURCE_NAMES.get(alert.source.value, "SOC")
        await self._note(
            f"{source} meldet für Alarm {alert.vendor_alert_id} ({alert.title}) einen neuen Status: "
            f"{VENDOR_STATUS_DE[before]} → {VENDOR_STATUS_DE[alert.status]}."
        )
        if not is_settled(overall):
            self._state.vendor_resolved_at = None  # reopened at the vendor
        elif not was_settled:
            self._state.vendor_resolved_at = workflow.now()
            await self._all_settled(overall)

    async def _all_settled(self, overall: AlertStatus) -> None:
        count = len(self._statuses)
        text = (
            f"Der Hersteller meldet {'den Alarm' if count == 1 else f'alle {count} Alarme'} dieses Vorfalls als "
            f"{VENDOR_STATUS_DE[overall]}."
        )
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

    async def _open_ticket(self, item: IncidentAlert, recorded: RecordedAlert) -> None:
        alert = item.alert
        matrix = self._policy.priority_matrix if self._policy is not None else DEFAULT_MATRIX
        priority = prioritize(alert, recorded.asset_type, recorded.asset_tags, matrix)
        ticket_id = workflow.uuid4()  # deterministic on replay; a new incident run gets a new ticket
        device = recorded.asset_hostname or alert.device_hostname or "unbekanntes Gerät"
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
        inline_summary = (
            self._lean and self._llm_summary is False and (self._direct or workflow.patched(INLINE_SUMMARY_PATCH))
        )
        description = _note(alert)
        if inline_summary:
            description = f"Zusammenfassung:\n{template_summary(request)}\n\n{description}"
        ticket = NewTicket(
            ticket_id=ticket_id,
            tenant_id=item.tenant_id,
            customer_number=item.customer_number,
            title=f"[{SOURCE_NAMES.get(alert.source.value, 'SOC')}] {alert.title} auf {device}"[:200],
            description=description,
            priority=priority,
            category="security",
            # An alert on a device the hub does not know is never dropped: it waits in its own queue.
            queue="soc" if recorded.asset_id else "soc-unassigned",
        )
        if self._direct:
            await workflow.execute_local_activity(
                SocActivity.OPEN_TICKET,
                OpenTicket(ticket=ticket, at=workflow.now(), incident_key=self._state.key),
                result_type=OpenedTicket,
                start_to_close_timeout=LOCAL_DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        else:
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
        self._title = ticket.title
        if priority == Priority.P1 and self._policy is not None and self._policy.oncall_chain:
            if self._lean or workflow.patched(PAGING_PATCH):
                self._state.paging = PagingState(levels=len(self._policy.oncall_chain))
                self._background.append(asyncio.create_task(self._page_chain(item, self._policy)))
        if not inline_summary and self._policy is not None and (self._lean or workflow.patched(SUMMARY_PATCH)):
            self._background.append(asyncio.create_task(self._summarize(request)))
        if priority == Priority.P1 and alert.source.value == "sentinelone" and alert.device_external_id:
            if self._lean or workflow.patched(CONTAINMENT_PATCH):
                await self._propose_containment(alert)

    # --- LLM summary (or its template) -------------------------------------------------------------------------

    async def _summarize(self, request: SummaryRequest) -> None:
        try:
            result: SummaryResult = await workflow.execute_activity(
                SUMMARIZE_ACTIVITY,
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

    # --- P1 paging: level by level until someone acknowledges ------------------------------------------------

    async def _page_chain(self, item: IncidentAlert, policy: TriagePolicy) -> None:
        paging = self._state.paging
        assert paging is not None and self._state.ticket_id is not None and self._state.priority is not None
        wait = timedelta(minutes=policy.ack_timeout_minutes)
        info = workflow.info()
        for level, url in enumerate(policy.oncall_chain, start=1):
            if paging.status != "pending":
                return
            now = workflow.now()
            paging.level, paging.paged_at, paging.ack_due_at = level, now, now + wait
            request = PageRequest(
                key=f"{info.workflow_id}:{info.run_id}:page:{level}",
                url=url,
                level=level,
                levels=paging.levels,
                incident_key=self._state.key,
                tenant_id=item.tenant_id,
                customer_number=item.customer_number,
                ticket_id=self._state.ticket_id,
                title=self._title,
                priority=self._state.priority,
                ack_due_at=paging.ack_due_at,
            )
            try:
                where = await workflow.execute_activity(
                    SocActivity.PAGE,
                    request,
                    result_type=str,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=PAGE_RETRY,
                )
            except ActivityError as err:
                paging.failed_levels.append(level)
                await self._note(f"Alarmierung der Bereitschaft Stufe {level} fehlgeschlagen: {err.cause}")
                continue  # a level that cannot be reached: the next one at once
            await self._note(
                f"Bereitschaft Stufe {level}/{paging.levels} alarmiert ({where}). Bestätigung erwartet bis "
                f"{paging.ack_due_at.isoformat()}."
            )
            await self._record()
            try:
                await workflow.wait_condition(
                    lambda: paging.status != "pending",
                    timeout=max(paging.ack_due_at - workflow.now(), timedelta(seconds=1)),
                )
                return
            except TimeoutError:
                if level < paging.levels:
                    await self._note(
                        f"Keine Bestätigung innerhalb von {policy.ack_timeout_minutes} Min.: nächste Stufe."
                    )
        if paging.status == "pending":
            paging.status = "unacknowledged"
            await self._note("Keine Bestätigung: alle Stufen der Bereitschaft wurden ohne Antwort alarmiert.")
            await self._record()

    @workflow.update
    async def acknowledge(self, ack: Acknowledgement) -> PagingState:
        paging = self._state.paging
        assert paging is not None
        paging.status, paging.acknowledged_by, paging.acknowledged_at = (
            "acknowledged",
            ack.actor_user_id,
            workflow.now(),
        )
        await self._note(
            f"Alarmierung (Stufe {paging.level}) bestätigt von {ack.actor_name or ack.actor_user_id} "
            f"({ack.actor_role.value}) um {paging.acknowledged_at.isoformat()}."
        )
        await self._record()
        return paging

    @acknowledge.validator
    def _validate_acknowledge(self, ack: Acknowledgement) -> None:
        paging = self._state.paging
        if paging is None:
            raise ApplicationError(
                "this incident has paged nobody; nothing to acknowledge", type="NothingToAcknowledge"
            )
        if paging.status == "acknowledged":
            raise ApplicationError(
                f"the page was already acknowledged at {paging.acknowledged_at}", type="NothingToAcknowledge"
            )
        if ack.actor_role not in ACKNOWLEDGE_ROLES:
            raise ApplicationError("only MSP administrators and technicians acknowledge pages", type="Forbidden")

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
        if self._state.ticket_id is None:
            return
        if self._direct:  # under an id chosen here: a retried local activity still makes one note
            await workflow.execute_local_activity(
                SocActivity.NOTE_TICKET,
                TicketNote(ticket_id=self._state.ticket_id, note=SystemNote(note_id=workflow.uuid4(), text=text)),
                start_to_close_timeout=LOCAL_DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            return
        await workflow.get_external_workflow_handle(ticket_workflow_id(self._state.ticket_id)).signal(
            "system_note", text
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
        )
        if self._lean:  # one short upsert: no round trip through the server
            await workflow.execute_local_activity(
                SocActivity.RECORD_INCIDENT, record, start_to_close_timeout=LOCAL_DB_TIMEOUT, retry_policy=DB_RETRY
            )
        else:
            await workflow.execute_activity(
                SocActivity.RECORD_INCIDENT, record, start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY
            )


def combine_notes(notes: list[str], limit: int = NOTE_LIMIT) -> list[str]:
    """The alert notes of one batch as few internal notes as fit the ticket's limit, separated by a blank line;
    each still begins with its `Alarm <source> <id>:` line. A single note over the limit stays alone."""
    combined: list[str] = []
    for text in notes:
        if combined and len(combined[-1]) + 2 + len(text) <= limit:
            combined[-1] += "\n\n" + text
        else:
            combined.append(text)
    return combined


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


async def hand_over_and_wait(
    client: Client, items: list[IncidentAlert], wait: timedelta = timedelta(seconds=60), attempts: int = 3
) -> str | None:
    """The hand-over of the webhook inbox and the pollers: update-with-start of `incident-<key>` (`take_alerts`) that
    returns once the incident has handled the alerts, so the caller's limit on hand-overs at once limits the work queued
    in Temporal. The incident is started if no run is open. Returns the workflow id, or None when every attempt met a
    start race (the time-skipping test server answers "already started" when two hand-overs start the same incident at
    one moment; the next attempt reaches the running incident). Raises when the run is closing
    (`WorkflowUpdateFailedError`) or the answer takes longer than `wait`: the alerts stay with the caller, whose retry
    the incident de-duplicates."""
    key, workflow_id = _one_incident(items)
    for _ in range(attempts):
        start = WithStartWorkflowOperation(
            IncidentWorkflow.run,
            IncidentInput(key=key),
            id=workflow_id,
            task_queue=SOC_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            await client.execute_update_with_start_workflow(
                IncidentWorkflow.take_alerts, items, start_workflow_operation=start, rpc_timeout=wait
            )
            return workflow_id
        except WorkflowAlreadyStartedError:
            continue
    return None


def _one_incident(items: list[IncidentAlert]) -> tuple[str, str]:
    key = correlation_key(items[0].alert, items[0].customer_number)
    if any(correlation_key(i.alert, i.customer_number) != key for i in items[1:]):
        raise ValueError("a hand-over takes the alerts of one incident")
    return key, incident_workflow_id(items[0].alert, items[0].customer_number)
