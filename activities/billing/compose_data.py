"""Load one customer's billing month from the database into `CustomerPeriod`, the input of `compose_draft`.

Reads only, all within the caller's session and its one transaction (nothing is committed or flushed here; a caller
that wants contracts, items and time of one moment on PostgreSQL opens that session with REPEATABLE READ). Every
query is scoped by the tenant: its contracts, their lines and items, its time entries.

What the month bills:
* the tenant's contracts overlapping the month, and their lines overlapping it (a line ends at the latest with its
  contract);
* items of those contracts not yet billed (`billed_at` empty) with a service date in the month;
* the tenant's billable time entries that started in the month in the customer's time zone;
* time priced by the terms of the contract in force on the month's last day (the latest to start), else of the
  overlapping contract that ended last (its work of the month is still billed by its terms); the calendar is that
  contract's, else the tenant's; the invoice's currency is that contract's;
* revenue type and tax class of a line from its product in the price list (without a product: other, standard); an
  item's tax class is its own (set from its product when it was added).

A tenant without a contract overlapping the month gets an empty period: no lines, no problems, the run skips it.
"""

from uuid import UUID

from sqlmodel import Session, col, or_, select

from domain.billing.compose import (
    CustomerPeriod,
    Item,
    ItemKind,
    ProductInfo,
    RecurringLine,
    WorkedEntry,
    local_month_bounds,
    unit_code,
)
from domain.billing.recurring import BillingMonth, Cycle
from domain.billing.tax import TaxClass
from domain.billing.terms import RevenueType
from domain.billing.time_billing import TimeRules, WorkedTime
from domain.business_calendar import BusinessCalendar
from models.billing import ContractItem, Product, contract_terms
from models.contract import Contract, ContractLine
from models.sla_context import tenant_calendar
from models.tenant import Tenant
from models.ticket import Ticket, TimeEntry


class UnknownTenant(LookupError):
    """No tenant has this id: the run cannot bill it (not retryable)."""


def load_period(session: Session, tenant_id: UUID, month: BillingMonth, carried_in_minutes: int) -> CustomerPeriod:
    """Everything `compose_draft` needs for `tenant_id` in `month`; `carried_in_minutes` from the month before."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise UnknownTenant(f"no tenant {tenant_id}")
    contracts = session.exec(
        select(Contract)
        .where(Contract.tenant_id == tenant_id, col(Contract.start_date) <= month.last)
        .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= month.first))
        .order_by(col(Contract.start_date), col(Contract.number))
    ).all()
    if not contracts:
        default_currency = "CHF" if tenant.country == "CH" else "EUR"
        calendar = BusinessCalendar(tenant_calendar(session, tenant))
        return CustomerPeriod(month, default_currency, calendar, TimeRules(rates={}), None, carried_in_minutes)

    terms_contract = _terms_contract(contracts, month)
    rules, contingent = contract_terms(session, terms_contract)
    calendar = BusinessCalendar(tenant_calendar(session, tenant, terms_contract.calendar_id))
    by_id = {c.id: c for c in contracts}

    lines = session.exec(
        select(ContractLine)
        .where(col(ContractLine.contract_id).in_(by_id), col(ContractLine.start_date) <= month.last)
        .where(or_(col(ContractLine.end_date).is_(None), col(ContractLine.end_date) >= month.first))
    ).all()
    items = session.exec(
        select(ContractItem)
        .where(col(ContractItem.contract_id).in_(by_id), col(ContractItem.billed_at).is_(None))
        .where(col(ContractItem.service_date) >= month.first, col(ContractItem.service_date) <= month.last)
    ).all()
    start, end = local_month_bounds(month, calendar)
    entries = session.exec(
        select(TimeEntry, Ticket.number)
        .join(Ticket, col(Ticket.id) == col(TimeEntry.ticket_id))
        .where(TimeEntry.tenant_id == tenant_id, TimeEntry.billable == True)  # noqa: E712
        .where(col(TimeEntry.invoice_id).is_(None))  # billed on an issued invoice: never twice
        .where(col(TimeEntry.started_at) >= start, col(TimeEntry.started_at) < end)
    ).all()

    codes = {line.product_code for line in lines} | {i.product_code for i in items if i.product_code}
    codes |= {entry.activity_type for entry, _ in entries}
    products = {p.code: p for p in session.exec(select(Product).where(col(Product.code).in_(codes)))} if codes else {}

    return CustomerPeriod(
        month=month,
        currency=terms_contract.currency,
        calendar=calendar,
        time_rules=rules,
        contingent=contingent,
        carried_in_minutes=carried_in_minutes,
        recurring=tuple(_recurring(line, by_id[line.contract_id], products.get(line.product_code)) for line in lines),
        items=tuple(_item(i, by_id[i.contract_id], products.get(i.product_code or "")) for i in items),
        time=tuple(
            WorkedEntry(WorkedTime(e.id, e.started_at, e.minutes, e.activity_type), number) for e, number in entries
        ),
        products={code: ProductInfo(p.name, p.revenue_type, p.tax_class) for code, p in products.items()},
        auto_approve=terms_contract.auto_approve,
    )


def _terms_contract(contracts: list[Contract] | tuple[Contract, ...], month: BillingMonth) -> Contract:
    """The contract in force on the month's last day (the latest to start), else the one that ended last."""
    in_force = [c for c in contracts if c.end_date is None or c.end_date >= month.last]
    if in_force:
        return max(in_force, key=lambda c: (c.start_date, c.number))
    return max(contracts, key=lambda c: (c.end_date, c.start_date, c.number))


def _recurring(line: ContractLine, contract: Contract, product: Product | None) -> RecurringLine:
    end = line.end_date
    if contract.end_date is not None and (end is None or end > contract.end_date):
        end = contract.end_date  # a line cannot outlast its contract
    return RecurringLine(
        line_id=line.id,
        contract_id=contract.id,
        contract_number=contract.number,
        product_code=line.product_code,
        description=line.description,
        unit=line.unit.value,
        quantity=line.quantity,
        unit_price=line.unit_price,
        cycle=Cycle(line.billing_cycle.value),
        start=line.start_date,
        end=end,
        revenue_type=product.revenue_type if product else RevenueType.OTHER,
        tax_class=product.tax_class if product else TaxClass.STANDARD,
        currency=contract.currency,
    )


def _item(item: ContractItem, contract: Contract, product: Product | None) -> Item:
    return Item(
        item_id=item.id,
        contract_number=contract.number,
        kind=ItemKind(item.kind.value),
        description=item.description,
        quantity=item.quantity,
        unit_price=item.unit_price,
        service_date=item.service_date,
        tax_class=item.tax_class,
        revenue_type=product.revenue_type if product else RevenueType.OTHER,
        # an item is billed once: its product's unit as on a one-time line (an hour is HUR, anything else a piece)
        unit=unit_code(product.unit.value, Cycle.ONE_TIME) if product else "C62",
        currency=contract.currency,
    )
