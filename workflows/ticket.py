"""Ticket lifecycle: one long-running workflow per ticket, `ticket-<id>`.

Every change arrives as an Update (validated first, so an invalid one never reaches history), is persisted
by an idempotent activity, and only then changes the workflow's state and search attributes.
"""

import asyncio
from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.roles import Role
    from domain.tickets import (
        AssignRequest,
        CommentRequest,
        EventKind,
        PriorityRequest,
        TicketActivity,
        TicketChange,
        TicketCreation,
        TicketRecord,
        TicketState,
        TicketStatus,
        TicketWorkflowInput,
        TimeEntryRequest,
        TransitionError,
        TransitionRequest,
        Visibility,
        check_transition,
        reopen_deadline,
    )
    from workflows.common import CUSTOMER_ID, PROCESS, TICKET_NUMBER, TICKET_PRIORITY, TICKET_STATUS

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["TicketNotFound"],
)
DB_TIMEOUT = timedelta(seconds=30)
# Far below Temporal's 51,200-event limit; a busy ticket carries its state into a fresh run.
CONTINUE_AS_NEW_AFTER_EVENTS = 5_000


@workflow.defn(name="TicketLifecycle")
class TicketWorkflow:
    @workflow.init
    def __init__(self, inp: TicketWorkflowInput) -> None:
        t = inp.ticket
        self._input = inp
        self._state = inp.state or TicketState(
            ticket_id=t.ticket_id,
            tenant_id=t.tenant_id,
            customer_number=t.customer_number,
            title=t.title,
            priority=t.priority,
            reopen_days=t.reopen_days,
        )
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: TicketWorkflowInput) -> TicketState:
        if self._state.number is None:
            record: TicketRecord = await workflow.execute_activity(
                TicketActivity.CREATE_RECORD,
                TicketCreation(ticket=inp.ticket, at=workflow.now()),
                result_type=TicketRecord,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            self._state.number = record.number
            self._state.created_at = self._state.updated_at = record.created_at
            self._publish()

        while self._state.status != TicketStatus.CLOSED:
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(TicketWorkflowInput(ticket=inp.ticket, state=self._state))
            if self._state.status == TicketStatus.RESOLVED:
                await self._wait_for_reopen_or_autoclose()
            else:
                await workflow.wait_condition(
                    lambda: (
                        self._state.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
                        or self._should_continue_as_new()
                    )
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _wait_for_reopen_or_autoclose(self) -> None:
        assert self._state.resolved_at is not None
        resolved_at = self._state.resolved_at
        remaining = reopen_deadline(resolved_at, self._state.reopen_days) - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self._state.resolved_at != resolved_at or self._should_continue_as_new(),
                    timeout=remaining,
                )
                return
            except TimeoutError:
                pass
        async with self._lock:
            if self._state.status == TicketStatus.RESOLVED and self._state.resolved_at == resolved_at:
                await self._change_status(
                    TicketStatus.CLOSED,
                    None,
                    f"Automatisch geschlossen {self._state.reopen_days} Tage nach Lösung.",
                    reason="reopen_window_elapsed",
                )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > CONTINUE_AS_NEW_AFTER_EVENTS

    # --- queries -------------------------------------------------------------------------------------------

    @workflow.query
    def state(self) -> TicketState:
        return self._state

    # --- updates -------------------------------------------------------------------------------------------

    @workflow.update
    async def wait_created(self) -> TicketState:
        """Returns once the ticket row exists; used by the API together with the workflow start."""
        await workflow.wait_condition(lambda: self._state.number is not None)
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
            if req.priority != self._state.priority:
                await self._apply(
                    EventKind.PRIORITY_CHANGED,
                    req.actor.user_id,
                    Visibility.PUBLIC,
                    priority=req.priority,
                    body=req.reason,
                    data={"from": self._state.priority.value, "to": req.priority.value},
                )
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

    # --- internals -----------------------------------------------------------------------------------------

    async def _wait_created(self) -> None:
        await workflow.wait_condition(lambda: self._state.number is not None)

    def _check_open(self) -> None:
        if self._state.status == TicketStatus.CLOSED:
            raise ApplicationError("ticket is closed", type="TicketClosed", non_retryable=True)

    def _check_transition(self, req: TransitionRequest) -> None:
        # In the validator this rejects the update before it reaches history; in the handler (a concurrent
        # update changed the status meanwhile) it fails the update with the same message.
        try:
            check_transition(
                self._state.status,
                req.to_status,
                actor_role=req.actor.role,
                now=workflow.now(),
                resolved_at=self._state.resolved_at,
                reopen_days=self._state.reopen_days,
            )
        except TransitionError as err:
            raise ApplicationError(str(err), type="InvalidTransition", non_retryable=True) from None

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

    async def _apply(self, kind: EventKind, actor: UUID | None, visibility: Visibility, **fields) -> None:
        s = self._state
        change = TicketChange(
            event_id=workflow.uuid4(),
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
            resolved_at=fields.get("resolved_at", s.resolved_at),
            closed_at=fields.get("closed_at", s.closed_at),
            time_entry=fields.get("time_entry"),
        )
        await workflow.execute_activity(
            TicketActivity.APPLY_CHANGE, change, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY
        )
        s.status, s.priority, s.assignee_user_id = change.status, change.priority, change.assignee_user_id
        s.resolved_at, s.closed_at, s.updated_at = change.resolved_at, change.closed_at, change.at
        self._publish()

    def _publish(self) -> None:
        """Keep search attributes and memo current for engineers in the Temporal UI."""
        s = self._state
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(s.customer_number),
                TICKET_PRIORITY.value_set(s.priority.value),
                TICKET_STATUS.value_set(s.status.value),
                TICKET_NUMBER.value_set(s.number or ""),
                PROCESS.value_set("ticket"),
            ]
        )
        workflow.upsert_memo(
            {"summary": f"{s.number} {s.priority.value} {s.status.value} [{s.customer_number}] {s.title}"}
        )


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)
