"""Ticket lifecycle: one long-running workflow per ticket, `ticket-<id>`.

Every change arrives as an Update (validated first, so an invalid one never reaches history), is persisted
by an idempotent activity, and only then changes the workflow's state and search attributes.

The SLA clock (patch "sla-clock-v1") lives here too: its context (targets, calendar, escalation policy) is
loaded and pinned once; every change feeds it an event through a local activity (so due instants are
recorded, not recomputed on replay); a durable timer wakes the workflow when a level is due.
"""

import asyncio
from datetime import datetime, timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.escalation import NOTIFYING_ACTIONS, RaisePriority, Reassign, raised
    from domain.notifications import NotifyRequest
    from domain.roles import Role
    from domain.sla import (
        AdvanceRequest,
        AdvanceResult,
        ClockSet,
        LoadSlaContext,
        RecordSla,
        RepinRequest,
        RepinResult,
        ScheduledAction,
        SlaActivity,
        SlaCarry,
        SlaContext,
        SlaEvent,
        SlaEventKind,
        SlaPlan,
        SlaState,
        due_actions,
    )
    from domain.ticket_flow import TicketOpened, TicketWorkflowInput
    from domain.tickets import (
        AssignRequest,
        CommentRequest,
        EventKind,
        NewTicket,
        PriorityRequest,
        RepinSlaRequest,
        SystemNote,
        SystemTransition,
        TicketActivity,
        TicketChange,
        TicketCreation,
        TicketRecord,
        TicketState,
        TicketStatus,
        TimeEntryRequest,
        TransitionError,
        TransitionRequest,
        Visibility,
        check_transition,
        reopen_deadline,
    )
    from workflows.common import CUSTOMER_ID, PROCESS, SLA_STATE, TICKET_NUMBER, TICKET_PRIORITY, TICKET_STATUS

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["TicketNotFound"],
)
DB_TIMEOUT = timedelta(seconds=30)
# A failing mail server or webhook is retried with backoff for about a day; it never blocks the clock.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
    maximum_attempts=60,
    non_retryable_error_types=["NoRecipients", "TicketNotFound"],
)
# Far below Temporal's 51,200-event limit; a busy ticket carries its state into a fresh run.
CONTINUE_AS_NEW_AFTER_EVENTS = 5_000
SLA_PATCH = "sla-clock-v1"
# One activity opens the ticket and starts its clock (was: row, context, clock, record: four round trips).
OPEN_PATCH = "ticket-open-v2"
FAST_ESCALATION_PATCH = "escalate-fast-v1"
# Ticket and SLA writes as local activities, search attributes and memo upserted only when they change: a
# change costs one workflow task instead of three round trips (see bench/RESULTS.md).
LEAN_PATCH = "ticket-lean-v1"
LOCAL_DB_TIMEOUT = timedelta(seconds=10)


