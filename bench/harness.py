"""Helpers the benchmarks share that bench.sla_bench does not offer in an importable form.

`run_from_snapshot` is `bench.sla_bench`'s, re-exported for the storm. `python -m bench.harness api` runs the hub's API
(`psa api`, configured by PSA_* variables), with BENCH_PROFILE=<file> sampling its Python threads like
`bench.run_worker` does for the worker."""

import os
import sys
from pathlib import Path

from bench.sla_bench import run_from_snapshot

__all__ = ["run_from_snapshot", "time_webhook_steps"]


def time_webhook_steps(path: str) -> None:
    """Wall time of the webhook route's steps and of the inbox dispatcher's hand-overs, without touching their code:
    the integration lookup (`_lookup`), the accept transaction (`_accept`: stored-alert check, inbox rows, delivery
    log), the log of a rejected delivery (`_log`) and signal-with-start (`Client.start_workflow`, only the dispatcher
    calls it in the API process). Each span is kept with its end (epoch s), so the storm and the probe after the
    drain can be told apart. Written at exit."""
    import atexit
    import json
    import time

    from temporalio.client import Client

    import api.routes.soc.webhooks as route

    spans: dict[str, list[tuple[float, float]]] = {"lookup": [], "accept": [], "delivery_log": [], "hand_over": []}

    def timed(name: str, fn):  # noqa: ANN001, ANN202
        def call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spans[name].append((time.time(), time.perf_counter() - t0))

        return call

    update_with_start = Client.execute_update_with_start_workflow

    async def timed_hand_over(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        t0 = time.perf_counter()
        try:
            return await update_with_start(self, *args, **kwargs)
        finally:
            spans["hand_over"].append((time.time(), time.perf_counter() - t0))

    route._lookup, route._accept, route._log = (
        timed("lookup", route._lookup), timed("accept", route._accept), timed("delivery_log", route._log)
    )
    Client.execute_update_with_start_workflow = timed_hand_over
    atexit.register(lambda: Path(path).write_text(json.dumps(spans)))


def serve_api() -> None:
    if path := os.environ.get("BENCH_PROFILE"):
        from bench.run_worker import profile

        profile(path)
    if path := os.environ.get("BENCH_STEPS"):
        time_webhook_steps(path)
    from hub.cli import app

    app(["api"], prog_name="psa")


def serve_worker() -> None:
    """`bench.run_worker` (same metrics and profile; its __main__ block copied), with BENCH_WORKER_POLLERS=<n> giving
    every hub Worker n workflow and activity task pollers instead of the SDK default of 5 (an experiment: the hub's
    worker.py is unchanged)."""
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    if address := os.environ.get("BENCH_METRICS_ADDRESS"):
        Runtime.set_default(Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address))))
    if path := os.environ.get("BENCH_PROFILE"):
        from bench.run_worker import profile

        profile(path)
    if pollers := int(os.environ.get("BENCH_WORKER_POLLERS") or 0):
        from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

        init = Worker.__init__

        def with_pollers(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            kwargs.setdefault("workflow_task_poller_behavior", PollerBehaviorSimpleMaximum(pollers))
            kwargs.setdefault("activity_task_poller_behavior", PollerBehaviorSimpleMaximum(pollers))
            return init(self, *args, **kwargs)

        Worker.__init__ = with_pollers
    import worker

    worker.main()


if __name__ == "__main__":
    if sys.argv[1:] == ["api"]:
        serve_api()
    elif sys.argv[1:] == ["worker"]:
        serve_worker()
    else:
        sys.exit("usage: python -m bench.harness api|worker")
