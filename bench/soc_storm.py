"""Alert storm: N signed vendor alerts pushed to the real webhook as fast as the client can, 90 % repeats.

    python -m bench.soc_storm [--quick] [--alerts N] [--concurrency C] [--rate R] [--steady] [--tag T]
                              [--customers K] [--database-url URL] [--keep]
    python -m bench.soc_storm --kinds N [--rate R]      # CPU-ms per delivery by kind: SOC_STORM-kinds.md

Starts the real dev server (SQLite file, hub search attributes), a fresh hub database (customers with a 24x7 SLA
contract, their assets, one SentinelOne and one RocketCyber integration each), the hub worker and the API (uvicorn)
each in its own process, from a snapshot of the tree. The workload is planned in advance, so the expected outcome is
known exactly: N/10 incidents (device x threat pairs on SentinelOne, some on devices the hub does not know, plus
RocketCyber incidents, which name no device); the other 90 % of the deliveries are either redeliveries of a vendor
alert already planned (same vendor id: a duplicate) or new SentinelOne threats on the same device with the same file
hash (correlated: a note on the incident's ticket). Every delivery is signed with the integration's secret (Standard
Webhooks headers) and sent with httpx at `--concurrency` requests in flight, in shuffled order.

Measures: deliveries accepted (202), accepted vendor alerts traceable afterwards (a soc_alerts row with an
incident key, the same key for all alerts of one planned incident), incidents and tickets against the expected
count, webhook answer latency (client side), alert-to-ticket and alert-to-note latency, CPU per process.

--steady orders the plan for a sustained load (every 10th delivery opens a new incident, so `--rate 40` starts 4 per
second evenly). --kinds N runs three measured phases instead of the storm, one kind each (new incident, correlated
alert, unchanged redelivery), and reports API, worker and server CPU-ms per delivery (`run_kinds`).

Writes bench/SOC_STORM.md and bench/soc_storm.json (--quick: SOC_STORM-quick.md, soc_storm-quick.json; --tag T:
SOC_STORM-T.md, soc_storm-T.json).
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, make_url
from sqlmodel import Session, select

from bench.harness import run_from_snapshot
from bench.sla_bench import (
    HERE,
    ROOT,
    Processes,
    Sampler,
    clean_env,
    connect_when_ready,
    drive,
    environment,
    free_port,
    fresh_database,
    log,
    pct,
    per_start,
    proc_cpu,
    proc_status,
    scrape,
    seed,
    server_persistence,
    worker_command,
    worker_metrics,
    worker_metrics_env,
    workers_started,
)
from domain.soc.signatures import signed_headers
from hub.db import make_engine, session_scope
from hub.dev import DEV_SERVER_SQLITE_PRAGMAS, search_attribute_args, temporal_binary
from models import (
    Asset,
    AssetType,
    SocAlert,
    SocInboxItem,
    SocIncident,
    SocIntegration,
    Ticket,
    TicketEvent,
    WebhookDelivery,
)

QUICK = {"alerts": 1_000, "customers": 3}
FULL = {"alerts": 10_000, "customers": 5}
# (threatName, classification, confidenceLevel): the file hash is derived from the name.
THREATS = [
    ("invoice_2026.exe", "Trojan", "malicious"),
    ("Rechnung_11_2026.pdf.exe", "Trojan", "malicious"),
    ("lockbit_loader.dll", "Ransomware", "malicious"),
    ("mimikatz.exe", "Hacktool", "malicious"),
    ("psexec_svc.exe", "Remote Admin Tool", "suspicious"),
    ("update_helper.ps1", "Malware", "suspicious"),
    ("chrome_setup_x64.exe", "PUA", "suspicious"),
    ("svchost32.exe", "Trojan", "malicious"),
    ("keygen_office.exe", "PUA", "malicious"),
    ("cobaltstrike_beacon.bin", "Infostealer", "malicious"),
    ("autorun.inf.vbs", "Worm", "malicious"),
    ("teams_update.msi", "Dropper", "suspicious"),
]
RC_TITLES = ["Suspicious PowerShell Execution", "Office 365 Login From Unusual Country", "Brute Force Attempt",
             "Malicious Inbox Rule Created", "Impossible Travel Detected", "Firewall: Outbound C2 Traffic"]
# One section per alert; since incident-lean-v1 one note may carry several (a blank line between them).
NOTE_ALERT = re.compile(r"^Alarm (\S+) (\S+):", re.MULTILINE)


# --- the planned workload ----------------------------------------------------------------------------------------


@dataclass
class Device:
    hostname: str
    agent_id: str
    ip: str
    kind: AssetType | None  # None: the hub does not know the device


@dataclass
class Incident:
    index: int
    customer: int
    source: str  # sentinelone, rocketcyber
    device: Device | None = None
    threat: int | None = None
    alerts: list[int] = field(default_factory=list)  # indexes into Plan.alerts


@dataclass
class VendorAlert:
    incident: int
    source: str
    vendor_id: str
    body: bytes
    msg_id: str  # a redelivery keeps the message id (Standard Webhooks retry)


@dataclass
class Plan:
    incidents: list[Incident]
    alerts: list[VendorAlert]
    deliveries: list[int]  # vendor alert index per delivery, in sending order
    devices: dict[int, list[Device]]
    correlated: int
    duplicates: int


def _sha(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def s1_site(customer: int) -> str:
    """Each customer is a site of the MSP's SentinelOne account; its integration maps only that site."""
    return str(1650000000000000001 + customer)


def rc_account(customer: int) -> int:
    return 1_234_000 + customer


def s1_threat(threat_id: str, device: Device, threat: int, customer: int, customer_name: str, at: datetime) -> dict:
    """A SentinelOne v2.1 threat object as a webhook body (fields as in specs/connectors.md, values invented). Not
    mitigated: a threat the vendor handled is an informational P4 under the default triage policy
    (domain/soc/triage.py), and the storm is of threats that need work."""
    name, classification, confidence = THREATS[threat]
    stamp = at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {
        "id": threat_id,
        "threatInfo": {
            "threatId": threat_id, "threatName": name, "classification": classification,
            "classificationSource": "Cloud", "confidenceLevel": confidence, "mitigationStatus": "not_mitigated",
            "incidentStatus": "unresolved", "analystVerdict": "undefined", "sha1": _sha("sha1" + name, 40),
            "sha256": _sha(name, 64), "filePath": f"\\Device\\HarddiskVolume3\\Users\\jdoe\\Downloads\\{name}",
            "initiatedBy": "agent_policy", "detectionType": "static", "createdAt": stamp, "updatedAt": stamp,
            "identifiedAt": stamp,
        },
        "agentRealtimeInfo": {
            "agentId": device.agent_id, "agentComputerName": device.hostname, "agentOsType": "windows",
            "agentNetworkStatus": "connected", "agentIsActive": True, "accountId": "1600000000000000001",
            "accountName": "Bench MSP", "siteId": s1_site(customer), "siteName": customer_name,
            "groupName": "Default Group",
        },
        "agentDetectionInfo": {
            "agentIpV4": device.ip, "externalIp": "203.0.113.7", "agentLastLoggedInUserName": "BENCH\\jdoe",
            "agentVersion": "23.4.2.14", "siteName": customer_name, "accountName": "Bench MSP",
        },
        "mitigationStatus": [{"action": "kill", "status": "failed", "mitigationStartedAt": stamp,
                              "mitigationEndedAt": stamp}],
    }


def rc_incident(incident_id: int, title: str, account_id: int, at: datetime) -> dict:
    """A RocketCyber v3 incident (an item of GET /v3/incidents data[])."""
    stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"id": incident_id, "title": title, "description": f"{title} (Bench-Storm)",
            "remediation": "Review the events in the RocketCyber console.", "accountId": account_id,
            "status": "open", "createdAt": stamp, "updatedAt": stamp, "publishedAt": stamp, "resolvedAt": None}


