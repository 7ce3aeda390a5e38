"""The SOC webhook inbox: the durable step between a verified webhook and its incident workflow.

The webhook commits each accepted alert as a `soc_inbox` row (with the delivery log, in one transaction) and answers
202 at once; it never waits on Temporal. The dispatcher, an asyncio task of the API process, claims rows with a lease
(round-robin over the customers, each customer's in arrival order), groups them by incident and hands each group over
with one update-with-start that the incident answers once it has handled them (`hub.temporal.soc.hand_over_and_wait`),
then deletes the rows. Hand-over is at least once: a row whose hand-over failed or took too long is retried with
back-off, one whose dispatcher died is claimed again when its lease runs out, and the incident drops a vendor alert it
has already seen. On PostgreSQL several API processes claim with SKIP LOCKED.

No single alert or customer blocks another: every hand-over has a deadline; an incident whose hand-over failed is
retried apart from the others (its own lane, so it neither holds their slots nor shrinks their limit); each customer
gets its share of the hand-overs at once; and a hand-over that keeps failing is moved to the quarantine
(`soc_quarantine`, api/routes/soc/quarantine.py), from where it can be released after a fix.

Why an inbox and a wait for the incident's answer: the 202 never depends on Temporal being up or fast, and the
backlog of a storm waits here, ordered (new and possibly-P1 incidents first), instead of in Temporal's first-come
task queue; an incident's alerts that wait meanwhile go over together.
"""

import asyncio
import contextlib
import heapq
import itertools
import math
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter as MetricCounter
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, case, delete, func, or_, update
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.contracts.soc import IncidentAlert
from domain.processes import incident_workflow_id
from domain.soc.alerts import correlation_key
from domain.soc.priority import reachable_priority
from hub.adaptive_limit import AdaptiveLimit, Outcome
from hub.config import Settings
from hub.db import session_scope
from hub.logging import get_logger
from hub.temporal.errors import WorkflowUnavailable
from hub.temporal.soc import hand_over_and_wait
from models import SocInboxItem, SocQuarantineItem, SocQuarantineKind

log = get_logger(__name__)
KNOWN_INCIDENTS = 100_000  # incidents remembered as handed over (a new one's hand-over goes first)

HAND_OVERS = MetricCounter(
    "psa_soc_inbox_hand_overs", "Hand-overs of inbox alerts to their incident workflows, by outcome", ["outcome"]
)
for _outcome in ("done", "failed"):
    HAND_OVERS.labels(_outcome)
QUARANTINED = MetricCounter("psa_soc_inbox_quarantined", "Inbox alerts moved to the quarantine by this process")

# Temporal or the worker did not answer: load or an outage, which the adaptive limit backs off from. Not
# FAILED_PRECONDITION or a failed update: those are about one incident and say nothing about the others.
NOT_ANSWERED = (
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
)


