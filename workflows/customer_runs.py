"""What the per-customer runs share (the quarterly QBR run, the monthly service report run): one child workflow per
customer of the list the run's activity gave, at most `MAX_PARALLEL` at once, count done and failed (a failed
child is counted and does not hold up the others), and show the progress in the memo `summary`."""

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

from domain.contracts.qbr import CustomerRef, RunCounts

MAX_PARALLEL = 4  # documents render on the worker's CPU: a few at a time keep the other queues responsive
PROGRESS_EVERY = 10  # upsert the memo every N finished customers (and at start and end): fewer history events


class CustomerRun:
    """Mixin of a run workflow; `_progress` is set by its `run` before `_each_customer`."""

    _progress: RunCounts

    def __init__(self) -> None:
        self._running = 0

    def _summary(self) -> str:
        raise NotImplementedError

    async def _each_customer(
        self, customers: list[CustomerRef], child: Callable[[CustomerRef], Awaitable[object]]
    ) -> None:
        self._progress.total = len(customers)
        self._show(force=True)
        await asyncio.gather(*(self._one(customer, child) for customer in customers))
        self._progress.finished = True
        self._show(force=True)

    async def _one(self, customer: CustomerRef, child: Callable[[CustomerRef], Awaitable[object]]) -> None:
        await workflow.wait_condition(lambda: self._running < MAX_PARALLEL)
        self._running += 1
        try:
            await child(customer)
            self._progress.done += 1
        except ChildWorkflowError:
            self._progress.failed += 1  # its failure is in its own history; the others go on
        finally:
            self._running -= 1
        self._show()

    def _show(self, force: bool = False) -> None:
        if not force and (self._progress.done + self._progress.failed) % PROGRESS_EVERY:
            return
        workflow.upsert_memo({"summary": self._summary()})
