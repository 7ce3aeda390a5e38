"""load_period on SQLite and PostgreSQL: what one tenant's month reads (and what it must not: other tenants, other
months, non-billable time, billed items), and what composing it costs, computed by hand."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from activities.billing.compose_data import UnknownTenant, load_period
from domain.billing.compose import ItemKind, compose_draft
from domain.billing.invoice import invoice_totals
from domain.billing.recurring import BillingMonth
from domain.billing.tax import Party, TaxClass, tax_case
from domain.billing.terms import RevenueType
from domain.calendar_spec import CalendarSpec
from domain.roles import Role
from domain.tickets import Priority, TicketStatus
from hub.db import session_scope
from models import (
    BillingCycle,
    BusinessCalendarRow,
    Contract,
    ContractItem,
    ContractLine,
    LineUnit,
    Product,
    Tenant,
    Ticket,
    TimeEntry,
)
from models.billing import ItemKind as ItemRowKind
from tests.factories import make_tenant, make_user, unique

BERLIN = ZoneInfo("Europe/Berlin")
OCTOBER = BillingMonth(2026, 10)


@dataclass
class Month:
    """Ids of what a tenant's October holds, by what the test expects of it."""

    tenant: Tenant
    support: str  # the activity type, a product code of the price list (unique per test: the list is global)
    lines: dict[str, uuid.UUID]
    items: dict[str, uuid.UUID]
    entries: dict[str, uuid.UUID]
    ticket: str


def _product(s: Session, code: str, unit: LineUnit, price: str, revenue: RevenueType, tax=TaxClass.STANDARD):  # noqa: ANN001
    s.add(Product(code=code, name=f"Produkt {code}", unit=unit, unit_price=Decimal(price),
                  billing_cycle=BillingCycle.MONTHLY, revenue_type=revenue, tax_class=tax))  # fmt: skip


def _contract(s: Session, tenant: Tenant, start: date, end: date | None = None, **fields) -> Contract:
    contract = Contract(tenant_id=tenant.id, number=unique("V"), name="Managed Services", start_date=start,
                        end_date=end, **fields)  # fmt: skip
    s.add(contract)
    s.flush()
    return contract


def _line(s: Session, contract: Contract, code: str, description: str, quantity: str, price: str, start: date,
          end: date | None = None, unit: LineUnit = LineUnit.DEVICE) -> uuid.UUID:  # fmt: skip
    line = ContractLine(contract_id=contract.id, product_code=code, description=description, unit=unit,
                        quantity=Decimal(quantity), unit_price=Decimal(price), billing_cycle=BillingCycle.MONTHLY,
                        start_date=start, end_date=end)  # fmt: skip
    s.add(line)
    s.flush()
    return line.id


def _item(s: Session, contract: Contract, kind: ItemRowKind, description: str, price: str, day: date,
          code: str | None = None, tax: TaxClass = TaxClass.STANDARD, billed: bool = False) -> uuid.UUID:  # fmt: skip
    item = ContractItem(contract_id=contract.id, kind=kind, product_code=code, description=description,
                        quantity=Decimal(1), unit_price=Decimal(price), service_date=day, tax_class=tax,
                        billed_at=datetime(2026, 10, 31, tzinfo=UTC) if billed else None)  # fmt: skip
    s.add(item)
    s.flush()
    return item.id


def _ticket(s: Session, tenant: Tenant) -> Ticket:
    now = datetime.now(UTC)
    ticket = Ticket(id=uuid.uuid4(), tenant_id=tenant.id, number=f"T{uuid.uuid4().int % 10**12:012d}", title="Hilfe",
                    status=TicketStatus.IN_PROGRESS, priority=Priority.P3, created_at=now, updated_at=now)  # fmt: skip
    s.add(ticket)
    s.flush()
    return ticket


def _entry(s: Session, ticket: Ticket, user_id: uuid.UUID, started_at: datetime, minutes: int, activity: str,
           billable: bool = True) -> uuid.UUID:  # fmt: skip
    entry = TimeEntry(id=uuid.uuid4(), ticket_id=ticket.id, tenant_id=ticket.tenant_id, user_id=user_id,
                      started_at=started_at, minutes=minutes, billable=billable, activity_type=activity)  # fmt: skip
    s.add(entry)
    return entry.id


