"""The SLA half of the ticket workflow: feeding the clock, firing escalation levels, notifying, re-pinning.

A mixin of `TicketWorkflow` (same run, same state): the clock's context (targets, calendar, escalation policy) is
pinned when the ticket opens; every change feeds it events through a local activity, so due instants are recorded
in history, not recomputed on replay; a durable timer in the ticket's main loop wakes it when a level is due.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.contracts.tickets import (
    NotifyRequest,
    RepinRequest,
    RepinResult,
    RepinSlaRequest,
    SlaActivity,
    SlaStep,
    TicketState,
    TicketWorkflowInput,
)
from domain.escalation import NOTIFYING_ACTIONS, RaisePriority, Reassign, raised
from domain.sla import (
    AdvanceRequest,
    AdvanceResult,
    ScheduledAction,
    SlaCarry,
    SlaEvent,
    SlaEventKind,
    SlaPlan,
    due_actions,
)
from domain.tickets import EventKind, TicketStatus, Visibility
from workflows.policies import LOCAL_DB_TIMEOUT

# A failing mail server or webhook is retried with backoff for about a day; it never blocks the clock.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
    maximum_attempts=60,
    non_retryable_error_types=["NoRecipients", "TicketNotFound"],
)
TICKET_DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["TicketNotFound"],
)


class SlaEscalation:
    """Needs from the workflow: `_state`, `_sla`, `_input`, `_lock`, `_notifications`, `_rearm` and the ticket
    changes `_apply`, `_set_priority`, `_publish`, `_wait_created`, `_check_open`."""

    _state: TicketState
    _sla: SlaCarry | None
    _input: TicketWorkflowInput
    _lock: asyncio.Lock
    _notifications: list[asyncio.Task]
    _rearm: Callable[[], None]

    @workflow.query
    def sla(self) -> SlaCarry | None:
        return self._sla

    @workflow.update
    async def repin_sla(self, req: RepinSlaRequest) -> RepinResult:
        """Move the running SLA onto the calendar, definition and policy version in force now (explicit and
        recorded; without it a ticket keeps the context it started with)."""
        await self._wait_created()
        async with self._lock:
            return await self._repin(req, self._running_sla())

    @repin_sla.validator
    def _validate_repin(self, req: RepinSlaRequest) -> None:
        self._running_sla()

    @workflow.signal
    async def repin_sla_requested(self, req: RepinSlaRequest) -> None:
        """The same, sent by a re-pin batch (workflows cannot send updates); a closed ticket or one without an
        SLA has nothing to re-pin."""
        await self._wait_created()
        async with self._lock:
            if self._state.status != TicketStatus.CLOSED and self._sla is not None:
                await self._repin(req, self._sla)

    def _running_sla(self) -> SlaCarry:
        self._check_open()
        if self._sla is None:
            raise ApplicationError("the ticket has no SLA clock", type="NoSla", non_retryable=True)
        return self._sla

    async def _repin(self, req: RepinSlaRequest, carry: SlaCarry) -> RepinResult:
        s = self._state
        result: RepinResult = await workflow.execute_local_activity(
            SlaActivity.REPIN,
            RepinRequest(
                event_id=workflow.uuid4(),
                ticket_id=s.ticket_id,
                tenant_id=s.tenant_id,
                customer_number=s.customer_number,
                category=self._input.ticket.category,
                carry=carry,
                actor_user_id=req.actor.user_id,
                at=workflow.now(),
            ),
            result_type=RepinResult,
            start_to_close_timeout=LOCAL_DB_TIMEOUT,
            retry_policy=TICKET_DB_RETRY,
        )
        if result.changed:
            self._sla = result.carry
            self._publish()
            self._rearm()  # the timer follows the new plan
        return result

    async def _sla_events(self, events: list[SlaEvent]) -> None:
        """Feed the clock and record the result (one local activity), and re-arm the timer. A change to the ticket
        feeds the clock through `_apply(..., sla_events=...)` instead, in the change's own transaction."""
        if self._sla is None:
            return
        step = SlaStep(
            ticket_id=self._state.ticket_id,
            tenant_id=self._state.tenant_id,
            advance=AdvanceRequest(
                context=self._sla.context, clocks=self._sla.clocks, events=events, now=workflow.now()
            ),
        )
        result: AdvanceResult = await workflow.execute_local_activity(
            SlaActivity.ADVANCE,
            step,
            result_type=AdvanceResult,
            start_to_close_timeout=LOCAL_DB_TIMEOUT,
            retry_policy=TICKET_DB_RETRY,
        )
        self._sla.clocks, self._sla.plan = result.clocks, result.plan
        self._publish()
        self._rearm()

    async def _fire_due_escalations(self, sla: SlaCarry) -> None:
        """Act on the current plan (every change re-plans): notifications first, then the bookkeeping."""
        plan = sla.plan
        due = due_actions(plan, workflow.now()) if plan is not None else []
        if plan is None or not due:
            await self._sla_events([])  # woken for a state change (warning, breach): record it
            return
        # Marked before running: each level's action fires exactly once, whatever happens next.
        sla.clocks.fired.extend(a.key for a in due)
        for item in due:
            if isinstance(item.action, NOTIFYING_ACTIONS):
                self._notifications.append(
                    asyncio.create_task(self._notify(item, plan, sla.context.calendar.time_zone))
                )
        for item in due:
            action = item.action
            requeue = isinstance(action, Reassign) and action.queue != self._state.queue
            priority = raised(self._state.priority, action.to) if isinstance(action, RaisePriority) else None
            reprioritise = priority is not None and priority != self._state.priority
            # Each level re-plans the clock in its own transaction; a level that requeues or raises the priority
            # re-plans with that change instead.
            await self._apply(
                EventKind.ESCALATED,
                None,
                Visibility.INTERNAL,
                body=f"Eskalationsstufe '{item.level}' ({item.target.value}): {action.type}",
                data={"level": item.level, "target": item.target.value, "action": action.type, "key": item.key},
                sla_events=None if requeue or reprioritise else [],
            )
            if requeue:
                await self._apply(
                    EventKind.QUEUE_CHANGED,
                    None,
                    Visibility.INTERNAL,
                    queue=action.queue,
                    data={"from": self._state.queue, "to": action.queue, "level": item.level},
                    sla_events=[SlaEvent(kind=SlaEventKind.QUEUE_CHANGED, at=workflow.now(), queue=action.queue)],
                )
            elif reprioritise:
                await self._set_priority(priority, None, f"Eskalation '{item.level}'")

    async def _notify(self, item: ScheduledAction, plan: SlaPlan, time_zone: str) -> None:
        """Sent with the plan as it was when the level fired."""
        clock = next((c for c in plan.clocks if c.kind == item.target), None)
        request = self._notify_request(
            key=f"{self._state.ticket_id}:{item.key}",
            level=item.level,
            target=item.target,
            sla_state=clock.state if clock else plan.state.value,
            due_at=clock.due_at if clock else None,
            time_zone=time_zone,
            action=item.action,
        )
        await self._send_notification(request, "escalation notification")

    def _notify_request(self, **fields) -> NotifyRequest:
        """A notification about this ticket as it is now; `fields` say which and why."""
        s = self._state
        return NotifyRequest(
            ticket_id=s.ticket_id,
            tenant_id=s.tenant_id,
            ticket_number=s.number or "",
            title=s.title,
            priority=s.priority,
            status=s.status,
            customer_number=s.customer_number,
            **fields,
        )

    async def _send_notification(self, request: NotifyRequest, what: str) -> None:
        """Through the outbox, retried for about a day; a notification that fails for good is logged, never fails
        the ticket."""
        try:
            await workflow.execute_activity(
                SlaActivity.NOTIFY, request, start_to_close_timeout=timedelta(seconds=60), retry_policy=NOTIFY_RETRY
            )
        except ActivityError as err:
            workflow.logger.warning(f"{what} failed for good", extra={"key": request.key, "error": str(err.cause)})
        # No wake: the main loop's condition sees a finished notification by itself (continue-as-new waits for it).