def plan(n: int, customers: int, customer_names: list[str], rng: random.Random, rc_share: float = 0.1,
         correlated_share: float = 0.4) -> Plan:
    """n deliveries: n/10 incidents (each opened by one vendor alert); of the rest, `correlated_share` are new
    SentinelOne threats on an incident's device and file hash, the others redeliveries of planned vendor alerts."""
    n_incidents = max(1, n // 10)
    n_rc = round(n_incidents * rc_share)
    n_s1 = n_incidents - n_rc
    devices: dict[int, list[Device]] = defaultdict(list)

    def device(c: int, d: int) -> Device:
        while len(devices[c]) <= d:
            i = len(devices[c])
            kind = (AssetType.SERVER if i % 10 == 0 else None if i % 10 == 7
                    else AssetType.LAPTOP if i % 3 == 0 else AssetType.WORKSTATION)
            prefix = {AssetType.SERVER: "SRV", AssetType.LAPTOP: "NB", None: "PC"}.get(kind, "WS")
            devices[c].append(Device(f"B{c:04d}-{prefix}-{i:03d}.bench.local", str(1700000000000000000 + c * 10_000
                                     + i), f"10.{c}.{i // 250}.{i % 250 + 1}", kind))
        return devices[c][d]

    incidents = []
    for j in range(n_s1):  # two threats per device, distinct per device
        c, k = j % customers, j // customers
        d = k // 2
        incidents.append(Incident(j, c, "sentinelone", device(c, d), (d * 3 + (k % 2) * 5) % len(THREATS)))
    for j in range(n_rc):
        incidents.append(Incident(n_s1 + j, j % customers, "rocketcyber"))
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    alerts: list[VendorAlert] = []

    def new_alert(inc: Incident) -> int:
        i = len(alerts)
        at = base + timedelta(milliseconds=i * 137)
        if inc.source == "sentinelone":
            vid = str(1798765432100000000 + i)
            payload = s1_threat(vid, inc.device, inc.threat, inc.customer, customer_names[inc.customer], at)
        else:
            vid = str(184_000 + i)
            payload = rc_incident(int(vid), RC_TITLES[inc.index % len(RC_TITLES)], rc_account(inc.customer), at)
        alerts.append(VendorAlert(inc.index, inc.source, vid, json.dumps(payload).encode(), f"msg_{_sha(vid, 24)}"))
        inc.alerts.append(i)
        return i

    deliveries = [new_alert(inc) for inc in incidents]
    rest = n - len(deliveries)
    correlated = round(rest * correlated_share) if n_s1 else 0
    deliveries += [new_alert(incidents[rng.randrange(n_s1)]) for _ in range(correlated)]
    duplicates = n - len(deliveries)
    deliveries += [rng.randrange(len(alerts)) for _ in range(duplicates)]
    rng.shuffle(deliveries)
    return Plan(incidents, alerts, deliveries, dict(devices), correlated, duplicates)


def steady(work: Plan, rng: random.Random) -> None:
    """Reorder the plan for a sustained load: every 10th delivery opens a new incident (so a paced run starts
    incidents at a tenth of its rate, evenly), the others are the plan's correlated alerts and redeliveries in random
    order, each drawn from those of incidents already opened (while there are such)."""
    first = {inc.alerts[0] for inc in work.incidents}  # the alert that opens each incident
    openers = sorted(first)
    by_incident: dict[int, list[int]] = defaultdict(list)  # the other deliveries, by incident
    for x, c in Counter(work.deliveries).items():
        by_incident[work.alerts[x].incident] += [x] * (c - 1 if x in first else c)
    rng.shuffle(openers)
    pool: list[int] = []
    order: list[int] = []
    k = 0  # next opener
    for position in range(len(work.deliveries)):
        if position % 10 == 0 and k < len(openers):
            order.append(openers[k])
            pool += by_incident.pop(work.alerts[openers[k]].incident, [])
            k += 1
            continue
        if not pool:  # nothing of an opened incident left: one of the next incident to open (it opens a little early)
            ahead = next((work.alerts[x].incident for x in openers[k:] if by_incident.get(work.alerts[x].incident)),
                         None)
            pool.append(by_incident[ahead].pop() if ahead is not None else next(
                y for ys in by_incident.values() for y in ys))
        order.append(pool.pop(rng.randrange(len(pool))))
    assert sorted(order) == sorted(work.deliveries)
    work.deliveries[:] = order


@dataclass
class Integrations:
    ids: dict[tuple[int, str], uuid.UUID]
    secrets: dict[uuid.UUID, str]


def seed_storm(engine: Engine, customers: int, devices: dict[int, list[Device]]) -> tuple[list, Integrations]:
    """Customers with a 24x7 SLA contract (240 min response target: nothing escalates during the run), their known
    devices as assets (servers tagged critical) and one SentinelOne and one RocketCyber integration each."""
    custs, _ = seed(engine, [], customers, "http://127.0.0.1:9/never")
    ids, secrets = {}, {}
    with session_scope(engine) as s:
        for c, cust in enumerate(custs):
            for dev in devices.get(c, []):
                if dev.kind is not None:
                    s.add(Asset(tenant_id=cust.tenant_id, hostname=dev.hostname.split(".")[0],
                                asset_type=dev.kind, os="Windows 11" if dev.kind != AssetType.SERVER
                                else "Windows Server 2022", tags=["critical"] if dev.kind == AssetType.SERVER else []))
            for source in ("sentinelone", "rocketcyber"):
                secret = "whsec_" + _sha(f"{c}{source}{uuid.uuid4()}", 40)
                site = s1_site(c) if source == "sentinelone" else str(rc_account(c))
                row = SocIntegration(tenant_id=cust.tenant_id, source=source, name=f"bench {source}",
                                     webhook_secret=secret, vendor_tenant_ids=[site])
                s.add(row)
                s.flush()
                ids[(c, source)], secrets[row.id] = row.id, secret
    return custs, Integrations(ids, secrets)


# --- measurements ------------------------------------------------------------------------------------------------


def stats(values: list[float], digits: int = 3) -> dict:
    out: dict = {"n": len(values)}
    for p in (50, 90, 95, 99):
        v = pct(values, p)
        out[f"p{p}"] = None if v is None else round(v, digits)
    out["max"] = round(max(values), digits) if values else None
    return out


class TicketWatch:
    """Polls the tickets table; the first poll that sees a ticket row gives its 'visible' time (start of that poll:
    the row was committed before it, and after the start of the previous poll)."""

    def __init__(self, engine: Engine, interval: float):
        self.engine, self.interval = engine, interval
        self.seen: dict[uuid.UUID, float] = {}
        self.polls = 0

    def _ids(self) -> list[uuid.UUID]:
        with Session(self.engine) as s:
            return list(s.exec(select(Ticket.id)))

    async def run(self) -> None:
        while True:
            t = time.time()
            for tid in await asyncio.to_thread(self._ids):
                self.seen.setdefault(tid, t)
            self.polls += 1
            await asyncio.sleep(self.interval)


async def paced(n: int, rate: float, concurrency: int, call) -> dict:  # noqa: ANN001
    """Open loop: delivery i is due at t0 + i/rate; it waits while `concurrency` deliveries are in flight."""
    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with slots:
            await call(i)

    t0 = time.time()
    async with asyncio.TaskGroup() as group:
        for i in range(n):
            if (delay := t0 + i / rate - time.time()) > 0:
                await asyncio.sleep(delay)
            group.create_task(one(i))
    t1 = time.time()
    return {"n": n, "t0": t0, "t1": t1, "duration_s": round(t1 - t0, 2), "per_s": round(n / (t1 - t0), 1)}


def db_state(engine: Engine) -> dict:
    with Session(engine) as s:
        def n(model, *where) -> int:  # noqa: ANN001
            return s.exec(select(func.count()).select_from(model).where(*where)).one()

        return {"soc_alerts": n(SocAlert), "soc_alerts_with_incident": n(SocAlert, SocAlert.incident_key.is_not(None)),
                "incidents": n(SocIncident),
                "incidents_with_ticket": n(SocIncident, SocIncident.ticket_id.is_not(None)),
                "tickets": n(Ticket), "inbox_pending": n(SocInboxItem),
                "alert_notes": sum(len(NOTE_ALERT.findall(b or "")) for b in s.exec(select(TicketEvent.body).where(
                    TicketEvent.kind == "commented", TicketEvent.body.like("Alarm %"))))}


# --- the run -----------------------------------------------------------------------------------------------------


@dataclass
class Hub:
    """The processes of a run, started, with the seeded database and the planned workload."""

    engine: Engine
    work: Plan
    integrations: Integrations
    client: object  # temporalio Client, for the reference
    server: object
    worker: object
    api: object
    base_url: str
    server_metrics: str
    worker_metrics_address: str
    sampler: Sampler


async def start_hub(args: argparse.Namespace, tmp: Path, procs: Processes, db_url: str, rng: random.Random,
                    n: int) -> Hub:
    """Dev server, fresh hub database seeded for a plan of n deliveries, worker and API, healthy."""
    port, metrics_port, api_port = free_port(), free_port(), free_port()
    address = f"127.0.0.1:{port}"
    worker_metrics_address = f"127.0.0.1:{free_port()}"
    server_args = [temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
                   "--metrics-port", str(metrics_port), "--log-level", "error"]
    if not args.server_in_memory:
        server_args += ["--db-filename", str(tmp / "temporal.db"), *DEV_SERVER_SQLITE_PRAGMAS]
    server_args += search_attribute_args()
    server = procs.spawn("server", server_args)
    engine = make_engine(db_url)
    names = [f"Bench Kunde {c} GmbH" for c in range(args.customers)]
    work = plan(n, args.customers, names, rng)
    custs, integrations = seed_storm(engine, args.customers, work.devices)
    client = await connect_when_ready(procs, address)
    common = {"PSA_TEMPORAL_ADDRESS": address, "PSA_TEMPORAL_NAMESPACE": "default", "PSA_DATABASE_URL": db_url,
              "PSA_DATA_DIR": str(tmp), "PSA_LOG_FORMAT": "json"}
    if args.worker_pollers and args.worker_processes > 1:
        raise SystemExit("--worker-pollers runs one worker process (bench.harness); not with --worker-processes")
    worker_args = ([sys.executable, "-m", "bench.harness", "worker"] if args.worker_pollers
                   else worker_command(args.worker_processes))
    metrics_env = worker_metrics_env(args.worker_processes, worker_metrics_address)
    worker = procs.spawn("worker", worker_args, env=clean_env(**metrics_env,
        BENCH_WORKER_POLLERS=str(args.worker_pollers),
        **({"PSA_WORKER_WORKFLOW_TASKS": str(args.worker_tasks), "PSA_WORKER_LOCAL_ACTIVITIES": str(args.worker_tasks)}
           if args.worker_tasks else {}),
        **common, PSA_LOG_LEVEL=args.worker_log_level, BENCH_METRICS_ADDRESS=worker_metrics_address,
        **({"BENCH_PROFILE": str(tmp / "worker-profile.txt")} if args.profile_worker else {})))
    api = procs.spawn("api", [sys.executable, "-m", "bench.harness", "api"], env=clean_env(
        **common, PSA_LOG_LEVEL=args.api_log_level, PSA_API_HOST="127.0.0.1", PSA_API_PORT=str(api_port),
        BENCH_STEPS=str(tmp / "api-steps.json"),
        **({"BENCH_PROFILE": str(tmp / "api-profile.txt")} if args.profile_api else {})))
    await workers_started(procs, args.worker_processes)
    base_url = f"http://127.0.0.1:{api_port}"
    async with httpx.AsyncClient(timeout=5) as probe:
        deadline = time.monotonic() + 60
        while True:
            procs.check()
            try:
                if (await probe.get(f"{base_url}/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not become healthy")
            await asyncio.sleep(0.3)
    sampler = Sampler({"server": server.pid, "worker": worker.pid, "api": api.pid, "bench_client": os.getpid()})
    return Hub(engine, work, integrations, client, server, worker, api, base_url, f"127.0.0.1:{metrics_port}",
               worker_metrics_address, sampler)


async def run(args: argparse.Namespace, tmp: Path, procs: Processes, db_url: str) -> dict:
    rng = random.Random(args.seed)
    hub = await start_hub(args, tmp, procs, db_url, rng, args.alerts)
    engine, work, integrations, client, worker, api = (hub.engine, hub.work, hub.integrations, hub.client,
                                                      hub.worker, hub.api)
    base_url, server_metrics, worker_metrics_address, sampler = (hub.base_url, hub.server_metrics,
                                                                 hub.worker_metrics_address, hub.sampler)
    if args.steady:
        steady(work, rng)
    sampling = asyncio.create_task(sampler.run())
    n = len(work.deliveries)
    log(f"plan: {n} deliveries, {len(work.incidents)} incidents, {len(work.alerts)} distinct vendor alerts "
        f"({work.correlated} correlated), {work.duplicates} redeliveries; concurrency {args.concurrency}")
    status: list[int | str] = [0] * n
    sent_at = [0.0] * n
    answered_at = [0.0] * n
    latency = [0.0] * n
    watch = TicketWatch(engine, args.poll_interval)
    watching = asyncio.create_task(watch.run())
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    try:
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
            async def deliver(i: int) -> None:
                a = work.alerts[work.deliveries[i]]
                inc = work.incidents[a.incident]
                iid = integrations.ids[(inc.customer, a.source)]
                headers = signed_headers(integrations.secrets[iid], a.msg_id, int(time.time()), a.body)
                headers["content-type"] = "application/json"
                t0 = time.perf_counter()
                sent_at[i] = time.time()
                try:
                    r = await http.post(f"/api/v1/webhooks/{a.source}/{iid}", content=a.body, headers=headers)
                    status[i] = r.status_code
                except httpx.HTTPError as err:
                    status[i] = type(err).__name__
                answered_at[i] = time.time()
                latency[i] = time.perf_counter() - t0

            # The floor: signal-with-start of fresh workflows on a task queue no worker polls, straight from this
            # process at the same concurrency, before the storm (server and database otherwise idle).
            reference = None
            if args.reference:
                sampler.snapshot("reference_start")

                async def bare(i: int) -> None:
                    await client.start_workflow("BenchNobody", id=f"bench-reference-{i}", task_queue="bench-nobody",
                                                start_signal="alert", start_signal_args=[{"i": i}])

                reference = await drive(args.reference, args.concurrency, bare)
                sampler.snapshot("reference_end")
                reference["cpu_s"] = sampler.cpu_between("reference_start", "reference_end")
                log(f"reference: {reference['per_s']}/s, p50 {reference['latency_s']['p50']} s, "
                    f"p99 {reference['latency_s']['p99']} s")
            await asyncio.sleep(1)
            sampler.snapshot("storm_start")
            before = await scrape(server_metrics, server_persistence)

            async def progress() -> None:
                while True:
                    await asyncio.sleep(10)
                    done = sum(1 for s in status if s)
                    log(f"  {done}/{n} delivered, {len(watch.seen)} tickets visible, "
                        f"worker RSS {proc_status(worker.pid, 'VmRSS') / 1024:.0f} MB")
                    procs.check()

            reporter = asyncio.create_task(progress())
            storm = await (paced(n, args.rate, args.concurrency, deliver) if args.rate else
                           drive(n, args.concurrency, deliver))
            sampler.snapshot("storm_end")
            after_storm = await scrape(server_metrics, server_persistence)
            metrics_after_storm = worker_metrics(await scrape(worker_metrics_address))
            log(f"storm: {storm['per_s']}/s over {storm['duration_s']} s; statuses {dict(Counter(status))}")

            # Drain: every accepted alert stored, every incident with its ticket, every correlated alert noted.
            accepted = [i for i in range(n) if status[i] == 202]
            acc_alerts = {work.deliveries[i] for i in accepted}
            acc_incidents = {work.alerts[x].incident for x in acc_alerts}
            expect = {"soc_alerts": len(acc_alerts), "incidents_with_ticket": len(acc_incidents),
                      "tickets": len(acc_incidents), "alert_notes": len(acc_alerts) - len(acc_incidents)}
            drain_deadline = time.time() + args.drain_timeout
            while True:
                state = await asyncio.to_thread(db_state, engine)
                drained = all(state[k] >= v for k, v in expect.items()) and state["inbox_pending"] == 0
                if drained or time.time() > drain_deadline:
                    break
                procs.check()
                await asyncio.sleep(1)
            drained_at = time.time()
            await asyncio.sleep(2 * args.poll_interval)
            # The answer of an unloaded hub: redeliveries of accepted alerts, one at a time, after the drain.
            probe, probe_t0 = [], time.time()
            for x in rng.sample(sorted(acc_alerts), min(args.probe, len(acc_alerts))):
                a = work.alerts[x]
                iid = integrations.ids[(work.incidents[a.incident].customer, a.source)]
                headers = signed_headers(integrations.secrets[iid], a.msg_id, int(time.time()), a.body)
                t0 = time.perf_counter()
                r = await http.post(f"/api/v1/webhooks/{a.source}/{iid}", content=a.body,
                                    headers=headers | {"content-type": "application/json"})
                if r.status_code == 202:
                    probe.append(time.perf_counter() - t0)
            reporter.cancel()
            sampler.snapshot("drained")
            after_drain = await scrape(server_metrics, server_persistence)
            metrics_end = worker_metrics(await scrape(worker_metrics_address))
            log(f"drained: {drained} after {drained_at - storm['t1']:.1f} s; {state}")
    finally:
        watching.cancel()
        sampling.cancel()

    # --- outcome ---------------------------------------------------------------------------------------------------
    with Session(engine) as s:
        rows = {k: (key, deliveries) for k, key, deliveries in s.exec(
            select(SocAlert.dedupe_key, SocAlert.incident_key, SocAlert.deliveries))}
        incidents = {k: (t, p) for k, t, p in s.exec(select(SocIncident.key, SocIncident.ticket_id,
                                                            SocIncident.priority))}
        tickets = {t: (at, str(getattr(q, "value", q)), p) for t, at, q, p in s.exec(
            select(Ticket.id, Ticket.created_at, Ticket.queue, Ticket.priority))}
        notes = list(s.exec(select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.body).where(
            TicketEvent.kind == "commented", TicketEvent.body.like("Alarm %"))))
        hook_log = dict(Counter(s.exec(select(WebhookDelivery.accepted))))

    def dedupe_key(x: int) -> str:
        a = work.alerts[x]
        return f"{a.source}:{integrations.ids[(work.incidents[a.incident].customer, a.source)]}:{a.vendor_id}"

    traceable = {x for x in acc_alerts if rows.get(dedupe_key(x), (None,))[0]}
    planned_keys = {dedupe_key(x) for x in range(len(work.alerts))}
    keys_of: dict[int, set] = defaultdict(set)
    for x in acc_alerts:
        keys_of[work.alerts[x].incident].add(rows.get(dedupe_key(x), (None,))[0])
    split = sum(1 for ks in keys_of.values() if len(ks) != 1)
    key_owner = Counter(next(iter(ks)) for ks in keys_of.values() if len(ks) == 1)
    merged = sum(c - 1 for c in key_owner.values() if c > 1)

    # Alert-to-ticket: per incident, from the first 202 answer for any of its alerts to its ticket row.
    first_answer: dict[int, float] = {}  # vendor alert -> first 202 answer
    for i in accepted:
        x = work.deliveries[i]
        first_answer[x] = min(first_answer.get(x, answered_at[i]), answered_at[i])
    incident_t0: dict[int, float] = {}
    for x, t in first_answer.items():
        j = work.alerts[x].incident
        incident_t0[j] = min(incident_t0.get(j, t), t)
    incident_sent: dict[int, float] = {}  # from the first request for any of its alerts, before the answer
    for i in accepted:
        j = work.alerts[work.deliveries[i]].incident
        incident_sent[j] = min(incident_sent.get(j, sent_at[i]), sent_at[i])
    to_visible, to_created, from_send, missing_ticket = [], [], [], 0
    by_priority: dict[str, list[float]] = defaultdict(list)
    for j, t0 in incident_t0.items():
        key = next(iter(keys_of[j]))
        tid = incidents.get(key, (None,))[0]
        if tid is None or tid not in tickets:
            missing_ticket += 1
            continue
        to_created.append(tickets[tid][0].timestamp() - t0)
        if tid in watch.seen:
            to_visible.append(watch.seen[tid] - t0)
            from_send.append(watch.seen[tid] - incident_sent[j])
            by_priority[str(getattr(tickets[tid][2], "value", tickets[tid][2]))].append(watch.seen[tid] - t0)
    by_vendor_id = {(a.source, a.vendor_id): x for x, a in enumerate(work.alerts)}
    to_note = []
    for _tid, at, body in notes:
        for m in NOTE_ALERT.finditer(body or ""):
            x = by_vendor_id.get((m.group(1), m.group(2)))
            if x is not None and x in first_answer:
                to_note.append(at.timestamp() - first_answer[x])
    ok_latency = [latency[i] for i in accepted]
    queues = Counter(q for _, q, _ in tickets.values())
    expected_unassigned = sum(1 for j in acc_incidents if work.incidents[j].device is None
                              or work.incidents[j].device.kind is None)
    per_s = Counter(int(answered_at[i] - storm["t0"]) for i in accepted)
    ticket_per_s = Counter(int(t - storm["t0"]) for t in watch.seen.values())
    horizon = int(max([drained_at - storm["t0"], *per_s, *ticket_per_s], default=0)) + 1

    result = {
        "parameters": {
            "alerts": n, "concurrency": args.concurrency, "rate": args.rate, "tag": args.tag, "steady": args.steady,
            "customers": args.customers, "seed": args.seed,
            "database": make_url(db_url).get_backend_name(), "incidents_planned": len(work.incidents),
            "incidents_sentinelone": sum(1 for i in work.incidents if i.source == "sentinelone"),
            "incidents_rocketcyber": sum(1 for i in work.incidents if i.source == "rocketcyber"),
            "incidents_on_unknown_devices": sum(1 for i in work.incidents if i.device and i.device.kind is None),
            "incidents_on_servers": sum(1 for i in work.incidents if i.device and i.device.kind == AssetType.SERVER),
            "distinct_vendor_alerts": len(work.alerts), "correlated_alerts": work.correlated,
            "redeliveries": work.duplicates, "assets_seeded": sum(1 for ds in work.devices.values() for d in ds
                                                                  if d.kind is not None),
            "poll_interval_s": args.poll_interval,
            "server_state": "memory" if args.server_in_memory else "file",
            "worker_pollers": args.worker_pollers or "hub default (SDK: 5)", "drain_timeout_s": args.drain_timeout,
            "worker_processes": args.worker_processes,
            "worker_log_level": args.worker_log_level, "api_log_level": args.api_log_level,
            "deliveries_by_source": dict(Counter(work.alerts[x].source for x in work.deliveries)),
        },
        "reference_signal_with_start": reference, "probe_t0": probe_t0,
        "probe_after_drain_latency_s": stats(probe, 4),
        "storm": {k: storm[k] for k in ("n", "t0", "t1", "duration_s", "per_s")} | {
            "statuses": {str(k): v for k, v in Counter(status).items()},
            "webhook_latency_s": stats(ok_latency, 4), "webhook_latency_all_s": stats(latency, 4),
            "cpu_s": sampler.cpu_between("storm_start", "storm_end"),
            "server_per_delivery": per_start(before, after_storm, n),
            "worker_metrics_after_storm": metrics_after_storm,
        },
        "outcome": {
            "accepted_deliveries": len(accepted), "accepted_vendor_alerts": len(acc_alerts),
            "traceable_vendor_alerts": len(traceable), "lost": len(acc_alerts) - len(traceable),
            "accepted_deliveries_traceable": sum(1 for i in accepted if work.deliveries[i] in traceable),
            "soc_alert_rows": len(rows), "unplanned_rows": len(set(rows) - planned_keys),
            "redeliveries_counted_on_rows": sum(d - 1 for _, d in rows.values()),
            "incidents_expected": len(acc_incidents), "incidents_created": len(incidents),
            "incidents_with_ticket": sum(1 for t, _ in incidents.values() if t),
            "incidents_split": split, "incidents_merged": merged,
            "tickets_created": len(tickets), "tickets_missing": missing_ticket,
            "alert_notes": sum(len(NOTE_ALERT.findall(b or "")) for _, _, b in notes),
            "alert_notes_rows": len(notes), "alert_notes_expected": len(acc_alerts) - len(acc_incidents),
            "tickets_by_queue": dict(queues), "unassigned_expected": expected_unassigned,
            "tickets_by_priority": dict(sorted(Counter(str(getattr(p, "value", p))
                                                       for _, _, p in tickets.values()).items())),
            "webhook_deliveries_logged": {("accepted" if k else "rejected"): v for k, v in hook_log.items()},
            "drained": drained, "drain_s_after_storm": round(drained_at - storm["t1"], 1), "state_at_end": state,
            "inbox_left": state["inbox_pending"],
        },
        "latency": {
            "alert_to_ticket_visible_s": stats(to_visible), "alert_to_ticket_created_at_s": stats(to_created),
            "alert_to_ticket_from_send_s": stats(from_send),
            "alert_to_ticket_visible_by_priority_s": {k: stats(v) for k, v in sorted(by_priority.items())},
            "alert_to_note_s": stats(to_note), "ticket_polls": watch.polls,
        },
        "drain": {"cpu_s": sampler.cpu_between("storm_end", "drained"),
                  "server_per_delivery": per_start(after_storm, after_drain, n)},
        "whole_run": {"cpu_s": sampler.cpu_between("storm_start", "drained"),
                      "server_per_delivery": per_start(before, after_drain, n)},
        "worker_metrics_end": metrics_end,
        "memory_mb": {"worker_vmhwm": round(proc_status(worker.pid, "VmHWM") / 1024, 1),
                      "api_vmhwm": round(proc_status(api.pid, "VmHWM") / 1024, 1)},
        "timeline_per_s": [{"s": s, "accepted": per_s.get(s, 0), "tickets_visible": ticket_per_s.get(s, 0)}
                           for s in range(horizon)],
    }
    return result


# --- cost per delivery by kind -------------------------------------------------------------------------------------

KINDS = ("new_incident", "correlated_alert", "unchanged_redelivery")
HUB = ("api", "worker", "server")


def _hub_cpu(sampler: Sampler) -> dict[str, float]:
    return {k: proc_cpu(sampler.pids[k], children=k == "worker") for k in HUB}


async def _settle(sampler: Sampler, idle: dict[str, float], limit: float = 30.0) -> None:
    """Until the hub's processes are back at their idle CPU rate (a second within 20 ms of it), at most `limit` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        a = _hub_cpu(sampler)
        await asyncio.sleep(1)
        b = _hub_cpu(sampler)
        if sum(b[k] - a[k] - idle[k] for k in HUB) < 0.02:
            return


async def run_kinds(args: argparse.Namespace, tmp: Path, procs: Processes, db_url: str) -> dict:
    """Three measured phases of `--kinds` N deliveries each, one kind per phase, in this order: new incidents (the
    alert that opens each of N planned incidents), correlated alerts (N new SentinelOne vendor ids on the device and
    file hash of an incident of the first phase) and unchanged redeliveries (N alerts of the first two phases sent
    again: same body, same message id). Each phase is paced (`--rate`, default 10/s) and runs until the hub has
    done its work (inbox empty, every alert stored, every ticket and note written) and its processes are back at
    their idle CPU rate; its CPU per process, less the idle rate times the phase's wall time, over N."""
    rng = random.Random(args.seed)
    n = args.kinds
    hub = await start_hub(args, tmp, procs, db_url, rng, 10 * n)  # plan(10 N): N incidents, 3.6 N correlated
    work, sampler = hub.work, hub.sampler
    n_inc = len(work.incidents)
    openers = list(range(n_inc))  # plan(): alert j opens incident j
    correlated = list(range(n_inc, n_inc + work.correlated))[:n]
    rng.shuffle(openers)
    phases = {"new_incident": openers, "correlated_alert": correlated,
              "unchanged_redelivery": rng.sample(openers + correlated, n)}
    expect = {"new_incident": {"soc_alerts": n, "tickets": n, "incidents_with_ticket": n, "alert_notes": 0},
              "correlated_alert": {"soc_alerts": 2 * n, "tickets": n, "alert_notes": n},
              "unchanged_redelivery": {"soc_alerts": 2 * n, "tickets": n, "alert_notes": n}}
    rate = args.rate or 10.0
    await asyncio.sleep(3)
    idle_a = _hub_cpu(sampler) | {"t": time.time()}
    await asyncio.sleep(10)
    idle_b = _hub_cpu(sampler) | {"t": time.time()}
    idle = {k: (idle_b[k] - idle_a[k]) / (idle_b["t"] - idle_a["t"]) for k in HUB}
    log(f"kinds: {n} deliveries per kind at {rate:g}/s; idle CPU rate {idle}")
    out: dict = {}
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=hub.base_url, limits=limits, timeout=60) as http:
        for kind, alerts in phases.items():
            latency, status = [0.0] * n, [0] * n

            async def deliver(i: int, alerts: list = alerts, latency: list = latency, status: list = status) -> None:
                a = work.alerts[alerts[i]]
                iid = hub.integrations.ids[(work.incidents[a.incident].customer, a.source)]
                headers = signed_headers(hub.integrations.secrets[iid], a.msg_id, int(time.time()), a.body)
                t0 = time.perf_counter()
                r = await http.post(f"/api/v1/webhooks/{a.source}/{iid}", content=a.body,
                                    headers=headers | {"content-type": "application/json"})
                latency[i], status[i] = time.perf_counter() - t0, r.status_code

            sampler.snapshot(f"{kind}_start")
            t0 = time.time()
            sent = await paced(n, rate, args.concurrency, deliver)
            deadline = time.time() + args.drain_timeout
            while True:
                state = await asyncio.to_thread(db_state, hub.engine)
                done = all(state[k] >= v for k, v in expect[kind].items()) and state["inbox_pending"] == 0
                if done or time.time() > deadline:
                    break
                procs.check()
                await asyncio.sleep(0.5)
            drained_s = time.time() - sent["t1"]
            await _settle(sampler, idle)
            sampler.snapshot(f"{kind}_end")
            cpu = sampler.cpu_between(f"{kind}_start", f"{kind}_end")
            wall = cpu["wall_s"]
            out[kind] = {
                "n": n, "rate": rate, "t0": t0, "t1": time.time(), "sent_s": sent["duration_s"],
                "drained": done, "drained_s_after_sending": round(drained_s, 1), "state": state,
                "statuses": {str(k): v for k, v in Counter(status).items()},
                "webhook_latency_s": stats(latency, 4), "cpu_s": cpu,
                "cpu_ms_per_delivery": {k: round(cpu[k] / n * 1000, 2) for k in (*HUB, "bench_client")},
                "cpu_ms_per_delivery_net_of_idle": {k: round((cpu[k] - idle[k] * wall) / n * 1000, 2) for k in HUB},
            }
            log(f"  {kind}: {out[kind]['cpu_ms_per_delivery_net_of_idle']} CPU-ms per delivery (net of idle), "
                f"statuses {out[kind]['statuses']}, drained {done} {drained_s:.1f} s after sending, wall {wall} s")
    return {"parameters": {"kinds": n, "rate": rate, "concurrency": args.concurrency, "customers": args.customers,
                           "seed": args.seed, "database": make_url(db_url).get_backend_name(),
                           "api_log_level": args.api_log_level, "worker_log_level": args.worker_log_level},
            "idle_cpu_ms_per_s": {k: round(v * 1000, 1) for k, v in idle.items()}, "kinds": out,
            "memory_mb": {"worker_vmhwm": round(proc_status(hub.worker.pid, "VmHWM") / 1024, 1),
                          "api_vmhwm": round(proc_status(hub.api.pid, "VmHWM") / 1024, 1)}}