def _october(engine: Engine, user_id: uuid.UUID) -> Month:
    """A Bavarian tenant's October 2026: two contracts (one ending on 15.10.), lines, items and time around it."""
    tenant = make_tenant(engine)
    support, ws, book = unique("support"), unique("MS-WS").upper(), unique("BOOK").upper()
    with session_scope(engine) as s:
        _product(s, support, LineUnit.HOUR, "120.00", RevenueType.LABOUR)
        _product(s, ws, LineUnit.DEVICE, "39.00", RevenueType.MANAGED_SERVICES)
        _product(s, book, LineUnit.FLAT, "20.00", RevenueType.HARDWARE, TaxClass.REDUCED)
        # In force on 31.10.: its terms price the time (the price list's 120.00 for support), 60 min included.
        main = _contract(
            s,
            tenant,
            date(2026, 1, 1),
            time_terms={"round_up_minutes": 15, "surcharges": {"after_hours": "50.00"}},  # fmt: skip
            contingent={"included_minutes": 60, "carry_over": "next_month", "activity_types": [support]},
        )
        # Ended on 15.10.: its line is billed to then, its terms (999/h) price nothing.
        ended = _contract(s, tenant, date(2025, 1, 1), date(2026, 10, 15), time_terms={"rates": {support: "999.00"}})
        lines = {
            "workstations": _line(s, main, ws, "Managed Workstation", "10", "39.00", date(2026, 1, 1)),
            "custom": _line(
                s, main, unique("CUSTOM"), "Sonderbetreuung", "1", "100.00", date(2026, 10, 16), unit=LineUnit.FLAT
            ),  # fmt: skip
            "ended_contract": _line(s, ended, unique("FW"), "Firewall", "1", "62.00", date(2025, 1, 1)),
        }
        _line(s, main, ws, "Alte Workstations", "5", "39.00", date(2026, 1, 1), end=date(2026, 9, 30))
        _line(s, main, ws, "Neue Workstations", "5", "39.00", date(2026, 11, 1))
        items = {
            "book": _item(
                s, main, ItemRowKind.ONE_OFF, "Fachbuch", "20.00", date(2026, 10, 10), book, TaxClass.REDUCED
            ),
            "credit": _item(s, main, ItemRowKind.CREDIT, "Kulanz", "15.00", date(2026, 10, 20)),
        }
        _item(s, main, ItemRowKind.ONE_OFF, "schon berechnet", "50.00", date(2026, 10, 2), billed=True)
        _item(s, main, ItemRowKind.ONE_OFF, "November", "50.00", date(2026, 11, 2))
        ticket = _ticket(s, tenant)
        entries = {
            # 22:30 UTC on 30.09. is 00:30 on 1 October in Berlin: October, after hours
            "night": _entry(s, ticket, user_id, datetime(2026, 9, 30, 22, 30, tzinfo=UTC), 30, support),
            "day": _entry(s, ticket, user_id, datetime(2026, 10, 6, 9, 0, tzinfo=BERLIN), 90, support),
            "evening": _entry(s, ticket, user_id, datetime(2026, 10, 7, 18, 0, tzinfo=BERLIN), 30, support),
        }
        _entry(s, ticket, user_id, datetime(2026, 9, 30, 21, 30, tzinfo=UTC), 30, support)  # 23:30 on 30.09.
        _entry(s, ticket, user_id, datetime(2026, 10, 31, 23, 30, tzinfo=UTC), 30, support)  # 00:30 on 1.11.
        _entry(s, ticket, user_id, datetime(2026, 10, 8, 9, 0, tzinfo=BERLIN), 60, support, billable=False)
        number = ticket.number
    return Month(tenant, support, lines, items, entries, number)


def _other_tenant(engine: Engine, user_id: uuid.UUID, support: str) -> Month:
    """Another tenant with the same kind of October: nothing of it may reach the first tenant's period."""
    tenant = make_tenant(engine)
    with session_scope(engine) as s:
        contract = _contract(s, tenant, date(2026, 1, 1), time_terms={"rates": {support: "80.00"}})
        lines = {"servers": _line(s, contract, unique("SRV"), "Managed Server", "2", "149.00", date(2026, 1, 1))}
        items = {"setup": _item(s, contract, ItemRowKind.ONE_OFF, "Einrichtung", "450.00", date(2026, 10, 5))}
        ticket = _ticket(s, tenant)
        entries = {"work": _entry(s, ticket, user_id, datetime(2026, 10, 6, 10, 0, tzinfo=BERLIN), 60, support)}
        number = ticket.number
    return Month(tenant, support, lines, items, entries, number)


@pytest.fixture
def months(engine: Engine) -> tuple[Month, Month]:
    user, _ = make_user(engine, Role.MSP_TECH)
    first = _october(engine, user.id)
    return first, _other_tenant(engine, user.id, first.support)


