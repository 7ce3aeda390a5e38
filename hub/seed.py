"""Demo data: three DACH customers with sites, people, assets, licences and a contract with billing data (seller,
price list, billing profiles and terms: hub/seed_billing.py). Idempotent."""

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.roles import Role
from hub.db import session_scope
from hub.security import generate_api_key, hash_api_key, key_lookup_prefix
from hub.seed_billing import seed_billing
from models import (
    ApiKey,
    Asset,
    AssetType,
    BillingCycle,
    Contact,
    Contract,
    ContractHistory,
    ContractLine,
    EscalationPolicy,
    EscalationPolicyVersion,
    Licence,
    LineUnit,
    Queue,
    QueueMember,
    Site,
    SlaDefinitionRow,
    Tenant,
    User,
)
from models.base import utcnow

CREDENTIALS_FILE = "demo-credentials.json"

TENANTS = [
    {
        "name": "Müller Maschinenbau GmbH",
        "customer_number": "K10001",
        "country": "DE",
        "subdivision": "DE-BY",
        "time_zone": "Europe/Berlin",
        "vat_id": "DE812345673",
        "co_managed": True,  # its own IT works tickets with the MSP (co-managed IT)
        "site": ("Werk München", "Landsberger Str. 100", "80339", "München"),
        "contact": ("Anna", "Huber", "anna.huber@mueller-maschinenbau.example"),
        "hosts": [
            ("MUC-DC01", AssetType.SERVER, "Windows Server 2022"),
            ("MUC-FS01", AssetType.SERVER, "Windows Server 2019"),
            ("MUC-WS001", AssetType.WORKSTATION, "Windows 11 Pro"),
            ("MUC-NB014", AssetType.LAPTOP, "Windows 11 Pro"),
        ],
    },
    {
        "name": "Alpenblick Hotel GmbH",
        "customer_number": "K10002",
        "country": "AT",
        "subdivision": "AT-7",
        "time_zone": "Europe/Vienna",
        "vat_id": "ATU13585627",
        "site": ("Hotel Innsbruck", "Maria-Theresien-Straße 1", "6020", "Innsbruck"),
        "contact": ("Lukas", "Gruber", "it@alpenblick.example"),
        "hosts": [
            ("IBK-SRV01", AssetType.SERVER, "Ubuntu 24.04"),
            ("IBK-REZ01", AssetType.WORKSTATION, "Windows 11 Pro"),
        ],
    },
    {
        "name": "Treuhand Zürich AG",
        "customer_number": "K10003",
        "country": "CH",
        "subdivision": "CH-ZH",
        "time_zone": "Europe/Zurich",
        "vat_id": "CHE-116.281.710 MWST",
        "site": ("Büro Zürich", "Bahnhofstrasse 10", "8001", "Zürich"),
        "contact": ("Martina", "Keller", "martina.keller@treuhand-zh.example"),
        "hosts": [("ZRH-NB001", AssetType.LAPTOP, "macOS 15"), ("ZRH-NB002", AssetType.LAPTOP, "Windows 11 Pro")],
    },
]

MSP_STAFF = [
    ("admin@msp.example", "Sabine Admin", Role.MSP_ADMIN),
    ("tech@msp.example", "Tom Techniker", Role.MSP_TECH),
    ("finance@msp.example", "Fiona Finanz", Role.FINANCE),
]


def _add_user(session: Session, email: str, name: str, role: Role, tenant_id, keys: dict) -> None:  # noqa: ANN001
    if session.exec(select(User).where(User.email == email)).first() is not None:
        return
    user = User(email=email, display_name=name, role=role, tenant_id=tenant_id)
    session.add(user)
    session.flush()
    key = generate_api_key()
    session.add(ApiKey(user_id=user.id, name="demo", prefix=key_lookup_prefix(key), key_hash=hash_api_key(key)))
    keys[email] = {"role": role.value, "api_key": key}