@dataclass(frozen=True)
class InboxSettings:
    batch: int = 200  # rows per claim
    max_in_flight: int = 5_000  # claimed rows not yet handed over
    concurrency: int = 16  # signal-with-starts at once, at most (the adaptive limit starts at 4)
    lease: timedelta = timedelta(seconds=60)  # a claim older than this is taken over (its dispatcher died)
    poll_seconds: float = 2.0  # look for rows without a wake-up (another process's, retries, after a restart)
    max_backoff: timedelta = timedelta(minutes=5)
    # Incidents whose last hand-over failed are retried in a lane of their own, this many at once.
    retry_concurrency: int = 4
    # Deadlines of one hand-over, first and retried. Needed: while the incident does not take the update (its
    # workflow task keeps failing) the SDK asks again forever. A first one normally answers within 2 s (bench/).
    hand_over_timeout: timedelta = timedelta(seconds=10)
    retry_timeout: timedelta = timedelta(seconds=65)  # a little over the hand-over's own wait for the answer
    max_attempts: int = 8  # then the rows go to the quarantine
    max_age: timedelta = timedelta(hours=1)  # or once their alert has waited this long

    @classmethod
    def of(cls, settings: Settings) -> "InboxSettings":
        return cls(
            concurrency=settings.soc_inbox_concurrency,
            retry_concurrency=max(1, settings.soc_inbox_concurrency // 4),
            max_attempts=settings.soc_inbox_max_attempts,
            max_age=timedelta(minutes=settings.soc_inbox_max_age_minutes),
        )


class InboxBacklog(BaseModel):
    pending: int
    oldest_received_at: datetime | None
    oldest_age_seconds: float  # 0 when the inbox is empty
    failing: int  # rows whose last hand-over failed
    failing_age_seconds: float  # how long the oldest of them has waited; 0 when none fails
    quarantined: int  # in the quarantine, not released


def utcnow() -> datetime:
    return datetime.now(UTC)


def put(session: Session, items: list[IncidentAlert]) -> None:
    """Part of the webhook's transaction: the alerts are owned by the hub once it commits."""
    for item in items:
        session.add(
            SocInboxItem(
                tenant_id=item.tenant_id,
                integration_id=uuid.UUID(item.alert.integration_id),
                workflow_id=incident_workflow_id(correlation_key(item.alert, item.customer_number)),
                dedupe_key=item.alert.dedupe_key,
                item=item.model_dump(mode="json"),
                rank=int(reachable_priority(item.alert).value[1:]),
            )
        )


@dataclass(frozen=True)
class Claimed:
    id: int
    workflow_id: str
    item: dict
    attempts: int
    rank: int
    tenant_id: uuid.UUID
    received_at: datetime


def claim(engine: Engine, limit: int, lease: timedelta, finished: list[int] = ()) -> list[Claimed]:
    """The oldest rows nobody holds, leased to the caller: in turns over the customers (each one's first row, then
    each one's second, ...), so one customer's backlog does not fill the claims; `finished` rows (handed over) are
    deleted first, in the same transaction (one write per dispatcher round)."""
    now = utcnow()
    with session_scope(engine) as s:
        _delete(s, finished)
        if limit <= 0:
            return []
        free = or_(SocInboxItem.claimed_until.is_(None), SocInboxItem.claimed_until <= now)
        turn = func.row_number().over(partition_by=SocInboxItem.tenant_id, order_by=SocInboxItem.id)
        ranked = select(SocInboxItem.id, turn.label("turn")).where(free).subquery()
        picked = select(ranked.c.id).order_by(ranked.c.turn, ranked.c.id).limit(limit)
        rows = s.exec(
            select(
                SocInboxItem.id,
                SocInboxItem.workflow_id,
                SocInboxItem.item,
                SocInboxItem.attempts,
                SocInboxItem.rank,
                SocInboxItem.tenant_id,
                SocInboxItem.received_at,
            )
            .where(SocInboxItem.id.in_(picked), free)
            .order_by(SocInboxItem.id)
            .with_for_update(skip_locked=True)  # PostgreSQL: another dispatcher skips these; SQLite: one writer
        ).all()
        if rows:
            s.exec(
                update(SocInboxItem)
                .where(SocInboxItem.id.in_([r[0] for r in rows]))
                .values(claimed_until=now + lease)
                .execution_options(synchronize_session=False)
            )
    return [Claimed(*r) for r in rows]


def finish(engine: Engine, ids: list[int]) -> None:
    with session_scope(engine) as s:
        _delete(s, ids)


def _delete(session: Session, ids: list[int]) -> None:
    if ids:
        session.exec(delete(SocInboxItem).where(SocInboxItem.id.in_(ids)).execution_options(synchronize_session=False))


def retry_later(engine: Engine, ids: list[int], error: str, wait: timedelta) -> None:
    with session_scope(engine) as s:
        s.exec(
            update(SocInboxItem)
            .where(SocInboxItem.id.in_(ids))
            .values(claimed_until=utcnow() + wait, attempts=SocInboxItem.attempts + 1, last_error=error[:500])
            .execution_options(synchronize_session=False)
        )


def quarantine(engine: Engine, ids: list[int], reason: str) -> int:
    """Moves the rows from the inbox to the quarantine, in one transaction; returns how many moved (a row handed
    over by another dispatcher meanwhile is gone)."""
    with session_scope(engine) as s:
        rows = s.exec(select(SocInboxItem).where(SocInboxItem.id.in_(ids)).with_for_update()).all()
        for row in rows:
            s.add(
                SocQuarantineItem(
                    tenant_id=row.tenant_id,
                    integration_id=row.integration_id,
                    kind=SocQuarantineKind.INBOX.value,
                    item=row.item,
                    reason=reason[:2000],
                    attempts=row.attempts + 1,
                    received_at=row.received_at,
                    workflow_id=row.workflow_id,
                )
            )
        _delete(s, [r.id for r in rows])
    return len(rows)


def release(engine: Engine, ids: list[int]) -> None:
    """Claims given back on shutdown, so the next dispatcher need not wait for the lease."""
    with session_scope(engine) as s:
        s.exec(
            update(SocInboxItem)
            .where(SocInboxItem.id.in_(ids))
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def backlog(engine: Engine, now: datetime | None = None) -> InboxBacklog:
    now = now or utcnow()
    with Session(engine) as s:
        pending, oldest, failing, oldest_failing = s.exec(
            select(
                func.count(),
                func.min(SocInboxItem.received_at),
                func.count(SocInboxItem.last_error),
                func.min(case((SocInboxItem.last_error.is_not(None), SocInboxItem.received_at))),
            ).select_from(SocInboxItem)
        ).one()
        quarantined = s.exec(
            select(func.count()).select_from(SocQuarantineItem).where(SocQuarantineItem.released_at.is_(None))
        ).one()
    oldest, oldest_failing = _aware(oldest), _aware(oldest_failing)
    return InboxBacklog(
        pending=pending,
        oldest_received_at=oldest,
        oldest_age_seconds=_age(now, oldest),
        failing=failing,
        failing_age_seconds=_age(now, oldest_failing),
        quarantined=quarantined,
    )


def _aware(value: datetime | str | None) -> datetime | None:
    if value is not None and (isinstance(value, str) or value.tzinfo is None):  # aggregates bypass the column type
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)  # on SQLite
    return value


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def unique_in_order(items: list[IncidentAlert]) -> list[IncidentAlert]:
    """Identical deliveries of one vendor alert (same status and vendor time) once; changes stay, in order."""
    seen, out = set(), []
    for item in items:
        mark = (item.alert.dedupe_key, item.alert.status, item.alert.vendor_updated_at)
        if mark not in seen:
            seen.add(mark)
            out.append(item)
    return out


def not_answered(err: BaseException) -> bool:
    """Temporal or the worker did not answer (in time), as opposed to an incident that answered no."""
    if isinstance(err, TimeoutError | WorkflowUpdateRPCTimeoutOrCancelledError | WorkflowUnavailable):
        return True
    return isinstance(err, RPCError) and err.status in NOT_ANSWERED


def describe(err: BaseException) -> str:
    """The error for a person: a failed update's own message says only that it failed; its cause says why."""
    cause = getattr(err, "cause", None)
    return f"{type(err).__name__}: {err}" + (f": {type(cause).__name__}: {cause}" if cause is not None else "")


@dataclass(frozen=True)
class Failure:
    reason: str
    not_answered: bool = False  # Temporal-side: shrinks the lane's limit; no proof against the alerts
    permanent: bool = False  # no retry can help (the stored item is not an alert): quarantined at once


class TenantShare:
    """Turns at an adaptive limit, shared fairly by the customers: each customer with hand-overs to do may have
    about its share of the limit (divided among those customers) waiting for or holding a slot; its others wait
    here, new and higher-ranked incidents first. So one customer's backlog or stuck incidents queue behind each
    other, never in front of another customer's alerts."""

    def __init__(self, limit: AdaptiveLimit) -> None:
        self.limit = limit
        self._entered: Counter[uuid.UUID] = Counter()
        self._waiting: dict[uuid.UUID, list[tuple[bool, int, int, asyncio.Future]]] = {}
        self._arrival = itertools.count()

    @asynccontextmanager
    async def slot(self, tenant: uuid.UUID, urgent: bool, rank: int) -> AsyncIterator[Outcome]:
        await self._enter(tenant, urgent, rank)
        try:
            async with self.limit.slot(urgent=urgent, rank=rank) as outcome:
                yield outcome
        finally:
            self._leave(tenant)

    async def _enter(self, tenant: uuid.UUID, urgent: bool, rank: int) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting.setdefault(tenant, []), (not urgent, rank, next(self._arrival), future))
        self._admit()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._leave(tenant)  # admitted just as the waiter was cancelled: pass the turn on
            raise  # else the cancelled future stays queued and is skipped

    def _leave(self, tenant: uuid.UUID) -> None:
        self._entered[tenant] -= 1
        if self._entered[tenant] <= 0:
            del self._entered[tenant]
        self._admit()

    def _admit(self) -> None:
        tenants = len(self._entered.keys() | self._waiting.keys())
        share = max(1, math.ceil(self.limit.limit / max(1, tenants)))
        for tenant in list(self._waiting):
            queue = self._waiting[tenant]
            while queue and self._entered[tenant] < share:
                *_, future = heapq.heappop(queue)
                if not future.done():
                    self._entered[tenant] += 1
                    future.set_result(None)
            if not queue:
                del self._waiting[tenant]