def test_load_period_reads_only_the_tenants_month(engine, months):
    month, other = months
    with Session(engine) as s:
        period = load_period(s, month.tenant.id, OCTOBER, carried_in_minutes=30)
    assert {r.line_id for r in period.recurring} == set(month.lines.values())
    assert {i.item_id for i in period.items} == set(month.items.values())
    assert {e.worked.entry_id for e in period.time} == set(month.entries.values())
    assert {e.ticket for e in period.time} == {month.ticket}
    recurring = {r.description: r for r in period.recurring}
    assert recurring["Managed Workstation"].revenue_type == RevenueType.MANAGED_SERVICES
    assert (recurring["Sonderbetreuung"].revenue_type, recurring["Sonderbetreuung"].tax_class) == (
        RevenueType.OTHER, TaxClass.STANDARD)  # fmt: skip
    assert recurring["Firewall"].end == date(2026, 10, 15)  # ends with its contract
    items = {i.description: i for i in period.items}
    assert (items["Fachbuch"].tax_class, items["Fachbuch"].revenue_type) == (TaxClass.REDUCED, RevenueType.HARDWARE)
    assert items["Kulanz"].kind == ItemKind.CREDIT and items["Kulanz"].quantity == 1
    # The terms of the contract in force at month end, the price list's hourly rate filling in.
    assert period.time_rules.rates[month.support] == Decimal("120.00")
    assert period.contingent is not None and period.contingent.included_minutes == 60
    assert (period.carried_in_minutes, period.currency, period.calendar.spec.time_zone) == (30, "EUR", "Europe/Berlin")
    assert period.products[month.support].revenue_type == RevenueType.LABOUR

    with Session(engine) as s:
        theirs = load_period(s, other.tenant.id, OCTOBER, carried_in_minutes=0)
    assert {r.line_id for r in theirs.recurring} == set(other.lines.values())
    assert {i.item_id for i in theirs.items} == set(other.items.values())
    assert {e.worked.entry_id for e in theirs.time} == set(other.entries.values())
    assert theirs.time_rules.rates[other.support] == Decimal("80.00") and theirs.contingent is None


def test_composing_the_loaded_month_gives_the_hand_computed_invoice(engine, months):
    month, _ = months
    with Session(engine) as s:
        draft = compose_draft(load_period(s, month.tenant.id, OCTOBER, carried_in_minutes=30))
    assert draft.problems == ()
    support = f"Produkt {month.support}"
    assert {line.description: line.net_amount for line in draft.lines} == {
        "Managed Workstation (01.10.–31.10.2026)": Decimal("390.00"),  # 10 x 39.00
        "Firewall (01.10.–15.10.2026)": Decimal("30.00"),  # 62.00 x 15/31
        "Sonderbetreuung (16.10.–31.10.2026)": Decimal("51.61"),  # 100.00 x 16/31 = 51.6129
        # In the order worked: the night's 30 min from the 30 carried in, 60 of the day's 90 from the month's own 60;
        # beyond: 30 min of the day and the evening's 30, at 120/h.
        f"{support} im Kontingent": Decimal("0.00"),
        f"{support} über Kontingent": Decimal("120.00"),
        # night and evening, 30 min each after hours: 120 x 0.5 h x 50 % = 30.00 each
        f"Zuschlag außerhalb der Geschäftszeit 50 % auf {support}": Decimal("60.00"),
        "Kontingent Oktober 2026: 1,00 h enthalten, 0,50 h aus dem Vormonat, 1,50 h genutzt": Decimal("0.00"),
        "Fachbuch (10.10.2026)": Decimal("20.00"),
        "Gutschrift: Kulanz (20.10.2026)": Decimal("-15.00"),
    }
    assert draft.carried_out_minutes == 0
    over = next(line for line in draft.lines if line.description.endswith("über Kontingent"))
    assert set(over.source.ids) == {str(month.entries["day"]), str(month.entries["evening"])}
    de = Party("DE")
    totals = invoice_totals(draft.lines, lambda c: tax_case(de, de, c, OCTOBER.last))
    # 19 %: 390.00 + 30.00 + 51.61 + 120.00 + 60.00 - 15.00 = 636.61 -> 120.9559 -> 120.96; 7 %: 20.00 -> 1.40
    assert {g.rate: (g.taxable_amount, g.tax_amount) for g in totals.groups} == {
        Decimal(19): (Decimal("636.61"), Decimal("120.96")),
        Decimal(7): (Decimal("20.00"), Decimal("1.40")),
    }
    assert (totals.line_total, totals.amount_due) == (Decimal("656.61"), Decimal("778.97"))


