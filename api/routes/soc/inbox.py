"""The SOC webhook inbox: the durable step between a verified webhook and its incident workflow.

The webhook commits each accepted alert as a `soc_inbox` row (with the delivery log, in one transaction) and answers
202 at once; it never waits on Temporal. The dispatcher, an asyncio task of the API process, claims rows in arrival
order with a lease, groups them by incident and hands each group over with one update-with-start that the incident
answers once it has handled them (`hub.temporal.soc.hand_over_and_wait`), then deletes the rows. Hand-over is at
least once: a row whose hand-over failed or took too long is retried with back-off, one whose dispatcher died is
claimed again when its lease runs out, and the incident drops a vendor alert it has already seen. On PostgreSQL
several API processes claim with SKIP LOCKED.

Why an inbox and a wait for the incident's answer: the 202 never depends on Temporal being up or fast, and the
backlog of a storm waits here, ordered (new and possibly-P1 incidents first), instead of in Temporal's first-come
task queue; an incident's alerts that wait meanwhile go over together.
"""

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Engine, delete, func, or_, update
from sqlmodel import Session, select
from temporalio.client import Client

from domain.contracts.soc import IncidentAlert
from domain.processes import incident_workflow_id
from domain.soc.alerts import correlation_key
from domain.soc.priority import reachable_priority
from hub.adaptive_limit import AdaptiveLimit
from hub.db import session_scope
from hub.logging import get_logger
from hub.temporal.soc import hand_over_and_wait
from models import SocInboxItem

log = get_logger(__name__)
KNOWN_INCIDENTS = 100_000  # incidents remembered as handed over (a new one's hand-over goes first)


@dataclass(frozen=True)
class InboxSettings:
    batch: int = 200  # rows per claim
    max_in_flight: int = 5_000  # claimed rows not yet handed over
    concurrency: int = 16  # signal-with-starts at once, at most (the adaptive limit starts at 4)
    lease: timedelta = timedelta(seconds=60)  # a claim older than this is taken over (its dispatcher died)
    poll_seconds: float = 2.0  # look for rows without a wake-up (another process's, retries, after a restart)
    max_backoff: timedelta = timedelta(minutes=5)


class InboxBacklog(BaseModel):
    pending: int
    oldest_received_at: datetime | None
    failing: int  # rows whose last hand-over failed


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


def claim(engine: Engine, limit: int, lease: timedelta, finished: list[int] = ()) -> list[Claimed]:
    """The oldest rows nobody holds, leased to the caller; `finished` rows (handed over) are deleted first, in the
    same transaction (one write per dispatcher round)."""
    now = utcnow()
    with session_scope(engine) as s:
        _delete(s, finished)
        if limit <= 0:
            return []
        rows = s.exec(
            select(
                SocInboxItem.id, SocInboxItem.workflow_id, SocInboxItem.item, SocInboxItem.attempts, SocInboxItem.rank
            )
            .where(or_(SocInboxItem.claimed_until.is_(None), SocInboxItem.claimed_until <= now))
            .order_by(SocInboxItem.id)
            .limit(limit)
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


def release(engine: Engine, ids: list[int]) -> None:
    """Claims given back on shutdown, so the next dispatcher need not wait for the lease."""
    with session_scope(engine) as s:
        s.exec(
            update(SocInboxItem)
            .where(SocInboxItem.id.in_(ids))
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def backlog(engine: Engine) -> InboxBacklog:
    with Session(engine) as s:
        pending, oldest, failing = s.exec(
            select(
                func.count(),
                func.min(SocInboxItem.received_at),
                func.count(SocInboxItem.last_error),
            ).select_from(SocInboxItem)
        ).one()
    if oldest is not None and oldest.tzinfo is None:  # aggregates bypass the column type on SQLite
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    return InboxBacklog(pending=pending, oldest_received_at=oldest, failing=failing)


def unique_in_order(items: list[IncidentAlert]) -> list[IncidentAlert]:
    """Identical deliveries of one vendor alert (same status and vendor time) once; changes stay, in order."""
    seen, out = set(), []
    for item in items:
        mark = (item.alert.dedupe_key, item.alert.status, item.alert.vendor_updated_at)
        if mark not in seen:
            seen.add(mark)
            out.append(item)
    return out


class InboxDispatcher:
    """Hands inbox rows to their incidents. `wake()` after a commit; it starts itself on first use, so it also runs
    where the ASGI lifespan does not (tests with httpx's ASGI transport).

    Each incident has one queue and at most one hand-over at a time, so its alerts go over in arrival order, and
    what arrives while one is under way goes over together in the next. Hand-overs run under an adaptive limit
    (hub/adaptive_limit.py): as many at once as Temporal answers fast, up to `concurrency`. A new incident (not
    handed over by this process before) goes first, the one that may become a P1 before the others: under a storm,
    opening the next dangerous incident's ticket comes before another correlated alert for a running incident, and
    those batch up meanwhile."""

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
        self._in_flight: set[int] = set()  # claimed row ids not yet handed over or given back
        self._finished: list[int] = []  # handed over, to delete
        # Not more than the incidents handle quickly (the answer includes the worker's queue, recording the alerts
        # and opening the ticket): more at once would only queue in Temporal, first come, first served.
        self._limit = AdaptiveLimit(
            initial=min(4, self.settings.concurrency), maximum=self.settings.concurrency, fast_s=0.5, slow_s=1.5
        )
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
            while self._queues.get(workflow_id):
                rank = min(r.rank for r in self._queues[workflow_id])
                async with self._limit.slot(urgent=workflow_id not in self._known, rank=rank) as outcome:
                    rows = self._queues.pop(workflow_id, [])  # all that waited: one hand-over
                    if rows and not await self._dispatch(temporal, engine, workflow_id, rows):
                        outcome.failed = True  # Temporal refused or timed out: fewer hand-overs at once
                        # Failed: what queued behind it waits too, so the incident still gets them in order.
                        rest = self._queues.pop(workflow_id, [])
                        if rest:
                            await self._give_back(engine, workflow_id, rest, "waits for an earlier hand-over")
                        return
        finally:
            self._runners.pop(workflow_id, None)

    async def _dispatch(self, temporal: Client, engine: Engine, workflow_id: str, rows: list[Claimed]) -> bool:
        try:
            items = unique_in_order([IncidentAlert.model_validate(r.item) for r in rows])
            handed = await self._hand_over(temporal, items)
            error = None if handed else "start race: the incident was starting; retried"
        except Exception as err:  # noqa: BLE001 - any failure: the rows stay and are retried
            error = f"{type(err).__name__}: {err}"
        if error is not None:
            log.warning("soc inbox: hand-over failed", workflow_id=workflow_id, alerts=len(rows), error=error)
            await self._give_back(engine, workflow_id, rows, error)
            return False
        self._known[workflow_id] = None
        self._known.move_to_end(workflow_id)
        if len(self._known) > KNOWN_INCIDENTS:
            self._known.popitem(last=False)
        self._finished.extend(r.id for r in rows)
        self._in_flight.difference_update(r.id for r in rows)
        return True

    async def _give_back(self, engine: Engine, workflow_id: str, rows: list[Claimed], error: str) -> None:
        attempts = max(r.attempts for r in rows) + 1
        wait = min(timedelta(seconds=2 ** min(attempts, 10)), self.settings.max_backoff)
        ids = [r.id for r in rows]
        with contextlib.suppress(Exception):  # else the lease runs out and the rows come back anyway
            await asyncio.to_thread(retry_later, engine, ids, error, wait)
        self._in_flight.difference_update(ids)
