"""The SLA clock: targets per priority in business time, pauses, and the escalation plan.

Pure and deterministic given its inputs. The ticket workflow runs it inside a local activity, so the result
(due instants, escalation instants) is recorded in history and a replay gives the same answer even after the
holiday data or a calendar changes. Modelled on iTop's stopwatch: each clock accumulates business seconds
while running; a pause adds nothing; a priority change swaps the target but keeps the time already used.

The clocks measure the MSP: they pause while the ticket waits on the customer, and while the customer's own IT
holds a co-managed ticket (`hand_back_to_customer` until `escalate_to_msp`); that time is kept apart
(`customer_it_seconds`, part of `paused_seconds`), so the outcome shows what the MSP was responsible for.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import CalendarSpec
from domain.escalation import (
    NOTIFYING_ACTIONS,
    Action,
    EscalationPolicyDocument,
    TargetKind,
    trigger_threshold_seconds,
)
from domain.tickets import Priority, TicketStatus


class SlaState(StrEnum):
    """Values of the `SlaState` search attribute."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"  # resolved or closed with every target met
    MISSED = "missed"  # resolved or closed with a target missed
    NONE = "none"  # no SLA applies


class PriorityTargets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response_minutes: int | None = Field(default=None, gt=0, le=525_600)
    resolution_minutes: int | None = Field(default=None, gt=0, le=525_600)
    update_minutes: int | None = Field(default=None, gt=0, le=525_600)
    calendar: str = Field(
        default="customer", pattern="^(customer|24x7)$", description="'customer' business hours or '24x7' (e.g. for P1)"
    )

    def minutes(self, kind: TargetKind) -> int | None:
        return getattr(self, f"{kind.value}_minutes")


class SlaDefinition(BaseModel):
    """Targets per priority, as agreed in a contract (or the MSP's default)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    targets: dict[Priority, PriorityTargets]
    pause_statuses: list[TicketStatus] = Field(default_factory=lambda: [TicketStatus.WAITING_CUSTOMER])
    first_response_on_in_progress: bool = Field(
        default=True, description="A transition to in_progress counts as first response, not only a public reply"
    )
    warning_percent: int = Field(default=75, gt=0, lt=100)

    @model_validator(mode="after")
    def _sane(self) -> "SlaDefinition":
        bad = {
            TicketStatus.NEW,
            TicketStatus.OPEN,
            TicketStatus.IN_PROGRESS,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        } & set(self.pause_statuses)
        if bad:
            raise ValueError(f"pause_statuses: only waiting statuses can pause the clock, not {sorted(bad)}")
        return self


class SlaContext(BaseModel):
    """Everything the clock needs, pinned when the ticket starts (a new policy version applies to new tickets)."""

    definition: SlaDefinition
    calendar: CalendarSpec
    policy: EscalationPolicyDocument | None = None
    definition_id: UUID | None = None
    policy_version_id: UUID | None = None
    customer_number: str
    category: str | None = None


class Clock(BaseModel):
    kind: TargetKind
    target_minutes: int | None
    used_seconds: int = 0
    paused_seconds: int = 0
    customer_it_seconds: int = 0  # of paused_seconds: while the customer's IT held the ticket
    running_since: AwareDatetime | None = None
    paused_since: AwareDatetime | None = None
    stopped_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    cycle: int = 0

    @property
    def active(self) -> bool:
        return self.target_minutes is not None and self.stopped_at is None


class SlaEventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    PRIORITY_CHANGED = "priority_changed"
    AGENT_PUBLIC_REPLY = "agent_public_reply"
    CUSTOMER_PUBLIC_REPLY = "customer_public_reply"
    QUEUE_CHANGED = "queue_changed"
    RESPONSIBILITY_CHANGED = "responsibility_changed"  # handed to the customer's IT, or escalated back to the MSP


class SlaEvent(BaseModel):
    kind: SlaEventKind
    at: AwareDatetime
    status: TicketStatus | None = None
    priority: Priority | None = None
    queue: str | None = None
    customer_it_holds: bool | None = None  # RESPONSIBILITY_CHANGED: True handed to customer IT, False to the MSP


class ClockSet(BaseModel):
    """The SLA part of a ticket workflow's state."""

    priority: Priority
    status: TicketStatus = TicketStatus.NEW
    queue: str | None = None
    clocks: dict[TargetKind, Clock] = Field(default_factory=dict)
    first_response_at: AwareDatetime | None = None
    fired: list[str] = Field(default_factory=list)
    customer_it_holds: bool = False  # the customer's IT is responsible: the MSP's clocks pause

    def clone(self) -> "ClockSet":
        """A copy sharing nothing mutable: the clocks and the fired list are copied, the rest is immutable values.
        What `model_copy(deep=True)` gives, without deep-copying every datetime (a ticket's opening does this)."""
        clocks = {kind: clock.model_copy() for kind, clock in self.clocks.items()}
        return self.model_copy(update={"clocks": clocks, "fired": list(self.fired)})


