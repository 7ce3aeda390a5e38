"""Prometheus metrics: the API's /metrics reports the SOC inbox (pending, failing, the oldest alert's age,
quarantined), the dispatcher's hand-over counters and the standard process metrics; the worker serves the Temporal
SDK's own metrics when PSA_WORKER_METRICS_ADDRESS is set."""

import asyncio
import socket
import uuid
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity
from temporalio.worker import Worker

from api.app import create_app
from api.routes.soc import inbox as soc_inbox
from hub.config import Settings
from hub.temporal import connect
from tests.api.test_health import stuck_inbox
from worker import metrics_runtime


def families(text: str) -> dict[str, dict[tuple, float]]:
    """Family name -> {sorted label pairs of a sample: value}, of the samples named like the family (+ _total)."""
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        out[family.name] = {
            tuple(sorted(s.labels.items())): s.value
            for s in family.samples
            if s.name in (family.name, f"{family.name}_total")
        }
    return out


async def test_metrics_report_the_inbox_the_hand_overs_and_the_process(engine):
    app = create_app(Settings(), engine=engine, temporal=None)
    ids = stuck_inbox(engine, timedelta(minutes=4), failing=2, count=3)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
            r = await http.get("/metrics")
    finally:
        soc_inbox.finish(engine, ids)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
    metrics = families(r.text)
    one = {name: next(iter(samples.values())) for name, samples in metrics.items() if len(samples) == 1}
    assert one["psa_database_up"] == 1
    assert one["psa_soc_inbox_pending"] >= 3 and one["psa_soc_inbox_failing"] >= 2
    assert one["psa_soc_inbox_oldest_age_seconds"] >= 240 and one["psa_soc_inbox_failing_age_seconds"] >= 240
    assert one["psa_soc_quarantine_items"] >= 0
    assert set(metrics["psa_soc_inbox_hand_overs"]) == {(("outcome", "done"),), (("outcome", "failed"),)}
    assert "psa_soc_inbox_quarantined" in metrics
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_info"} <= metrics.keys()


async def test_metrics_without_the_database_still_answer_with_the_process_metrics(engine):
    app = create_app(Settings(), engine=engine, temporal=None)
    app.state.engine = None  # not usable: the query fails
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        r = await http.get("/metrics")
    assert r.status_code == 200
    metrics = families(r.text)
    assert metrics["psa_database_up"] == {(): 0} and "psa_soc_inbox_pending" not in metrics
    assert "process_cpu_seconds" in metrics


@activity.defn(name="metrics-test.noop")
async def noop() -> None:
    return None


async def test_the_worker_serves_the_temporal_sdk_metrics_when_configured(env):
    assert metrics_runtime("") is None  # the default: no endpoint
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    runtime = metrics_runtime(f"127.0.0.1:{port}")
    client = await connect(env.client.service_client.config.target_host, env.client.namespace, runtime=runtime)
    async with Worker(client, task_queue=f"metrics-{uuid.uuid4().hex[:8]}", activities=[noop]):
        async with httpx.AsyncClient() as http:
            for _ in range(50):
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                if "temporal_worker_task_slots_available" in text:
                    break
                await asyncio.sleep(0.1)
    assert "temporal_worker_task_slots_available" in text and "temporal_num_pollers" in text
