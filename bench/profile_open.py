"""CPU cost of the ticket workflow's opening activity (`TicketActivities.open`), measured in-process: a fresh SQLite
database seeded like the SLA benchmark's, N openings in the activity environment, CPU-ms per opening (process time,
so other load on the machine does not count) and, with --profile, cProfile's top functions.

    python -m bench.profile_open [--n 300] [--profile] [--database-url postgresql://...]
"""

import argparse
import cProfile
import pstats
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities.tickets.ticket import TicketActivities
from bench.sla_bench import fresh_database, seed
from domain.contracts.tickets import NewTicket, TicketCreation
from domain.tickets import Priority
from hub.db import make_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database_url, Path(tmp)) as url:
        engine = make_engine(url)
        customers, user_id = seed(engine, [1, 2], 0, "http://127.0.0.1:9/hook")
        acts, env = TicketActivities(engine), ActivityEnvironment()

        def one(i: int) -> None:
            c = customers[i % len(customers)]
            ticket = NewTicket(ticket_id=uuid.uuid4(), tenant_id=c.tenant_id, customer_number=c.number,
                               title=f"Bench {i}", priority=Priority.P2, created_by_user_id=user_id)
            env.run(acts.open, TicketCreation(ticket=ticket, at=datetime.now(UTC)))

        for i in range(20):  # warm-up: imports, statement caches, the connection pool
            one(i)
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        start = time.process_time()
        if profiler:
            profiler.enable()
        for i in range(args.n):
            one(i)
        if profiler:
            profiler.disable()
        cpu = time.process_time() - start
        engine.dispose()
    note = ", under cProfile" if profiler else ""
    print(f"{args.n} openings: {1000 * cpu / args.n:.2f} CPU-ms each (process time{note})")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