KIND_LABELS = {"new_incident": "new incident", "correlated_alert": "correlated alert",
               "unchanged_redelivery": "unchanged redelivery"}


def markdown_kinds(r: dict, previous: str, suffix: str) -> str:
    e, p, k = r["environment"], r["parameters"], r["kinds"]
    rows = []
    for kind, v in k.items():
        net, raw, lat = v["cpu_ms_per_delivery_net_of_idle"], v["cpu_ms_per_delivery"], v["webhook_latency_s"]
        steps = v.get("api_steps_ms", {})
        step = " / ".join(f"{steps[s]['p50']}" if steps.get(s, {}).get("p50") is not None else "-"
                          for s in ("lookup", "accept"))
        rows.append(f"| {KIND_LABELS[kind]} | {net['api']} | {net['worker']} | {net['server']} | "
                    f"{raw['api']} / {raw['worker']} / {raw['server']} | {raw['bench_client']} | "
                    f"{lat['p50'] * 1000:.1f} / {lat['p99'] * 1000:.1f} | {step} | {v['statuses']} | "
                    f"{v['drained_s_after_sending']} | {v['cpu_s']['wall_s']} |")
    redelivery_api = k.get("unchanged_redelivery", {}).get("cpu_ms_per_delivery_net_of_idle", {}).get("api")
    lines = [
        "# SOC alert storm: CPU per delivery by kind",
        "",
        f"Generated by `python -m bench.soc_storm --kinds {p['kinds']} --rate {p['rate']:g}"
        f"{' --tag ' + suffix.lstrip('-') if suffix != '-kinds' else ''}` on {e['date']}.",
        "",
        f"Machine: {e['nproc']} cores ({e['cpu']}), {e['ram_gb']} GB RAM; Python {e['python']}, temporalio "
        f"{e['temporalio']}, {e['temporal_cli']}; load average at start {e['load_avg_at_start']}. The cores are "
        "shared with other work: figures are noisy, compare back-to-back runs.",
        "",
        f"Code under test: a snapshot of the tree taken at the start (newest file {r['code']['newest_mtime']}; "
        "sha256: " + ", ".join(f"`{a}` {b}" for a, b in r["code"]["sha256"].items()) + ").",
        "",
        f"Setup as in the storm ([SOC_STORM.md](SOC_STORM.md)): dev server (state in a file), hub worker and API in "
        f"their own processes, database {p['database']}, {p['customers']} customers with their assets and "
        f"integrations; {p['concurrency']} requests in flight at most, paced at {p['rate']:g} deliveries/s.",
        "",
        "| kind | API CPU-ms | worker CPU-ms | server CPU-ms | raw API / worker / server | client | "
        "webhook ms p50 / p99 | API lookup / accept ms p50 | answers | drained s after sending | phase wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Target: an unchanged redelivery costs the API < 3 CPU-ms: {redelivery_api} CPU-ms, "
        + ("**PASS**." if redelivery_api is not None and redelivery_api < 3 else "**FAIL**."),
        "",
        f"Idle CPU rate of the hub's processes before the first phase (ms per s): {r['idle_cpu_ms_per_s']}. "
        f"Memory: worker VmHWM {r['memory_mb']['worker_vmhwm']} MB, API VmHWM {r['memory_mb']['api_vmhwm']} MB.",
        "",
        f"**Definitions.** Three measured phases of {p['kinds']} deliveries each, one kind per phase, in this order, "
        "on one hub: *new incident*: the alert that opens a planned incident (a SentinelOne device x threat pair or a "
        "RocketCyber incident, as in the storm's plan; the hub creates the incident and its ticket); *correlated "
        "alert*: a new SentinelOne vendor id on the device and file hash of an incident of the first phase (a note on "
        "its ticket); *unchanged redelivery*: an alert of the first two phases sent again, same body and message id, "
        "while it is stored and its incident open (the hub logs the delivery, nothing is handed over). A phase "
        "starts with a CPU snapshot of each process (/proc/<pid>/stat, user + system), sends its deliveries paced "
        "(open loop), waits until the hub has done the phase's work (inbox empty; alert rows, tickets and notes as "
        "expected) and then until the hub's processes are back at their idle rate (a second within 20 ms of it, at "
        "most 30 s), and ends with a second snapshot. *CPU-ms per delivery*: the phase's CPU seconds of the process, "
        "less its idle rate (measured over 10 s before the first phase) times the phase's wall time, over the "
        "phase's deliveries; *raw*: without the idle correction. The API's share includes HTTP, verification, "
        "normalisation, the transaction and, for news, the inbox dispatcher's hand-over; the worker's and server's "
        "what the incident and ticket workflows do with it. *Webhook ms*: client-side answer time. *API lookup / "
        "accept*: wall ms of the route's steps in the phase (wrapped in `bench.harness`).",
        "",
        f"Raw numbers: `soc_storm{suffix}.json` next to this file.",
        "",
        ANALYSIS_MARKER,
    ]
    kept = previous.split(ANALYSIS_MARKER, 1)[1] if ANALYSIS_MARKER in previous else "\n"
    return "\n".join(lines) + kept


