"""An adaptive concurrency limit with two priorities, for work sent to a shared server (the SOC inbox's
signal-with-starts to Temporal).

Additive increase, multiplicative decrease on latency: a call answered fast lets the limit grow by about one per
round of calls, a slow or failed one halves it (at most once per `cut_interval`). So the dispatcher sends as much as
the server sustains and backs off before the server's own timeouts cascade; the backlog waits in the database, not
in the server. Urgent waiters are served first, by rank (lower first, then in arrival order); every `fair_every`-th
grant goes to a normal waiter, so normal work is slowed down under pressure, never starved."""

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Outcome:
    failed = False


class AdaptiveLimit:
    def __init__(
        self,
        initial: int = 4,
        maximum: int = 16,
        fast_s: float = 0.5,
        slow_s: float = 2.0,
        cut_interval_s: float = 1.0,
        fair_every: int = 4,
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = float(min(max(1, initial), self.maximum))
        self.in_use = 0
        self._fast, self._slow, self._cut_interval, self._fair_every = fast_s, slow_s, cut_interval_s, fair_every
        self._last_cut = float("-inf")
        self._grants = 0
        # urgent -> heap of (rank, arrival, future)
        self._waiting: dict[bool, list[tuple[int, int, asyncio.Future]]] = {True: [], False: []}
        self._arrival = itertools.count()

    @asynccontextmanager
    async def slot(self, urgent: bool, rank: int = 0) -> AsyncIterator["Outcome"]:
        """Holds one slot for the block; its duration and outcome (an exception, or `outcome.failed = True` for a
        failure the caller handles itself) adjust the limit."""
        await self._acquire(urgent, rank)
        started, outcome = time.monotonic(), Outcome()
        try:
            yield outcome
        except BaseException:
            outcome.failed = True
            raise
        finally:
            self._release(time.monotonic() - started, not outcome.failed)

    async def _acquire(self, urgent: bool, rank: int) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting[urgent], (rank, next(self._arrival), future))
        self._grant()  # at once if there is room and nobody more urgent waits
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.in_use -= 1  # granted just as the waiter was cancelled: hand the slot on
                self._grant()
            # else: the cancelled future stays in the heap and is skipped when its turn comes
            raise

    def _release(self, seconds: float, ok: bool) -> None:
        self.in_use -= 1
        now = time.monotonic()
        if not ok or seconds > self._slow:
            if now - self._last_cut >= self._cut_interval:  # one cut per burst of slow answers
                self.limit = max(1.0, self.limit / 2)
                self._last_cut = now
        elif seconds < self._fast:
            self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
        self._grant()

    def _grant(self) -> None:
        while self.in_use < int(self.limit):
            urgent, normal = self._waiting[True], self._waiting[False]
            if not urgent and not normal:
                return
            self._grants += 1
            queue = normal if normal and (not urgent or self._grants % self._fair_every == 0) else urgent
            _, _, future = heapq.heappop(queue)
            if future.done():  # cancelled while waiting
                continue
            self.in_use += 1
            future.set_result(None)