def _remember(incidents: OrderedDict[str, None], workflow_id: str) -> None:
    incidents[workflow_id] = None
    incidents.move_to_end(workflow_id)
    if len(incidents) > KNOWN_INCIDENTS:
        incidents.popitem(last=False)


@dataclass(frozen=True)
class Lane:
    share: TenantShare
    timeout: timedelta


class InboxDispatcher:
    """Hands inbox rows to their incidents. `wake()` after a commit; it starts itself on first use, so it also runs
    where the ASGI lifespan does not (tests with httpx's ASGI transport).

    Each incident has one queue and at most one hand-over at a time, so its alerts go over in arrival order, and
    what arrives while one is under way goes over together in the next. Hand-overs run in two lanes, each under an
    adaptive limit (hub/adaptive_limit.py) shared fairly by the customers (`TenantShare`): first hand-overs, as many
    at once as Temporal answers fast, up to `concurrency`; and incidents whose last hand-over failed, apart, up to
    `retry_concurrency`, so a stuck incident neither holds the others' slots nor shrinks their limit. Only Temporal
    not answering shrinks a limit; an incident that refuses does not. A new incident (not handed over by this
    process before) goes first, the one that may become a P1 before the others: under a storm, opening the next
    dangerous incident's ticket comes before another correlated alert for a running incident, and those batch up
    meanwhile. Rows that fail `max_attempts` times, or are older than `max_age`, go to the quarantine; on failures
    where Temporal did not answer, only while other hand-overs get through (an outage sets nothing aside)."""

    def __init__(
        self,
        engine: Callable[[], Engine | None],
        temporal: Callable[[], Client | None],
        settings: InboxSettings | None = None,
    ) -> None:
        self._engine, self._temporal, self.settings = engine, temporal, settings or InboxSettings()
        self._hand_over = hand_over_and_wait
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._queues: dict[str, list[Claimed]] = {}  # workflow id -> claimed rows waiting, in arrival order
        self._runners: dict[str, asyncio.Task] = {}  # workflow id -> the task handing its queue over
        self._known: OrderedDict[str, None] = OrderedDict()  # incidents handed over lately (bounded)
        self._failing: OrderedDict[str, None] = OrderedDict()  # incidents whose last hand-over failed (bounded)
        self._in_flight: set[int] = set()  # claimed row ids not yet handed over or given back
        self._finished: list[int] = []  # handed over, to delete
        self._last_success = float("-inf")  # monotonic time of the last hand-over that went through
        # Not more than the incidents handle quickly (the answer includes the worker's queue, recording the alerts
        # and opening the ticket): more at once would only queue in Temporal, first come, first served.
        first = AdaptiveLimit(
            initial=min(4, self.settings.concurrency), maximum=self.settings.concurrency, fast_s=0.5, slow_s=1.5
        )
        retry = AdaptiveLimit(
            initial=min(2, self.settings.retry_concurrency),
            maximum=self.settings.retry_concurrency,
            fast_s=0.5,
            slow_s=1.5,
        )
        self._first = Lane(TenantShare(first), self.settings.hand_over_timeout)
        self._retry = Lane(TenantShare(retry), self.settings.retry_timeout)
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()
        self.start()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="soc-inbox-dispatcher")

    async def stop(self, grace: float = 10.0) -> None:
        """Lets running hand-overs finish (up to `grace` seconds), records them and gives back the other claims."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        self._queues.clear()  # not started: given back below
        if self._runners:
            await asyncio.wait(list(self._runners.values()), timeout=grace)
        for task in list(self._runners.values()):
            task.cancel()
        engine = self._engine()
        if engine is None:
            return
        if self._finished:
            await asyncio.to_thread(finish, engine, self._finished)
            self._finished = []
        if self._in_flight:
            await asyncio.to_thread(release, engine, sorted(self._in_flight))
            self._in_flight.clear()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                more = await self._round()
            except Exception as err:  # noqa: BLE001 - the database may be away for a while; rows wait
                log.warning("soc inbox: round failed", error=f"{type(err).__name__}: {err}")
                more = False
            if more or self._stopping:
                continue
            # Hand-overs under way: record them soon, several at once; else look again after the poll interval.
            timeout = 0.2 if self._finished or self._in_flight else self.settings.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _round(self) -> bool:
        """Records finished rows, claims what fits in flight, queues it; True: claim again at once."""
        self._wake.clear()  # before the claim: a commit during the claim wakes the next round
        engine, temporal = self._engine(), self._temporal()
        if engine is None:
            return False
        room = self.settings.max_in_flight - len(self._in_flight)
        limit = min(self.settings.batch, room) if temporal is not None else 0
        if limit <= 0 and not self._finished:
            return False
        done, self._finished = self._finished, []
        try:
            rows = await asyncio.to_thread(claim, engine, limit, self.settings.lease, done)
        except BaseException:
            self._finished = done + self._finished  # deleted with the next round
            raise
        for row in rows:
            if row.id in self._in_flight:
                continue  # still queued here after its lease ran out: it is handed over once
            self._in_flight.add(row.id)
            self._queues.setdefault(row.workflow_id, []).append(row)
            if row.workflow_id not in self._runners:
                self._runners[row.workflow_id] = asyncio.create_task(self._drain(temporal, engine, row.workflow_id))
        return limit > 0 and len(rows) == limit

    async def _drain(self, temporal: Client, engine: Engine, workflow_id: str) -> None:
        try:
            while queued := self._queues.get(workflow_id):
                lane = self._lane(workflow_id, queued)
                urgent, rank = workflow_id not in self._known, min(r.rank for r in queued)
                async with lane.share.slot(queued[0].tenant_id, urgent=urgent, rank=rank) as outcome:
                    rows = self._queues.pop(workflow_id, [])  # all that waited: one hand-over
                    failure = await self._dispatch(temporal, engine, workflow_id, rows, lane) if rows else None
                    if failure is not None:
                        outcome.failed = failure.not_answered  # fewer hand-overs at once in this lane
                        # Failed: what queued behind it waits too, so the incident still gets them in order.
                        rest = self._queues.pop(workflow_id, [])
                        if rest:
                            await self._give_back(engine, workflow_id, rest, "waits for an earlier hand-over")
                        return
        finally:
            self._runners.pop(workflow_id, None)

    def _lane(self, workflow_id: str, queued: list[Claimed]) -> Lane:
        """The retry lane for an incident that failed lately, also for its new alerts: they would fail alike."""
        failed = workflow_id in self._failing or any(r.attempts for r in queued)
        return self._retry if failed else self._first

    async def _dispatch(
        self, temporal: Client, engine: Engine, workflow_id: str, rows: list[Claimed], lane: Lane
    ) -> Failure | None:
        started = time.monotonic()
        failure = await self._try_hand_over(temporal, rows, lane.timeout)
        if failure is None:
            self._last_success = time.monotonic()
            HAND_OVERS.labels("done").inc()
            _remember(self._known, workflow_id)
            self._failing.pop(workflow_id, None)
            self._finished.extend(r.id for r in rows)
            self._in_flight.difference_update(r.id for r in rows)
            return None
        HAND_OVERS.labels("failed").inc()
        _remember(self._failing, workflow_id)
        log.warning("soc inbox: hand-over failed", workflow_id=workflow_id, alerts=len(rows), error=failure.reason)
        if self._set_aside(rows, failure, started):
            await self._quarantine(engine, workflow_id, rows, failure.reason)
        else:
            await self._give_back(engine, workflow_id, rows, failure.reason)
        return failure

    async def _try_hand_over(self, temporal: Client, rows: list[Claimed], timeout: timedelta) -> Failure | None:
        try:
            items = unique_in_order([IncidentAlert.model_validate(r.item) for r in rows])
        except ValidationError as err:
            return Failure(f"not a valid alert: {err}", permanent=True)
        deadline = asyncio.timeout(timeout.total_seconds())
        try:
            async with deadline:
                handed = await self._hand_over(temporal, items)
        except Exception as err:  # noqa: BLE001 - any failure: the rows stay and are retried
            if deadline.expired():
                return Failure(f"no answer within {timeout.total_seconds():g} s", not_answered=True)
            return Failure(describe(err), not_answered=not_answered(err))
        return None if handed else Failure("start race: the incident was starting; retried")

    def _set_aside(self, rows: list[Claimed], failure: Failure, started: float) -> bool:
        """Quarantine: the rows have failed too often or waited too long; when Temporal did not answer, only if
        another hand-over went through meanwhile (else Temporal or the worker is away, and the rows wait)."""
        if self._stopping:
            return False  # cancelled by the shutdown, not failed
        if failure.permanent:
            return True
        attempts = max(r.attempts for r in rows) + 1
        waited = utcnow() - min(r.received_at for r in rows)
        if attempts < self.settings.max_attempts and waited < self.settings.max_age:
            return False
        return not failure.not_answered or self._last_success > started

    async def _quarantine(self, engine: Engine, workflow_id: str, rows: list[Claimed], reason: str) -> None:
        ids = [r.id for r in rows]
        try:
            moved = await asyncio.to_thread(quarantine, engine, ids, reason)
        except Exception as err:  # noqa: BLE001 - the lease runs out and the rows come back anyway
            log.warning("soc inbox: quarantine failed", workflow_id=workflow_id, error=f"{type(err).__name__}: {err}")
        else:
            QUARANTINED.inc(moved)
            log.error("soc inbox: alerts quarantined", workflow_id=workflow_id, alerts=moved, reason=reason)
        self._in_flight.difference_update(ids)

    async def _give_back(self, engine: Engine, workflow_id: str, rows: list[Claimed], error: str) -> None:
        attempts = max(r.attempts for r in rows) + 1
        wait = min(timedelta(seconds=2 ** min(attempts, 10)), self.settings.max_backoff)
        ids = [r.id for r in rows]
        with contextlib.suppress(Exception):  # else the lease runs out and the rows come back anyway
            await asyncio.to_thread(retry_later, engine, ids, error, wait)
        self._in_flight.difference_update(ids)