def is_paused(ctx: SlaContext, cs: ClockSet) -> bool:
    """The MSP's clocks pause while the ticket waits on the customer or the customer's IT holds it."""
    return cs.status in ctx.definition.pause_statuses or cs.customer_it_holds


class ScheduledAction(BaseModel):
    key: str  # "<target>:<cycle>:<level>:<action index>": fires once per ticket
    level: str
    target: TargetKind
    fire_at: AwareDatetime
    action: Action


class ClockView(BaseModel):
    kind: TargetKind
    target_minutes: int
    state: str  # ok, warning, breached, paused, met, missed
    due_at: AwareDatetime | None
    used_seconds: int
    paused_seconds: int
    running_since: AwareDatetime | None
    stopped_at: AwareDatetime | None
    customer_it_seconds: int = 0


class SlaPlan(BaseModel):
    state: SlaState
    clocks: list[ClockView]
    actions: list[ScheduledAction]
    wake_at: AwareDatetime | None  # next instant at which something (an action or a state) changes


class AdvanceRequest(BaseModel):
    context: SlaContext
    clocks: ClockSet
    events: list[SlaEvent] = Field(default_factory=list)
    now: AwareDatetime


class AdvanceResult(BaseModel):
    clocks: ClockSet
    plan: SlaPlan


class LoadSlaContext(BaseModel):
    tenant_id: UUID
    customer_number: str
    category: str | None = None
    at: AwareDatetime


class SlaCarry(BaseModel):
    """The SLA part carried across continue-as-new."""

    context: SlaContext
    clocks: ClockSet
    plan: SlaPlan | None = None


class Outcome(BaseModel):
    kind: TargetKind
    target_minutes: int
    met: bool
    used_minutes: int
    diff_minutes: int  # target minus used: negative when missed
    paused_minutes: int
    customer_it_minutes: int = 0  # of paused_minutes: held by the customer's IT, not counted against the MSP


@lru_cache(maxsize=256)
def _calendar(spec_json: str) -> BusinessCalendar:
    return BusinessCalendar(CalendarSpec.model_validate_json(spec_json))


def calendar_for(ctx: SlaContext, priority: Priority) -> BusinessCalendar:
    targets = ctx.definition.targets.get(priority)
    if targets is not None and targets.calendar == "24x7":
        return _calendar(CalendarSpec.twenty_four_seven(ctx.calendar.time_zone).model_dump_json())
    return _calendar(ctx.calendar.model_dump_json())


def _accumulate(clock: Clock, cal: BusinessCalendar, until: datetime, customer_it_holds: bool = False) -> None:
    if clock.running_since is not None and until > clock.running_since:
        clock.used_seconds += cal.business_seconds_between(clock.running_since, until)
        clock.running_since = until
    if clock.paused_since is not None and until > clock.paused_since:
        paused = cal.business_seconds_between(clock.paused_since, until)
        clock.paused_seconds += paused
        if customer_it_holds:
            clock.customer_it_seconds += paused
        clock.paused_since = until


def _stop(clock: Clock, at: datetime) -> None:
    clock.running_since = clock.paused_since = None
    clock.stopped_at = at


def _run(clock: Clock, at: datetime, paused: bool) -> None:
    clock.stopped_at = None
    clock.running_since, clock.paused_since = (None, at) if paused else (at, None)


