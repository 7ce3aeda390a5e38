"""Billing fixtures straight into the database: the seller with a number series of its own per test (so a test can
assert gapless numbers), customers with a billing profile, a contract, lines, time entries and items."""

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from domain.roles import Role
from domain.tickets import Priority, TicketStatus
from hub.db import session_scope
from models import (
    BillingCycle,
    Contract,
    ContractItem,
    ContractLine,
    CustomerBillingProfile,
    InvoiceFormat,
    ItemKind,
    LineUnit,
    SellerProfile,
    Tenant,
    Ticket,
    TimeEntry,
)
from models.billing import ChartOfAccounts, MandateSequence
from tests.factories import make_tenant, make_user

# Customer numbers whose digits are a DATEV debtor account (10000-69999): the exports of an issue month take every
# test's invoices, and a number without one (make_tenant's "K-<hex>") makes the DATEV export refuse the month.
# The database is fresh per session, and the seed uses K1000x.
_CUSTOMER_NUMBERS = itertools.count(50001)


def new_series() -> str:
    return "T" + uuid.uuid4().hex[:6].upper()


def set_seller(engine: Engine, prefix: str, **fields) -> SellerProfile:
    values = {
        "legal_name": "Muster IT-Service GmbH",
        "street": "Leopoldstraße 12",
        "postal_code": "80802",
        "city": "München",
        "country": "DE",
        "vat_id": "DE136695976",
        "tax_number": "181/815/08155",
        "register_entry": "Amtsgericht München HRB 123456",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "bank_name": "Commerzbank",
        "sepa_creditor_id": "DE98ZZZ09999999999",
        "invoice_number_prefix": prefix,
        "credit_note_prefix": f"{prefix}G",
        "invoice_number_digits": 5,
        "payment_terms_days": 14,
        "chart_of_accounts": ChartOfAccounts.SKR03,
        "account_mapping": [],
        "datev_consultant_number": None,  # the seller is one row: every test states what it needs
        "datev_client_number": None,
        "logo_svg": None,
        "contact_name": "Buchhaltung",
        "contact_phone": "+49 89 1234567",
        "contact_email": "rechnung@muster-it.example",
    } | fields
    with session_scope(engine) as s:
        row = s.get(SellerProfile, 1)
        if row is None:
            row = SellerProfile(id=1, **values)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        s.add(row)
    return row


@dataclass
class Customer:
    tenant: Tenant
    contract: Contract
    lines: list[ContractLine] = field(default_factory=list)
    entries: list[TimeEntry] = field(default_factory=list)


def billing_customer(
    engine: Engine,
    *,
    start: date,
    seats: int = 23,
    seat_price: str = "14.90",
    country: str = "DE",
    subdivision: str = "DE-BY",
    vat_id: str | None = None,
    invoice_format: InvoiceFormat = InvoiceFormat.PDF,
    mandate: bool = False,
    auto_approve: bool = False,
    time_terms: dict | None = None,
    contingent: dict | None = None,
    entries: tuple[tuple[datetime, int, str], ...] = (),
    items: tuple[tuple[ItemKind, str, str, date], ...] = (),
) -> Customer:
    tenant = make_tenant(engine, customer_number=f"K{next(_CUSTOMER_NUMBERS)}", country=country,
                         subdivision=subdivision,
                         time_zone="Europe/Vienna" if country == "AT" else "Europe/Berlin")  # fmt: skip
    tech, _ = make_user(engine, Role.MSP_TECH)
    with session_scope(engine) as s:
        s.add(CustomerBillingProfile(
            tenant_id=tenant.id, billing_name=tenant.name, street="Marienplatz 3",
            postal_code="80331" if country == "DE" else "1010", city="München" if country == "DE" else "Wien",
            country=country, billing_email=f"rechnung-{tenant.customer_number.lower()}@kunde.example",
            vat_id=vat_id, invoice_format=invoice_format,
            sepa_mandate_id=f"M-{tenant.customer_number}" if mandate else None,
            sepa_mandate_signed_on=date(2026, 1, 15) if mandate else None,
            sepa_iban="DE02120300000000202051" if mandate else None,
            sepa_sequence=MandateSequence.FIRST if mandate else None,
        ))  # fmt: skip
        contract = Contract(tenant_id=tenant.id, number=f"V-{tenant.customer_number}", name="Managed Services",
                            start_date=start.replace(day=1), auto_approve=auto_approve,
                            time_terms=time_terms or {"rates": {"remote": "110.00"}},
                            contingent=contingent)  # fmt: skip
        s.add(contract)
        s.flush()
        line = ContractLine(contract_id=contract.id, product_code="MS-WS", description="Managed Workstation",
                            unit=LineUnit.DEVICE, quantity=Decimal(seats), unit_price=Decimal(seat_price),
                            billing_cycle=BillingCycle.MONTHLY, start_date=start)  # fmt: skip
        s.add(line)
        ticket = Ticket(id=uuid.uuid4(), tenant_id=tenant.id, number=f"X{uuid.uuid4().hex[:12]}", title="Support",
                        status=TicketStatus.OPEN, priority=Priority.P3, created_at=datetime.now().astimezone(),
                        updated_at=datetime.now().astimezone())  # fmt: skip
        s.add(ticket)
        s.flush()
        made = []
        for started_at, minutes, activity_type in entries:
            entry = TimeEntry(id=uuid.uuid4(), ticket_id=ticket.id, tenant_id=tenant.id, user_id=tech.id,
                              started_at=started_at, minutes=minutes, activity_type=activity_type)  # fmt: skip
            s.add(entry)
            made.append(entry)
        for kind, description, price, service_date in items:
            s.add(ContractItem(contract_id=contract.id, kind=kind, description=description, quantity=Decimal(1),
                               unit_price=Decimal(price), service_date=service_date))  # fmt: skip
    return Customer(tenant, contract, [line], made)