def _add_tenant(session: Session, spec: dict, keys: dict) -> None:
    if session.exec(select(Tenant).where(Tenant.customer_number == spec["customer_number"])).first() is not None:
        return
    tenant = Tenant(
        **{k: spec[k] for k in ("name", "customer_number", "country", "subdivision", "time_zone", "vat_id")},
        co_managed=spec.get("co_managed", False),
    )
    session.add(tenant)
    session.flush()
    site_name, street, zip_code, city = spec["site"]
    site = Site(
        tenant_id=tenant.id,
        name=site_name,
        street=street,
        postal_code=zip_code,
        city=city,
        country=spec["country"],
        subdivision=spec["subdivision"],
    )
    session.add(site)
    session.flush()
    first, last, email = spec["contact"]
    session.add(
        Contact(
            tenant_id=tenant.id,
            site_id=site.id,
            first_name=first,
            last_name=last,
            email=email,
            is_primary=True,
            job_title="IT-Verantwortliche(r)",
            service_report_opt_in=True,  # the demo's monthly service reports land in the dev mail sink
        )
    )
    domain = email.split("@")[1]
    _add_user(
        session,
        f"it@{domain}" if not email.startswith("it@") else f"it-admin@{domain}",
        f"{first} {last}",
        Role.CUSTOMER_IT,
        tenant.id,
        keys,
    )
    _add_user(session, f"user@{domain}", f"Mitarbeiter {spec['customer_number']}", Role.CUSTOMER_USER, tenant.id, keys)
    for hostname, kind, os_name in spec["hosts"]:
        session.add(
            Asset(
                tenant_id=tenant.id,
                site_id=site.id,
                hostname=hostname,
                asset_type=kind,
                os=os_name,
                serial=f"SN-{hostname}",
                warranty_end=date(2028, 6, 30),
                tags=["critical"] if kind == AssetType.SERVER else [],
            )
        )
    session.add(
        Licence(
            tenant_id=tenant.id,
            vendor="Microsoft",
            product="Microsoft 365 Business Premium",
            sku="SPB",
            quantity=25,
            assigned=22,
        )
    )
    contract = Contract(
        tenant_id=tenant.id,
        number=f"V-{spec['customer_number']}-01",
        name="Managed Services",
        start_date=date(2026, 1, 1),
        currency="CHF" if spec["country"] == "CH" else "EUR",
    )
    session.add(contract)
    session.flush()
    for code, text, unit, qty, price in [
        ("MS-WS", "Managed Workstation", LineUnit.DEVICE, "20", "39.00"),
        ("MS-SRV", "Managed Server", LineUnit.SERVER, "2", "149.00"),
        ("M365-BP", "Microsoft 365 Business Premium", LineUnit.SEAT, "25", "20.60"),
    ]:
        session.add(
            ContractLine(
                contract_id=contract.id,
                product_code=code,
                description=text,
                unit=unit,
                quantity=Decimal(qty),
                unit_price=Decimal(price),
                billing_cycle=BillingCycle.MONTHLY,
                start_date=date(2026, 1, 1),
            )
        )
    session.add(ContractHistory(contract_id=contract.id, action="created", change={"source": "demo seed"}))


DEFAULT_SLA = {
    "name": "Standard-SLA",
    "targets": {
        "P1": {"response_minutes": 30, "resolution_minutes": 240, "calendar": "24x7"},
        "P2": {"response_minutes": 60, "resolution_minutes": 480},
        "P3": {"response_minutes": 240, "resolution_minutes": 960, "update_minutes": 480},
        "P4": {"response_minutes": 480, "resolution_minutes": 2400},
    },
}
DEFAULT_POLICY = {
    "name": "Standard-Eskalation",
    "description": "Warnung an die Technik, Vorwarnung an die Leitung, bei Überschreitung Priorität hoch.",
    "levels": [
        {
            "name": "Reaktionszeit 75 %",
            "target": "response",
            "trigger": {"type": "percent_used", "percent": 75},
            "actions": [{"type": "notify_email", "to": [{"role": "msp_tech"}], "business_hours_only": True}],
        },
        {
            "name": "Lösungszeit in 60 Min.",
            "target": "resolution",
            "trigger": {"type": "before_breach", "minutes": 60},
            "actions": [{"type": "notify_email", "to": [{"role": "msp_admin"}]}],
        },
        {
            "name": "Lösungszeit überschritten",
            "target": "resolution",
            "trigger": {"type": "on_breach"},
            "actions": [{"type": "raise_priority"}, {"type": "reassign", "queue": "eskalation"}],
        },
    ],
}


