"""A seeded data set of raw rows (tickets with their status changes, SLA clocks, incidents) for two quarters of one
customer, with the edge cases the period bounds have: rows just before, at and after the local midnights that
bound a quarter and its months (Europe/Berlin), tickets opened in one quarter and resolved in the next, reopened
tickets, open tickets, tickets without a category, unacknowledged incidents. Deterministic (a fixed seed)."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.qbr.facts import ContingentFact, ContractLineFact, DeviceFact, IncidentFact, SlaFact, TicketFact

ZONE = "Europe/Berlin"
PRIORITIES = ("P1", "P2", "P3", "P4")
CATEGORIES = ("Netzwerk", "Drucker", "Arbeitsplatz", "E-Mail", "Server", None)
SEVERITIES = ("informational", "low", "medium", "high", "critical")
# Local midnights (as UTC) where a month or quarter begins: rows are put a second before, at and after them.
EDGES = [datetime(2026, m, 1, tzinfo=UTC) - timedelta(hours=2 if 4 <= m <= 10 else 1) for m in (7, 8, 9, 10, 11, 12)]
EDGES.append(datetime(2026, 12, 31, 23, tzinfo=UTC))  # 1 January 2027 00:00 in Berlin: after Q4


def _moment(rng: random.Random) -> datetime:
    if rng.random() < 0.2:
        return rng.choice(EDGES) + timedelta(seconds=rng.choice((-1, 0, 1)))
    return datetime(2026, 6, 20, tzinfo=UTC) + timedelta(seconds=rng.randrange(200 * 86400))


def tickets(rng: random.Random, n: int) -> tuple[list[TicketFact], list[SlaFact]]:
    rows, sla = [], []
    for _ in range(n):
        created = _moment(rng)
        resolutions, reopens, resolved = [], [], None
        if rng.random() < 0.8:
            resolved = created + timedelta(seconds=rng.randrange(1, 40 * 86400), microseconds=rng.randrange(10**6))
            resolutions = [resolved]
            if rng.random() < 0.15:
                first = created + (resolved - created) / 3
                resolutions, reopens = [first, resolved], [first + (resolved - first) / 2]
        rows.append(TicketFact(priority=rng.choice(PRIORITIES), category=rng.choice(CATEGORIES), created_at=created,
                               resolved_at=resolved, resolutions=resolutions, reopens=reopens))  # fmt: skip
        sla.append(SlaFact(kind="response", met=rng.random() < 0.9,
                           stopped_at=created + timedelta(minutes=rng.randrange(1, 600))))  # fmt: skip
        if resolved is not None:
            sla.append(SlaFact(kind="resolution", met=rng.random() < 0.8, stopped_at=resolved))
    return rows, sla


def incidents(rng: random.Random, n: int) -> list[IncidentFact]:
    out = []
    for _ in range(n):
        first = _moment(rng)
        ack = first + timedelta(seconds=rng.randrange(1, 7200)) if rng.random() < 0.7 else None
        out.append(IncidentFact(severity=rng.choice(SEVERITIES), first_alert_at=first, acknowledged_at=ack))
    return out


def devices(rng: random.Random, n: int) -> list[DeviceFact]:
    systems = ("Windows 10 Pro 22H2", "Windows 11 Pro 23H2", "Windows Server 2012 R2", "macOS 14", None)
    return [
        DeviceFact(asset_type=rng.choice(("server", "workstation", "laptop", "network", "other")),
                   managed=rng.random() < 0.9, hostname=f"host-{i:05d}", os=rng.choice(systems),
                   warranty_end=date(2026, 1, 1) + timedelta(days=rng.randrange(1500)) if rng.random() < 0.8 else None)
        for i in range(n)
    ]  # fmt: skip


LINES = [ContractLineFact(quantity=Decimal(25), unit_price=Decimal("39.00"), billing_cycle="monthly",
                          start_date=date(2026, 1, 1))]  # fmt: skip
CONTINGENTS = [ContingentFact(included_minutes=1200, start_date=date(2026, 1, 1))]


def quarter_rows(seed: int, n: int) -> dict:
    """The rows one facts load of a quarter reads (it reads more than the quarter holds: the KPIs must not count
    what lies outside it)."""
    rng = random.Random(seed)
    ticket_rows, sla = tickets(rng, n)
    return {"tickets": ticket_rows, "sla": sla, "incidents": incidents(rng, n // 10)}