def verdicts(r: dict) -> dict:
    o, lat = r["outcome"], r["latency"]
    p99 = r["storm"]["webhook_latency_s"]["p99"]
    p95 = lat["alert_to_ticket_visible_s"]["p95"]
    incidents_ok = (o["incidents_with_ticket"] == o["incidents_expected"] == o["incidents_created"]
                    and o["incidents_split"] == 0 and o["incidents_merged"] == 0)
    return {
        "zero_lost": {"value": o["lost"], "target": "0 lost of the accepted vendor alerts", "pass": o["lost"] == 0},
        "incidents": {"value": f"{o['incidents_created']} / {o['incidents_expected']}",
                      "target": "created == expected (none split, none merged)", "pass": incidents_ok},
        "tickets": {"value": f"{o['tickets_created']} / {o['incidents_expected']}", "target": "tickets == incidents",
                    "pass": o["tickets_created"] == o["incidents_expected"]},
        "webhook_p99_s": {"value": p99, "target": "< 0.1 s", "pass": p99 is not None and p99 < 0.1},
        "alert_to_ticket_p95_s": {"value": p95, "target": "< 3 s", "pass": p95 is not None and p95 < 3.0},
        "drained": {"value": o["drain_s_after_storm"], "target": "drained within the bounded wait",
                    "pass": o["drained"]},
    }


