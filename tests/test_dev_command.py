"""The first README command end to end: `psa dev` brings up Temporal, SQLite, worker and API with demo data;
Ctrl-C stops all of it; a second start reuses the data and seeds nothing twice; a killed worker comes back while the
API keeps answering."""

import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from hub.dev import RESTART_MAX_DELAY, RESTART_RESET_AFTER, restart_delay

PSA = str(Path(sysconfig.get_path("scripts")) / "psa")
TEMPORAL = str(Path(sysconfig.get_path("scripts")) / "temporal")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    def __init__(self, data_dir: Path):
        self.temporal_port, self.api_port = free_port(), free_port()
        self.env = os.environ | {
            "PSA_DATA_DIR": str(data_dir),
            "PSA_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "PSA_TEMPORAL_UI_PORT": str(free_port()),
            "PSA_API_PORT": str(self.api_port),
            "PSA_DATABASE_URL": "",
        }
        self.log = data_dir / "dev.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> str:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [PSA, "dev"],
            env=self.env,
            stdout=open(self.log, "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text()
            if '"hub ready"' in text:
                return text
            if self.proc.poll() is not None:
                pytest.fail(f"psa dev exited early:\n{text[-3000:]}")
            time.sleep(0.5)
        pytest.fail(f"psa dev not ready in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        self.proc.wait(60)
        assert json.loads(self.log.read_text().splitlines()[-1])["event"] == "stopped"

    def wait_for_log(self, text: str, timeout: float = 60, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.read_text().count(text) >= count:
                return
            time.sleep(0.2)
        pytest.fail(f"{text!r} not in the log within {timeout}s:\n{self.log.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        """The worker processes `psa dev` started (its children running `hub.cli worker`)."""
        assert self.proc is not None
        out = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
        rows = [line.split(None, 2) for line in out.splitlines()]
        return [int(r[0]) for r in rows if len(r) == 3 and int(r[1]) == self.proc.pid and "hub.cli worker" in r[2]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


def hub_processes(data_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(data_dir) in line or f"--port {data_dir.name}" in line]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process-group handling is tested on Linux")
def test_psa_dev_end_to_end(tmp_path: Path):
    data = tmp_path / "data"
    hub = Hub(data)
    started = time.monotonic()
    hub.start()
    try:
        assert time.monotonic() - started < 180
        keys = json.loads((data / "demo-credentials.json").read_text())
        tech = {"X-API-Key": keys["tech@msp.example"]["api_key"]}
        other_customer = {"X-API-Key": keys["user@treuhand-zh.example"]["api_key"]}
        with httpx.Client(base_url=hub.url, timeout=30) as http:
            health = http.get("/healthz").json()
            assert (health["status"], health["database"], health["temporal"]) == ("ok", "ok", "ok")
            tenants = http.get("/api/v1/tenants", headers=tech).json()["items"]
            k1 = next(t for t in tenants if t["customer_number"] == "K10001")
            created = http.post(
                "/api/v1/tickets",
                headers=tech,
                json={"tenant_id": k1["id"], "title": "Server MUC-DC01 antwortet nicht", "priority": "P1"},
            )
            assert created.status_code == 201, created.text
            tid = created.json()["id"]
            bad = http.post(f"/api/v1/tickets/{tid}/transitions", headers=tech, json={"to_status": "closed"})
            assert bad.status_code == 409 and "cannot change status" in bad.json()["detail"]
            assert http.get(f"/api/v1/tickets/{tid}", headers=other_customer).status_code == 404
            sla = http.get(f"/api/v1/tickets/{tid}/sla", headers=tech).json()  # the seeded default SLA applies
            assert sla["state"] == "ok" and {c["kind"] for c in sla["clocks"]} >= {"response", "resolution"}
            # The README's SOC walk: an integration's webhook_url is absolute and takes an alert with its secret.
            admin = {"X-API-Key": keys["admin@msp.example"]["api_key"]}
            body = {"tenant_id": k1["id"], "source": "generic", "name": "Test-SOC", "webhook_auth": "header_secret"}
            integration = http.post("/api/v1/soc/integrations", headers=admin, json=body).json()
            assert integration["webhook_url"].startswith(f"{hub.url}/api/v1/webhooks/generic/"), integration
            alert = {"id": "evt-1", "title": "Mimikatz detected", "detected_at": datetime.now(UTC).isoformat(),
                     "severity": "critical", "verdict": "malicious", "device": {"hostname": "MUC-DC01"}}  # fmt: skip
            secret = {"X-Webhook-Secret": integration["webhook_secret"]}
            delivered = http.post(integration["webhook_url"], json=alert, headers=secret)
            assert delivered.status_code == 202 and delivered.json()["accepted"] == 1, delivered.text
            for _ in range(40):
                incidents = http.get("/api/v1/soc/incidents?customer_number=K10001", headers=tech).json()["items"]
                if incidents and incidents[0]["ticket_id"]:
                    break
                time.sleep(0.25)
            assert [i["title"] for i in incidents] == ["Mimikatz detected"] and incidents[0]["priority"] == "P1"
            # The README's billing dry run: November's drafts of the demo customers, nothing issued.
            finance = {"X-API-Key": keys["finance@msp.example"]["api_key"]}
            started_run = http.post("/api/v1/billing/runs", headers=finance, json={"month": "2026-11", "dry_run": True})
            assert started_run.status_code == 202, started_run.text
            for _ in range(80):
                run = http.get("/api/v1/billing/runs/2026-11", headers=finance).json()
                if run.get("finished"):
                    break
                time.sleep(0.25)
            assert run["finished"] and run["total"] >= 1 and run["issued"] == 0, run
            drafts = http.get("/api/v1/invoices?period=2026-11", headers=finance).json()["items"]
            assert drafts and all(d["number"] is None for d in drafts), drafts
            assert any(d["customer_number"] == "K10001" and d["status"] == "draft" for d in drafts), drafts
        query = "CustomerId='K10001' AND TicketPriority='P1' AND TicketStatus='new' AND SlaState='ok'"
        for _ in range(40):  # visibility is eventually consistent
            listed = subprocess.run(
                [
                    TEMPORAL,
                    "workflow",
                    "list",
                    "--address",
                    hub.env["PSA_TEMPORAL_ADDRESS"],
                    "--query",
                    query,
                    "-o",
                    "json",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            if f"ticket-{tid}" in listed.stdout:
                break
            time.sleep(0.25)
        assert f"ticket-{tid}" in listed.stdout
    finally:
        hub.stop()
    assert hub.proc.returncode == 0
    time.sleep(1)
    assert hub_processes(data) == []

    # Second start: same data, nothing seeded twice.
    second = Hub(data)
    text = second.start()
    try:
        assert "Demo tickets opened now: 0" in text
        keys = json.loads((data / "demo-credentials.json").read_text())
        tech = {"X-API-Key": keys["tech@msp.example"]["api_key"]}
        with httpx.Client(base_url=second.url, timeout=30) as http:
            tenants = http.get("/api/v1/tenants", headers=tech).json()
            assert tenants["total"] == 3
            assert http.get("/api/v1/tickets", headers=tech).json()["total"] == 6  # 4 demo, 1 opened, 1 by SOC
    finally:
        second.stop()
    assert hub_processes(data) == []


def test_the_restart_delay_doubles_to_its_cap_and_resets_after_a_long_run():
    delays = [restart_delay(None, 0.0)]
    for _ in range(7):
        delays.append(restart_delay(delays[-1], 2.0))
    assert delays == [1, 2, 4, 8, 16, RESTART_MAX_DELAY, RESTART_MAX_DELAY, RESTART_MAX_DELAY]
    assert restart_delay(RESTART_MAX_DELAY, RESTART_RESET_AFTER) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process-group handling is tested on Linux")
def test_a_killed_worker_is_restarted_while_the_api_answers(tmp_path: Path):
    data = tmp_path / "data"
    hub = Hub(data)
    hub.start()
    try:
        keys = json.loads((data / "demo-credentials.json").read_text())
        tech = {"X-API-Key": keys["tech@msp.example"]["api_key"]}
        [first] = hub.worker_pids()
        started = hub.log.read_text().count("worker started")  # 1, or 0 if the first is killed while starting
        os.kill(first, signal.SIGKILL)
        hub.wait_for_log("worker exited with code -9 (SIGKILL); restarting in 1 s", timeout=10)
        with httpx.Client(base_url=hub.url, timeout=30) as http:
            assert http.get("/api/v1/tickets", headers=tech).status_code == 200  # no worker now, the API answers
            hub.wait_for_log("worker restarted", timeout=10)
            [second] = hub.worker_pids()
            assert second != first
            hub.wait_for_log("worker started", count=started + 1)  # the new worker polls its task queues
            tenants = http.get("/api/v1/tenants", headers=tech).json()["items"]
            k1 = next(t for t in tenants if t["customer_number"] == "K10001")
            ticket = {"tenant_id": k1["id"], "title": "Drucker offline", "priority": "P3"}
            created = http.post("/api/v1/tickets", headers=tech, json=ticket)
            assert created.status_code == 201, created.text
            moved = http.post(f"/api/v1/tickets/{created.json()['id']}/transitions", headers=tech,
                              json={"to_status": "in_progress"})  # fmt: skip
            assert moved.status_code == 200, moved.text  # the restarted worker ran the ticket's update
    finally:
        hub.stop()
    assert hub.proc.returncode == 0
    time.sleep(1)
    assert hub_processes(data) == []
