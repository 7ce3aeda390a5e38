"""`psa worker --processes N`: N real worker processes against a real Temporal server; a killed one is restarted,
SIGTERM stops them all."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from hub.config import Settings
from hub.worker_pool import child_env
from tests.conftest import binary

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups are tested on Linux")


class Pool:
    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "worker", "--processes", "2"],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.log.read_text().count(text) < count:
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"no {count} x {text!r} in:\n{self.log.read_text()}"
            await asyncio.sleep(0.2)

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False)
        return sorted(int(p) for p in out.stdout.split())


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal server of its own: the pool's workers need one to poll, not the suite's database."""
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=binary("temporal-test-server"))
    yield env
    await env.shutdown()


async def test_two_worker_processes_are_supervised(server: WorkflowEnvironment, tmp_path: Path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")}
    environ |= {
        "PSA_TEMPORAL_ADDRESS": server.client.service_client.config.target_host,
        "PSA_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "PSA_LOG_FORMAT": "console",
    }
    pool = Pool(environ, tmp_path / "pool.log")
    survivors: list[int] = []
    try:
        await pool.wait_for("worker started", count=2)  # both poll the hub's task queues
        first, second = pool.children()
        os.kill(first, signal.SIGKILL)
        await pool.wait_for("exited with code -9 (SIGKILL); restarting in 1 s")
        await pool.wait_for("restarted")
        await pool.wait_for("worker started", count=3)
        survivors = pool.children()
        assert second in survivors and first not in survivors and len(survivors) == 2
    finally:
        pool.proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(pool.proc.wait, 40) == 0, pool.log.read_text()
    assert "workers stopped" in pool.log.read_text()
    for pid in survivors:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_each_worker_process_serves_its_own_metrics_port():
    settings = Settings(worker_metrics_address="127.0.0.1:9464")
    assert child_env(settings, 0)["PSA_WORKER_METRICS_ADDRESS"] == "127.0.0.1:9464"
    assert child_env(settings, 1)["PSA_WORKER_METRICS_ADDRESS"] == "127.0.0.1:9465"
    unset = Settings(worker_metrics_address="")
    assert child_env(unset, 1).get("PSA_WORKER_METRICS_ADDRESS") == os.environ.get("PSA_WORKER_METRICS_ADDRESS")
