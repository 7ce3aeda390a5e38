"""N open tickets with live SLA timers on one worker and the Temporal dev server.

    python -m bench.sla_bench [--quick] [--tickets N] [--concurrency C] [--database-url URL] [--keep]

Starts the real dev server (SQLite file, hub search attributes), a fresh hub database (SQLite file, or a fresh
database on the PostgreSQL server of --database-url), a webhook receiver and the hub worker in its own process,
then measures:

1. the start-rate limit: `client.start_workflow` of a trivial workflow (bench.idle) at the same concurrency;
2. ticket starts per second through `hub.tickets.intake.open_ticket`, as the API opens a ticket: the row
   and the SLA clock in this process's transaction, then the workflow's start with that state (returns once
   Temporal holds it); the worker's share is the first workflow task, which arms the timer;
3. escalation lateness: every ticket has a 24x7 SLA (response target per customer; some customers' targets are
   short enough to breach during the run) and an escalation level `on_breach` with a `notify_webhook` action;
   lateness = arrival of the webhook at the receiver (first POST per Idempotency-Key) minus the response due
   instant the hub itself recorded in `ticket_sla.due_at`. The ESCALATED ticket event (`at`) and the outbox
   `sent_at` are reported beside it;
4. the worker's peak memory (VmHWM; VmRSS sampled every second).

Writes bench/RESULTS.md and bench/results.json (--quick: RESULTS-quick.md, results-quick.json).
"""

import argparse
import asyncio
import compileall
import ctypes
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path

import httpx
from sqlalchemy import Engine, make_url
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from bench.idle import IDLE_TASK_QUEUE, IdleWorkflow
from domain.calendar_spec import CalendarSpec
from domain.contracts.tickets import NewTicket
from domain.processes import ticket_workflow_id
from domain.roles import Role
from domain.tickets import EventKind, Priority
from hub.db import make_engine, session_scope, upgrade
from hub.dev import DEV_SERVER_SQLITE_PRAGMAS, search_attribute_args, temporal_binary
from hub.temporal import connect
from hub.temporal.errors import WorkflowUnavailable
from hub.tickets.intake import open_ticket
from models import (
    BusinessCalendarRow,
    Contract,
    EscalationPolicy,
    EscalationPolicyVersion,
    Notification,
    SlaDefinitionRow,
    Tenant,
    TicketEvent,
    TicketSla,
    User,
)

ROOT = Path(__file__).resolve().parent.parent
# Results go to the bench/ folder of the tree the run was started from (the run itself uses a snapshot).
HERE = Path(os.environ.get("BENCH_OUT", ROOT / "bench"))
SOURCES = ("api", "activities", "connectors", "documents", "domain", "hub", "migrations", "models", "workflows",
           "bench", "worker.py", "pyproject.toml")  # every package of pyproject.toml, or it is imported from elsewhere
RESOLUTION_MINUTES = 480  # keeps a live timer in every workflow after its response breach
# Quick: 300 tickets (~30 s of starts), two customers with 1 and 2 min response targets: every ticket escalates.
# Full: tickets start at 8-17/s on the 2-core machine and an escalation costs the dev server about 2.5 ticket starts,
# so 10,000 escalations would not fit in 30 min. Three of twelve customers have 2, 3 and 4 min targets (2,500 tickets
# escalate, from minute 2 on, while the others are still being started); nine "quiet" customers have 240 min targets,
# so their response timers are all still pending at the end. The 8 h resolution clock keeps a timer in every workflow.
QUICK = {"tickets": 300, "response_minutes": "1,2", "quiet_customers": 0}
# The escalating customers' responses fall due after the ~6 minutes it takes to start 10,000 tickets: starts are
# measured with 10,000 timers accumulating, lateness with 10,000 live timers. `--response-minutes 2,3,4` makes them
# overlap (a stress case: 25 % of the tickets escalating while tickets are started at full speed).
FULL = {"response_minutes": "8,9,10", "quiet_customers": 9}
QUIET_RESPONSE_MINUTES = 240
WARMUP_TICKETS = 40  # opened before the measured start phase, for a quiet customer of their own
PRIORITIES = list(Priority)
CLK = os.sysconf("SC_CLK_TCK")


# --- processes ---------------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Processes:
    """Children in their own process groups; stopped in reverse order, also on Ctrl-C or failure."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}

    def spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "ab") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.logs,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        self.procs[name] = proc
        return proc

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.logs / (name + '.log')}")

    def stop(self, name: str, timeout: float = 30) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    async def wait_for_line(self, name: str, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in (self.logs / f"{name}.log").read_text(errors="replace"):
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not say {text!r} within {timeout:g} s")
            await asyncio.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """The process and its live descendants (a `psa worker --processes N` supervisor and its workers)."""
    pids, i = [pid], 0
    while i < len(pids):
        try:
            for task in Path(f"/proc/{pids[i]}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
        i += 1
    return pids


def proc_cpu(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its live children: a worker pool's supervisor)."""
    total = 0.0
    for p in _tree(pid) if children else [pid]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK
    return total