def apply_event(ctx: SlaContext, cs: ClockSet, ev: SlaEvent) -> ClockSet:
    cs = cs.clone()
    cal = calendar_for(ctx, cs.priority)
    for clock in cs.clocks.values():
        _accumulate(clock, cal, ev.at, cs.customer_it_holds)
    was_paused = is_paused(ctx, cs)

    if ev.kind == SlaEventKind.CREATED:
        cs.priority, cs.status, cs.queue = ev.priority or cs.priority, ev.status or cs.status, ev.queue
        targets = ctx.definition.targets.get(cs.priority)
        for kind in (TargetKind.RESPONSE, TargetKind.RESOLUTION, TargetKind.UPDATE):
            minutes = targets.minutes(kind) if targets else None
            clock = Clock(kind=kind, target_minutes=minutes)
            if kind != TargetKind.UPDATE:  # the update clock starts with the customer's next message
                _run(clock, ev.at, is_paused(ctx, cs))
            cs.clocks[kind] = clock
    elif ev.kind == SlaEventKind.PRIORITY_CHANGED and ev.priority is not None:
        cs.priority = ev.priority
        _retarget(cs, ctx.definition)
    elif ev.kind == SlaEventKind.QUEUE_CHANGED:
        cs.queue = ev.queue
    elif ev.kind == SlaEventKind.RESPONSIBILITY_CHANGED and ev.customer_it_holds is not None:
        cs.customer_it_holds = ev.customer_it_holds
        if (now_paused := is_paused(ctx, cs)) != was_paused:
            _switch_running(cs, ev.at, now_paused)
    elif ev.kind == SlaEventKind.STATUS_CHANGED and ev.status is not None:
        old, new = cs.status, ev.status
        cs.status = new
        resolution = cs.clocks.get(TargetKind.RESOLUTION)
        if new in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            for clock in cs.clocks.values():
                if clock.stopped_at is None and (clock.running_since or clock.paused_since):
                    _stop(clock, ev.at)
            if cs.first_response_at is None:
                cs.first_response_at = ev.at
        elif old in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and resolution is not None:
            _run(resolution, ev.at, is_paused(ctx, cs))  # reopened: the resolution clock goes on where it stopped
        else:
            if new == TicketStatus.IN_PROGRESS and ctx.definition.first_response_on_in_progress:
                _first_response(cs, ev.at)
            now_paused = is_paused(ctx, cs)
            if now_paused != was_paused:
                _switch_running(cs, ev.at, now_paused)
    elif ev.kind == SlaEventKind.AGENT_PUBLIC_REPLY:
        _first_response(cs, ev.at)
        update = cs.clocks.get(TargetKind.UPDATE)
        if update is not None and update.stopped_at is None and (update.running_since or update.paused_since):
            _stop(update, ev.at)
    elif ev.kind == SlaEventKind.CUSTOMER_PUBLIC_REPLY:
        update = cs.clocks.get(TargetKind.UPDATE)
        idle = update is not None and update.running_since is None and update.paused_since is None
        if (
            update is not None
            and cs.first_response_at is not None
            and idle
            and cs.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        ):
            update.cycle += 1
            update.used_seconds = update.paused_seconds = 0
            update.due_at = None
            _run(update, ev.at, is_paused(ctx, cs))
    return cs


def _retarget(cs: ClockSet, definition: SlaDefinition) -> None:
    """Targets of the ticket's priority from `definition`, keeping the time used; due instants are re-planned."""
    targets = definition.targets.get(cs.priority)
    for kind, clock in cs.clocks.items():
        clock.target_minutes = targets.minutes(kind) if targets else None
        clock.due_at = None


def _switch_running(cs: ClockSet, at: datetime, paused: bool) -> None:
    """Every clock still counting goes on as paused or running from `at`."""
    for clock in cs.clocks.values():
        if clock.stopped_at is None and (clock.running_since or clock.paused_since):
            _run(clock, at, paused)


def _first_response(cs: ClockSet, at: datetime) -> None:
    if cs.first_response_at is None:
        cs.first_response_at = at
    response = cs.clocks.get(TargetKind.RESPONSE)
    if response is not None and response.stopped_at is None:
        _stop(response, at)


def _clock_state(clock: Clock, used: int, warning_percent: int) -> str:
    target = (clock.target_minutes or 0) * 60
    if clock.stopped_at is not None:
        return "met" if used <= target else "missed"
    if clock.running_since is None and clock.paused_since is None:
        return "not_started"  # the update clock before the customer's first message: nothing to meet yet
    if used >= target:
        return "breached"
    if clock.paused_since is not None:
        return "paused"
    return "warning" if used >= target * warning_percent // 100 else "ok"


def plan(ctx: SlaContext, cs: ClockSet, now: datetime) -> tuple[ClockSet, SlaPlan]:
    """Bring the clocks to `now` and say what is due when. Returns updated clocks (with due instants)."""
    cs = cs.clone()
    cal = calendar_for(ctx, cs.priority)
    open_cal = _calendar(ctx.calendar.model_dump_json())  # notifications wait for the customer's hours
    views: list[ClockView] = []
    actions: list[ScheduledAction] = []
    wakes: list[datetime] = []
    states: list[str] = []
    for clock in cs.clocks.values():
        if clock.target_minutes is None:
            continue
        _accumulate(clock, cal, now, cs.customer_it_holds)
        target = clock.target_minutes * 60
        running = clock.running_since is not None
        if running and clock.used_seconds < target:
            clock.due_at = cal.add_business_time(now, timedelta(seconds=target - clock.used_seconds))
            warn_at = target * ctx.definition.warning_percent // 100
            if clock.used_seconds < warn_at:
                wakes.append(cal.add_business_time(now, timedelta(seconds=warn_at - clock.used_seconds)))
            wakes.append(clock.due_at)
        elif running and clock.due_at is None:
            clock.due_at = now  # breached before we ever computed a due time (e.g. target lowered)
        state = _clock_state(clock, clock.used_seconds, ctx.definition.warning_percent)
        if clock.stopped_at is None and clock.paused_since is not None and state != "breached":
            clock.due_at = None  # unknown while paused
        states.append(state)
        views.append(
            ClockView(
                kind=clock.kind,
                target_minutes=clock.target_minutes,
                state=state,
                due_at=clock.due_at,
                used_seconds=clock.used_seconds,
                paused_seconds=clock.paused_seconds,
                running_since=clock.running_since,
                stopped_at=clock.stopped_at,
                customer_it_seconds=clock.customer_it_seconds,
            )
        )
        if running and ctx.policy is not None:
            actions += _level_actions(ctx, cs, clock, cal, open_cal, now)
    wakes += [a.fire_at for a in actions]  # an action due already (fire_at <= now) means: wake at once
    return cs, SlaPlan(
        state=_overall(states, cs, ctx), clocks=views, actions=actions, wake_at=min(wakes) if wakes else None
    )