def test_a_tenant_without_a_contract_in_the_month_composes_to_nothing(engine):
    user, _ = make_user(engine, Role.MSP_TECH)
    tenant = make_tenant(engine)
    support = unique("support")
    with session_scope(engine) as s:
        contract = _contract(s, tenant, date(2025, 1, 1), date(2026, 9, 30), time_terms={"rates": {support: "90.00"}})
        _line(s, contract, unique("WS"), "Managed Workstation", "3", "39.00", date(2025, 1, 1))
        _item(s, contract, ItemRowKind.ONE_OFF, "Nachzügler", "10.00", date(2026, 9, 30))
        _entry(s, _ticket(s, tenant), user.id, datetime(2026, 10, 6, 9, 0, tzinfo=BERLIN), 60, support)
    with Session(engine) as s:
        period = load_period(s, tenant.id, OCTOBER, carried_in_minutes=120)
    assert (period.recurring, period.items, period.time, period.contingent) == ((), (), (), None)
    draft = compose_draft(period)
    assert (draft.lines, draft.problems, draft.carried_out_minutes) == ((), (), 0)
    # September still has the contract: the same tenant's month before is billed.
    with Session(engine) as s:
        september = compose_draft(load_period(s, tenant.id, BillingMonth(2026, 9), carried_in_minutes=0))
    assert [line.net_amount for line in september.lines] == [Decimal("117.00"), Decimal("10.00")]


def test_load_period_writes_nothing_and_refuses_an_unknown_tenant(engine, months):
    month, _ = months
    with Session(engine) as s:
        load_period(s, month.tenant.id, OCTOBER, carried_in_minutes=0)
        assert not s.new and not s.dirty and not s.deleted
    with Session(engine) as s, pytest.raises(UnknownTenant):
        load_period(s, uuid.uuid4(), OCTOBER, carried_in_minutes=0)


def test_the_contracts_calendar_sets_the_months_bounds_and_the_time_classes(engine):
    # A 24/7 calendar in Tokyo on the contract: the month runs from 1 October 00:00 Tokyo time, and no minute of it
    # is after hours.
    user, _ = make_user(engine, Role.MSP_TECH)
    tenant = make_tenant(engine)
    support = unique("support")
    with session_scope(engine) as s:
        calendar = BusinessCalendarRow(
            name=unique("tokyo"), spec=CalendarSpec.twenty_four_seven("Asia/Tokyo").model_dump(mode="json")
        )
        s.add(calendar)
        s.flush()
        terms = {"round_up_minutes": 15, "rates": {support: "100.00"}, "surcharges": {"after_hours": "50.00"}}
        contract = _contract(s, tenant, date(2026, 1, 1), time_terms=terms, calendar_id=calendar.id)
        ticket = _ticket(s, tenant)
        inside = _entry(s, ticket, user.id, datetime(2026, 9, 30, 16, 0, tzinfo=UTC), 60, support)  # 1.10. 01:00 JST
        _entry(s, ticket, user.id, datetime(2026, 9, 30, 14, 30, tzinfo=UTC), 60, support)  # 30.09. 23:30 JST
        _entry(s, ticket, user.id, datetime(2026, 10, 31, 15, 30, tzinfo=UTC), 60, support)  # 1.11. 00:30 JST
    with Session(engine) as s:
        period = load_period(s, tenant.id, OCTOBER, carried_in_minutes=0)
    assert period.calendar.spec.time_zone == "Asia/Tokyo" and contract.calendar_id == calendar.id
    assert [e.worked.entry_id for e in period.time] == [inside]
    draft = compose_draft(period)
    assert [(line.description, line.quantity, line.net_amount) for line in draft.lines] == [
        (support, Decimal("1.00"), Decimal("100.00"))  # no product of that code: its code names it
    ]


def test_the_contract_in_force_at_month_end_decides_currency_and_auto_approval(engine):
    # A project contract that starts later but ends mid-month must not decide how the month is invoiced: the framework
    # contract in force on the 31st does (its currency, its review by finance), as it prices the month's time.
    tenant = make_tenant(engine)
    with session_scope(engine) as s:
        _contract(s, tenant, date(2025, 1, 1), currency="CHF", auto_approve=False)
        _contract(s, tenant, date(2026, 10, 10), date(2026, 10, 20), currency="EUR", auto_approve=True)
    with Session(engine) as s:
        period = load_period(s, tenant.id, OCTOBER, carried_in_minutes=0)
    assert (period.currency, period.auto_approve) == ("CHF", False)
    # Once the framework contract has ended before the month, the project contract is the one in force.
    with session_scope(engine) as s:
        other = make_tenant(engine)
        _contract(s, other, date(2025, 1, 1), date(2026, 9, 30), currency="CHF")
        _contract(s, other, date(2026, 10, 1), currency="EUR", auto_approve=True)
    with Session(engine) as s:
        period = load_period(s, other.id, OCTOBER, carried_in_minutes=0)
    assert (period.currency, period.auto_approve) == ("EUR", True)
