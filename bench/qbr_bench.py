"""One QBR deck at size: a customer with N tickets (default 2,000) in the quarter and as many in the quarter before,
two SLA outcomes per ticket, 300 devices (with their OS), 8 licence products, 60 SOC incidents and 20 vCIO
entries.

    python -m bench.qbr_bench [--tickets N] [--devices M] [--repeat R]

Times the pure steps the QBR workflow and its deck activity run, in one process: the KPIs of both quarters
(`compute_kpis`, what the workflow computes), the PowerPoint (`render_qbr_pptx`) and the PDF (`render_qbr_pdf`),
best and median of R repeats; and the size of the facts as JSON (the activity results in the workflow's history).
The rows are counted into the facts (domain/qbr/aggregate.py, what the facts activity does) before the timing; the
database reads and the Temporal round trips are not in it. Writes bench/QBR.md and bench/qbr.json."""

import argparse
import json
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from domain.qbr.aggregate import facts_from_rows
from domain.qbr.facts import (
    ContractLineFact,
    DeviceFact,
    IncidentFact,
    LicenceFact,
    QbrFacts,
    SlaFact,
    TicketFact,
)
from domain.qbr.kpis import compute_kpis
from domain.qbr.quarter import Quarter
from domain.qbr.vcio import VcioEntry, VcioKind

HERE = Path(__file__).parent
CATEGORIES = ["Netzwerk", "Drucker", "E-Mail", "Benutzer", "Hardware", "Software", "VPN", None]
OPERATING_SYSTEMS = ["Microsoft Windows 10 Pro (10.0.19045)", "Windows 11 Pro 23H2", "Windows 11 Enterprise 24H2",
                     "Windows Server 2016 Standard", "Ubuntu 22.04 LTS", None]  # fmt: skip


def facts(quarter: Quarter, tickets: int, devices: int, rng: random.Random) -> QbrFacts:
    start, end = quarter.bounds("Europe/Berlin")
    span = (end - start).total_seconds()
    rows, sla = [], []
    for _ in range(tickets):
        created = start + timedelta(seconds=rng.uniform(0, span * 0.98))
        resolved = created + timedelta(hours=rng.uniform(0.2, 72)) if rng.random() < 0.9 else None
        reopens = [resolved - timedelta(hours=0.1)] if resolved and rng.random() < 0.05 else []
        rows.append(TicketFact(priority=rng.choice(["P1", "P2", "P3", "P3", "P4"]), category=rng.choice(CATEGORIES),
                               created_at=created, resolved_at=resolved, resolutions=[resolved] if resolved else [],
                               reopens=reopens))  # fmt: skip
        sla.append(SlaFact(kind="response", met=rng.random() < 0.93, stopped_at=created + timedelta(minutes=20)))
        if resolved:
            sla.append(SlaFact(kind="resolution", met=rng.random() < 0.88, stopped_at=resolved))
    incidents = [IncidentFact(severity=rng.choice(["low", "medium", "high", "critical"]),
                              first_alert_at=start + timedelta(seconds=rng.uniform(0, span * 0.9)))
                 for _ in range(60)]  # fmt: skip
    return facts_from_rows(
        str(quarter), "Europe/Berlin", tickets=rows, sla=sla, security_source=True,
        incidents=incidents, devices_source=True,
        devices=[DeviceFact(asset_type="workstation", managed=rng.random() < 0.95, hostname=f"pc-{n:04d}",
                            os=rng.choice(OPERATING_SYSTEMS),
                            warranty_end=date(2025, 1, 1) + timedelta(days=rng.randint(0, 1500)))
                 for n in range(devices)],
        licences=[LicenceFact(vendor="Microsoft", product=f"Produkt {n}", quantity=devices // 5,
                              assigned=rng.randint(0, devices // 4)) for n in range(8)],
        contract_lines=[ContractLineFact(quantity=Decimal(devices), unit_price=Decimal("39.00"),
                                         billing_cycle="monthly", start_date=date(2024, 1, 1))],
        billable_minutes=tickets * 35,
        vcio=[VcioEntry(kind=VcioKind.RISK, title=f"Risiko {i}", likelihood=rng.randint(1, 5),
                        impact=rng.randint(1, 5)) for i in range(20)],
    )  # fmt: skip


def timed(fn, repeat: int) -> tuple[float, float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(15)
    quarter = Quarter(2026, 4)
    current, previous = (facts(q, args.tickets, args.devices, rng) for q in (quarter, quarter.previous()))
    kpi_best, kpi_median, kpis = timed(lambda: compute_kpis(current, previous, "K10001", "Bench GmbH"), args.repeat)
    pptx_best, pptx_median, pptx = timed(lambda: render_qbr_pptx(kpis), args.repeat)
    pdf_best, pdf_median, pdf = timed(lambda: render_qbr_pdf(kpis), args.repeat)
    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "tickets_per_quarter": args.tickets,
        "devices": args.devices,
        "repeat": args.repeat,
        "kpis_s": {"best": round(kpi_best, 3), "median": round(kpi_median, 3)},
        "pptx_s": {"best": round(pptx_best, 3), "median": round(pptx_median, 3), "bytes": len(pptx)},
        "pdf_s": {"best": round(pdf_best, 3), "median": round(pdf_median, 3), "bytes": len(pdf)},
        "deck_s_median": round(kpi_median + pptx_median + pdf_median, 3),
        "facts_json_bytes": len(current.model_dump_json()) + len(previous.model_dump_json()),
        "kpis_json_bytes": len(kpis.model_dump_json()),
    }
    (HERE / "qbr.json").write_text(json.dumps(figures, indent=2) + "\n")
    (HERE / "QBR.md").write_text(
        f"""# QBR deck benchmark

`python -m bench.qbr_bench` ({figures["when"]}): one customer, {args.tickets} tickets per quarter (two quarters),
{args.devices} devices, 60 SOC incidents, 20 vCIO entries; best / median of {args.repeat} runs, one process.

| step | best s | median s |
|---|---|---|
| KPIs of both quarters (in the workflow) | {kpi_best:.3f} | {kpi_median:.3f} |
| PowerPoint ({len(pptx) // 1024} KiB) | {pptx_best:.3f} | {pptx_median:.3f} |
| PDF ({len(pdf) // 1024} KiB) | {pdf_best:.3f} | {pdf_median:.3f} |
| **one deck (sum of medians)** | | **{figures["deck_s_median"]:.3f}** |

Target: under 3 s per deck. The facts of both quarters travel as activity results through the workflow's history:
{figures["facts_json_bytes"] // 1024} KiB as JSON here, one payload per quarter. Temporal refuses a payload over
2 MiB: the activity sends tickets, SLA clocks and incidents as counts per period (domain/qbr/aggregate.py), about
1 KiB however many tickets; the devices stay a list, about 150 bytes each (tests/workflows/test_qbr_scale.py:
20,000 tickets and 3,000 devices in a quarter, 430 KiB). Not measured here: the database reads and Temporal round
trips; the quarterly run for 500 customers through Temporal is bench/QBR_BATCH.md (`python -m bench.qbr_batch_bench`).
"""
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
