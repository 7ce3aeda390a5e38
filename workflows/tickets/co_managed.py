"""Co-managed IT in the ticket workflow: the ticket's queue, whether the customer's IT shares it, and who holds it.

A mixin of `TicketWorkflow` (same run, same state). `hand_back_to_customer` gives a co-managed ticket to the
customer's own IT and pauses the MSP's SLA clocks; `escalate_to_msp` makes the MSP responsible again and they run
on. Each change is an event with its reason (visible to the MSP and the customer's IT). A new ticket of a customer
with a RACI matrix goes to the Responsible party's queue, and its Consulted and Informed parties are told.
"""

import asyncio
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from domain.contracts.tickets import (
    CoManagedRequest,
    HandOverRequest,
    QueueRequest,
    TicketState,
)
from domain.escalation import NotifyEmail, TargetKind
from domain.raci import RaciNotice, RaciRouting
from domain.roles import TICKET_AGENT_ROLES
from domain.sla import SlaCarry, SlaEvent, SlaEventKind
from domain.tickets import EventKind, Visibility


class CoManagedIt:
    """Needs from the workflow: `_state`, `_sla`, `_lock`, `_notifications` and `_apply`, `_sla_events`,
    `_notify_request`, `_send_notification`, `_wait_created`, `_check_open`."""

    _state: TicketState
    _sla: SlaCarry | None
    _lock: asyncio.Lock
    _notifications: list[asyncio.Task]

    async def _route_by_raci(self, routing: RaciRouting) -> None:
        """A new ticket as the customer's RACI matrix says: into the Responsible party's queue (the same change as
        `change_queue`, by the hub), held by the customer's IT if it is Responsible, and a notice to each Consulted
        and Informed party through the outbox."""
        if routing.queue is not None and routing.queue != self._state.queue:
            await self._apply(
                EventKind.QUEUE_CHANGED,
                None,
                Visibility.CO_MANAGED,
                queue=routing.queue,
                data={"from": self._state.queue, "to": routing.queue, "reason": "raci", "area": routing.area},
                sla_events=[SlaEvent(kind=SlaEventKind.QUEUE_CHANGED, at=workflow.now(), queue=routing.queue)],
            )
        if routing.customer_it_holds and not self._state.customer_it_holds:
            # The customer's IT is Responsible: it holds the ticket from the start, and the MSP's clocks pause.
            reason = f"RACI: {routing.area} liegt in der Verantwortung der Kunden-IT."
            await self._change_holder(None, reason, to_customer=True)
        for notice in routing.notices:
            self._notifications.append(asyncio.create_task(self._raci_notice(notice)))

    async def _raci_notice(self, notice: RaciNotice) -> None:
        plan = self._sla.plan if self._sla is not None else None
        request = self._notify_request(
            key=f"{self._state.ticket_id}:raci:{notice.party}",
            level="raci",
            target=TargetKind.RESPONSE,  # required by the request; a RACI notice names no SLA target
            sla_state=plan.state.value if plan is not None else "none",
            time_zone=self._sla.context.calendar.time_zone if self._sla is not None else "Europe/Berlin",
            action=NotifyEmail(to=notice.to),
            raci=notice,
        )
        await self._send_notification(request, "RACI notice")

    @workflow.update
    async def change_queue(self, req: QueueRequest) -> TicketState:
        """To another queue: the queue holds the ticket until someone takes it (the person is unassigned)."""
        await self._wait_created()
        async with self._lock:
            self._check_open()
            if req.queue != self._state.queue:
                assignee = self._state.assignee_user_id
                previous = None if assignee is None else str(assignee)
                await self._apply(
                    EventKind.QUEUE_CHANGED,
                    req.actor.user_id,
                    Visibility.CO_MANAGED,
                    queue=req.queue,
                    assignee_user_id=None,
                    data={"from": self._state.queue, "to": req.queue, "assignee": previous},
                    # The clock's queue decides which escalation levels apply (`conditions.queues`).
                    sla_events=[SlaEvent(kind=SlaEventKind.QUEUE_CHANGED, at=workflow.now(), queue=req.queue)],
                )
        return self._state

    @change_queue.validator
    def _validate_queue(self, req: QueueRequest) -> None:
        self._check_open()

    @workflow.update
    async def hand_back_to_customer(self, req: HandOverRequest) -> TicketState:
        """The customer's IT takes over: the MSP's SLA clocks pause until `escalate_to_msp`."""
        await self._wait_created()
        async with self._lock:
            self._check_hand_over(req, to_customer=True)
            await self._hand_over(req, to_customer=True)
        return self._state

    @hand_back_to_customer.validator
    def _validate_hand_back(self, req: HandOverRequest) -> None:
        self._check_hand_over(req, to_customer=True)

    @workflow.update
    async def escalate_to_msp(self, req: HandOverRequest) -> TicketState:
        """The MSP is responsible again: its SLA clocks run on from where they paused."""
        await self._wait_created()
        async with self._lock:
            self._check_hand_over(req, to_customer=False)
            await self._hand_over(req, to_customer=False)
        return self._state

    @escalate_to_msp.validator
    def _validate_escalate(self, req: HandOverRequest) -> None:
        self._check_hand_over(req, to_customer=False)

    def _check_hand_over(self, req: HandOverRequest, *, to_customer: bool) -> None:
        self._check_open()
        if req.actor.role not in TICKET_AGENT_ROLES:
            raise ApplicationError(
                f"role {req.actor.role.value} does not hand tickets over", type="HandOverRefused", non_retryable=True
            )
        if self._state.customer_it_holds == to_customer:
            holder = "the customer's IT" if to_customer else "the MSP"
            raise ApplicationError(f"{holder} holds the ticket already", type="HandOverRefused", non_retryable=True)

    async def _hand_over(self, req: HandOverRequest, *, to_customer: bool) -> None:
        await self._change_holder(req.actor.user_id, req.reason, to_customer=to_customer)

    async def _change_holder(self, actor: UUID | None, reason: str, *, to_customer: bool) -> None:
        """Actor None: the hub itself (a RACI routing)."""
        await self._apply(
            EventKind.HANDED_BACK_TO_CUSTOMER if to_customer else EventKind.ESCALATED_TO_MSP,
            actor,
            Visibility.CO_MANAGED,
            body=reason,
            customer_it_holds=to_customer,
            data={"to": "customer_it" if to_customer else "msp", "reason": reason},
            sla_events=[
                SlaEvent(kind=SlaEventKind.RESPONSIBILITY_CHANGED, at=workflow.now(), customer_it_holds=to_customer)
            ],
        )

    @workflow.update
    async def set_co_managed(self, req: CoManagedRequest) -> TicketState:
        """Share the ticket with the customer's IT or stop sharing it; the event says who and why."""
        await self._wait_created()
        async with self._lock:
            self._check_open()
            await self._apply(
                EventKind.CO_MANAGED_CHANGED,
                req.actor.user_id,
                Visibility.CO_MANAGED,
                body=req.reason,
                co_managed=req.co_managed,
                data={"to": req.co_managed},
            )
            if not req.co_managed and self._state.customer_it_holds:
                # The customer's IT can no longer see it: the MSP takes it back, and its clocks run on.
                back = HandOverRequest(actor=req.actor, reason="Nicht mehr mit der Kunden-IT geteilt.")
                await self._hand_over(back, to_customer=False)
        return self._state

    @set_co_managed.validator
    def _validate_co_managed(self, req: CoManagedRequest) -> None:
        if not req.actor.role.is_msp:
            raise ValueError("only MSP staff decide what the customer's IT shares")
        self._check_open()
