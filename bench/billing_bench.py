"""The monthly billing run at size: N customers and M time entries, through Temporal and in one plain process.

    python -m bench.billing_bench [--quick] [--customers N] [--entries M] [--profile-worker] [--keep]

1. A fresh hub database (SQLite file in a temp dir, `hub.db.upgrade`): the seller, N customers with a billing
   profile (every 10th Austrian with a UID: reverse charge; every 10th with XRechnung, every 10th with ZUGFeRD, so
   XML is produced), one auto-approved contract each (no human step) with 2-3 monthly lines, rates for four activity
   types, weekend/after-hours surcharges on every 4th and an hour contingent on every 3rd, and M billable time
   entries spread over the month before (M/N per customer, on 5 tickets), written with bulk Core inserts.
2. Baseline, first (the run marks the entries billed, after it there is nothing left to compose): one plain Python
   process (a subprocess, so its peak memory is its own) computes the same outputs for the same database without
   Temporal: per customer `load_period` + `compose_draft` + tax cases + totals + the issued document + the PDF and
   the XML of its format (`render_files`, what the worker's render pool runs). It writes nothing.
3. The Temporal run: `temporal server start-dev` (SQLite file), one hub worker process (`bench.run_worker`), SMTP
   unset (the send activity logs "not mailed" and returns: no mail is built or sent, in the baseline neither),
   `billing-<month>` started with `hub.temporal.billing.start_run`, progress polled with `run_progress` until it
   has finished. Wall time from the start call to the run's result; peak RSS (VmHWM) of worker and server, RSS
   sampled every 0.5 s.
4. Checks: exactly N issued invoices, numbers gapless 1..N in the series, N PDFs and the expected XMLs stored, each
   invoice's gross total equal to the baseline's.

Writes bench/BILLING.md and bench/billing.json (--quick: BILLING-quick.md, billing-quick.json).
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert
from sqlmodel import Session, col, select

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
from domain.contracts.billing import BillingRunInput, DraftStatus, RunProgress, month_before
from domain.roles import Role
from domain.tickets import Priority, TicketStatus
from hub.db import make_engine, session_scope, upgrade
from hub.dev import DEV_SERVER_SQLITE_PRAGMAS, search_attribute_args, temporal_binary
from hub.temporal.billing import run_progress, start_run
from models import (
    Contract,
    ContractLine,
    CustomerBillingProfile,
    Invoice,
    InvoiceFile,
    SellerProfile,
    Tenant,
    Ticket,
    TimeEntry,
    User,
)
from models.billing import ChartOfAccounts, InvoiceFormat, Product
from models.contract import BillingCycle, LineUnit

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(os.environ.get("BENCH_OUT", ROOT / "bench"))
QUICK = {"customers": 100, "entries": 5_000}
FULL = {"customers": 2_000, "entries": 200_000}
TARGET_RATIO, TARGET_WALL_S = 3.0, 15 * 60
PREFIX = "RE"
ACTIVITIES = {"remote": "110.00", "onsite": "135.00", "project": "120.00", "emergency": "180.00"}
LINES = [("MS-WS", "Managed Workstation", LineUnit.DEVICE, "14.90"), ("MS-SRV", "Managed Server", LineUnit.SERVER,
         "89.00"), ("M365-BP", "Microsoft 365 Business Premium", LineUnit.LICENCE, "20.60")]  # fmt: skip
AT_UID = "ATU13585627"  # a valid Austrian UID: reverse charge to AT
BATCH = 2_000


# --- data --------------------------------------------------------------------------------------------------------


def _dump(obj) -> dict:  # noqa: ANN001
    """A table model's column values, its default factories applied (ids, timestamps), for a Core insert."""
    return obj.model_dump()


def bulk_insert(session: Session, model, rows: list[dict]) -> None:  # noqa: ANN001
    for i in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[i : i + BATCH])


def invoice_format(i: int) -> InvoiceFormat:
    return {3: InvoiceFormat.XRECHNUNG, 6: InvoiceFormat.ZUGFERD}.get(i % 10, InvoiceFormat.PDF)


