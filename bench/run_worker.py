"""The hub's worker (`worker.main()`, configured by PSA_* variables), with the SDK's Prometheus metrics exposed
on BENCH_METRICS_ADDRESS so the benchmark can read cache hits and schedule-to-start latencies."""

import os

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

if __name__ == "__main__":
    address = os.environ.get("BENCH_METRICS_ADDRESS")
    if address:
        Runtime.set_default(Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address))))
    import worker

    worker.main()
