"""The trivial workflow that sets the start-rate limit: it only waits on a condition (no timer, no activity).

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


async def _serve(address: str, task_queue: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=[IdleWorkflow], max_concurrent_workflow_tasks=100):
        print("idle worker started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else IDLE_TASK_QUEUE))