async def settle(pid: int, idle_cores: float = 0.05, window: float = 1.0, limit: float = 30.0) -> float:
    """Wait until the worker (and its children) uses under `idle_cores` over a `window`: the workflow tasks of the
    last starts run after the start calls have returned. Returns the seconds waited (at most `limit`)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = proc_cpu(pid, children=True)
        await asyncio.sleep(window)
        if proc_cpu(pid, children=True) - before < idle_cores * window:
            break
    return time.monotonic() - t0


def proc_status(pid: int, key: str) -> int:
    """A kB value (VmRSS, VmHWM) from /proc/<pid>/status, the largest of the process and its live children (each
    worker process has its own memory target); 0 once the process is gone."""
    values = [0]
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    values.append(int(line.split()[1]))
        except OSError:
            pass
    return max(values)


def worker_command(processes: int) -> list[str]:
    """One worker process as the benches always ran it, or `psa worker --processes N` (its supervisor's metrics
    address is the first worker's)."""
    if processes == 1:
        return [sys.executable, "-m", "bench.run_worker"]
    return [sys.executable, "-m", "hub.cli", "worker", "--processes", str(processes)]


def worker_metrics_env(processes: int, address: str) -> dict[str, str]:
    """bench.run_worker serves its metrics at BENCH_METRICS_ADDRESS itself; a pool's first worker at this one."""
    return {"PSA_WORKER_METRICS_ADDRESS": address} if processes > 1 else {}


async def workers_started(procs: "Processes", processes: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while (procs.logs / "worker.log").read_text(errors="replace").count("worker started") < processes:
        procs.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {processes} worker processes started within {timeout:g} s")
        await asyncio.sleep(0.2)


async def connect_when_ready(procs: "Processes", address: str, timeout: float = 60):  # noqa: ANN201 - a Client
    """A client of the dev server just spawned, once it answers (a process of `procs` that died fails the wait)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = await connect(address, "default")
            await client.count_workflows()
            return client
        except Exception:
            procs.check()
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLK


class Sampler:
    """Samples worker RSS every second; takes CPU snapshots of our processes at phase boundaries."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.samples: list[dict] = []
        self.max_rss_kb = 0
        self.snapshots: dict[str, dict] = {}

    def snapshot(self, label: str) -> None:
        self.snapshots[label] = {"t": time.time(), "busy": machine_busy(),
                                 **{name: proc_cpu(pid, children=name == "worker") for name, pid in self.pids.items()}}

    async def run(self) -> None:
        while True:
            if "worker" in self.pids:
                rss = proc_status(self.pids["worker"], "VmRSS")
                self.max_rss_kb = max(self.max_rss_kb, rss)
                self.samples.append({"t": round(time.time(), 1), "rss_mb": round(rss / 1024, 1),
                                     "worker_cpu": round(proc_cpu(self.pids["worker"], children=True), 1),
                                     "server_cpu": round(proc_cpu(self.pids["server"]), 1)})
            await asyncio.sleep(1)

    def cpu_between(self, start: str, end: str) -> dict:
        a, b = self.snapshots[start], self.snapshots[end]
        wall = b["t"] - a["t"]
        out = {name: round(b[name] - a[name], 1) for name in b if name not in ("t", "busy") and name in a}
        out["wall_s"] = round(wall, 1)
        out["machine_busy"] = round(b["busy"] - a["busy"], 1)
        out["other_processes"] = round(out["machine_busy"] - sum(v for k, v in out.items()
                                                                  if k not in ("wall_s", "machine_busy")), 1)
        out["machine_capacity"] = round(wall * (os.cpu_count() or 1), 1)
        return out


# --- database ----------------------------------------------------------------------------------------------------


@contextmanager
def fresh_database(url: str | None, tmp: Path) -> Iterator[str]:
    """SQLite file in tmp; or a fresh database on the PostgreSQL server of `url`, dropped afterwards."""
    if not url:
        url = f"sqlite:///{tmp / 'hub.db'}"
        upgrade(url)
        yield url
        return
    import psycopg

    admin = make_url(url)
    name = f"psa_bench_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    fresh = admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    try:
        upgrade(fresh)
        yield fresh
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Customer:
    tenant_id: uuid.UUID
    number: str
    response_minutes: int
    escalates: bool


def seed(engine: Engine, response_minutes: list[int], quiet: int, hook_url: str) -> tuple[list[Customer], uuid.UUID]:
    """One customer per response target: a contract with its SLA definition (all priorities 24x7), a 24x7
    calendar and an active escalation policy whose only level notifies the receiver on the response breach."""
    customers = []
    with session_scope(engine) as s:
        user = User(email="bench@msp.example", display_name="Bench", role=Role.MSP_TECH)
        calendar = BusinessCalendarRow(name="bench 24x7",
                                       spec=CalendarSpec.twenty_four_seven().model_dump(mode="json"))
        s.add_all([user, calendar])
        s.flush()
        for i, minutes in enumerate(response_minutes + [QUIET_RESPONSE_MINUTES] * quiet):
            tenant = Tenant(name=f"Bench Kunde {i} GmbH", customer_number=f"B{i:04d}", country="DE",
                            subdivision="DE-BY", time_zone="Europe/Berlin", calendar_id=calendar.id)
            policy = EscalationPolicy(name=f"bench-{i}")
            s.add_all([tenant, policy])
            s.flush()
            level = {"name": "breach", "target": "response", "trigger": {"type": "on_breach"},
                     "actions": [{"type": "notify_webhook", "url": hook_url, "format": "json"}]}
            policy_version = EscalationPolicyVersion(policy_id=policy.id, version=1,
                                                     document={"name": f"bench-{i}", "levels": [level]})
            s.add(policy_version)
            s.flush()
            policy.active_version_id = policy_version.id
            targets = {"response_minutes": minutes, "resolution_minutes": RESOLUTION_MINUTES, "calendar": "24x7"}
            definition = SlaDefinitionRow(name=f"bench-{i}", escalation_policy_id=policy.id,
                                          document={"name": f"bench-{i}", "targets": {p.value: targets
                                                                                      for p in PRIORITIES}})
            s.add(definition)
            s.flush()
            s.add(Contract(tenant_id=tenant.id, number=f"V-B{i:04d}", name="Managed Services 24x7",
                           start_date=date(2020, 1, 1), sla_definition_id=definition.id, calendar_id=calendar.id))
            customers.append(Customer(tenant.id, tenant.customer_number, minutes, i < len(response_minutes)))
    return customers, user.id


# --- measurements ------------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def summary(values: list[float], digits: int = 3) -> dict:
    out = {"n": len(values)}
    for p in (50, 90, 99):
        v = pct(values, p)
        out[f"p{p}"] = None if v is None else round(v, digits)
    out["max"] = round(max(values), digits) if values else None
    out["min"] = round(min(values), digits) if values else None
    return out


async def drive(n: int, concurrency: int, call: Callable[[int], Awaitable[None]]) -> dict:
    """Run call(0..n-1) with `concurrency` calls in flight; rate and latencies."""
    latencies = [0.0] * n
    todo = iter(range(n))

    async def lane() -> None:
        for i in todo:
            t = time.perf_counter()
            await call(i)
            latencies[i] = time.perf_counter() - t

    t0 = time.time()
    async with asyncio.TaskGroup() as group:  # one failure cancels the other lanes
        for _ in range(concurrency):
            group.create_task(lane())
    t1 = time.time()
    return {"n": n, "t0": t0, "t1": t1, "duration_s": round(t1 - t0, 2), "per_s": round(n / (t1 - t0), 1),
            "latency_s": summary(latencies)}


def read_receiver(path: Path) -> dict[str, list[float]]:
    arrivals: dict[str, list[float]] = defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            at, _, key = line.partition("\t")
            if key:
                arrivals[key].append(float(at))
    return arrivals


def prometheus(text: str) -> dict[str, float]:
    """Sum every sample over its labels, except `le` of histogram buckets."""
    out: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        if name.endswith("_bucket"):
            le = next((part.split("=", 1)[1].strip('"}') for part in labels.split(",") if part.startswith("le=")), "")
            name = f"{name}|{le}"
        try:
            out[name] += float(value)
        except ValueError:
            pass
    return dict(out)


def histogram(metrics: dict[str, float], name: str) -> dict | None:
    """Mean and bucket-bound p50/p99 of a Core histogram (milliseconds)."""
    count = metrics.get(f"{name}_count")
    if not count:
        return None
    buckets = sorted((float(k.split("|")[1]), v) for k, v in metrics.items() if k.startswith(f"{name}_bucket|"))

    def bound(q: float) -> float | None:
        return next((le for le, c in buckets if c >= q * count), None)

    return {"count": int(count), "mean_ms": round(metrics[f"{name}_sum"] / count, 1), "p50_le_ms": bound(0.5),
            "p99_le_ms": bound(0.99)}


async def scrape(address: str, parse: Callable[[str], dict[str, float]] = prometheus) -> dict[str, float]:
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            return parse((await http.get(f"http://{address}/metrics")).text)
    except httpx.HTTPError:
        return {}


def server_persistence(text: str) -> dict[str, float]:
    """The dev server's persistence calls (total and per operation) and their summed latency."""
    out: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        name = line.split("{", 1)[0]
        if name in ("persistence_requests", "persistence_latency_sum", "persistence_latency_count",
                    "visibility_persistence_requests"):
            value = float(line.rsplit(" ", 1)[1])
            out[name] += value
            if name == "persistence_requests" and 'operation="' in line:
                out["op " + line.split('operation="', 1)[1].split('"', 1)[0]] += value
    return dict(out)


def per_start(before: dict[str, float], after: dict[str, float], n: int) -> dict:
    """Server persistence work per started workflow between two scrapes."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    calls = delta.get("persistence_requests", 0)
    ops = sorted(((k[3:], v / n) for k, v in delta.items() if k.startswith("op ") and v), key=lambda kv: -kv[1])
    return {"persistence_requests": round(calls / n, 1),
            "visibility_requests": round(delta.get("visibility_persistence_requests", 0) / n, 1),
            "mean_persistence_latency_ms": round(1000 * delta.get("persistence_latency_sum", 0)
                                                 / max(1, delta.get("persistence_latency_count", 0)), 2),
            "by_operation": {k: round(v, 2) for k, v in ops[:8]}}


def worker_metrics(m: dict[str, float]) -> dict:
    hists = ("temporal_workflow_task_schedule_to_start_latency", "temporal_workflow_task_execution_latency",
             "temporal_workflow_task_replay_latency", "temporal_activity_schedule_to_start_latency",
             "temporal_activity_execution_latency", "temporal_local_activity_execution_latency")
    out = {h.removeprefix("temporal_"): histogram(m, h) for h in hists}
    for name in ("temporal_sticky_cache_hit", "temporal_sticky_cache_miss", "temporal_sticky_cache_size",
                 "temporal_sticky_cache_total_forced_eviction", "temporal_workflow_completed",
                 "temporal_workflow_task_execution_failed", "temporal_activity_execution_failed"):
        if name in m:
            out[name.removeprefix("temporal_")] = int(m[name])
    return out


# --- histories: where the time goes ------------------------------------------------------------------------------


def timeline(history) -> list[tuple[str, float]]:  # noqa: ANN001
    """(event, epoch seconds) with activity names attached to scheduled/started/completed events."""
    names: dict[int, str] = {}
    out = []
    for e in history.events:
        kind = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_").lower()
        if e.HasField("activity_task_scheduled_event_attributes"):
            names[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
            kind += ":" + names[e.event_id]
        elif e.HasField("activity_task_started_event_attributes"):
            kind += ":" + names.get(e.activity_task_started_event_attributes.scheduled_event_id, "?")
        elif e.HasField("activity_task_completed_event_attributes"):
            kind += ":" + names.get(e.activity_task_completed_event_attributes.scheduled_event_id, "?")
        out.append((kind, e.event_time.ToDatetime(tzinfo=UTC).timestamp()))
    return out


def first(events: list[tuple[str, float]], prefix: str, after: float) -> float | None:
    return next((t for k, t in events if k.startswith(prefix) and t >= after), None)


def start_breakdown(events: list[tuple[str, float]]) -> dict:
    """Seconds from the workflow start to its first workflow task (the worker arms the ticket's timer)."""
    t0 = events[0][1]
    done = first(events, "workflow_task_completed", t0)
    if done is None:
        return {}
    started = first(events, "workflow_task_started", t0) or t0
    return {"first workflow task started": started - t0, "first workflow task completed": done - t0}


def escalation_breakdown(events: list[tuple[str, float]], due: float) -> dict:
    """Seconds after the due instant at which each step of the breach escalation happened."""
    fired = first(events, "timer_fired", due - 0.5)
    if fired is None:
        return {}
    steps = {
        "timer fired": fired,
        "workflow task started": first(events, "workflow_task_started", fired),
        "re-plan sla.record completed": first(events, "activity_task_completed:sla.record", fired),
        "apply_change (ESCALATED) completed": first(events, "activity_task_completed:tickets.apply_change", fired),
        "sla.notify scheduled": first(events, "activity_task_scheduled:sla.notify", fired),
        "sla.notify started": first(events, "activity_task_started:sla.notify", fired),
        "sla.notify completed": first(events, "activity_task_completed:sla.notify", fired),
    }
    return {k: None if v is None else v - due for k, v in steps.items()}


def aggregate(rows: list[dict]) -> dict:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: summary([r[k] for r in rows if r.get(k) is not None]) for k in keys}


# --- the run -----------------------------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | extra


def _quiet_abandoned_rpc(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """The SDK leaves the start future of a timed-out update-with-start unretrieved (the retry is counted)."""
    if "never retrieved" in context.get("message", "") and "Timeout expired" in repr(context.get("exception")):
        return
    loop.default_exception_handler(context)


async def run(args: argparse.Namespace, tmp: Path, procs: Processes, db_url: str) -> dict:
    asyncio.get_running_loop().set_exception_handler(_quiet_abandoned_rpc)
    response_minutes = [int(m) for m in args.response_minutes.split(",")]
    port, metrics_port, hook_port = free_port(), free_port(), free_port()
    address = f"127.0.0.1:{port}"
    worker_metrics_address = f"127.0.0.1:{free_port()}"
    server_args = [temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
                   "--metrics-port", str(metrics_port), "--db-filename", str(tmp / "temporal.db"),
                   *DEV_SERVER_SQLITE_PRAGMAS, "--log-level", "error"]
    server_args += search_attribute_args()
    server = procs.spawn("server", server_args)
    engine = make_engine(db_url)
    customers, user_id = seed(engine, response_minutes, args.quiet_customers + 1, f"http://127.0.0.1:{hook_port}/hook")
    warmup_customer = customers.pop()  # quiet (never escalates during the run): the worker's warm-up tickets only
    received = tmp / "received.tsv"
    procs.spawn("receiver", [sys.executable, "-m", "bench.receiver", str(hook_port), str(received)], env=clean_env())
    client = await connect_when_ready(procs, address)
    await procs.wait_for_line("receiver", "receiver started")
    sampler = Sampler({"server": server.pid, "bench_client": os.getpid()})
    n_trivial = args.trivial or min(args.tickets, 2000)
    sampling = asyncio.create_task(sampler.run())
    server_metrics = f"127.0.0.1:{metrics_port}"
    persistence: dict[str, dict[str, float]] = {}
    result: dict = {"parameters": {
        "tickets": args.tickets, "trivial_starts": n_trivial, "concurrency": args.concurrency,
        "response_minutes_per_customer": [c.response_minutes for c in customers],
        "escalating_customers": len(response_minutes), "resolution_minutes": RESOLUTION_MINUTES,
        "customers": len(customers), "database": make_url(db_url).get_backend_name(),
        "worker_log_level": args.worker_log_level, "sla": "24x7, on_breach(response) -> notify_webhook (json)",
        "worker_processes": args.worker_processes, "tag": args.tag, "warmup_tickets": WARMUP_TICKETS,
    }}
    try:
        # 1. The limit: a trivial workflow, started at the same concurrency.
        idle = procs.spawn("idle_worker", [sys.executable, "-m", "bench.idle", address, IDLE_TASK_QUEUE],
                           env=clean_env())
        sampler.pids["idle_worker"] = idle.pid
        await procs.wait_for_line("idle_worker", "idle worker started")
        sampler.snapshot("idle_start")
        await asyncio.sleep(5)
        sampler.snapshot("idle_end")
        log(f"trivial workflow: {n_trivial} starts, concurrency {args.concurrency}")
        persistence["trivial_start"] = await scrape(server_metrics, server_persistence)
        sampler.snapshot("trivial_start")

        async def start_idle(i: int) -> None:
            await client.start_workflow(IdleWorkflow.run, id=f"bench-idle-{i}", task_queue=IDLE_TASK_QUEUE)

        trivial = await drive(n_trivial, args.concurrency, start_idle)
        sampler.snapshot("trivial_end")
        persistence["trivial_end"] = await scrape(server_metrics, server_persistence)
        last = client.get_workflow_handle(f"bench-idle-{n_trivial - 1}")
        while (await last.describe()).raw_description.workflow_execution_info.history_length < 4:
            await asyncio.sleep(0.2)  # the idle worker has run the backlog of first workflow tasks
        trivial["first_tasks_done_after_s"] = round(time.time() - trivial["t0"], 2)
        sampler.snapshot("trivial_drained")

        result["server_idle_cpu_s_per_s"] = round(sampler.cpu_between("idle_start", "idle_end")["server"] / 5, 3)
        result["trivial"] = trivial | {"cpu_s": sampler.cpu_between("trivial_start", "trivial_end"),
                                       "server_per_start": per_start(persistence["trivial_start"],
                                                                     persistence["trivial_end"], n_trivial)}
        log(f"trivial: {trivial['per_s']}/s, p50 {trivial['latency_s']['p50']} s")

        # 1b. A reference, not the limit: the same trivial workflow started the way tickets are (update-with-start,
        # answered by the worker), to separate the cost of that pattern from the ticket workflow's own work.
        persistence["trivial_uws_start"] = await scrape(server_metrics, server_persistence)
        sampler.snapshot("trivial_uws_start")

        async def start_idle_with_update(i: int) -> None:
            start = WithStartWorkflowOperation(
                IdleWorkflow.run, id=f"bench-idle-uws-{i}", task_queue=IDLE_TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
            await client.execute_update_with_start_workflow(IdleWorkflow.ready, start_workflow_operation=start)

        trivial_uws = await drive(n_trivial, args.concurrency, start_idle_with_update)
        sampler.snapshot("trivial_uws_end")
        persistence["trivial_uws_end"] = await scrape(server_metrics, server_persistence)
        result["trivial_update_with_start"] = trivial_uws | {
            "cpu_s": sampler.cpu_between("trivial_uws_start", "trivial_uws_end"),
            "server_per_start": per_start(persistence["trivial_uws_start"], persistence["trivial_uws_end"], n_trivial)}
        log(f"trivial update-with-start: {trivial_uws['per_s']}/s, p50 {trivial_uws['latency_s']['p50']} s")
        procs.stop("idle_worker")

        # 2. The hub worker in its own process, then the ticket starts.
        worker = procs.spawn("worker", worker_command(args.worker_processes), env=clean_env(
            PSA_TEMPORAL_ADDRESS=address, PSA_TEMPORAL_NAMESPACE="default", PSA_DATABASE_URL=db_url,
            PSA_DATA_DIR=str(tmp), PSA_LOG_LEVEL=args.worker_log_level, PSA_LOG_FORMAT="json",
            PSA_NOTIFY_TIMEOUT="10", PSA_TICKET_URL_TEMPLATE="http://127.0.0.1:8000/api/v1/tickets/{ticket_id}",
            BENCH_METRICS_ADDRESS=worker_metrics_address,
            **worker_metrics_env(args.worker_processes, worker_metrics_address),
            **({"BENCH_PROFILE": str(tmp / "worker-profile.txt")} if args.profile_worker else {})))
        sampler.pids.pop("idle_worker", None)
        sampler.pids["worker"] = worker.pid
        await workers_started(procs, args.worker_processes)
        await asyncio.sleep(1)
        log(f"tickets: {args.tickets} open_ticket calls, concurrency {args.concurrency}")
        retries = {"timeout": 0}
        opened: list[uuid.UUID] = []
        escalating: set[uuid.UUID] = set()

        async def open_one(i: int) -> None:
            customer = customers[i % len(customers)]
            ticket = NewTicket(ticket_id=uuid.uuid4(), tenant_id=customer.tenant_id,
                               customer_number=customer.number, title=f"Bench-Ticket {i}",
                               priority=PRIORITIES[i % len(PRIORITIES)], created_by_user_id=user_id,
                               requester_user_id=user_id)
            for _ in range(10):
                try:
                    opened_row = await open_ticket(engine, client, ticket)
                    break
                except WorkflowUnavailable:
                    # The start was not confirmed in time; the row is there, and a retry with the same id finds it
                    # and starts the same workflow (the API leaves this to the sweep).
                    if asyncio.current_task().cancelling():
                        raise
                    retries["timeout"] += 1
            else:
                raise RuntimeError(f"ticket {ticket.ticket_id} not started after 10 attempts")
            assert opened_row.record.number is not None
            opened.append(ticket.ticket_id)
            if customer.escalates:
                escalating.add(ticket.ticket_id)

        async def progress() -> None:
            while True:
                await asyncio.sleep(15)
                delivered = len(read_receiver(received))
                log(f"  opened {len(opened)}/{args.tickets}, escalations delivered {delivered}/{len(escalating)}, "
                    f"worker RSS {proc_status(worker.pid, 'VmRSS') / 1024:.0f} MB")
                procs.check()

        # The worker's first tickets compile SQL statements, build validators and import lazily: once per process,
        # not per ticket. They go to a quiet customer and are not counted.
        async def warm_up(i: int) -> None:
            await open_ticket(engine, client, NewTicket(
                ticket_id=uuid.uuid4(), tenant_id=warmup_customer.tenant_id, customer_number=warmup_customer.number,
                title=f"Warm-up {i}", priority=PRIORITIES[i % len(PRIORITIES)], created_by_user_id=user_id))

        await drive(WARMUP_TICKETS, args.concurrency, warm_up)
        await asyncio.sleep(1)
        reporter = asyncio.create_task(progress())
        persistence["tickets_start"] = await scrape(server_metrics, server_persistence)
        sampler.snapshot("tickets_start")
        caller_cpu0 = time.process_time()
        tickets = await drive(args.tickets, args.concurrency, open_one)
        caller_cpu = time.process_time() - caller_cpu0
        sampler.snapshot("tickets_end")
        persistence["tickets_end"] = await scrape(server_metrics, server_persistence)
        # The worker's share of the starts includes the first workflow tasks it runs after the last call returned
        # (well before the first 75 % warning, 45 s after the first start).
        settled_s = await settle(worker.pid, limit=30)
        sampler.snapshot("tickets_settled")
        t_end = tickets["t1"]
        tickets["retries"] = retries
        metrics_after_starts = worker_metrics(await scrape(worker_metrics_address))
        log(f"tickets: {tickets['per_s']}/s, p50 {tickets['latency_s']['p50']} s, p99 {tickets['latency_s']['p99']} s")

        # Live timers at the end of the start phase.
        running = (await client.count_workflows("WorkflowType='TicketLifecycle' AND ExecutionStatus='Running'")).count
        end_dt = datetime.fromtimestamp(t_end, UTC)
        with Session(engine) as s:
            due = dict(s.exec(select(TicketSla.ticket_id, TicketSla.due_at).where(TicketSla.kind == "response")).all())
            resolution_live = sum(1 for d in s.exec(select(TicketSla.due_at).where(TicketSla.kind == "resolution"))
                                  if d is not None and d > end_dt)
        response_live = sum(1 for d in due.values() if d is not None and d > end_dt)
        delivered_during = len(read_receiver(received))
        result["live_at_end_of_starts"] = {"running_ticket_workflows": running,
                                           "response_timers_pending": response_live,
                                           "resolution_clocks_running": resolution_live,
                                           "escalations_delivered_during_starts": delivered_during}
        log(f"end of starts: {running} running, {response_live} response timers pending, "
            f"{delivered_during} escalations already delivered")

        # 3. Wait for every breach escalation.
        last_due = max(due[t].timestamp() for t in escalating)
        wait_until = last_due + args.grace
        arrivals = read_receiver(received)
        while len(arrivals) < len(escalating) and time.time() < wait_until:
            await asyncio.sleep(1)
            arrivals = read_receiver(received)
        reporter.cancel()
        sampler.snapshot("escalations_end")
        persistence["escalations_end"] = await scrape(server_metrics, server_persistence)
        await asyncio.sleep(2)
        metrics_end = worker_metrics(await scrape(worker_metrics_address))
        hwm_kb = proc_status(worker.pid, "VmHWM")
        worker_cpu = sampler.snapshots["tickets_settled"]["worker"] - sampler.snapshots["tickets_start"]["worker"]
        result["tickets"] = tickets | {
            "cpu_s": sampler.cpu_between("tickets_start", "tickets_end"),
            # All of the worker's CPU from the first start until it has run the last start's workflow task, over
            # the starts: includes its pollers' idle rate while it lasts.
            "worker_cpu_ms_per_start": round(1000 * worker_cpu / args.tickets, 2),
            "worker_settled_after_s": round(settled_s, 1),
            # This process's CPU over the starts: the opening's transaction and the start call, which the API
            # makes (an upper bound: the bench's own driving and sampling are in it too).
            "caller_cpu_ms_per_start": round(1000 * caller_cpu / args.tickets, 2),
            "worker_metrics_after_starts": metrics_after_starts,
            "server_per_start": per_start(persistence["tickets_start"], persistence["tickets_end"], args.tickets)}
        result["memory"] = {"worker_vmhwm_mb": round(hwm_kb / 1024, 1),
                            "worker_max_sampled_rss_mb": round(sampler.max_rss_kb / 1024, 1),
                            "worker_rss_at_end_mb": round(proc_status(worker.pid, "VmRSS") / 1024, 1)}
        result["escalation_phase_cpu_s"] = sampler.cpu_between("tickets_end", "escalations_end")
        tail = max(1, len(arrivals) - delivered_during)
        result["escalation_tail_server_per_escalation"] = per_start(persistence["tickets_end"],
                                                                    persistence["escalations_end"], tail)
        result["worker_metrics_end"] = metrics_end

        # Lateness per ticket: receiver arrival, ESCALATED event, outbox sent_at, each minus the due instant.
        with Session(engine) as s:
            events = dict(s.exec(select(TicketEvent.ticket_id, TicketEvent.at)
                                 .where(TicketEvent.kind == EventKind.ESCALATED)).all())
            sent = {tid: (at, attempts) for tid, at, attempts in s.exec(
                select(Notification.ticket_id, Notification.sent_at, Notification.attempts))}
        delivered: dict[uuid.UUID, float] = {}
        duplicates = 0
        for key, ats in arrivals.items():
            delivered[uuid.UUID(key.split(":", 1)[0])] = min(ats)
            duplicates += len(ats) - 1
        late: dict[str, list[float]] = defaultdict(list)
        per_ticket = {}
        for tid in opened:
            d = due.get(tid) if tid in escalating else None
            if d is None:
                continue
            d = d.timestamp()
            if tid in delivered:
                late["delivered"].append(delivered[tid] - d)
                late["delivered_during_starts" if d <= t_end else "delivered_after_starts"].append(delivered[tid] - d)
                per_ticket[tid] = delivered[tid] - d
            if tid in events:
                late["escalated_event"].append(events[tid].timestamp() - d)
            if tid in sent and sent[tid][0] is not None:
                late["outbox_sent"].append(sent[tid][0].timestamp() - d)
        result["escalations"] = {
            "expected": len(escalating), "delivered": len(delivered), "duplicates": duplicates,
            "escalated_events": len(events), "outbox_sent": sum(1 for v in sent.values() if v[0] is not None),
            "outbox_retried": sum(1 for v in sent.values() if (v[1] or 0) > 1),
            "due_spread_s": round(last_due - min(due[t].timestamp() for t in escalating), 1),
            "lateness_s": {k: summary(v) for k, v in late.items()},
        }

        # Where the time goes: a sample of histories (evenly spread, plus the latest escalations).
        ranked = sorted(per_ticket, key=per_ticket.get)
        pool = [t for t in opened if t in escalating]
        step = max(1, len(pool) // args.sample)
        sample = list(dict.fromkeys(pool[::step][: args.sample] + ranked[-(args.sample // 2):]))
        starts, escalations, ev = [], [], []
        for tid in sample:
            hist = await client.get_workflow_handle(ticket_workflow_id(tid)).fetch_history()
            ev = timeline(hist)
            starts.append(start_breakdown(ev))
            if due.get(tid) is not None:
                escalations.append(escalation_breakdown(ev, due[tid].timestamp()))
        kinds: dict[str, int] = defaultdict(int)
        for kind, _ in ev:
            kinds[kind] += 1
        result["history_sample"] = {"histories": len(sample), "events_per_ticket": len(ev),
                                    "event_types_of_one_ticket": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
                                    "start_s_after_workflow_start": aggregate(starts),
                                    "escalation_s_after_due": aggregate([e for e in escalations if e])}
        result["worker_cpu_samples"] = sampler.samples[:: max(1, len(sampler.samples) // 400)]
        return result
    finally:
        sampling.cancel()


def verdicts(r: dict) -> dict:
    ratio = r["tickets"]["per_s"] / r["trivial"]["per_s"]
    p99 = r["escalations"]["lateness_s"].get("delivered", {}).get("p99")
    complete = r["escalations"]["delivered"] == r["escalations"]["expected"]
    return {
        "ticket_starts_ratio": {"value": round(ratio, 3), "target": ">= 0.5", "pass": ratio >= 0.5},
        "lateness_p99_s": {"value": p99, "target": "< 2 s, all delivered",
                           "pass": p99 is not None and p99 < 2.0 and complete},
        "worker_peak_mb": {"value": r["memory"]["worker_vmhwm_mb"], "target": "< 1536 MB",
                           "pass": r["memory"]["worker_vmhwm_mb"] < 1536},
        **({"worker_cpu_ms_per_start": {"value": cpu, "target": "< 8 ms", "pass": cpu < 8}}
           if (cpu := r["tickets"].get("worker_cpu_ms_per_start")) is not None else {}),
    }


def environment() -> dict:
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    cli = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True).stdout.strip()
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "ram_gb": round(mem_kb / 1024 / 1024, 1), "cpu": _cpu_model(), "python": platform.python_version(),
            "temporalio": version("temporalio"), "temporal_cli": cli, "sqlalchemy": version("sqlalchemy"),
            "load_avg_at_start": os.getloadavg()}


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def table(r: dict) -> str:
    v, esc, lat = r["verdicts"], r["escalations"], r["escalations"]["lateness_s"]

    def ok(key: str) -> str:
        return "PASS" if v[key]["pass"] else "FAIL"

    def fmt(s: dict | None) -> str:
        return "n/a" if not s or s.get("p50") is None else f"{s['p50']:.2f} / {s['p99']:.2f} / {s['max']:.2f}"

    rows = [
        ("trivial workflow starts/s (the limit)", f"{r['trivial']['per_s']}", ""),
        ("ticket starts/s (open_ticket: row, then start)", f"{r['tickets']['per_s']}", ""),
        ("ratio tickets / trivial", f"{v['ticket_starts_ratio']['value']}", f"{ok('ticket_starts_ratio')} (>= 0.5)"),
        *([("reference: trivial update-with-start starts/s", f"{uws['per_s']}", ""),
           ("  ratio tickets / trivial update-with-start", f"{round(r['tickets']['per_s'] / uws['per_s'], 3)}", "")]
          if (uws := r.get("trivial_update_with_start")) else []),
        ("open_ticket latency p50 / p99 s", f"{r['tickets']['latency_s']['p50']} / {r['tickets']['latency_s']['p99']}",
         ""),
        ("open_ticket retries (start not confirmed in time)", f"{r['tickets']['retries']['timeout']}", ""),
        ("escalations delivered / expected (dupl.)", f"{esc['delivered']} / {esc['expected']} ({esc['duplicates']})",
         ""),
        ("lateness delivered p50 / p99 / max s", fmt(lat.get("delivered")), f"{ok('lateness_p99_s')} (p99 < 2 s)"),
        ("  ... due during the start phase", fmt(lat.get("delivered_during_starts")), ""),
        ("  ... due after the start phase", fmt(lat.get("delivered_after_starts")), ""),
        ("lateness ESCALATED event p50 / p99 / max s", fmt(lat.get("escalated_event")), ""),
        *([("worker CPU-ms per ticket start (all worker processes)", f"{cpu}",
            f"{ok('worker_cpu_ms_per_start')} (< 8 ms)")]
          if (cpu := r["tickets"].get("worker_cpu_ms_per_start")) is not None else []),
        *([("caller (API) CPU-ms per ticket start: row, clock, start call", f"{caller}", "")]
          if (caller := r["tickets"].get("caller_cpu_ms_per_start")) is not None else []),
        ("worker VmHWM MB (max sampled RSS)",
         f"{r['memory']['worker_vmhwm_mb']} ({r['memory']['worker_max_sampled_rss_mb']})",
         f"{ok('worker_peak_mb')} (< 1536 MB)"),
    ]
    width = max(len(a) for a, _, _ in rows)
    vwidth = max(len(b) for _, b, _ in rows)
    return "\n".join(f"{a:<{width}}  {b:>{vwidth}}  {c}" for a, b, c in rows)


def _options(r: dict) -> str:
    p = r["parameters"]
    out = " --quick" if p["tickets"] <= 1000 else ""
    if p.get("worker_processes", 1) != 1:
        out += f" --worker-processes {p['worker_processes']}"
    if p.get("tag"):
        out += f" --tag {p['tag']}"
    return out


def _ops(per: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in list(per["by_operation"].items())[:5])


ANALYSIS_MARKER = "<!-- analysis: kept across runs -->"


def markdown(r: dict, previous: str) -> str:
    e, p = r["environment"], r["parameters"]
    t, tr, live = r["tickets"], r["trivial"], r["live_at_end_of_starts"]
    hs = r["history_sample"]
    lines = [
        "# SLA benchmark: open tickets with live SLA timers on one worker and the dev server",
        "",
        f"Generated by `make bench` (`python -m bench.sla_bench{_options(r)}`) "
        f"on {e['date']}.",
        "",
        f"Machine: {e['nproc']} cores ({e['cpu']}), {e['ram_gb']} GB RAM; Python {e['python']}, temporalio "
        f"{e['temporalio']}, {e['temporal_cli']}; load average at start {e['load_avg_at_start']}.",
        "",
        f"Code under test: a snapshot of the tree taken at the start (newest file {r['code']['newest_mtime']}; "
        "sha256: " + ", ".join(f"`{k}` {v}" for k, v in r["code"]["sha256"].items()) + ").",
        "",
        f"Parameters: {p['tickets']} tickets, {p['trivial_starts']} trivial starts, client concurrency "
        f"{p['concurrency']}, database {p['database']}, {p['customers']} customers (tickets round-robin) with "
        f"response targets {p['response_minutes_per_customer']} min (24x7; resolution {p['resolution_minutes']} min), "
        f"escalation level `on_breach` of the response target with a `notify_webhook` action to a local receiver; "
        f"the first {p['escalating_customers']} customers' tickets escalate during the run; worker log level "
        f"{p['worker_log_level']}; worker processes {p.get('worker_processes', 1)}; "
        f"{p.get('warmup_tickets', 0)} warm-up tickets (a quiet customer of their own) before the measured starts.",
        "",
        "## Figures",
        "",
        "```",
        table(r),
        "```",
        "",
        "| target | value | pass |",
        "|---|---|---|",
        *(f"| {k} {v['target']} | {v['value']} | {'yes' if v['pass'] else '**no**'} |"
          for k, v in r["verdicts"].items()),
        "",
        f"Live timers at the end of the start phase ({t['duration_s']} s): {live['running_ticket_workflows']} ticket "
        f"workflows running, each waiting on a durable timer ({live['resolution_clocks_running']} resolution "
        f"clocks running); {live['response_timers_pending']} response timers still pending, "
        f"{live['escalations_delivered_during_starts']} escalations already delivered while tickets were being "
        f"started. Due instants spread over {r['escalations']['due_spread_s']} s.",
        "",
        "**How lateness is measured.** Due instant = `ticket_sla.due_at` of the response clock, written by the hub "
        "when the ticket starts (created_at + target on the 24x7 calendar). Fired instant = arrival of the "
        "notification's webhook POST at the receiver on 127.0.0.1 (first POST per `Idempotency-Key`, clock of the "
        "same machine). Also shown: the `at` of the ESCALATED ticket event (the workflow's time when it records the "
        "escalation, before it sends) and the outbox `sent_at`.",
        "",
        "### Where the time goes",
        "",
        f"CPU seconds during the ticket start phase ({t['cpu_s']['wall_s']} s wall, capacity "
        f"{t['cpu_s']['machine_capacity']} core-s): " + ", ".join(f"{k} {v}" for k, v in t["cpu_s"].items()
                                                                  if k not in ("wall_s", "machine_capacity")) + ".",
        f"Trivial phase ({tr['cpu_s']['wall_s']} s): " + ", ".join(
            f"{k} {v}" for k, v in tr["cpu_s"].items() if k not in ("wall_s", "machine_capacity")) + ".",
        f"Escalation tail ({r['escalation_phase_cpu_s']['wall_s']} s): " + ", ".join(
            f"{k} {v}" for k, v in r["escalation_phase_cpu_s"].items() if k not in ("wall_s", "machine_capacity"))
        + ".",
        "",
        f"Dev server persistence calls per start: trivial {tr['server_per_start']['persistence_requests']} "
        f"({_ops(tr['server_per_start'])}); "
        + (f"trivial update-with-start {uws['server_per_start']['persistence_requests']} "
           f"({_ops(uws['server_per_start'])}); " if (uws := r.get("trivial_update_with_start")) else "")
        + f"ticket {t['server_per_start']['persistence_requests']} "
        f"({_ops(t['server_per_start'])}), mean persistence latency "
        f"{t['server_per_start']['mean_persistence_latency_ms']} ms (the start phase includes the "
        f"{live['escalations_delivered_during_starts']} escalations due in it); after the start phase, per escalation "
        f"(with its 75 % warning wake): {r['escalation_tail_server_per_escalation']['persistence_requests']} "
        f"({_ops(r['escalation_tail_server_per_escalation'])}). Idle server: {r['server_idle_cpu_s_per_s']} CPU-s/s.",
        "",
        "Events in one ticket's history (start, 75 % warning wake, breach escalation): " + ", ".join(
            f"{k} {v}" for k, v in hs["event_types_of_one_ticket"].items()) + ".",
        "",
        f"Per ticket start, from {hs['histories']} sampled histories ({hs['events_per_ticket']} events in a ticket's "
        "history after its escalation); seconds after the workflow start, p50 / p99:",
        "",
        "| step | p50 | p99 |",
        "|---|---|---|",
        *(f"| {k} | {v['p50']} | {v['p99']} |" for k, v in hs["start_s_after_workflow_start"].items()),
        "",
        "Escalation steps, seconds after the due instant, p50 / p99 / max:",
        "",
        "| step | p50 | p99 | max |",
        "|---|---|---|---|",
        *(f"| {k} | {v['p50']} | {v['p99']} | {v['max']} |" for k, v in hs["escalation_s_after_due"].items()),
        "",
        "Worker (SDK metrics at the end; latencies in ms):",
        "",
        "```",
        json.dumps(r["worker_metrics_end"], indent=1),
        "```",
        "",
        *(["Worker profile (`--profile-worker`; share of busy thread samples; blocked in C counts as busy):", "", "```",
           *r["worker_profile"].splitlines()[:45], "```", ""] if r.get("worker_profile") else []),
        "Raw numbers: `results.json` next to this file.",
        "",
        ANALYSIS_MARKER,
    ]
    kept = previous.split(ANALYSIS_MARKER, 1)[1] if ANALYSIS_MARKER in previous else "\n"
    return "\n".join(lines) + kept


def run_from_snapshot(module: str = "bench.sla_bench", prefix: str = "sla-bench-") -> None:
    """Re-exec `python -m <module>` on a copy of the source tree, so that edits to the working tree during a long
    run cannot change the code under test (the worker processes import from the tree at start-up)."""
    if os.environ.get("BENCH_SNAPSHOT"):
        return
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    src = tmp / "src"
    results = shutil.ignore_patterns("__pycache__", "RESULTS*", "results*", "SOC_STORM*", "soc_storm*.json")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=results)
        else:
            shutil.copy2(path, src / name)
    # Like the Docker image and the LXC install: byte-compiled, so start-up loads bytecode.
    compileall.compile_dir(src, quiet=1)
    env = os.environ | {"BENCH_SNAPSHOT": str(src), "BENCH_TMP": str(tmp), "BENCH_OUT": str(HERE),
                        "PYTHONPATH": str(src)}
    os.chdir(src)
    os.execve(sys.executable, [sys.executable, "-m", module, *sys.argv[1:]], env)


def code_version() -> dict:
    """Short hashes of the code under test (the snapshot), to tell runs of different versions apart."""
    globs = ("workflows/tickets/*.py", "activities/tickets/*.py", "hub/tickets/*.py", "hub/temporal/tickets.py",
             "worker.py")
    files = sorted(str(p.relative_to(ROOT)) for g in globs for p in ROOT.glob(g))
    out = {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:12] for f in files if (ROOT / f).exists()}
    newest = max((ROOT / f).stat().st_mtime for f in out)
    return {"newest_mtime": datetime.fromtimestamp(newest, UTC).isoformat(timespec="seconds"), "sha256": out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['tickets']} tickets, all escalating (1, 2 min)")
    parser.add_argument("--trivial", type=int, default=0, help="trivial starts (default: tickets, <= 2000)")
    parser.add_argument("--concurrency", type=int, default=20, help="calls in flight, both phases")
    parser.add_argument("--response-minutes", default=None,
                        help=f"response targets of the escalating customers (default {FULL['response_minutes']})")
    parser.add_argument("--quiet-customers", type=int, default=None,
                        help=f"customers with {QUIET_RESPONSE_MINUTES} min targets (default {FULL['quiet_customers']})")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server to create a fresh database on")
    parser.add_argument("--worker-log-level", default="INFO")
    parser.add_argument("--grace", type=float, default=180, help="seconds to wait for escalations after the last due")
    parser.add_argument("--sample", type=int, default=40, help="histories to analyse")
    parser.add_argument("--profile-worker", action="store_true", help="sample the worker's Python threads")
    parser.add_argument("--worker-processes", type=int, default=1,
                        help="worker processes (more than 1: `psa worker --processes N`)")
    parser.add_argument("--tag", default="", help="write RESULTS-<tag>.md / results-<tag>.json (a variant run)")
    parser.add_argument("--render", action="store_true", help="only rewrite RESULTS.md from results.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    if args.render:
        suffix = f"-{args.tag}" if args.tag else "-quick" if args.quick else ""
        md_path = HERE / f"RESULTS{suffix}.md"
        md_path.write_text(markdown(json.loads((HERE / f"results{suffix}.json").read_text()), md_path.read_text()))
        return 0
    run_from_snapshot()
    if args.quick:
        args.tickets = QUICK["tickets"]
        args.response_minutes = args.response_minutes or QUICK["response_minutes"]
        args.quiet_customers = QUICK["quiet_customers"] if args.quiet_customers is None else args.quiet_customers
    args.response_minutes = args.response_minutes or FULL["response_minutes"]
    args.quiet_customers = FULL["quiet_customers"] if args.quiet_customers is None else args.quiet_customers
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    tmp = Path(os.environ["BENCH_TMP"])
    procs = Processes(tmp)
    ok = False
    log(f"working directory {tmp}")
    try:
        env = environment()
        with fresh_database(args.database_url, tmp) as db_url:
            try:
                result = asyncio.run(run(args, tmp, procs, db_url))
            finally:
                procs.stop_all()
        if (tmp / "worker-profile.txt").exists():
            result["worker_profile"] = (tmp / "worker-profile.txt").read_text()
        result = {"environment": env, "code": code_version()} | result
        result["verdicts"] = verdicts(result)
        suffix = f"-{args.tag}" if args.tag else "-quick" if args.quick else ""
        md_path, json_path = HERE / f"RESULTS{suffix}.md", HERE / f"results{suffix}.json"
        json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
        md_path.write_text(markdown(result, md_path.read_text() if md_path.exists() else ""))
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
            log(f"kept {tmp} (logs: server.log, worker.log, receiver.log)")


if __name__ == "__main__":
    sys.exit(main())