def code_version() -> dict:
    globs = ("api/routes/soc/*.py", "workflows/soc/*.py", "workflows/tickets/ticket.py", "activities/soc/*.py",
             "activities/tickets/ticket.py", "hub/temporal/soc.py", "domain/soc/alerts.py", "worker.py")
    files = sorted(str(p.relative_to(ROOT)) for g in globs for p in ROOT.glob(g))
    out = {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:12] for f in files if (ROOT / f).exists()}
    newest = max((ROOT / f).stat().st_mtime for f in out)
    return {"newest_mtime": datetime.fromtimestamp(newest, UTC).isoformat(timespec="seconds"), "sha256": out}


# --- report ------------------------------------------------------------------------------------------------------


def _fmt(s: dict, keys: tuple = ("p50", "p95", "p99", "max"), unit: float = 1.0) -> str:
    if not s or s.get("p50") is None:
        return "n/a"
    return " / ".join(f"{s[k] * unit:.{1 if unit > 1 else 2}f}" for k in keys)


def _ref(ref: dict | None) -> str:
    if not ref:
        return "n/a"
    return f"{ref['per_s']}, {ref['latency_s']['p50'] * 1000:.1f} / {ref['latency_s']['p99'] * 1000:.1f}"


def _makespan(r: dict) -> str:
    """When the last ticket became visible: the ticket path's throughput, wherever the backlog waited (in the
    client before a slow 202, or in the hub after a fast one)."""
    seen = [row["s"] for row in r.get("timeline_per_s", []) if row["tickets_visible"]]
    return f"{seen[-1] + 1 if seen else None} ({r['storm']['duration_s']})"