def _add_sla_defaults(session: Session) -> None:
    if session.exec(select(SlaDefinitionRow).where(SlaDefinitionRow.name == DEFAULT_SLA["name"])).first():
        return
    policy = EscalationPolicy(name=DEFAULT_POLICY["name"])
    session.add(policy)
    session.flush()
    version = EscalationPolicyVersion(policy_id=policy.id, version=1, document=DEFAULT_POLICY, activated_at=utcnow())
    session.add(version)
    session.flush()
    policy.active_version_id = version.id
    session.add(
        SlaDefinitionRow(
            name=DEFAULT_SLA["name"], document=DEFAULT_SLA, escalation_policy_id=policy.id, is_default=True
        )
    )


# MSP queues, and one shared with K10001's IT: (name, display name, customer number or None, member e-mails).
QUEUES = [
    ("servicedesk", "Servicedesk", None, ["tech@msp.example"]),
    ("soc", "SOC", None, ["tech@msp.example"]),
    ("k10001-it", "Müller Maschinenbau IT", "K10001", ["tech@msp.example", "it@mueller-maschinenbau.example"]),
]


def _add_queues(session: Session) -> None:
    for name, display_name, number, members in QUEUES:
        if session.exec(select(Queue).where(Queue.name == name)).first() is not None:
            continue
        tenant = session.exec(select(Tenant).where(Tenant.customer_number == number)).first() if number else None
        queue = Queue(name=name, display_name=display_name, tenant_id=tenant.id if tenant else None)
        session.add(queue)
        session.flush()
        for user in session.exec(select(User).where(col(User.email).in_(members))):
            session.add(QueueMember(queue_id=queue.id, user_id=user.id))


def seed_demo(engine: Engine, data_dir: Path) -> dict:
    """Create the demo data where missing; return the demo credentials (API keys are shown only once,
    so they are kept in data_dir/demo-credentials.json, readable by the owner only)."""
    path = data_dir / CREDENTIALS_FILE
    keys: dict = json.loads(path.read_text()) if path.exists() else {}
    new_keys: dict = {}
    with session_scope(engine) as session:
        for email, name, role in MSP_STAFF:
            _add_user(session, email, name, role, None, new_keys)
        _add_sla_defaults(session)
        for spec in TENANTS:
            _add_tenant(session, spec, new_keys)
        _add_queues(session)
        seed_billing(session)
    if new_keys:
        keys |= new_keys
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(keys, indent=2))
        os.chmod(path, 0o600)
    return keys


DEMO_TICKETS = [
    ("K10001", "MUC-FS01: Freigabe 'Konstruktion' nicht erreichbar", "P2"),
    ("K10001", "Neuer Mitarbeiter: Konto und Laptop einrichten", "P4"),
    ("K10002", "Kassensystem Rezeption startet nicht", "P1"),
    ("K10003", "Outlook fragt ständig nach Passwort", "P3"),
]


async def seed_demo_tickets(client, engine: Engine, reopen_days: int = 7) -> int:  # noqa: ANN001
    """Open the demo tickets through their workflows (ids derived from fixed keys, so never twice)."""
    import uuid

    from domain.contracts.tickets import NewTicket
    from domain.tickets import Priority
    from hub.tickets.intake import open_ticket
    from models import Ticket

    created = 0
    with Session(engine) as session:
        tenants = {t.customer_number: t for t in session.exec(select(Tenant)).all()}
        tech = session.exec(select(User).where(User.email == "tech@msp.example")).one()
    for i, (number, title, prio) in enumerate(DEMO_TICKETS):
        tenant = tenants[number]
        ticket_id = uuid.uuid5(uuid.NAMESPACE_URL, f"psa:demo-ticket:{i}")
        with Session(engine) as session:
            if session.get(Ticket, ticket_id) is not None:
                continue
        await open_ticket(
            engine,
            client,
            NewTicket(
                ticket_id=ticket_id,
                tenant_id=tenant.id,
                customer_number=number,
                title=title,
                priority=Priority(prio),
                description="Demo-Ticket",
                queue="servicedesk",
                created_by_user_id=tech.id,
                reopen_days=reopen_days,
            ),
        )
        created += 1
    return created
