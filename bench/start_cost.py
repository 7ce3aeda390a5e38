"""Worker CPU per ticket start, and per breach escalation, measured on their own: `python -m bench.start_cost`.

The SLA bench (bench.sla_bench) reports worker CPU-ms per start over its start phase, which includes the worker's
pollers' idle rate for as long as the phase lasts, so a loaded machine (a longer phase) raises the figure without
the worker doing more. This run subtracts the idle rate measured just before, and keeps the client's concurrency
low, so A/B comparisons of the start path hold on a shared machine too:

1. the dev server, a fresh hub database and the worker in its own process, as in the SLA bench;
2. warm-up tickets, then the worker's idle CPU rate over a few seconds;
3. N ticket starts (`hub.tickets.intake.open_ticket`, as the API: row and clock in this process, then the
   start) for customers whose SLA does not fall due during the run:
   worker CPU per start = (worker CPU from the first start until it is idle again - idle rate x that time) / N;
4. with --escalations: M tickets of a customer with a 1-minute response target whose escalation level notifies a
   local webhook; after every breach escalation was delivered, worker CPU per escalated ticket in the same way
   (the 75 % warning wake, the breach, the ESCALATED event and the notification).

Prints one JSON line; writes nothing.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

from bench.sla_bench import (
    PRIORITIES,
    Processes,
    clean_env,
    connect_when_ready,
    free_port,
    fresh_database,
    proc_cpu,
    read_receiver,
    run_from_snapshot,
    seed,
    settle,
    worker_command,
    workers_started,
)
from domain.contracts.tickets import NewTicket
from hub.db import make_engine
from hub.dev import DEV_SERVER_SQLITE_PRAGMAS, search_attribute_args, temporal_binary
from hub.tickets.intake import open_ticket


async def _drive(n: int, concurrency: int, call) -> float:  # noqa: ANN001
    queue = iter(range(n))

    async def lane() -> None:
        for i in queue:
            await call(i)

    t0 = time.monotonic()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.monotonic() - t0


async def _idle_rate(pid: int, seconds: float) -> float:
    before = proc_cpu(pid, children=True)
    await asyncio.sleep(seconds)
    return (proc_cpu(pid, children=True) - before) / seconds


async def run(args: argparse.Namespace, tmp: Path, procs: Processes, db_url: str) -> dict:
    port, hook_port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    procs.spawn("server", [temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port",
                           str(port), "--db-filename", str(tmp / "temporal.db"), *DEV_SERVER_SQLITE_PRAGMAS,
                           "--log-level", "error", *search_attribute_args()])
    engine = make_engine(db_url)
    # Customer 0 breaches after a minute (the escalation phase); the others never during the run.
    customers, user_id = seed(engine, [1], 3, f"http://127.0.0.1:{hook_port}/hook")
    escalating, quiet = customers[0], customers[1:]
    received = tmp / "received.tsv"
    procs.spawn("receiver", [sys.executable, "-m", "bench.receiver", str(hook_port), str(received)], env=clean_env())
    client = await connect_when_ready(procs, address)
    worker = procs.spawn("worker", worker_command(1), env=clean_env(
        PSA_TEMPORAL_ADDRESS=address, PSA_TEMPORAL_NAMESPACE="default", PSA_DATABASE_URL=db_url,
        PSA_DATA_DIR=str(tmp), PSA_LOG_LEVEL=args.worker_log_level, PSA_LOG_FORMAT="json", PSA_NOTIFY_TIMEOUT="10",
        PSA_TICKET_URL_TEMPLATE="http://127.0.0.1:8000/api/v1/tickets/{ticket_id}"))
    await workers_started(procs, 1)
    await procs.wait_for_line("receiver", "receiver started")

    def ticket(customer, i: int) -> NewTicket:  # noqa: ANN001
        return NewTicket(ticket_id=uuid.uuid4(), tenant_id=customer.tenant_id, customer_number=customer.number,
                         title=f"Kosten {i}", priority=PRIORITIES[i % len(PRIORITIES)], created_by_user_id=user_id,
                         requester_user_id=user_id)

    async def open_quiet(i: int) -> None:
        await open_ticket(engine, client, ticket(quiet[i % len(quiet)], i))

    await _drive(args.warmup, args.concurrency, open_quiet)
    await asyncio.sleep(1)
    idle = await _idle_rate(worker.pid, args.idle_seconds)
    result: dict = {"tickets": args.tickets, "concurrency": args.concurrency, "warmup": args.warmup,
                    "worker_idle_cpu_ms_per_s": round(1000 * idle, 2)}
    cpu0, caller0, t0 = proc_cpu(worker.pid, children=True), time.process_time(), time.monotonic()
    wall = await _drive(args.tickets, args.concurrency, open_quiet)
    caller = time.process_time() - caller0
    await settle(worker.pid)  # the last starts' workflow tasks run after their calls returned
    cpu, counted = proc_cpu(worker.pid, children=True) - cpu0, time.monotonic() - t0
    result |= {"start_phase_s": round(wall, 2), "starts_per_s": round(args.tickets / wall, 1),
               "worker_cpu_ms_per_start": round(1000 * (cpu - idle * counted) / args.tickets, 2),
               "worker_cpu_ms_per_start_with_idle": round(1000 * cpu / args.tickets, 2),
               # the row, the clock and the start call in this process, as the API makes them
               "caller_cpu_ms_per_start": round(1000 * caller / args.tickets, 2)}
    if args.escalations:
        cpu0, t0 = proc_cpu(worker.pid, children=True), time.monotonic()

        async def open_escalating(i: int) -> None:
            await open_ticket(engine, client, ticket(escalating, i))

        await _drive(args.escalations, args.concurrency, open_escalating)
        limit = time.monotonic() + 60 * escalating.response_minutes + 120
        while len(read_receiver(received)) < args.escalations and time.monotonic() < limit:
            procs.check()
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)  # the last notification's completion and its workflow task
        cpu, wall = proc_cpu(worker.pid, children=True) - cpu0, time.monotonic() - t0
        delivered = len(read_receiver(received))
        per_ticket = (cpu - idle * wall) / args.escalations
        start = result["worker_cpu_ms_per_start"] / 1000
        result |= {"escalations_delivered": delivered, "escalation_phase_s": round(wall, 1),
                   "worker_cpu_ms_per_escalated_ticket": round(1000 * per_ticket, 2),
                   "worker_cpu_ms_per_escalation_without_start": round(1000 * (per_ticket - start), 2)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4, help="calls in flight (low: no backlog)")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument("--escalations", type=int, default=0, help="tickets that breach after a minute")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server to create a fresh database on")
    parser.add_argument("--worker-log-level", default="INFO")
    args = parser.parse_args()
    run_from_snapshot("bench.start_cost", "start-cost-")
    tmp = Path(os.environ["BENCH_TMP"])
    procs = Processes(tmp)
    try:
        with fresh_database(args.database_url, tmp) as db_url:
            try:
                result = asyncio.run(run(args, tmp, procs, db_url))
            finally:
                procs.stop_all()
    finally:
        procs.stop_all()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