def table(r: dict) -> str:
    o, st, lat, v = r["outcome"], r["storm"], r["latency"], r["verdicts"]

    def ok(key: str) -> str:
        return "PASS" if v[key]["pass"] else "FAIL"

    rows = [
        ("deliveries sent / accepted (202)", f"{st['n']} / {o['accepted_deliveries']}", ""),
        ("delivery rate /s (storm duration s)", f"{st['per_s']} ({st['duration_s']})", ""),
        ("distinct vendor alerts accepted / traceable",
         f"{o['accepted_vendor_alerts']} / {o['traceable_vendor_alerts']}", f"{ok('zero_lost')} (0 lost)"),
        ("incidents created / expected", f"{o['incidents_created']} / {o['incidents_expected']}",
         f"{ok('incidents')} (split {o['incidents_split']}, merged {o['incidents_merged']})"),
        ("tickets created / expected", f"{o['tickets_created']} / {o['incidents_expected']}", ok("tickets")),
        ("alert notes on tickets / expected", f"{o['alert_notes']} / {o['alert_notes_expected']}", ""),
        ("unassigned-queue tickets / expected", f"{o['tickets_by_queue'].get('soc-unassigned', 0)} / "
                                                f"{o['unassigned_expected']}", ""),
        ("reference: bare signal-with-start /s, ms p50 / p99", _ref(r.get("reference_signal_with_start")), ""),
        ("webhook answer ms p50 / p95 / p99 / max", _fmt(st["webhook_latency_s"], unit=1000),
         f"{ok('webhook_p99_s')} (p99 < 100 ms)"),
        ("  ... one at a time after the drain, ms", _fmt(r.get("probe_after_drain_latency_s", {}), unit=1000), ""),
        ("alert-to-ticket s p50 / p95 / p99 / max", _fmt(lat["alert_to_ticket_visible_s"]),
         f"{ok('alert_to_ticket_p95_s')} (p95 < 3 s)"),
        ("  ... to ticket created_at s", _fmt(lat["alert_to_ticket_created_at_s"]), ""),
        ("  ... from the first request (before its answer) s", _fmt(lat.get("alert_to_ticket_from_send_s")), ""),
        *((f"  ... {k} tickets ({v['n']}) s", _fmt(v), "")
          for k, v in lat.get("alert_to_ticket_visible_by_priority_s", {}).items()),
        ("alert-to-note s p50 / p95 / p99 / max", _fmt(lat["alert_to_note_s"]), ""),
        ("drained s after the storm", f"{o['drain_s_after_storm']}", ok("drained")),
        ("every ticket visible, s after the first delivery (storm s)", _makespan(r), ""),
    ]
    width = max(len(a) for a, _, _ in rows)
    vwidth = max(len(b) for _, b, _ in rows)
    return "\n".join(f"{a:<{width}}  {b:>{vwidth}}  {c}" for a, b, c in rows)


