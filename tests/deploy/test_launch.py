"""The hub started the way the deployment files start it: the compose services (migrate, temporal-setup, worker,
api) and then the systemd units (psa-setup, psa-worker@, psa-api), each with its command line and environment read
from compose.yml / the unit and the env file install.sh writes. Only addresses, ports and paths that must differ on
a test machine are replaced. Against a real Temporal dev server and PostgreSQL: a ticket opened through each API is
run by that pair's worker, and each process stops cleanly on the signal compose or systemd sends."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import EventType

from domain.roles import Role
from hub.db import make_engine
from tests.conftest import empty_database
from tests.deploy.files import Launch, compose_launch, image_healthcheck, tool, unit_launch
from tests.factories import make_tenant, make_user
from tests.test_dev_command import free_port

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process handling is tested on Linux"),
]


class Started:
    def __init__(self, launch: Launch, log: Path):
        self.launch, self.log = launch, log
        with open(log, "w") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                launch.argv, env=launch.env, cwd=launch.cwd, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, marker: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.text():
            assert self.proc.poll() is None, f"{self.launch.name} exited {self.proc.returncode}:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"{self.launch.name}: no {marker!r} in {timeout} s:\n{self.text()}"
            time.sleep(0.1)

    def finish(self, timeout: float = 60) -> None:
        """A one-shot job: it must exit 0."""
        code = self.proc.wait(timeout)
        assert code == 0, f"{self.launch.name} exited {code}:\n{self.text()[-3000:]}"

    def stop(self) -> int | None:
        """What compose or systemd does: the stop signal, and SIGKILL after the grace period (a test failure)."""
        if self.proc.poll() is None:
            self.proc.send_signal(self.launch.stop_signal)
            try:
                self.proc.wait(self.launch.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


def run_pair(api: Started, worker: Started, port: int, key: str, tenant_id: str) -> str:
    """Open a ticket through `api` and move it through its workflow, which runs on `worker`. Returns the ticket id."""
    worker.wait_for('"worker started"')
    api.wait_for("Uvicorn running on")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=30) as http:
        wait_until(lambda: http.get("/healthz").status_code == 200, api)  # database and Temporal answer
        created = http.post("/api/v1/tickets", json={"tenant_id": tenant_id, "title": "Drucker 2.OG", "priority": "P3"})
        assert created.status_code == 201, created.text  # the row and its clock are stored, the workflow started
        ticket = created.json()["id"]
        moved = http.post(f"/api/v1/tickets/{ticket}/transitions", json={"to_status": "in_progress"})
        assert moved.status_code == 200, moved.text  # the update ran on the worker
        assert http.get(f"/api/v1/tickets/{ticket}").json()["status"] == "in_progress"
        return ticket


def wait_until(condition, proc: Started, timeout: float = 30) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.proc.poll() is None, f"{proc.launch.name} exited {proc.proc.returncode}:\n{proc.text()[-3000:]}"
        assert time.monotonic() < deadline, f"not within {timeout} s; {proc.launch.name}:\n{proc.text()[-3000:]}"
        time.sleep(0.2)


async def test_the_compose_services_and_the_systemd_units_run_the_hub(bare_dev_server, tmp_path):
    client = bare_dev_server.client
    address = client.service_client.config.target_host
    venv_bin = str(Path(tool("psa")).parent)
    with empty_database("postgres", tmp_path) as database_url:
        compose_port, unit_port = free_port(), free_port()

        def here(launch: Launch, port: int, name: str) -> Launch:
            work = tmp_path / name
            work.mkdir(exist_ok=True)
            return launch.on_this_machine(
                venv_bin, os.environ["PATH"], work, PSA_DATABASE_URL=database_url, PSA_TEMPORAL_ADDRESS=address,
                PSA_API_PORT=str(port), PSA_DATA_DIR=str(work / "data"),
            )  # fmt: skip

        def start(launch: Launch, port: int, name: str) -> Started:
            return Started(here(launch, port, name), tmp_path / f"{name}.log")

        # compose: migrate and temporal-setup (one-shot jobs), then worker and api.
        jobs = [start(compose_launch(s), compose_port, f"compose-{s}") for s in ("migrate", "temporal-setup")]
        for job in jobs:
            job.finish()
        engine = make_engine(database_url)
        try:
            tenant = make_tenant(engine)
            _, key = make_user(engine, Role.MSP_TECH)
        finally:
            engine.dispose()
        processes = {}
        try:
            for name in ("worker", "api"):
                processes[f"compose-{name}"] = start(compose_launch(name), compose_port, f"compose-{name}")
            compose_ticket = run_pair(
                processes["compose-api"], processes["compose-worker"], compose_port, key, str(tenant.id)
            )
            # The image's HEALTHCHECK, run as Docker runs it: in the API's container, with its environment.
            api = processes["compose-api"].launch
            probe = subprocess.run(image_healthcheck(), env=api.env, cwd=api.cwd, capture_output=True, timeout=10)
            assert probe.returncode == 0, probe.stderr
            for name in ("compose-api", "compose-worker"):
                assert processes[name].stop() in processes[name].launch.ok_exit_codes, processes[name].text()[-2000:]
            probe = subprocess.run(image_healthcheck(), env=api.env, cwd=api.cwd, capture_output=True, timeout=10)
            assert probe.returncode == 1, probe.stderr  # unhealthy once the API is gone

            # systemd: psa-setup (one-shot), then psa-worker@1 and psa-api.
            start(unit_launch("psa-setup.service"), unit_port, "unit-setup").finish()
            for name in ("psa-worker@.service", "psa-api.service"):
                processes[name] = start(unit_launch(name), unit_port, name.split(".")[0])
            unit_ticket = run_pair(
                processes["psa-api.service"], processes["psa-worker@.service"], unit_port, key, str(tenant.id)
            )
            for name in ("psa-api.service", "psa-worker@.service"):
                assert processes[name].stop() in processes[name].launch.ok_exit_codes, processes[name].text()[-2000:]
        finally:
            for proc in processes.values():
                if proc.proc.poll() is None:
                    proc.proc.kill()
                    proc.proc.wait()

    # Each ticket's workflow ran on the worker of its pair, up to the update that moved it (the SDK's identity is
    # <pid>@<host>). Later tasks of the compose ticket may run on the units' worker: one task queue.
    pairs = ((compose_ticket, processes["compose-worker"]), (unit_ticket, processes["psa-worker@.service"]))
    for ticket, worker in pairs:
        identities = set()
        async for event in client.get_workflow_handle(f"ticket-{ticket}").fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                identities.add(event.workflow_task_completed_event_attributes.identity.split("@")[0])
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                break
        else:
            pytest.fail(f"ticket-{ticket}: no completed update in its history")
        assert identities == {str(worker.proc.pid)}, identities
    assert uuid.UUID(compose_ticket) != uuid.UUID(unit_ticket)
