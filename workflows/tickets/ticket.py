"""Ticket lifecycle: one long-running workflow per ticket, `ticket-<id>`.

Every change arrives as an Update (validated first, so an invalid one never reaches history), is written by an
idempotent local activity, and only then changes the workflow's state and search attributes. The SLA clock and its
escalations are the `SlaEscalation` mixin, queues, sharing and hand-over with the customer's IT the `CoManagedIt`
mixin; a busy ticket continues as new with its state and clock.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from domain.contracts.tickets import (
    AssignRequest,
    CommentRequest,
    PriorityRequest,
    SystemNote,
    SystemTransition,
    TicketActivity,
    TicketChange,
    TicketState,
    TicketWorkflowInput,
    TimeEntryRequest,
    TransitionRequest,
    ticket_listing,
)
from domain.roles import Role
from domain.sla import AdvanceRequest, AdvanceResult, SlaCarry, SlaEvent, SlaEventKind
from domain.tickets import (
    EventKind,
    Priority,
    TicketStatus,
    TransitionError,
    Visibility,
    check_transition,
    comment_refusal,
    reopen_deadline,
)
from workflows.policies import LOCAL_DB_TIMEOUT
from workflows.tickets.co_managed import CoManagedIt
from workflows.tickets.sla_escalation import TICKET_DB_RETRY, SlaEscalation

# Far below Temporal's 51,200-event limit; a busy ticket carries its state into a fresh run.
CONTINUE_AS_NEW_AFTER_EVENTS = 5_000


@workflow.defn(name="TicketLifecycle")
class TicketWorkflow(SlaEscalation, CoManagedIt):
    @workflow.init
    def __init__(self, inp: TicketWorkflowInput) -> None:
        self._input = inp
        self._state = inp.state
        self._lock = asyncio.Lock()
        self._sla: SlaCarry | None = inp.sla
        self._wake = False
        self._armed: datetime | None = None  # the instant the main loop's current timer fires
        self._ready = inp.routing is None  # changes wait until the RACI matrix has routed a new ticket
        self._notifications: list[asyncio.Task] = []

    @workflow.run
    async def run(self, inp: TicketWorkflowInput) -> TicketState:
        # The row and its SLA clock were written before the start (hub.tickets.intake), the search
        # attributes came with it: a new ticket's first workflow task only arms its timer.
        if inp.routing is not None:
            await self._route_by_raci(inp.routing)
        self._ready = True

        while self._state.status != TicketStatus.CLOSED:
            if self._ready_to_continue_as_new():
                await self._wait_for_background_work()
                workflow.continue_as_new(TicketWorkflowInput(ticket=inp.ticket, state=self._state, sla=self._sla))
            self._wake = False
            wake_at = self._armed = self._next_wake()
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
                    await self._fire_due_escalations(self._sla)
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

    @workflow.update
    async def wait_opened(self) -> TicketState:
        """Returns once the ticket is opened, i.e. routed by the customer's RACI matrix where one applies: the API
        waits for it to answer with the routed ticket."""
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
            reply = None
            if req.visibility == Visibility.PUBLIC:
                # Only the MSP's replies answer the customer; customer IT writing is the customer writing.
                customer = req.actor.role.is_customer_side
                kind = SlaEventKind.CUSTOMER_PUBLIC_REPLY if customer else SlaEventKind.AGENT_PUBLIC_REPLY
                reply = [SlaEvent(kind=kind, at=workflow.now())]
            await self._apply(
                EventKind.COMMENTED,
                req.actor.user_id,
                req.visibility,
                body=req.body,
                data={"author_role": req.actor.role.value},
                event_id=req.comment_id,
                sla_events=reply,
            )
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
        # Whether customer IT may share this ticket is the API's check (it reads the ticket); here the role's.
        if (refusal := comment_refusal(req.actor.role, req.visibility, co_managed_access=True)) is not None:
            raise ValueError(refusal)
        self._check_open()

    @workflow.signal
    async def keyed_system_note(self, note: SystemNote) -> None:
        """`system_note` under the sender's note id, the event's id: sent twice, it is still one note."""
        await self._system_note(note.text, note.note_id)

    async def _system_note(self, text: str, event_id: UUID | None = None) -> None:
        await self._wait_created()
        async with self._lock, _refused_data_dropped("system note"):
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
        async with self._lock, _refused_data_dropped("system transition"):
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
                event_id=req.entry_id,
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
            sla_events=[SlaEvent(kind=SlaEventKind.STATUS_CHANGED, at=now, status=to)],
        )

    async def _set_priority(self, priority: Priority, actor: UUID | None, reason: str | None) -> None:
        if priority == self._state.priority:
            return
        await self._apply(
            EventKind.PRIORITY_CHANGED,
            actor,
            Visibility.PUBLIC,
            priority=priority,
            body=reason,
            data={"from": self._state.priority.value, "to": priority.value},
            sla_events=[SlaEvent(kind=SlaEventKind.PRIORITY_CHANGED, at=workflow.now(), priority=priority)],
        )

    async def _apply(
        self,
        kind: EventKind,
        actor: UUID | None,
        visibility: Visibility,
        sla_events: list[SlaEvent] | None = None,
        **fields,
    ) -> None:
        """Persist one change; `sla_events` (an empty list: re-plan only) feed the SLA clock in the same local
        activity and transaction, None leaves the clock alone."""
        s = self._state
        sla = self._sla
        feed = None
        if sla_events is not None and sla is not None:
            feed = AdvanceRequest(context=sla.context, clocks=sla.clocks, events=sla_events, now=workflow.now())
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
            co_managed=fields.get("co_managed"),
            customer_it_holds=fields.get("customer_it_holds"),
            sla=feed,
        )
        advanced: AdvanceResult | None = await workflow.execute_local_activity(
            TicketActivity.APPLY_CHANGE,
            change,
            result_type=AdvanceResult | None,
            start_to_close_timeout=LOCAL_DB_TIMEOUT,
            retry_policy=TICKET_DB_RETRY,
        )
        if advanced is not None and sla is not None:
            sla.clocks, sla.plan = advanced.clocks, advanced.plan
        s.status, s.priority, s.assignee_user_id = change.status, change.priority, change.assignee_user_id
        if change.customer_it_holds is not None:
            s.customer_it_holds = change.customer_it_holds
        s.queue, s.resolved_at, s.closed_at, s.updated_at = (
            change.queue,
            change.resolved_at,
            change.closed_at,
            change.at,
        )
        self._publish()
        self._rearm()

    def _rearm(self) -> None:
        """Wake the main loop when the next instant changed (its timer is replaced) or the ticket closed (the loop
        ends). Other changes leave the running timer alone: a cancelled and restarted timer costs two history
        events and a server round trip."""
        if self._next_wake() != self._armed or self._state.status == TicketStatus.CLOSED:
            self._wake = True

    # --- SLA clock -----------------------------------------------------------------------------------------

    def _publish(self) -> None:
        """Keep the search attributes current for engineers in the Temporal UI. Each upsert is a history event and
        a visibility write: only what differs from what is set is sent."""
        current = workflow.info().typed_search_attributes
        attributes = [a for a in ticket_listing(self._state, self._sla) if current.get(a.key) != a.value]
        if attributes:
            workflow.upsert_search_attributes(attributes)


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)


@asynccontextmanager
async def _refused_data_dropped(what: str) -> AsyncIterator[None]:
    """A signal has no caller to answer: a change whose data the database refuses (`TicketDataRefused`, never
    healed by a retry) is logged and dropped, so the ticket neither fails nor retries it forever."""
    try:
        yield
    except (ActivityError, ApplicationError) as err:
        cause = err.cause if isinstance(err, ActivityError) else err
        if not (isinstance(cause, ApplicationError) and cause.type == "TicketDataRefused"):
            raise
        workflow.logger.warning(f"{what} dropped: {cause.message}")