ANALYSIS_MARKER = "<!-- analysis: kept across runs -->"
SUMMARY = ("<!-- summary: kept across runs -->", "<!-- /summary -->")


def _summary(previous: str) -> list[str]:
    """The hand-written summary at the top of a report (between the SUMMARY markers), kept when it is rewritten."""
    start, end = SUMMARY
    if start not in previous or end not in previous:
        return []
    return [start + previous.split(start, 1)[1].split(end, 1)[0] + end, ""]


def _cpu(c: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("wall_s", "machine_capacity"))


def _options(r: dict) -> str:
    p = r["parameters"]
    out = " --quick" if p["alerts"] == QUICK["alerts"] and p["customers"] == QUICK["customers"] else ""
    if p.get("rate"):
        out += f" --rate {p['rate']:g}"
    if p.get("steady"):
        out += " --steady"
    if p["concurrency"] != 16:
        out += f" --concurrency {p['concurrency']}"
    if p.get("worker_processes", 1) != 1:
        out += f" --worker-processes {p['worker_processes']}"
    if p.get("tag"):
        out += f" --tag {p['tag']}"
    return out


def markdown(r: dict, previous: str, suffix: str) -> str:
    e, p, o, st = r["environment"], r["parameters"], r["outcome"], r["storm"]
    sp = st["server_per_delivery"]
    lines = [
        "# SOC alert storm: signed webhooks into incidents and tickets",
        "",
        *_summary(previous),
        f"Generated by `make bench` (`python -m bench.soc_storm{_options(r)}`) on {e['date']}.",
        "",
        f"Machine: {e['nproc']} cores ({e['cpu']}), {e['ram_gb']} GB RAM; Python {e['python']}, temporalio "
        f"{e['temporalio']}, {e['temporal_cli']}; load average at start {e['load_avg_at_start']}.",
        "",
        f"Code under test: a snapshot of the tree taken at the start (newest file {r['code']['newest_mtime']}; "
        "sha256: " + ", ".join(f"`{k}` {v}" for k, v in r["code"]["sha256"].items()) + ").",
        "",
        f"Setup: the dev server (state in a {p.get('server_state', 'file')}), the hub worker "
        f"({p.get('worker_processes', 1)} process(es)) and the API (uvicorn, one process) each in its own process, "
        f"database "
        f"{p['database']}; {p['customers']} customers with a 24x7 SLA contract, {p['assets_seeded']} assets "
        f"(servers tagged critical), one SentinelOne and one RocketCyber integration each. The client (httpx, "
        f"{p['concurrency']} requests in flight, "
        + (f"paced at {p['rate']:g} deliveries/s (open loop), " if p.get("rate") else "as fast as it can, ")
        + "one alert per request, Standard Webhooks signature) sends "
        f"{p['alerts']} deliveries "
        + ("in steady order (every 10th delivery opens a new incident, the others are correlated alerts and "
           "redeliveries of incidents already opened, in random order): " if p.get("steady") else "in shuffled order: ")
        + f"{p['incidents_planned']} incidents "
        f"({p['incidents_sentinelone']} SentinelOne device x threat pairs, {p['incidents_on_unknown_devices']} of them "
        f"on devices the hub does not know, {p['incidents_on_servers']} on servers; {p['incidents_rocketcyber']} "
        f"RocketCyber incidents, which name no device), {p['correlated_alerts']} correlated SentinelOne threats (new "
        f"vendor id, same device and file hash) and {p['redeliveries']} redeliveries of a planned vendor alert "
        f"(same id and message id). Deliveries by source: {p['deliveries_by_source']}. API log level "
        f"{p['api_log_level']}, worker {p['worker_log_level']}.",
        "",
        "## Figures",
        "",
        "```",
        table(r),
        "```",
        "",
        "| target | value | pass |",
        "|---|---|---|",
        *(f"| {k}: {v['target']} | {v['value']} | {'yes' if v['pass'] else '**no**'} |"
          for k, v in r["verdicts"].items()),
        "",
        f"Answers: {st['statuses']}. Tickets by priority {o['tickets_by_priority']}, by queue {o['tickets_by_queue']}. "
        f"Webhook deliveries logged: {o['webhook_deliveries_logged']} (with the "
        f"{r.get('probe_after_drain_latency_s', {}).get('n', 0)} redeliveries of the probe after the drain). "
        f"Redeliveries counted on the alert rows (`deliveries`, across incident runs only): "
        f"{o['redeliveries_counted_on_rows']}.",
        "",
        "**Definitions.** *Accepted*: the webhook answered 202 (the alert was committed to the hub's SOC inbox with "
        "the delivery log; the inbox dispatcher hands it to its incident workflow by signal-with-start; the drain "
        "waits for the inbox to be empty). *Traceable*: the accepted vendor alert's dedupe key "
        "(`source:integration:vendor id`) has its row in `soc_alerts` with an incident key, and all alerts of one "
        "planned incident carry the same key while different incidents carry different keys (*split* / *merged* count "
        "the violations). *Webhook answer*: "
        "client-side time from sending the request to the complete answer, 202 answers only. *Alert-to-ticket*: per "
        "incident, from the first 202 answer for any of its alerts (the moment the hub owned the incident) to the "
        f"first poll of the `tickets` table (every {p['poll_interval_s']} s, from the benchmark process) that sees its "
        "ticket row, i.e. committed and readable; shown beside it, the ticket's own `created_at` (the ticket "
        "workflow's time when it opens the ticket, a moment before the commit), and from the first request for any of "
        "its alerts (the sender's view, the webhook's answer time included). *Every ticket visible*: the second of the "
        "run in which the last ticket row appeared. *Alert-to-note*: per correlated "
        "alert, from its first 202 answer to the `at` of the internal note (`Alarm <source> <vendor id>: ...`) that "
        "the ticket workflow writes for it. All times are from the clock of the one machine.",
        "",
        "### Where the time goes",
        "",
        f"CPU seconds during the storm ({st['cpu_s']['wall_s']} s wall, capacity {st['cpu_s']['machine_capacity']} "
        f"core-s): {_cpu(st['cpu_s'])}.",
        f"Drain after the storm ({r['drain']['cpu_s']['wall_s']} s): {_cpu(r['drain']['cpu_s'])}.",
        f"Per delivery over the whole run: {_cpu({k: round(v / p['alerts'] * 1000, 2) for k, v in r['whole_run']['cpu_s'].items() if k not in ('wall_s', 'machine_busy', 'machine_capacity', 'other_processes')})} "  # noqa: E501
        "CPU-ms.",
        "",
        *_reference(r),
        f"Dev server persistence calls per delivery during the storm: {sp['persistence_requests']} (" +
        ", ".join(f"{k} {v}" for k, v in list(sp["by_operation"].items())[:6]) +
        f"), mean persistence latency {sp['mean_persistence_latency_ms']} ms; over the whole run "
        f"{r['whole_run']['server_per_delivery']['persistence_requests']} per delivery.",
        "",
        *_steps(r),
        f"Memory: worker VmHWM {r['memory_mb']['worker_vmhwm']} MB, API VmHWM {r['memory_mb']['api_vmhwm']} MB.",
        "",
        f"Accepted deliveries and newly visible tickets per {5 * max(1, -(-len(r['timeline_per_s']) // 150))} s "
        "of the run (from the first delivery):",
        "",
        "| s | accepted | tickets visible |",
        "|---|---|---|",
        *_timeline_rows(r["timeline_per_s"]),
        "",
        "Worker (SDK metrics at the end; latencies in ms):",
        "",
        "```",
        json.dumps(r["worker_metrics_end"], indent=1),
        "```",
        "",
        *_profiles(r),
        f"Raw numbers: `soc_storm{suffix}.json` next to this file.",
        "",
        ANALYSIS_MARKER,
    ]
    kept = previous.split(ANALYSIS_MARKER, 1)[1] if ANALYSIS_MARKER in previous else "\n"
    return "\n".join(lines) + kept


