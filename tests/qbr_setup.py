"""Two quarters (2026-Q3, 2026-Q4) of one customer's data in the database, and a second customer whose rows must
never show up in the first one's QBR. The hand counts of what the QBR must show are in EXPECTED."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from domain.qbr.measure import NA
from domain.roles import Role
from domain.tickets import EventKind, Priority, TicketStatus, Visibility
from hub.db import session_scope
from models import Contract, ContractLine, SocAlert, SocIncident, Tenant, Ticket, TicketEvent, TicketSla, TimeEntry
from models.contract import BillingCycle, LineUnit
from tests.factories import make_asset, make_soc_integration, make_tenant, make_user, unique

D = Decimal

# key: (2026-Q4, 2026-Q3)
EXPECTED = {
    "tickets_opened": (D(3), D(1)),  # A, B and C (00:30 on 1 October in Berlin); D
    "tickets_closed": (D(2), D(1)),
    "sla_response": (D("66.7"), D("100.0")),  # A and B met, C missed; D met
    "sla_resolution": (D("50.0"), D("100.0")),  # A met, B missed; D met
    "mttr_hours": (D("14.0"), D("2.0")),  # (4 + 24) / 2; 2
    "reopen_rate": (D("50.0"), D("0.0")),  # B reopened of A, B; none of D
    "security_incidents": (D(1), NA),  # the SOC integration exists since 1 October
    "time_to_acknowledge": (D("30.0"), NA),
    "hours_used": (D("12.50"), D("1.50")),  # 750 billable min (not the 60 non-billable); 90
    "contingent_hours": (D("30.00"), D("30.00")),  # 600 min x 3 months
    "contingent_use": (D("41.7"), D("5.0")),
    "monthly_contract_value": (D("530.00"), D("530.00")),  # 10 x 50 + 3 x 30 / 3
    "device_coverage": (D("66.7"), NA),  # 2 of 3 with an EDR agent; the inventory is a snapshot
    "warranty_coverage": (D("50.0"), NA),  # 1 of 2 with a warranty end on or after 31 December
    # No health snapshot seeded: the device health KPIs and MFA are k. A. (tests/activities/test_inventory_sync.py
    # and test_inventory_mfa.py have them)
    **dict.fromkeys(("rmm_coverage", "antivirus_coverage", "patch_compliance", "availability", "reboot_pending",
                     "mfa_coverage"), (NA, NA)),  # fmt: skip
    # no licence rows for this customer: "k. A.", not 0
    "licences_bought": (NA, NA),
    "licences_assigned": (NA, NA),
    "licences_unused": (NA, NA),
    "licences_over_assigned": (NA, NA),
    "licence_use": (NA, NA),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Seeded:
    tenant: Tenant
    other: Tenant


def _ticket(s, tenant: Tenant, priority: Priority, category: str | None, created: str,  # noqa: ANN001
            resolved: str | None, changes: list[tuple[str, str, str]]) -> Ticket:  # fmt: skip
    status = TicketStatus.RESOLVED if resolved else TicketStatus.OPEN
    ticket = Ticket(id=uuid.uuid4(), tenant_id=tenant.id, number=unique("Q")[:16], title="t", status=status,
                    priority=priority, category=category, created_at=at(created), updated_at=at(created),
                    resolved_at=at(resolved) if resolved else None)  # fmt: skip
    s.add(ticket)
    s.flush()
    for when, old, new in changes:
        s.add(TicketEvent(id=uuid.uuid4(), ticket_id=ticket.id, tenant_id=tenant.id, kind=EventKind.STATUS_CHANGED,
                          at=at(when), visibility=Visibility.INTERNAL, data={"from": old, "to": new}))  # fmt: skip
    return ticket


def _sla(s, ticket: Ticket, kind: str, met: bool, stopped: str) -> None:  # noqa: ANN001
    s.add(TicketSla(ticket_id=ticket.id, kind=kind, tenant_id=ticket.tenant_id, target_minutes=60, state="stopped",
                    stopped_at=at(stopped), met=met, updated_at=at(stopped)))  # fmt: skip


def _time(s, ticket: Ticket, user_id: uuid.UUID, started: str, minutes: int, billable: bool = True) -> None:  # noqa: ANN001
    s.add(TimeEntry(id=uuid.uuid4(), ticket_id=ticket.id, tenant_id=ticket.tenant_id, user_id=user_id,
                    started_at=at(started), minutes=minutes, billable=billable, activity_type="remote"))  # fmt: skip


def _contract(s, tenant: Tenant) -> None:  # noqa: ANN001
    contract = Contract(tenant_id=tenant.id, number=unique("V"), name="Managed Services", start_date=date(2026, 1, 1),
                        contingent={"included_minutes": 600})  # fmt: skip
    s.add(contract)
    s.flush()
    for quantity, price, cycle in ((10, "50.00", BillingCycle.MONTHLY), (3, "30.00", BillingCycle.QUARTERLY)):
        s.add(ContractLine(contract_id=contract.id, product_code="MS", description="Managed", unit=LineUnit.DEVICE,
                           quantity=D(quantity), unit_price=D(price), billing_cycle=cycle,
                           start_date=date(2026, 1, 1)))  # fmt: skip


def seed_two_quarters(engine: Engine) -> Seeded:
    tenant, other = make_tenant(engine), make_tenant(engine)
    tech, _ = make_user(engine, Role.MSP_TECH)
    integration = make_soc_integration(engine, tenant, created_at=at("2026-10-01T12:00"))
    make_soc_integration(engine, other)
    make_asset(engine, tenant, agent_uuid=uuid.uuid4().hex, warranty_end=date(2027, 6, 30))
    make_asset(engine, tenant, agent_uuid=uuid.uuid4().hex, warranty_end=date(2026, 11, 1))
    make_asset(engine, tenant, warranty_end=None)
    make_asset(engine, other, agent_uuid=uuid.uuid4().hex)
    with session_scope(engine) as s:
        a = _ticket(
            s,
            tenant,
            Priority.P1,
            "Netzwerk",
            "2026-10-05T08:00",
            "2026-10-05T12:00",
            [("2026-10-05T12:00", "in_progress", "resolved")],
        )
        b = _ticket(
            s,
            tenant,
            Priority.P2,
            "Netzwerk",
            "2026-11-10T09:00",
            "2026-11-11T09:00",
            [
                ("2026-11-10T15:00", "open", "resolved"),
                ("2026-11-10T16:00", "resolved", "open"),
                ("2026-11-11T09:00", "open", "resolved"),
            ],
        )
        c = _ticket(s, tenant, Priority.P3, "Drucker", "2026-09-30T22:30", None, [])
        d = _ticket(
            s,
            tenant,
            Priority.P2,
            "Netzwerk",
            "2026-07-01T10:00",
            "2026-07-01T12:00",
            [("2026-07-01T12:00", "open", "resolved")],
        )
        _ticket(
            s,
            tenant,
            Priority.P4,
            "Alt",
            "2025-01-01T10:00",
            "2025-01-02T10:00",
            [("2025-01-02T10:00", "open", "resolved")],
        )
        foreign = _ticket(s, other, Priority.P1, "Netzwerk", "2026-10-06T08:00", "2026-10-06T09:00",
                          [("2026-10-06T09:00", "open", "resolved")])  # fmt: skip
        for ticket, kind, met, stopped in (
            (a, "response", True, "2026-10-05T08:10"), (a, "resolution", True, "2026-10-05T12:00"),
            (b, "response", True, "2026-11-10T09:30"), (b, "resolution", False, "2026-11-11T09:00"),
            (c, "response", False, "2026-10-01T09:00"),
            (d, "response", True, "2026-07-01T10:05"), (d, "resolution", True, "2026-07-01T12:00"),
            (foreign, "response", False, "2026-10-06T08:30"),
        ):  # fmt: skip
            _sla(s, ticket, kind, met, stopped)
        _time(s, b, tech.id, "2026-11-10T10:00", 750)
        _time(s, b, tech.id, "2026-11-10T14:00", 60, billable=False)
        _time(s, d, tech.id, "2026-07-01T10:30", 90)
        _time(s, foreign, tech.id, "2026-10-06T08:15", 120)
        _contract(s, tenant)
        _contract(s, other)
        key = f"{tenant.customer_number}-host-threat"
        s.add(SocIncident(key=key, tenant_id=tenant.id, status="resolved", priority="P1", title="Ransomware",
                          alert_count=2, first_alert_at=at("2026-10-10T08:00"), last_alert_at=at("2026-10-10T08:05"),
                          acknowledged_at=at("2026-10-10T08:30")))  # fmt: skip
        for n, severity in enumerate(("high", "critical")):
            s.add(SocAlert(dedupe_key=f"{key}-{n}", tenant_id=tenant.id, integration_id=integration.id,
                           source="sentinelone", vendor_alert_id=str(n), incident_key=key, title="Ransomware",
                           severity=severity, verdict="malicious", detected_at=at("2026-10-10T08:00")))  # fmt: skip
    return Seeded(tenant=tenant, other=other)
