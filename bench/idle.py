"""The trivial workflow that sets the start-rate limit: it only waits on a condition (no timer, no activity); its
`ready` update answers at once, for a reference started the way tickets are (update-with-start).

`python -m bench.idle ADDRESS TASK_QUEUE` runs a worker for it until SIGINT/SIGTERM."""

import asyncio
import signal
import sys

from temporalio import workflow

IDLE_TASK_QUEUE = "bench-idle"


@workflow.defn(name="BenchIdle")
class IdleWorkflow:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.signal
    def finish(self) -> None:
        self._done = True

    @workflow.update
    def ready(self) -> bool:
        """Answers at once: the same client call as a ticket start (update-with-start), with no work behind it."""
        return True


async def _serve(address: str, task_queue: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

    from worker import WORKFLOW_TASK_POLLERS

    client = await Client.connect(address)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[IdleWorkflow],
        max_concurrent_workflow_tasks=100,
        # The hub worker's poller settings, so the update-with-start reference is comparable.
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=WORKFLOW_TASK_POLLERS),
        nonsticky_to_sticky_poll_ratio=1.0,
    ):
        print("idle worker started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else IDLE_TASK_QUEUE))