def _reference(r: dict) -> list[str]:
    ref = r.get("reference_signal_with_start")
    if not ref:
        return []
    lat = ref["latency_s"]
    return [f"The floor, before the storm: {ref['n']} signal-with-starts of fresh workflows on a task queue that no "
            f"worker polls, straight from the benchmark process at the same concurrency: {ref['per_s']}/s, p50 "
            f"{lat['p50'] * 1000:.1f} ms, p99 {lat['p99'] * 1000:.1f} ms; dev server "
            f"{ref['cpu_s']['server'] / ref['n'] * 1000:.1f} CPU-ms per start (other processes on the machine: "
            f"{ref['cpu_s']['other_processes']} core-s in {ref['cpu_s']['wall_s']} s).", ""]


def _steps(r: dict) -> list[str]:
    steps = r.get("api_steps_ms")
    if not steps:
        return []
    return ["Steps in the API process (wall ms per call, p50 / p95 / p99 / max; measured by wrapping them in "
            "`bench.harness`, the code unchanged). The route: lookup (the integration) and accept (one transaction: "
            "the check for a stored, unchanged alert, the inbox rows, the delivery log) run in worker threads, off "
            "the event loop; delivery_log is the log of a rejected delivery. The inbox dispatcher: hand_over is one "
            "update-with-start of an incident with the alerts it holds for it, answered once the incident has "
            "handled them.",
            "",
            "| step | calls | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|",
            *(f"| {k} | {v['n']} | {v['p50']} | {v['p95']} | {v['p99']} | {v['max']} |" for k, v in steps.items()),
            *(f"| {k}, one at a time after the drain | {v['n']} | {v['p50']} | {v['p95']} | {v['p99']} | {v['max']} |"
              for k, v in r.get("api_steps_probe_ms", {}).items()),
            ""]


def _profiles(r: dict) -> list[str]:
    out = []
    for who in ("api", "worker"):
        if r.get(f"{who}_profile"):
            out += [f"{who.capitalize()} profile (`--profile-{who}`; share of busy thread samples; blocked in C "
                    "counts as busy):", "", "```", *r[f"{who}_profile"].splitlines()[:45], "```", ""]
    return out


def _timeline_rows(timeline: list[dict]) -> list[str]:
    out = []
    step = 5 * max(1, -(-len(timeline) // 150))  # at most 30 rows
    for start in range(0, len(timeline), step):
        chunk = timeline[start:start + step]
        out.append(f"| {start}-{start + len(chunk)} | {sum(c['accepted'] for c in chunk)} | "
                   f"{sum(c['tickets_visible'] for c in chunk)} |")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=None, help=f"deliveries (default {FULL['alerts']})")
    parser.add_argument("--tag", default="", help="write SOC_STORM-<tag>.md / soc_storm-<tag>.json (a variant run)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['alerts']} deliveries, {QUICK['customers']} "
                                                             "customers")
    parser.add_argument("--customers", type=int, default=None, help=f"default {FULL['customers']}")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--rate", type=float, default=0,
                        help="open loop: start this many deliveries per second (at most --concurrency in flight) "
                             "instead of as fast as the client can; shows what rate the hub sustains")
    parser.add_argument("--seed", type=int, default=4, help="random seed of the workload")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server to create a fresh database on")
    parser.add_argument("--poll-interval", type=float, default=0.2, help="seconds between polls of the tickets")
    parser.add_argument("--drain-timeout", type=float, default=None, help="seconds to wait after the storm "
                                                                          "(default 120 quick, 600 full)")
    parser.add_argument("--reference", type=int, default=300,
                        help="signal-with-starts of a trivial workflow before the storm (0: none)")
    parser.add_argument("--server-in-memory", action="store_true",
                        help="dev server state in memory instead of a file (no fsync; for comparison)")
    parser.add_argument("--worker-pollers", type=int, default=0,
                        help="experiment: task pollers per hub Worker (default: the hub's, i.e. the SDK's 5)")
    parser.add_argument("--worker-processes", type=int, default=1,
                        help="worker processes (more than 1: `psa worker --processes N`)")
    parser.add_argument("--worker-tasks", type=int, default=0,
                        help="workflow tasks and local activities at once per worker queue (0: the hub default)")
    parser.add_argument("--probe", type=int, default=100,
                        help="redeliveries sent one at a time after the drain (answer latency of an unloaded hub)")
    parser.add_argument("--api-log-level", default="INFO")
    parser.add_argument("--worker-log-level", default="INFO")
    parser.add_argument("--profile-api", action="store_true", help="sample the API's Python threads")
    parser.add_argument("--profile-worker", action="store_true", help="sample the worker's Python threads")
    parser.add_argument("--kinds", type=int, default=0,
                        help="instead of the storm: N deliveries of each kind (new incident, correlated alert, "
                             "unchanged redelivery) in three measured phases, CPU per delivery by process; writes "
                             "SOC_STORM-kinds.md (paced at --rate, default 10/s)")
    parser.add_argument("--steady", action="store_true",
                        help="sustained load: every 10th delivery opens a new incident (with --rate R: R/10 new "
                             "incidents per second, evenly) instead of the shuffle, which opens most incidents early")
    parser.add_argument("--render", action="store_true", help="only rewrite the .md from the .json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    if args.kinds and not args.tag:
        args.tag = "kinds"
    suffix = ("-quick" if args.quick else "") + (f"-{args.tag}" if args.tag else "")
    md_path, json_path = HERE / f"SOC_STORM{suffix}.md", HERE / f"soc_storm{suffix}.json"
    render = markdown_kinds if args.kinds else markdown
    if args.render:
        md_path.write_text(render(json.loads(json_path.read_text()), md_path.read_text(), suffix))
        return 0
    run_from_snapshot("bench.soc_storm", "soc-storm-")
    defaults = QUICK if args.quick else FULL
    args.alerts = args.alerts or defaults["alerts"]
    args.customers = args.customers or defaults["customers"]
    args.drain_timeout = args.drain_timeout or (120 if args.quick else 600)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    tmp = Path(os.environ["BENCH_TMP"])
    procs = Processes(tmp)
    ok = False
    log(f"working directory {tmp}")
    try:
        env = environment()
        with fresh_database(args.database_url, tmp) as db_url:
            try:
                result = asyncio.run((run_kinds if args.kinds else run)(args, tmp, procs, db_url))
            finally:
                procs.stop_all()
        if args.kinds:
            if (tmp / "api-steps.json").exists():
                spans = json.loads((tmp / "api-steps.json").read_text())
                for v in result["kinds"].values():
                    v["api_steps_ms"] = {k: stats([d * 1000 for t, d in s if v["t0"] <= t < v["t1"]], 1)
                                         for k, s in spans.items()}
            result = {"environment": env, "code": code_version()} | result
            json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
            md_path.write_text(markdown_kinds(result, md_path.read_text() if md_path.exists() else "", suffix))
            log(f"wrote {md_path} and {json_path}")
            ok = True
            return 0
        if (tmp / "api-steps.json").exists():
            spans, split = json.loads((tmp / "api-steps.json").read_text()), result["probe_t0"]
            # By when they ended: the storm and its drain, then the probe's deliveries one at a time.
            result["api_steps_ms"] = {k: stats([d * 1000 for t, d in v if t < split], 1) for k, v in spans.items()}
            result["api_steps_probe_ms"] = {k: stats([d * 1000 for t, d in v if t >= split], 1)
                                            for k, v in spans.items()}
        for who in ("api", "worker"):
            if (tmp / f"{who}-profile.txt").exists():
                result[f"{who}_profile"] = (tmp / f"{who}-profile.txt").read_text()
        result = {"environment": env, "code": code_version()} | result
        result["verdicts"] = verdicts(result)
        json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
        md_path.write_text(markdown(result, md_path.read_text() if md_path.exists() else "", suffix))
        print("\n" + table(result) + "\n")
        log(f"wrote {md_path} and {json_path}")
        ok = True
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        procs.stop_all()
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp} (logs: server.log, worker.log, api.log)")


if __name__ == "__main__":
    sys.exit(main())
