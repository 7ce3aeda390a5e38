"""The quarterly QBR run at size: N customers (default 500) through Temporal, as the schedule starts it.

    python -m bench.qbr_batch_bench [--customers N] [--tickets T] [--devices D] [--quarter 2026Q3] [--keep]

1. A fresh hub database (SQLite file in a temp dir, `hub.db.upgrade`): N customers with a contract, T tickets in
   the quarter and T in the quarter before (each with a response and a resolution SLA outcome), D devices with an
   operating system and a warranty end, written with bulk Core inserts.
2. `temporal server start-dev` (SQLite file), one hub worker process (`bench.run_worker`), SMTP unset; the run
   `qbr-run-<quarter>` started with `hub.temporal.qbr.start_qbr_run` (what the quarterly schedule's tick starts):
   one child per customer that loads both quarters' facts, computes the KPIs and renders the PowerPoint and the PDF
   deck. Wall time from the start call to the run's result; peak RSS (VmHWM) of worker and server, CPU of both.
3. Checks: every customer done, none failed, two stored files per customer (PPTX and PDF).

Targets (issue: QBR build): the batch under 15 minutes on the 2-core machine; one deck under 3 s (bench.qbr_bench
times one deck at 2,000 tickets; here the seconds per deck of the batch, Temporal and the database included).
Writes bench/QBR_BATCH.md and bench/qbr_batch.json.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bench.billing_bench import Memory, bulk_insert, clean_env
from bench.sla_bench import (
    Processes,
    connect_when_ready,
    environment,
    free_port,
    log,
    machine_busy,
    proc_cpu,
    proc_status,
    run_from_snapshot,
)
from domain.contracts.qbr import QbrRunInput, QbrRunProgress
from domain.qbr.quarter import Quarter
from domain.tickets import Priority, TicketStatus
from hub.db import make_engine, session_scope, upgrade
from hub.dev import DEV_SERVER_SQLITE_PRAGMAS, search_attribute_args, temporal_binary
from hub.temporal.qbr import qbr_run_progress, start_qbr_run
from models import Asset, Contract, Tenant, Ticket, TicketSla
from models.asset import AssetType
from models.qbr import QbrFile

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(os.environ.get("BENCH_OUT", ROOT / "bench"))
TARGET_WALL_S, TARGET_DECK_S = 15 * 60, 3.0
OPERATING_SYSTEMS = ["Windows 11 Pro 23H2", "Windows 10 Pro 22H2", "Windows Server 2019 Standard", "Ubuntu 22.04 LTS"]
DEVICE_TYPES = [AssetType.WORKSTATION, AssetType.WORKSTATION, AssetType.LAPTOP, AssetType.SERVER]
CATEGORIES = ["Netzwerk", "Drucker", "E-Mail", "Benutzer", "Hardware", None]


def seed(engine: Engine, customers: int, tickets: int, devices: int, quarter: Quarter) -> dict:
    rnd = random.Random(7)
    now = datetime.now(UTC)
    tenants, contracts, ticket_rows, sla_rows, assets = [], [], [], [], []
    for i in range(customers):
        number = f"K{i + 1:05d}"
        tenant = Tenant(name=f"Kunde {number} GmbH", customer_number=number, country="DE", subdivision="DE-BY",
                        time_zone="Europe/Berlin")  # fmt: skip
        tenants.append(tenant.model_dump())
        contracts.append(Contract(tenant_id=tenant.id, number=f"V-{number}", name="Managed Services",
                                  start_date=date(2020, 1, 1)).model_dump())  # fmt: skip
        for q in (quarter.previous(), quarter):
            start, end = q.bounds("Europe/Berlin")
            span = (end - start).total_seconds()
            for k in range(tickets):
                created = start + timedelta(seconds=rnd.uniform(0, span * 0.97))
                resolved = created + timedelta(hours=rnd.uniform(0.5, 48)) if rnd.random() < 0.9 else None
                ticket_id = uuid.uuid4()
                ticket_rows.append({
                    "id": ticket_id, "tenant_id": tenant.id, "number": f"{number}-{q}-{k}", "title": f"Störung {k}",
                    "description": "", "status": TicketStatus.CLOSED if resolved else TicketStatus.OPEN,
                    "priority": rnd.choice(list(Priority)), "category": rnd.choice(CATEGORIES),
                    "created_at": created, "updated_at": resolved or created, "resolved_at": resolved,
                    "closed_at": resolved,
                })  # fmt: skip
                for kind, target, stopped in (("response", 240, created + timedelta(minutes=rnd.uniform(5, 300))),
                                              ("resolution", 960, resolved)):  # fmt: skip
                    if stopped is None:
                        continue
                    used = int((stopped - created).total_seconds())
                    sla_rows.append({
                        "ticket_id": ticket_id, "kind": kind, "tenant_id": tenant.id, "target_minutes": target,
                        "state": "met" if used <= target * 60 else "missed", "due_at": created + timedelta(
                            minutes=target), "used_seconds": used, "paused_seconds": 0, "customer_it_seconds": 0,
                        "running_since": None, "stopped_at": stopped, "cycle": 0, "met": used <= target * 60,
                        "diff_minutes": target - used // 60, "updated_at": stopped,
                    })  # fmt: skip
        for d in range(devices):
            assets.append(Asset(tenant_id=tenant.id, hostname=f"{number.lower()}-pc{d:03d}",
                                asset_type=DEVICE_TYPES[d % len(DEVICE_TYPES)], os=rnd.choice(OPERATING_SYSTEMS),
                                agent_uuid=uuid.uuid4().hex if rnd.random() < 0.95 else None,
                                warranty_end=date(2026, 1, 1) + timedelta(days=rnd.randint(0, 1400)),
                                created_at=now).model_dump())  # fmt: skip
    with session_scope(engine) as s:
        for model, rows in ((Tenant, tenants), (Contract, contracts), (Ticket, ticket_rows), (TicketSla, sla_rows),
                            (Asset, assets)):  # fmt: skip
            bulk_insert(s, model, rows)
    return {"customers": customers, "tickets": len(ticket_rows), "sla_outcomes": len(sla_rows), "devices": len(assets)}


async def run(args: argparse.Namespace, tmp: Path, procs: Processes, db_url: str) -> dict:
    port = free_port()
    address = f"127.0.0.1:{port}"
    server = procs.spawn("server", [temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                                    "--port", str(port), "--db-filename", str(tmp / "temporal.db"),
                                    *DEV_SERVER_SQLITE_PRAGMAS, "--log-level", "error", *search_attribute_args()])
    client = await connect_when_ready(procs, address)
    worker = procs.spawn("worker", [sys.executable, "-m", "bench.run_worker"], env=clean_env(
        PSA_TEMPORAL_ADDRESS=address, PSA_TEMPORAL_NAMESPACE="default", PSA_DATABASE_URL=db_url,
        PSA_DATA_DIR=str(tmp), PSA_LOG_LEVEL="INFO", PSA_LOG_FORMAT="json", PSA_SMTP_HOST=""))
    await procs.wait_for_line("worker", "worker started", timeout=90)
    memory = Memory({"worker": worker.pid, "server": server.pid})
    sampling = asyncio.create_task(memory.run())
    cpu0 = {"worker": proc_cpu(worker.pid), "server": proc_cpu(server.pid), "machine": machine_busy()}
    progress_log: list[dict] = []
    try:
        t0 = time.perf_counter()
        workflow_id = await start_qbr_run(client, QbrRunInput(quarter=args.quarter))

        async def poll() -> None:
            while True:
                await asyncio.sleep(5)
                procs.check()
                progress, status = await qbr_run_progress(client, args.quarter)
                progress_log.append({"t": round(time.perf_counter() - t0, 1), "done": progress.done,
                                     "failed": progress.failed, "total": progress.total})  # fmt: skip
                if len(progress_log) % 6 == 0:
                    log(f"  {progress_log[-1]}")
                if status != "running":
                    return

        polling = asyncio.create_task(poll())
        result = await client.get_workflow_handle(workflow_id, result_type=QbrRunProgress).result()
        wall = time.perf_counter() - t0
        polling.cancel()
        cpu = {"worker": round(proc_cpu(worker.pid) - cpu0["worker"], 1),
               "server": round(proc_cpu(server.pid) - cpu0["server"], 1),
               "machine_busy": round(machine_busy() - cpu0["machine"], 1)}  # fmt: skip
        peak = {name: proc_status(pid, "VmHWM") for name, pid in memory.pids.items()}
    finally:
        sampling.cancel()
    return {"workflow_id": workflow_id, "wall_s": round(wall, 1), "cpu_s": cpu,
            "result": {"total": result.total, "done": result.done, "failed": result.failed},
            "worker_vmhwm_mb": round(peak["worker"] / 1024, 1), "server_vmhwm_mb": round(peak["server"] / 1024, 1),
            "progress": progress_log[:: max(1, len(progress_log) // 40)]}  # fmt: skip


def stored_files(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        rows = s.exec(select(QbrFile.kind, func.count()).group_by(QbrFile.kind)).all()
    return dict(rows)


def markdown(r: dict) -> str:
    t, d = r["temporal"], r["data"]
    per_deck = t["wall_s"] / max(1, t["result"]["done"])
    rows = [("batch wall time (start -> result)", f"{t['wall_s']} s", t["wall_s"] < TARGET_WALL_S, "< 15 min"),
            ("seconds per deck in the batch (wall / customers)", f"{per_deck:.2f} s", per_deck < TARGET_DECK_S,
             "< 3 s")]  # fmt: skip
    env = r["environment"]
    lines = [
        "# QBR batch benchmark: the quarterly run for every customer through Temporal",
        "",
        f"Generated by `python -m bench.qbr_batch_bench` on {r['generated']}.",
        "",
        f"Machine: {env['nproc']} cores ({env['cpu']}), {env['ram_gb']} GB RAM; Python {env['python']}, temporalio "
        f"{env['temporalio']}, {env['temporal_cli']}; load average at start {env['load_avg_at_start']}.",
        "",
        f"Data (quarter {r['quarter']}): {d['customers']} customers, {d['tickets']} tickets over this and the "
        f"previous quarter, {d['sla_outcomes']} SLA outcomes, {d['devices']} devices. Hub on SQLite, the dev server "
        "on its own SQLite file, one worker process.",
        "",
        "| figure | value | target | pass |",
        "|---|---|---|---|",
        *[f"| {name} | {value} | {target} | {'yes' if ok else '**no**'} |" for name, value, ok, target in rows],
        f"| customers done / failed | {t['result']['done']} / {t['result']['failed']} | all / 0 | "
        f"{'yes' if t['result']['failed'] == 0 and t['result']['done'] == d['customers'] else '**no**'} |",
        f"| files stored: pptx / pdf | {r['files'].get('pptx', 0)} / {r['files'].get('pdf', 0)} | "
        f"{d['customers']} each | "
        f"{'yes' if min(r['files'].get('pptx', 0), r['files'].get('pdf', 0)) >= d['customers'] else '**no**'} |",
        "",
        f"CPU seconds during the run: worker {t['cpu_s']['worker']}, dev server {t['cpu_s']['server']}, whole machine "
        f"{t['cpu_s']['machine_busy']}. Peak RSS (VmHWM): worker {t['worker_vmhwm_mb']} MB, dev server "
        f"{t['server_vmhwm_mb']} MB.",
        "",
        "Raw numbers (progress over time): `qbr_batch.json` next to this file.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=None, help="default 500 (--quick: 50)")
    parser.add_argument("--quick", action="store_true", help="50 customers (QBR_BATCH-quick.md)")
    parser.add_argument("--tickets", type=int, default=40, help="tickets per customer and quarter")
    parser.add_argument("--devices", type=int, default=30, help="devices per customer")
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--tag", default="", help="write QBR_BATCH-<tag>.md / qbr_batch-<tag>.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    run_from_snapshot("bench.qbr_batch_bench", "qbr-batch-bench-")
    args.customers = args.customers or (50 if args.quick else 500)
    args.tag = args.tag or ("quick" if args.quick else "")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    tmp = Path(os.environ["BENCH_TMP"])
    procs = Processes(tmp)
    ok = False
    log(f"working directory {tmp}")
    try:
        env = environment()
        db_url = f"sqlite:///{tmp / 'hub.db'}"
        upgrade(db_url)
        engine = make_engine(db_url)
        t0 = time.perf_counter()
        data = seed(engine, args.customers, args.tickets, args.devices, Quarter.parse(args.quarter))
        log(f"seeded {data} in {time.perf_counter() - t0:.1f} s")
        try:
            temporal = asyncio.run(run(args, tmp, procs, db_url))
        finally:
            procs.stop_all()
        log(f"run: {temporal['wall_s']} s, {temporal['result']}, worker {temporal['worker_vmhwm_mb']} MB")
        result = {"generated": datetime.now(UTC).isoformat(timespec="seconds"), "environment": env,
                  "quarter": args.quarter, "data": data, "temporal": temporal, "files": stored_files(engine)}
        suffix = f"-{args.tag}" if args.tag else ""
        (HERE / f"qbr_batch{suffix}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
        (HERE / f"QBR_BATCH{suffix}.md").write_text(markdown(result))
        log(f"wrote {HERE / f'QBR_BATCH{suffix}.md'}")
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
            log(f"kept {tmp} (logs: server.log, worker.log)")


if __name__ == "__main__":
    sys.exit(main())