def _level_actions(
    ctx: SlaContext, cs: ClockSet, clock: Clock, cal: BusinessCalendar, open_cal: BusinessCalendar, now: datetime
) -> list[ScheduledAction]:
    out = []
    assert ctx.policy is not None and clock.target_minutes is not None
    for level in ctx.policy.levels:
        # Conditions are judged against the ticket as it is now: the plan is recomputed at fire time.
        if level.target != clock.kind or not level.conditions.matches(
            priority=cs.priority, customer_number=ctx.customer_number, category=ctx.category, queue=cs.queue
        ):
            continue
        threshold = trigger_threshold_seconds(level.trigger, clock.target_minutes)
        if threshold <= clock.used_seconds:
            reached = now
        else:
            reached = cal.add_business_time(now, timedelta(seconds=threshold - clock.used_seconds))
        for i, action in enumerate(level.actions):
            key = f"{clock.kind.value}:{clock.cycle}:{level.name}:{i}"
            if key in cs.fired:
                continue
            fire_at = reached
            if isinstance(action, NOTIFYING_ACTIONS) and action.business_hours_only:
                fire_at = open_cal.next_opening(reached)
            out.append(ScheduledAction(key=key, level=level.name, target=clock.kind, fire_at=fire_at, action=action))
    return out


def _overall(states: list[str], cs: ClockSet, ctx: SlaContext) -> SlaState:
    if not states:
        return SlaState.NONE
    if cs.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):  # the clocks have stopped: the outcome
        return SlaState.MISSED if "missed" in states or "breached" in states else SlaState.MET
    if "breached" in states:
        return SlaState.BREACHED
    if is_paused(ctx, cs):
        return SlaState.PAUSED
    if "warning" in states:
        return SlaState.WARNING
    return SlaState.OK


def repin(old: SlaContext, new: SlaContext, cs: ClockSet, at: datetime) -> ClockSet:
    """A running ticket moves onto a new context (calendar, SLA definition or policy version edited after it
    started). Tickets pin their context so that an edit never rewrites a running SLA behind anyone's back; this
    is the explicit, recorded way to apply one. The business time used so far is counted under the old rules,
    the remaining time under the new ones (targets of the ticket's priority, the new calendar and pause statuses);
    levels that already fired stay fired, so nothing is sent twice."""
    cs = cs.clone()
    cal = calendar_for(old, cs.priority)
    for clock in cs.clocks.values():
        _accumulate(clock, cal, at, cs.customer_it_holds)
    _retarget(cs, new.definition)
    now_paused = is_paused(new, cs)
    if is_paused(old, cs) != now_paused:
        _switch_running(cs, at, now_paused)
    return cs


def advance(req: AdvanceRequest) -> AdvanceResult:
    cs = req.clocks
    for ev in req.events:
        cs = apply_event(req.context, cs, ev)
    cs, sla_plan = plan(req.context, cs, req.now)
    return AdvanceResult(clocks=cs, plan=sla_plan)


def due_actions(sla_plan: SlaPlan, now: datetime) -> list[ScheduledAction]:
    return [a for a in sla_plan.actions if a.fire_at <= now]


def outcomes(cs: ClockSet) -> list[Outcome]:
    result = []
    for clock in cs.clocks.values():
        if clock.target_minutes is None or (clock.kind == TargetKind.UPDATE and clock.cycle == 0):
            continue
        used = clock.used_seconds // 60
        result.append(
            Outcome(
                kind=clock.kind,
                target_minutes=clock.target_minutes,
                met=clock.used_seconds <= clock.target_minutes * 60,
                used_minutes=used,
                diff_minutes=clock.target_minutes - used,
                paused_minutes=clock.paused_seconds // 60,
                customer_it_minutes=clock.customer_it_seconds // 60,
            )
        )
    return result
