"""Dry run of the SLA clock: when a ticket's targets fall due and when every escalation action fires.

Pure and deterministic (no I/O, no ``now()``). It drives ``domain.sla`` the way the ticket workflow does: feed the
ticket's events to the clock, sleep until the earliest scheduled action, re-plan at that instant, fire every
action due then (marking its key as fired), let reassign / raise-priority actions change the ticket, repeat. Events
and action instants are processed in time order, so a pause that starts after some levels have fired holds the
remaining ones; when an action falls on the same instant as an event, the action fires first (the workflow's timer
expires at that instant).
"""

from collections.abc import Sequence
from datetime import datetime

from pydantic import AwareDatetime, BaseModel

from domain.escalation import Action, RaisePriority, Reassign, TargetKind, raised
from domain.sla import ClockSet, ScheduledAction, SlaContext, SlaEvent, SlaEventKind, apply_event, plan
from domain.tickets import Priority, TicketStatus

__all__ = ["MAX_STEPS", "FiredAction", "Simulation", "simulate", "ticket_timeline"]

# Each step processes one instant (an event or a batch of actions); 30 levels x 10 actions per target fit easily.
MAX_STEPS = 1_000


class FiredAction(BaseModel):
    key: str
    level: str
    target: TargetKind
    fire_at: AwareDatetime  # UTC
    action: Action


class Simulation(BaseModel):
    due: dict[TargetKind, AwareDatetime | None]  # per clock with a target, from the plan after the last event
    actions: list[FiredAction]  # in firing order
    final_priority: Priority
    final_queue: str | None
    truncated: bool = False  # MAX_STEPS reached before every action had fired


def ticket_timeline(
    created_at: datetime,
    priority: Priority,
    *,
    pauses: Sequence[tuple[datetime, datetime]] = (),
    pause_status: TicketStatus = TicketStatus.WAITING_CUSTOMER,
    queue: str | None = None,
    first_response_at: datetime | None = None,
    customer_reply_at: datetime | None = None,
) -> list[SlaEvent]:
    """The events of a simulated ticket: created (status new), each pause as a change to ``pause_status`` and
    back to open, optionally an agent's first public reply and a customer reply (which starts the update clock)."""
    events = [
        SlaEvent(kind=SlaEventKind.CREATED, at=created_at, priority=priority, status=TicketStatus.NEW, queue=queue)
    ]
    for start, end in sorted(pauses):
        events.append(SlaEvent(kind=SlaEventKind.STATUS_CHANGED, at=start, status=pause_status))
        events.append(SlaEvent(kind=SlaEventKind.STATUS_CHANGED, at=end, status=TicketStatus.OPEN))
    if first_response_at is not None:
        events.append(SlaEvent(kind=SlaEventKind.AGENT_PUBLIC_REPLY, at=first_response_at))
    if customer_reply_at is not None:
        events.append(SlaEvent(kind=SlaEventKind.CUSTOMER_PUBLIC_REPLY, at=customer_reply_at))
    return sorted(events, key=lambda ev: ev.at)  # stable: at equal instants the order above is kept


def simulate(context: SlaContext, events: list[SlaEvent], *, max_steps: int = MAX_STEPS) -> Simulation:
    """Run the clock over ``events`` (the earliest must be CREATED) and on until no escalation action is left.

    ``due`` comes from the plan right after the last event, i.e. before escalations change the ticket; an action
    fires at most once (its key is recorded in ``ClockSet.fired`` as the workflow does)."""
    events = sorted(events, key=lambda ev: ev.at)
    if not events or events[0].kind != SlaEventKind.CREATED:
        raise ValueError("a simulated ticket starts with a CREATED event")
    cs = ClockSet(priority=events[0].priority or Priority.P3)
    now = events[0].at
    index = 0
    due: dict[TargetKind, datetime | None] | None = None
    fired: list[FiredAction] = []
    for _ in range(max_steps):
        while index < len(events) and events[index].at <= now:
            cs = apply_event(context, cs, events[index])
            index += 1
        cs, current = plan(context, cs, now)
        if due is None and index == len(events):
            due = {view.kind: view.due_at for view in current.clocks}
        next_event = events[index].at if index < len(events) else None
        next_action = min((a.fire_at for a in current.actions), default=None)
        if next_action is None and next_event is None:
            break
        if next_action is not None and (next_event is None or next_action <= next_event):
            now = max(now, next_action)
            cs, current = plan(context, cs, now)  # re-plan at fire time, as the workflow does when its timer fires
            batch = [a for a in current.actions if a.fire_at <= now]
            cs.fired.extend(a.key for a in batch)
            for item in batch:
                fired.append(
                    FiredAction(
                        key=item.key, level=item.level, target=item.target, fire_at=item.fire_at, action=item.action
                    )
                )
                cs = _side_effect(context, cs, item, now)
        else:
            assert next_event is not None
            now = next_event
    else:
        cs, current = plan(context, cs, now)
        return _result(cs, due, fired, truncated=bool(current.actions) or index < len(events))
    return _result(cs, due, fired, truncated=False)


def _side_effect(context: SlaContext, cs: ClockSet, item: ScheduledAction, now: datetime) -> ClockSet:
    """Reassign and raise-priority change the ticket, which the clock hears about as events (like the workflow)."""
    action = item.action
    if isinstance(action, Reassign) and action.queue != cs.queue:
        return apply_event(context, cs, SlaEvent(kind=SlaEventKind.QUEUE_CHANGED, at=now, queue=action.queue))
    if isinstance(action, RaisePriority):
        priority = raised(cs.priority, action.to)
        if priority != cs.priority:
            return apply_event(context, cs, SlaEvent(kind=SlaEventKind.PRIORITY_CHANGED, at=now, priority=priority))
    return cs


def _result(cs: ClockSet, due: dict | None, fired: list[FiredAction], *, truncated: bool) -> Simulation:
    return Simulation(
        due=due or {}, actions=fired, final_priority=cs.priority, final_queue=cs.queue, truncated=truncated
    )