@workflow.defn(name="TicketLifecycle")
class TicketWorkflow:
    @workflow.init
    def __init__(self, inp: TicketWorkflowInput) -> None:
        t = inp.ticket
        self._input = inp
        self._state = inp.state or new_ticket_state(t)
        self._lock = asyncio.Lock()
        self._sla: SlaCarry | None = inp.sla
        self._wake = False
        self._ready = inp.state is not None  # the row (and the SLA clock) exist
        self._notifications: list[asyncio.Task] = []

    @workflow.run
    async def run(self, inp: TicketWorkflowInput) -> TicketState:
        # Decided at the start of the run: older histories keep their recorded shape. The lean path implies the
        # earlier patches, which are then not asked (each asked patch adds a marker and a search-attribute upsert).
        lean = self._lean()
        if self._state.number is None:
            creation = TicketCreation(ticket=inp.ticket, at=workflow.now())
            if lean or workflow.patched(OPEN_PATCH):
                # A local activity: one short transaction, no extra round trip through the server.
                opened: TicketOpened = await workflow.execute_local_activity(
                    TicketActivity.OPEN,
                    creation,
                    result_type=TicketOpened,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
                record, self._sla = opened.record, opened.sla
            else:  # started before ticket-open-v2: row first, then (maybe) the SLA clock
                record = await workflow.execute_activity(
                    TicketActivity.CREATE_RECORD,
                    creation,
                    result_type=TicketRecord,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
            self._state.number = record.number
            self._state.created_at = self._state.updated_at = record.created_at
            if self._sla is None and not lean and not workflow.patched(OPEN_PATCH) and workflow.patched(SLA_PATCH):
                await self._start_sla(record.created_at)
            self._publish()
        self._ready = True

        while self._state.status != TicketStatus.CLOSED:
            if self._ready_to_continue_as_new():
                await self._wait_for_background_work()
                workflow.continue_as_new(TicketWorkflowInput(ticket=inp.ticket, state=self._state, sla=self._sla))
            self._wake = False
            wake_at = self._next_wake()
            try:
                await workflow.wait_condition(
                    lambda: self._wake or self._ready_to_continue_as_new(),
                    timeout=None if wake_at is None else max(wake_at - workflow.now(), timedelta(0)),
                )
            except TimeoutError:
                pass
            await self._on_time()
        await self._wait_for_background_work()
        return self._state

    def _next_wake(self) -> datetime | None:
        candidates = []
        if self._state.status == TicketStatus.RESOLVED and self._state.resolved_at is not None:
            candidates.append(reopen_deadline(self._state.resolved_at, self._state.reopen_days))
        if self._sla is not None and self._sla.plan is not None and self._sla.plan.wake_at is not None:
            candidates.append(self._sla.plan.wake_at)
        return min(candidates) if candidates else None

    async def _on_time(self) -> None:
        """Handle whatever became due: an SLA level, or the end of the reopen window."""
        now = workflow.now()
        if self._sla is not None and self._sla.plan is not None and self._sla.plan.wake_at is not None:
            if self._sla.plan.wake_at <= now:
                async with self._lock:
                    await self._fire_due_escalations()
        resolved_at = self._state.resolved_at
        if self._state.status == TicketStatus.RESOLVED and resolved_at is not None:
            if reopen_deadline(resolved_at, self._state.reopen_days) <= now:
                async with self._lock:
                    if self._state.status == TicketStatus.RESOLVED and self._state.resolved_at == resolved_at:
                        await self._change_status(
                            TicketStatus.CLOSED,
                            None,
                            f"Automatisch geschlossen {self._state.reopen_days} Tage nach Lösung.",
                            reason="reopen_window_elapsed",
                        )

    @staticmethod
    def _lean() -> bool:
        return workflow.patched(LEAN_PATCH)  # the SDK memoises the answer for the rest of the run

    async def _write(self, activity: str, arg: object) -> None:
        """A short, idempotent DB write: a local activity on the lean path, an activity before it."""
        if self._lean():
            await workflow.execute_local_activity(
                activity, arg, start_to_close_timeout=LOCAL_DB_TIMEOUT, retry_policy=DB_RETRY
            )
        else:
            await workflow.execute_activity(activity, arg, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)

    def _ready_to_continue_as_new(self) -> bool:
        # Not while a notification is still being retried: carrying it over would lose or repeat it.
        info = workflow.info()
        long = info.is_continue_as_new_suggested() or info.get_current_history_length() > CONTINUE_AS_NEW_AFTER_EVENTS
        return long and all(task.done() for task in self._notifications)

    async def _wait_for_background_work(self) -> None:
        if self._notifications:
            await asyncio.gather(*self._notifications)
            self._notifications = []
        await workflow.wait_condition(workflow.all_handlers_finished)

    # --- queries -------------------------------------------------------------------------------------------

    @workflow.query
    def state(self) -> TicketState:
        return self._state

    @workflow.query
    def sla(self) -> SlaCarry | None:
        return self._sla

    # --- updates -------------------------------------------------------------------------------------------

    @workflow.update
    async def wait_created(self) -> TicketState:
        """Returns once the ticket row and its SLA clock exist; the API sends it with the workflow start."""
        await self._wait_created()
        return self._state

    @workflow.update
    async def transition(self, req: TransitionRequest) -> TicketState:
        await self._wait_created()
        async with self._lock:
            self._check_transition(req)
            await self._change_status(req.to_status, req.actor.user_id, req.note)
        return self._state

    @transition.validator
    def _validate_transition(self, req: TransitionRequest) -> None:
        self._check_transition(req)

    @workflow.update
    async def comment(self, req: CommentRequest) -> TicketState:
        await self._wait_created()
        async with self._lock:
            self._check_open()
            await self._apply(
                EventKind.COMMENTED,
                req.actor.user_id,
                req.visibility,
                body=req.body,
                data={"author_role": req.actor.role.value},
            )
            if req.visibility == Visibility.PUBLIC:
                # Only the MSP's replies answer the customer; customer IT writing is the customer writing.
                customer = req.actor.role.is_customer_side
                kind = SlaEventKind.CUSTOMER_PUBLIC_REPLY if customer else SlaEventKind.AGENT_PUBLIC_REPLY
                await self._sla_events([SlaEvent(kind=kind, at=workflow.now())])
            # A customer's reply ends the wait on the customer, whichever channel it came through.
            if (
                req.actor.role.is_customer_side
                and req.visibility == Visibility.PUBLIC
                and self._state.status == TicketStatus.WAITING_CUSTOMER
            ):
                await self._change_status(TicketStatus.OPEN, None, "Kunde hat geantwortet.", reason="customer_replied")
        return self._state

    @comment.validator
    def _validate_comment(self, req: CommentRequest) -> None:
        if req.visibility == Visibility.INTERNAL and req.actor.role == Role.CUSTOMER_USER:
            raise ValueError("customer users cannot write internal notes")
        self._check_open()

    @workflow.signal
    async def system_note(self, text: str) -> None:
        """An internal note written by the hub itself (e.g. a SOC incident adding its next alert)."""
        await self._system_note(text)

    @workflow.signal
    async def keyed_system_note(self, note: SystemNote) -> None:
        """`system_note` under the sender's note id, the event's id: sent twice, it is still one note."""
        await self._system_note(note.text, note.note_id)

    async def _system_note(self, text: str, event_id: UUID | None = None) -> None:
        await self._wait_created()
        async with self._lock:
            if self._state.status != TicketStatus.CLOSED:
                await self._apply(
                    EventKind.COMMENTED,
                    None,
                    Visibility.INTERNAL,
                    body=text[:20_000],
                    data={"author_role": "system"},
                    event_id=event_id,
                )

    @workflow.signal
    async def system_transition(self, req: SystemTransition) -> None:
        """A status change by the hub itself; where the status does not allow it, the note says what was meant."""
        await self._wait_created()
        async with self._lock:
            if self._state.status == TicketStatus.CLOSED:
                return
            if self._transition_error(req.to_status, Role.MSP_TECH) is not None:
                unchanged = f"Status bleibt '{self._state.status.value}': '{req.to_status.value}' ist nicht zulässig."
                await self._apply(
                    EventKind.COMMENTED,
                    None,
                    Visibility.INTERNAL,
                    body=f"{req.note}\n({unchanged})"[:20_000],
                    data={"author_role": "system", "reason": req.reason},
                )
                return
            await self._change_status(req.to_status, None, req.note, reason=req.reason)

    @workflow.update
    async def repin_sla(self, req: RepinSlaRequest) -> RepinResult:
        """Move the running SLA onto the calendar, definition and policy version in force now (explicit and
        recorded; without it a ticket keeps the context it started with)."""
        await self._wait_created()
        async with self._lock:
            self._check_repin()
            return await self._repin(req)

    @workflow.signal
    async def repin_sla_requested(self, req: RepinSlaRequest) -> None:
        """The same, sent by a re-pin batch (workflows cannot send updates); a closed ticket or one without an
        SLA has nothing to re-pin."""
        await self._wait_created()
        async with self._lock:
            if self._state.status != TicketStatus.CLOSED and self._sla is not None:
                await self._repin(req)

    async def _repin(self, req: RepinSlaRequest) -> RepinResult:
        assert self._sla is not None
        s = self._state
        result: RepinResult = await workflow.execute_local_activity(
            SlaActivity.REPIN,
            RepinRequest(
                event_id=workflow.uuid4(),
                ticket_id=s.ticket_id,
                tenant_id=s.tenant_id,
                customer_number=s.customer_number,
                category=self._input.ticket.category,
                carry=self._sla,
                actor_user_id=req.actor.user_id,
                at=workflow.now(),
            ),
            result_type=RepinResult,
            start_to_close_timeout=LOCAL_DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if result.changed:
            self._sla = result.carry
            self._publish()
            self._wake = True  # the timer follows the new plan
        return result

    @repin_sla.validator
    def _validate_repin(self, req: RepinSlaRequest) -> None:
        self._check_repin()

    def _check_repin(self) -> None:
        self._check_open()
        if self._sla is None:
            raise ApplicationError("the ticket has no SLA clock", type="NoSla", non_retryable=True)

    @workflow.update
    async def assign(self, req: AssignRequest) -> TicketState:
        await self._wait_created()
        async with self._lock:
            self._check_open()
            if req.assignee_user_id != self._state.assignee_user_id:
                await self._apply(
                    EventKind.ASSIGNED,
                    req.actor.user_id,
                    Visibility.INTERNAL,
                    assignee_user_id=req.assignee_user_id,
                    data={"from": _str(self._state.assignee_user_id), "to": _str(req.assignee_user_id)},
                )
        return self._state

    @assign.validator
    def _validate_assign(self, req: AssignRequest) -> None:
        self._check_open()

    @workflow.update
    async def change_priority(self, req: PriorityRequest) -> TicketState:
        await self._wait_created()
        async with self._lock:
            self._check_open()
            await self._set_priority(req.priority, req.actor.user_id, req.reason)
        return self._state

    @change_priority.validator
    def _validate_priority(self, req: PriorityRequest) -> None:
        self._check_open()

    @workflow.update
    async def log_time(self, req: TimeEntryRequest) -> TicketState:
        await self._wait_created()
        async with self._lock:
            self._check_open()
            await self._apply(
                EventKind.TIME_LOGGED,
                req.actor.user_id,
                Visibility.INTERNAL,
                body=req.note,
                time_entry=req,
                data={"minutes": req.minutes, "billable": req.billable},
            )
        return self._state

    @log_time.validator
    def _validate_log_time(self, req: TimeEntryRequest) -> None:
        self._check_open()
        if req.started_at > workflow.now() + timedelta(minutes=5):
            raise ValueError("time entries cannot start in the future")

    # --- ticket changes ------------------------------------------------------------------------------------

    async def _wait_created(self) -> None:
        await workflow.wait_condition(lambda: self._ready)

    def _check_open(self) -> None:
        if self._state.status == TicketStatus.CLOSED:
            raise ApplicationError("ticket is closed", type="TicketClosed", non_retryable=True)

    def _check_transition(self, req: TransitionRequest) -> None:
        # In the validator this rejects the update before it reaches history; in the handler (a concurrent
        # update changed the status meanwhile) it fails the update with the same message.
        if (error := self._transition_error(req.to_status, req.actor.role)) is not None:
            raise ApplicationError(error, type="InvalidTransition", non_retryable=True)

    def _transition_error(self, to: TicketStatus, role: Role) -> str | None:
        """Why the ticket may not go to `to` now, for an actor of `role`; None if it may."""
        try:
            check_transition(
                self._state.status,
                to,
                actor_role=role,
                now=workflow.now(),
                resolved_at=self._state.resolved_at,
                reopen_days=self._state.reopen_days,
            )
        except TransitionError as err:
            return str(err)
        return None

    async def _change_status(
        self, to: TicketStatus, actor: UUID | None, note: str | None, reason: str | None = None
    ) -> None:
        now = workflow.now()
        if to == TicketStatus.RESOLVED:
            resolved_at = now
        elif to == TicketStatus.CLOSED:
            resolved_at = self._state.resolved_at
        else:  # reopened or still being worked on
            resolved_at = None
        closed_at = now if to == TicketStatus.CLOSED else None
        await self._apply(
            EventKind.STATUS_CHANGED,
            actor,
            Visibility.PUBLIC,
            status=to,
            body=note,
            resolved_at=resolved_at,
            closed_at=closed_at,
            data={"from": self._state.status.value, "to": to.value, "reason": reason},
        )
        await self._sla_events([SlaEvent(kind=SlaEventKind.STATUS_CHANGED, at=now, status=to)])

    async def _set_priority(self, priority, actor: UUID | None, reason: str | None) -> None:  # noqa: ANN001
        if priority == self._state.priority:
            return
        await self._apply(
            EventKind.PRIORITY_CHANGED,
            actor,
            Visibility.PUBLIC,
            priority=priority,
            body=reason,
            data={"from": self._state.priority.value, "to": priority.value},
        )
        await self._sla_events([SlaEvent(kind=SlaEventKind.PRIORITY_CHANGED, at=workflow.now(), priority=priority)])

    async def _apply(self, kind: EventKind, actor: UUID | None, visibility: Visibility, **fields) -> None:
        s = self._state
        change = TicketChange(
            event_id=fields.get("event_id") or workflow.uuid4(),
            ticket_id=s.ticket_id,
            tenant_id=s.tenant_id,
            kind=kind,
            at=workflow.now(),
            actor_user_id=actor,
            visibility=visibility,
            body=fields.get("body"),
            data=fields.get("data", {}),
            status=fields.get("status", s.status),
            priority=fields.get("priority", s.priority),
            assignee_user_id=fields.get("assignee_user_id", s.assignee_user_id),
            queue=fields.get("queue", s.queue),
            resolved_at=fields.get("resolved_at", s.resolved_at),
            closed_at=fields.get("closed_at", s.closed_at),
            time_entry=fields.get("time_entry"),
        )
        await self._write(TicketActivity.APPLY_CHANGE, change)
        s.status, s.priority, s.assignee_user_id = change.status, change.priority, change.assignee_user_id
        s.queue, s.resolved_at, s.closed_at, s.updated_at = (
            change.queue,
            change.resolved_at,
            change.closed_at,
            change.at,
        )
        self._publish()
        self._wake = True

    # --- SLA clock -----------------------------------------------------------------------------------------

    async def _start_sla(self, created_at: datetime) -> None:
        t = self._input.ticket
        context: SlaContext | None = await workflow.execute_activity(
            SlaActivity.LOAD_CONTEXT,
            LoadSlaContext(
                tenant_id=t.tenant_id, customer_number=t.customer_number, category=t.category, at=created_at
            ),
            result_type=SlaContext | None,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if context is None:
            return  # no SLA applies to this customer
        self._sla = SlaCarry(context=context, clocks=ClockSet(priority=self._state.priority, queue=t.queue))
        await self._sla_events(
            [SlaEvent(kind=SlaEventKind.CREATED, at=created_at, priority=self._state.priority, status=TicketStatus.NEW)]
        )

    async def _sla_events(self, events: list[SlaEvent]) -> None:
        """Feed the clock, record the result, and re-arm the timer."""
        if self._sla is None:
            return
        result: AdvanceResult = await workflow.execute_local_activity(
            SlaActivity.ADVANCE,
            AdvanceRequest(context=self._sla.context, clocks=self._sla.clocks, events=events, now=workflow.now()),
            result_type=AdvanceResult,
            start_to_close_timeout=timedelta(seconds=10),
        )
        self._sla.clocks, self._sla.plan = result.clocks, result.plan
        record = RecordSla(
            ticket_id=self._state.ticket_id,
            tenant_id=self._state.tenant_id,
            clocks=result.clocks,
            plan=result.plan,
            at=workflow.now(),
        )
        await self._write(SlaActivity.RECORD, record)
        self._publish()
        self._wake = True

    async def _fire_due_escalations(self) -> None:
        # Fast path (patch escalate-fast-v1): the plan is current (every change re-plans), so act on it at once
        # and send notifications before the bookkeeping; before it, the workflow re-planned first.
        fast = self._lean() or workflow.patched(FAST_ESCALATION_PATCH)
        if not fast:
            await self._sla_events([])  # re-plan at now: conditions are judged against the ticket as it is
        assert self._sla is not None and self._sla.plan is not None
        plan = self._sla.plan
        due = due_actions(plan, workflow.now())
        if not due:
            if fast:
                await self._sla_events([])  # woken for a state change (warning, breach): record it
            return
        # Marked before running: each level's action fires exactly once, whatever happens next.
        self._sla.clocks.fired.extend(a.key for a in due)
        if fast:
            for item in due:
                if isinstance(item.action, NOTIFYING_ACTIONS):
                    self._notifications.append(asyncio.create_task(self._notify(item, plan)))
        for item in due:
            await self._apply(
                EventKind.ESCALATED,
                None,
                Visibility.INTERNAL,
                body=f"Eskalationsstufe '{item.level}' ({item.target.value}): {item.action.type}",
                data={"level": item.level, "target": item.target.value, "action": item.action.type, "key": item.key},
            )
            if isinstance(item.action, NOTIFYING_ACTIONS):
                if not fast:
                    self._notifications.append(asyncio.create_task(self._notify(item, self._sla.plan)))
            elif isinstance(item.action, Reassign) and item.action.queue != self._state.queue:
                await self._apply(
                    EventKind.QUEUE_CHANGED,
                    None,
                    Visibility.INTERNAL,
                    queue=item.action.queue,
                    data={"from": self._state.queue, "to": item.action.queue, "level": item.level},
                )
                await self._sla_events(
                    [SlaEvent(kind=SlaEventKind.QUEUE_CHANGED, at=workflow.now(), queue=item.action.queue)]
                )
            elif isinstance(item.action, RaisePriority):
                await self._set_priority(
                    raised(self._state.priority, item.action.to), None, f"Eskalation '{item.level}'"
                )
        await self._sla_events([])

    async def _notify(self, item: ScheduledAction, plan: SlaPlan) -> None:
        assert self._sla is not None
        clock = next((c for c in plan.clocks if c.kind == item.target), None)
        s = self._state
        request = NotifyRequest(
            key=f"{s.ticket_id}:{item.key}",
            ticket_id=s.ticket_id,
            tenant_id=s.tenant_id,
            ticket_number=s.number or "",
            title=s.title,
            priority=s.priority,
            status=s.status,
            customer_number=s.customer_number,
            level=item.level,
            target=item.target,
            sla_state=clock.state if clock else plan.state.value,
            due_at=clock.due_at if clock else None,
            time_zone=self._sla.context.calendar.time_zone,
            action=item.action,
        )
        try:
            await workflow.execute_activity(
                SlaActivity.NOTIFY, request, start_to_close_timeout=timedelta(seconds=60), retry_policy=NOTIFY_RETRY
            )
        except ActivityError as err:
            workflow.logger.warning(
                "escalation notification failed for good", extra={"key": request.key, "error": str(err.cause)}
            )
        finally:
            self._wake = True

    def _publish(self) -> None:
        """Keep search attributes and memo current for engineers in the Temporal UI."""
        attributes, summary = ticket_listing(self._state, self._sla)
        if self._lean():
            # Each upsert is a history event and a visibility write: send only what differs from what is set.
            current = workflow.info().typed_search_attributes
            attributes = [a for a in attributes if current.get(a.key) != a.value]
            if attributes:
                workflow.upsert_search_attributes(attributes)
            if workflow.memo_value("summary", default=None, type_hint=str) != summary:
                workflow.upsert_memo({"summary": summary})
            return
        workflow.upsert_search_attributes(attributes)
        workflow.upsert_memo({"summary": summary})


def ticket_listing(s: TicketState, sla: SlaCarry | None) -> tuple[list[SearchAttributeUpdate], str]:
    """The ticket's search attributes and memo summary, for the Temporal UI (also set by a starter that opened the
    ticket before its workflow, see `opened_ticket_input`)."""
    attributes = [
        CUSTOMER_ID.value_set(s.customer_number),
        TICKET_PRIORITY.value_set(s.priority.value),
        TICKET_STATUS.value_set(s.status.value),
        TICKET_NUMBER.value_set(s.number or ""),
        PROCESS.value_set("ticket"),
    ]
    sla_state = sla.plan.state if sla is not None and sla.plan is not None else None
    if sla_state is not None and sla_state != SlaState.NONE:
        attributes.append(SLA_STATE.value_set(sla_state.value))
    summary = f"{s.number} {s.priority.value} {s.status.value} [{s.customer_number}] {s.title}"
    if sla_state is not None:
        summary += f" (SLA {sla_state.value})"
    return attributes, summary


def opened_ticket_input(ticket: NewTicket, opened: TicketOpened) -> TicketWorkflowInput:
    """The input of a ticket workflow whose ticket a starter has opened already (`activities.tickets.open_ticket`):
    the run begins where a continued run would, with the row and the SLA clock in place."""
    at = opened.record.created_at
    opened_fields = {"number": opened.record.number, "created_at": at, "updated_at": at}
    state = new_ticket_state(ticket).model_copy(update=opened_fields)
    return TicketWorkflowInput(ticket=ticket, state=state, sla=opened.sla)


def new_ticket_state(t: NewTicket) -> TicketState:
    """What the workflow knows of a ticket before it is opened."""
    return TicketState(
        ticket_id=t.ticket_id,
        tenant_id=t.tenant_id,
        customer_number=t.customer_number,
        title=t.title,
        priority=t.priority,
        queue=t.queue,
        reopen_days=t.reopen_days,
    )


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)