def seed(engine: Engine, customers: int, entries: int, month: str) -> dict:
    """The seller, products, one technician, then per customer tenant, profile, contract, lines, tickets and time
    entries, in bulk. Returns the counts."""
    rnd = random.Random(42)
    year, mon = map(int, month.split("-"))
    first = date(year, mon, 1)
    days = ((first + timedelta(days=32)).replace(day=1) - first).days
    with session_scope(engine) as s:
        s.add(SellerProfile(
            id=1, legal_name="Muster IT-Service GmbH", street="Leopoldstraße 12", postal_code="80802", city="München",
            country="DE", vat_id="DE136695976", tax_number="181/815/08155",
            register_entry="Amtsgericht München HRB 123456", iban="DE89370400440532013000", bic="COBADEFFXXX",
            bank_name="Commerzbank", sepa_creditor_id="DE98ZZZ09999999999", invoice_number_prefix=PREFIX,
            credit_note_prefix=f"{PREFIX}G", invoice_number_digits=5, payment_terms_days=14,
            chart_of_accounts=ChartOfAccounts.SKR03, account_mapping=[], contact_name="Buchhaltung",
            contact_phone="+49 89 1234567", contact_email="rechnung@muster-it.example",
        ))  # fmt: skip
        for code, name, unit, price in LINES:
            s.add(Product(code=code, name=name, unit=unit, unit_price=Decimal(price),
                          billing_cycle=BillingCycle.MONTHLY,
                          revenue_type="managed_services" if code.startswith("MS") else "licences"))  # fmt: skip
        for code, price in ACTIVITIES.items():
            s.add(Product(code=code, name=f"Arbeitszeit {code}", unit=LineUnit.HOUR, unit_price=Decimal(price),
                          billing_cycle=BillingCycle.ONE_TIME, revenue_type="labour"))  # fmt: skip
        tech = User(email="tech@bench.example", display_name="Bench Tech", role=Role.MSP_TECH)
        s.add(tech)
        s.flush()
        tech_id = tech.id

    tenants, profiles, contracts, lines, tickets, time_rows = [], [], [], [], [], []
    per_customer = [entries // customers + (1 if i < entries % customers else 0) for i in range(customers)]
    now = datetime.now(UTC)
    for i in range(customers):
        austrian = i % 10 == 0
        number = f"K{i + 1:05d}"
        tz = "Europe/Vienna" if austrian else "Europe/Berlin"
        tenant = Tenant(name=f"Kunde {number} GmbH", customer_number=number, country="AT" if austrian else "DE",
                        subdivision="AT-9" if austrian else "DE-BY", time_zone=tz)  # fmt: skip
        tenants.append(_dump(tenant))
        profiles.append(_dump(CustomerBillingProfile(
            tenant_id=tenant.id, billing_name=tenant.name, street="Marienplatz 3",
            postal_code="1010" if austrian else "80331", city="Wien" if austrian else "München",
            country=tenant.country, billing_email=f"rechnung-{number.lower()}@kunde.example",
            vat_id=AT_UID if austrian else None, invoice_format=invoice_format(i),
        )))  # fmt: skip
        terms: dict = {"rates": dict(ACTIVITIES)}
        if i % 4 == 1:
            terms["surcharges"] = {"weekend": "50.00", "after_hours": "25.00", "holiday": "100.00"}
        contingent = None
        if i % 3 == 2:
            contingent = {"included_minutes": 600, "carry_over": "none", "activity_types": ["remote"]}
        contract = Contract(tenant_id=tenant.id, number=f"V-{number}", name="Managed Services",
                            start_date=date(year - 1, 1, 1), auto_approve=True, time_terms=terms,
                            contingent=contingent)  # fmt: skip
        contracts.append(_dump(contract))
        for code, description, unit, price in LINES[: 2 + i % 2]:
            lines.append(_dump(ContractLine(
                contract_id=contract.id, product_code=code, description=description, unit=unit,
                quantity=Decimal(rnd.randint(1, 4) if unit == LineUnit.SERVER else rnd.randint(5, 40)),
                unit_price=Decimal(price), billing_cycle=BillingCycle.MONTHLY, start_date=date(year - 1, 1, 1),
            )))  # fmt: skip
        ticket_ids = [uuid.uuid4() for _ in range(5)]
        for k, ticket_id in enumerate(ticket_ids):
            tickets.append({"id": ticket_id, "tenant_id": tenant.id, "number": f"T{i + 1:05d}-{k}",
                            "title": f"Support {k}", "description": "", "status": TicketStatus.OPEN,
                            "priority": Priority.P3, "created_at": now, "updated_at": now})  # fmt: skip
        zone = ZoneInfo(tz)
        for _ in range(per_customer[i]):
            # Mostly business hours on working days; some evenings and weekends, which carry surcharges.
            local = datetime(year, mon, rnd.randint(1, days), rnd.choice((7, 8, 9, 10, 11, 13, 14, 15, 16, 19)),
                             rnd.choice((0, 15, 30, 45)), tzinfo=zone)  # fmt: skip
            time_rows.append({"id": uuid.uuid4(), "ticket_id": rnd.choice(ticket_ids), "tenant_id": tenant.id,
                              "user_id": tech_id, "started_at": local.astimezone(UTC),
                              "minutes": rnd.choice((10, 15, 30, 45, 60, 90, 120)), "billable": True,
                              "activity_type": rnd.choice(("remote", "remote", "remote", "onsite", "project",
                                                           "emergency")),
                              "note": None, "created_at": now, "invoice_id": None})  # fmt: skip
    with session_scope(engine) as s:
        for model, rows in ((Tenant, tenants), (CustomerBillingProfile, profiles), (Contract, contracts),
                            (ContractLine, lines), (Ticket, tickets), (TimeEntry, time_rows)):  # fmt: skip
            bulk_insert(s, model, rows)
    formats = Counter(p["invoice_format"].value for p in profiles)
    return {"customers": customers, "time_entries": len(time_rows), "contract_lines": len(lines),
            "tickets": len(tickets), "austrian": sum(t["country"] == "AT" for t in tenants),
            "contingents": sum(c["contingent"] is not None for c in contracts),
            "surcharge_contracts": sum("surcharges" in c["time_terms"] for c in contracts),
            "formats": dict(formats)}  # fmt: skip


# --- baseline ----------------------------------------------------------------------------------------------------


def baseline(db_url: str, month_text: str, out: str) -> None:
    """The same outputs without Temporal, in this process: per customer what the compose, issue and render
    activities compute (the production functions), nothing written. Totals and file counts go to `out`."""
    from activities.billing.compose_data import load_period
    from activities.billing.drafts import apply_totals, tax_cases
    from activities.billing.issue import BillingIssueActivities, format_number
    from documents.invoice_files import render_files
    from domain.billing.compose import compose_draft
    from domain.billing.recurring import BillingMonth
    from domain.billing.stored import line_to_dict
    from domain.contracts.billing import InvoiceKind, local_day

    t0 = time.perf_counter()
    engine = make_engine(db_url)
    month = BillingMonth.parse(month_text)
    issue_date = local_day(datetime.now(UTC))
    with Session(engine) as s:
        seller = s.get(SellerProfile, 1)
        customers = s.exec(
            select(Tenant, CustomerBillingProfile)
            .join(CustomerBillingProfile, col(CustomerBillingProfile.tenant_id) == Tenant.id)
            .order_by(Tenant.customer_number)
        ).all()
        s.expunge_all()
    totals, files, sizes, problems, line_count = {}, Counter(), Counter(), 0, 0
    for n, (tenant, profile) in enumerate(customers, 1):
        with Session(engine) as s:  # one short read transaction per customer, like the compose activity
            period = load_period(s, tenant.id, month, 0)
            composition = compose_draft(period)
            problems += len(composition.problems)
            row = Invoice(id=uuid.uuid4(), tenant_id=tenant.id, customer_number=tenant.customer_number,
                          kind=InvoiceKind.INVOICE, period=str(month), status=DraftStatus.APPROVED,
                          currency=period.currency, lines=[line_to_dict(line) for line in composition.lines],
                          document={"tax_cases": tax_cases(seller, profile, month.last)})  # fmt: skip
            apply_totals(row)
            line_count += len(row.lines)
            number = format_number(PREFIX, issue_date.year, n, seller.invoice_number_digits)
            doc = BillingIssueActivities._document(s, row, seller, profile, number, issue_date)
        for kind, _name, _media, content in render_files(doc, profile.invoice_format.value):
            files[kind] += 1
            sizes[kind] += len(content)
        totals[tenant.customer_number] = str(row.gross_total)
    wall = time.perf_counter() - t0
    Path(out).write_text(json.dumps({
        "wall_s": round(wall, 2), "customers": len(customers), "lines": line_count, "problems": problems,
        "files": dict(files), "bytes": dict(sizes), "vmhwm_kb": proc_status(os.getpid(), "VmHWM"),
        "cpu_s": round(proc_cpu(os.getpid()), 1), "totals": totals,
    }))  # fmt: skip


def run_baseline(db_url: str, month: str, tmp: Path) -> dict:
    out = tmp / "baseline.json"
    t0, busy0 = time.perf_counter(), machine_busy()
    subprocess.run([sys.executable, "-m", "bench.billing_bench", "--baseline", db_url, month, str(out)], check=True,
                   env=os.environ | {"PSA_LOG_LEVEL": "WARNING"})  # fmt: skip
    result = json.loads(out.read_text())
    result["process_wall_s"] = round(time.perf_counter() - t0, 2)  # with interpreter start and imports
    # CPU of all processes on the machine meanwhile: other work on a shared machine shows up here
    result["machine_busy_cpu_s"] = round(machine_busy() - busy0, 1)
    return result


# --- Temporal run ------------------------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | extra


class Memory:
    """Samples RSS and CPU of named processes every half second."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.max_rss_kb: Counter[str] = Counter()
        self.samples: list[dict] = []

    async def run(self) -> None:
        t0 = time.time()
        while True:
            row: dict = {"t": round(time.time() - t0, 1)}
            for name, pid in self.pids.items():
                rss = proc_status(pid, "VmRSS")
                self.max_rss_kb[name] = max(self.max_rss_kb[name], rss)
                row[f"{name}_rss_mb"] = round(rss / 1024, 1)
                row[f"{name}_cpu_s"] = round(proc_cpu(pid, children=name == "worker"), 1)
            self.samples.append(row)
            await asyncio.sleep(0.5)


async def temporal_run(args: argparse.Namespace, tmp: Path, procs: Processes, db_url: str, month: str) -> dict:
    port = free_port()
    address = f"127.0.0.1:{port}"
    server_args = [temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
                   "--db-filename", str(tmp / "temporal.db"), *DEV_SERVER_SQLITE_PRAGMAS, "--log-level", "error",
                   *search_attribute_args()]
    server = procs.spawn("server", server_args)
    client = await connect_when_ready(procs, address)
    workers = []
    for n in range(args.workers):  # more processes: each its own core and GIL (production may run several)
        name = "worker" if n == 0 else f"worker{n + 1}"
        workers.append(procs.spawn(name, [sys.executable, "-m", "bench.run_worker"], env=clean_env(
            PSA_TEMPORAL_ADDRESS=address, PSA_TEMPORAL_NAMESPACE="default", PSA_DATABASE_URL=db_url,
            PSA_DATA_DIR=str(tmp), PSA_LOG_LEVEL="INFO", PSA_LOG_FORMAT="json", PSA_SMTP_HOST="",
            **({"BENCH_PROFILE": str(tmp / f"{name}-profile.txt")} if args.profile_worker else {}))))  # fmt: skip
        await procs.wait_for_line(name, "worker started")
    worker = workers[0]
    memory = Memory({"worker": worker.pid, "server": server.pid})
    sampling = asyncio.create_task(memory.run())

    def workers_cpu() -> float:  # with their render pools' processes (children, alive until the workers stop)
        return sum(proc_cpu(w.pid, children=True) for w in workers)

    def workers_own_cpu() -> float:  # without the render processes
        return sum(proc_cpu(w.pid) for w in workers)

    cpu0 = {"worker": workers_cpu(), "worker_own": workers_own_cpu(), "server": proc_cpu(server.pid),
            "machine": machine_busy()}  # fmt: skip
    progress_log = []
    try:
        t0 = time.perf_counter()
        workflow_id = await start_run(client, BillingRunInput(month=month))

        async def poll() -> None:  # progress as finance sees it; the wall time is taken from the result
            while True:
                await asyncio.sleep(2)
                procs.check()
                progress, status = await run_progress(client, month)
                progress_log.append({"t": round(time.perf_counter() - t0, 1), "issued": progress.issued,
                                     "failed": progress.failed, "drafted": progress.drafted})  # fmt: skip
                if len(progress_log) % 15 == 0:
                    log(f"  {progress_log[-1]}")
                if status != "running" or progress.finished:
                    return

        polling = asyncio.create_task(poll())
        result = await client.get_workflow_handle(workflow_id, result_type=RunProgress).result()
        wall = time.perf_counter() - t0
        polling.cancel()
        cpu = {"worker": round(workers_cpu() - cpu0["worker"], 1),
               "worker_own": round(workers_own_cpu() - cpu0["worker_own"], 1),
               "server": round(proc_cpu(server.pid) - cpu0["server"], 1),
               "machine_busy": round(machine_busy() - cpu0["machine"], 1)}  # fmt: skip
        peak = {name: proc_status(pid, "VmHWM") for name, pid in memory.pids.items()}
    finally:
        sampling.cancel()
    return {
        "workflow_id": workflow_id, "wall_s": round(wall, 2), "cpu_s": cpu,
        "result": {k: getattr(result, k) for k in ("total", "issued", "failed", "drafted", "rejected", "nothing")},
        "worker_vmhwm_mb": round(peak["worker"] / 1024, 1), "server_vmhwm_mb": round(peak["server"] / 1024, 1),
        "worker_max_rss_mb": round(memory.max_rss_kb["worker"] / 1024, 1),
        "server_max_rss_mb": round(memory.max_rss_kb["server"] / 1024, 1),
        "progress": progress_log[:: max(1, len(progress_log) // 60)],
        "samples": memory.samples[:: max(1, len(memory.samples) // 120)],
    }  # fmt: skip


def check(engine: Engine, customers: int, formats: dict, base_totals: dict[str, str]) -> dict:
    """Exactly N issued invoices, numbers gapless 1..N in one series and year, the files, and the totals."""
    with Session(engine) as s:
        issued = s.exec(select(Invoice).where(Invoice.status == DraftStatus.ISSUED)).all()
        by_status = dict(s.exec(select(Invoice.status, func.count()).group_by(Invoice.status)).all())
        files = dict(s.exec(select(InvoiceFile.kind, func.count()).group_by(InvoiceFile.kind)).all())
        unbilled = s.exec(select(func.count()).select_from(TimeEntry).where(col(TimeEntry.invoice_id).is_(None))).one()
    sequences = sorted(int(row.number.rsplit("-", 1)[1]) for row in issued)
    series = {(row.series, row.fiscal_year) for row in issued}
    xml_expected = formats.get("xrechnung", 0) + formats.get("zugferd", 0)
    mismatched = [row.customer_number for row in issued if base_totals.get(row.customer_number) != str(row.gross_total)]
    out = {
        "issued": len(issued), "by_status": {getattr(k, "value", k): v for k, v in by_status.items()},
        "gapless": sequences == list(range(1, customers + 1)), "series": sorted(f"{a}/{b}" for a, b in series),
        "first_last": [min((r.number for r in issued), default=None), max((r.number for r in issued), default=None)],
        "files": files, "xml_expected": xml_expected, "unbilled_time_entries": unbilled,
        "totals_equal_baseline": not mismatched and len(issued) == len(base_totals),
        "totals_mismatched": mismatched[:10], "gross_sum": str(sum((r.gross_total for r in issued), Decimal(0))),
    }  # fmt: skip
    out["pass"] = (out["issued"] == customers and out["gapless"] and len(series) == 1
                   and files.get("pdf") == customers and files.get("xml", 0) == xml_expected
                   and out["totals_equal_baseline"] and unbilled == 0)  # fmt: skip
    return out


def code_version() -> dict:
    """Short hashes of the billing code under test (the snapshot), to tell runs of different versions apart."""
    globs = ("workflows/billing/*.py", "activities/billing/*.py", "domain/billing/compose.py", "documents/*.py",
             "hub/temporal/billing.py", "worker.py")
    files = sorted(str(p.relative_to(ROOT)) for g in globs for p in ROOT.glob(g))
    return {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:12] for f in files}


# --- report ------------------------------------------------------------------------------------------------------


def verdicts(r: dict) -> dict:
    ratio = r["temporal"]["wall_s"] / r["baseline"]["wall_s"]
    return {
        "ratio": {"value": round(ratio, 2), "target": f"<= {TARGET_RATIO:g}", "pass": ratio <= TARGET_RATIO},
        "run_wall_s": {"value": r["temporal"]["wall_s"], "target": f"< {TARGET_WALL_S} s (15 min)",
                       "pass": r["temporal"]["wall_s"] < TARGET_WALL_S},
        "correct": {"value": r["check"]["pass"], "target": "N issued, gapless, files, totals = baseline",
                    "pass": r["check"]["pass"]},
    }  # fmt: skip


def markdown(r: dict, previous: str) -> str:
    env, p, t, b, c, v = r["environment"], r["data"], r["temporal"], r["baseline"], r["check"], r["verdicts"]
    n, workers = p["customers"], r.get("workers", 1)
    processes = "One worker process" if workers == 1 else f"{workers} worker processes"

    def ok(key: str) -> str:
        return "PASS" if v[key]["pass"] else "FAIL"

    lines = [
        "# Billing run benchmark: the monthly run through Temporal vs. one plain Python process",
        "",
        f"Generated by `python -m bench.billing_bench{' --quick' if r['quick'] else ''}"
        f"{f' --workers {workers}' if workers > 1 else ''}` on {env['date']}.",
        "",
        f"Machine: {env['nproc']} cores ({env['cpu']}), {env['ram_gb']} GB RAM; Python {env['python']}, temporalio "
        f"{env['temporalio']}, {env['temporal_cli']}, SQLAlchemy {env['sqlalchemy']}; load average at start "
        f"{tuple(round(x, 2) for x in env['load_avg_at_start'])}.",
        "",
        "Databases: hub on a fresh SQLite file (`hub.db.upgrade`); the dev server on its own SQLite file "
        f"(`temporal server start-dev`, the hub's pragmas). {processes} "
        "(`bench.run_worker` = `worker.main()`; peak RSS: the first one, CPU: all of them with their render "
        "processes). "
        "SMTP unset: the send activity runs, finds no server and returns without mailing (the baseline mails "
        "neither).",
        "",
        f"Data (month {r['month']}): {n} customers ({p['austrian']} Austrian with UID: reverse charge; formats "
        f"{p['formats']}), one auto-approved contract each with {p['contract_lines']} monthly lines in all, rates "
        f"for 4 activity types, surcharges on {p['surcharge_contracts']} contracts and an hour contingent on "
        f"{p['contingents']}; {p['time_entries']} billable time entries on {p['tickets']} tickets. Seeded with bulk "
        f"inserts in {r['seed_s']} s.",
        "",
        "## Figures",
        "",
        "```",
        f"{'Temporal run wall time (start_run -> result)':<58}{t['wall_s']:>10.1f} s   {ok('run_wall_s')} (< 15 min)",
        f"{'baseline wall time (one process, compose..render)':<58}{b['wall_s']:>10.1f} s",
        f"{'  ... with interpreter start and imports':<58}{b['process_wall_s']:>10.1f} s",
        f"{'ratio Temporal / baseline':<58}{v['ratio']['value']:>10.2f}     {ok('ratio')} (<= 3)",
        f"{'throughput Temporal / baseline (customers per s)':<58}"
        f"{n / t['wall_s']:>5.1f} / {n / b['wall_s']:.1f}",
        f"{'worker peak RSS (VmHWM; max sampled RSS) MB':<58}{t['worker_vmhwm_mb']:>10.1f} ({t['worker_max_rss_mb']})",
        f"{'dev server peak RSS (VmHWM) MB':<58}{t['server_vmhwm_mb']:>10.1f}",
        f"{'baseline peak RSS (VmHWM) MB':<58}{b['vmhwm_kb'] / 1024:>10.1f}",
        f"{'CPU s: worker / dev server / baseline':<58}{t['cpu_s']['worker']} / {t['cpu_s']['server']} / {b['cpu_s']}",
        f"{'  ... of the worker: own process / render processes':<58}{t['cpu_s'].get('worker_own', '-')} / "
        f"{round(t['cpu_s']['worker'] - t['cpu_s'].get('worker_own', t['cpu_s']['worker']), 1)}",
        f"{'CPU s of the whole machine: during the run / the baseline':<58}{t['cpu_s']['machine_busy']} / "
        f"{b['machine_busy_cpu_s']}",
        f"{'issued invoices / customers':<58}{c['issued']:>5} / {n}     gapless {c['gapless']} {c['first_last']}",
        f"{'files stored: pdf / xml (expected xml)':<58}{c['files'].get('pdf', 0)} / {c['files'].get('xml', 0)} "
        f"({c['xml_expected']})",
        f"{'gross totals equal to the baseline per customer':<58}{c['totals_equal_baseline']!s:>10}   "
        f"{ok('correct')}",
        "```",
        "",
        "| target | value | pass |",
        "|---|---|---|",
        *(f"| {k} {x['target']} | {x['value']} | {'yes' if x['pass'] else '**no**'} |" for k, x in v.items()),
        "",
        f"Run result: {t['result']}; invoices by status {c['by_status']}; time entries left unbilled "
        f"{c['unbilled_time_entries']}; sum of gross totals {c['gross_sum']} EUR. Baseline: {b['lines']} invoice "
        f"lines, {b['problems']} problems, files {b['files']}, bytes {b['bytes']}.",
        "",
    ]
    if r.get("worker_profile"):
        lines += ["Worker profile (sampled every 10 ms, busy threads):", "", "```", r["worker_profile"].strip(), "```",
                  ""]
    lines += ["Raw numbers (progress and memory samples): the JSON next to this file.", "", ANALYSIS_MARKER]
    kept = previous.split(ANALYSIS_MARKER, 1)[1] if ANALYSIS_MARKER in previous else "\n"
    return "\n".join(lines) + kept


ANALYSIS_MARKER = "<!-- analysis: kept when the figures are regenerated -->"


def main() -> int:
    if sys.argv[1:2] == ["--baseline"]:
        baseline(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['customers']} customers, {QUICK['entries']} "
                        "time entries")  # fmt: skip
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--month", default=None, help="YYYY-MM (default: the month before, as the schedule)")
    parser.add_argument("--profile-worker", action="store_true", help="sample the worker's Python threads")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (CPU figures: all of them)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    run_from_snapshot("bench.billing_bench", "billing-bench-")
    size = QUICK if args.quick else FULL
    args.customers = args.customers or size["customers"]
    args.entries = args.entries or size["entries"]
    month = args.month or month_before(datetime.now(UTC))
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
        data = seed(engine, args.customers, args.entries, month)
        seed_s = round(time.perf_counter() - t0, 1)
        log(f"seeded {data} in {seed_s} s")
        base = run_baseline(db_url, month, tmp)
        log(f"baseline: {base['wall_s']} s, {base['vmhwm_kb'] // 1024} MB, files {base['files']}")
        try:
            temporal = asyncio.run(temporal_run(args, tmp, procs, db_url, month))
        finally:
            procs.stop_all()
        log(f"temporal run: {temporal['wall_s']} s, worker {temporal['worker_vmhwm_mb']} MB")
        result = {"environment": env, "code": code_version(), "quick": args.quick, "workers": args.workers,
                  "month": month, "seed_s": seed_s,
                  "data": data, "baseline": {k: x for k, x in base.items() if k != "totals"}, "temporal": temporal,
                  "check": check(engine, args.customers, data["formats"], base["totals"])}  # fmt: skip
        if (tmp / "worker-profile.txt").exists():
            result["worker_profile"] = (tmp / "worker-profile.txt").read_text()
        result["verdicts"] = verdicts(result)
        suffix = "-quick" if args.quick else ""
        md_path, json_path = HERE / f"BILLING{suffix}.md", HERE / f"billing{suffix}.json"
        json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
        md_path.write_text(markdown(result, md_path.read_text() if md_path.exists() else ""))
        log(f"verdicts: {json.dumps(result['verdicts'])}")
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
            log(f"kept {tmp} (logs: server.log, worker.log)")


if __name__ == "__main__":
    sys.exit(main())
