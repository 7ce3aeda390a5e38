"""Load the MSP's business facts of a quarter (domain/qbr/business.py) from the database: issued invoices and credit
notes, each customer's monthly contract value on the quarter's last day (in total and per product code, with the
products' names from the price list), the active technicians (msp_tech, msp_admin), the business minutes of the
MSP's calendar (Mon-Fri 08-17 with the public holidays of the QBR schedule's region), time entries and opened
tickets. Read-only."""

from collections import Counter
from decimal import Decimal

from sqlalchemy import or_
from sqlmodel import Session, col, select

from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import CalendarSpec
from domain.contracts.billing import DraftStatus, InvoiceKind
from domain.contracts.qbr import QBR_SCHEDULE_TZ
from domain.qbr.business import BusinessFacts, InvoiceFact, TimeFact
from domain.qbr.facts import ContractLineFact, QbrFacts
from domain.qbr.kpis import Period, monthly_contract_value
from domain.qbr.measure import NotAvailable
from domain.qbr.quarter import Quarter
from domain.roles import Role
from models import Contract, ContractLine, Invoice, Product, Ticket, TimeEntry, User

MSP_COUNTRY = "DE"  # the region whose holidays the QBR schedule uses, also the MSP's own business calendar
TECHNICIAN_ROLES = (Role.MSP_TECH, Role.MSP_ADMIN)


def _value(quarter: Quarter, lines: list[ContractLineFact]) -> Decimal | None:
    value = monthly_contract_value(Period.of(QbrFacts(quarter=str(quarter), time_zone=QBR_SCHEDULE_TZ,
                                                      contract_lines=lines)))  # fmt: skip
    return None if isinstance(value, NotAvailable) else value


def _contract_values(session: Session, quarter: Quarter) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """Each customer's monthly contract value on the quarter's last day, in total and per product code."""
    rows = session.exec(
        select(Contract, ContractLine).join(ContractLine, col(ContractLine.contract_id) == Contract.id)
        .where(col(Contract.start_date) <= quarter.last_day)
        .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= quarter.last_day))
    ).all()  # fmt: skip
    lines: dict[str, dict[str, list[ContractLineFact]]] = {}
    for contract, line in rows:
        end = min(d for d in (line.end_date, contract.end_date) if d) if line.end_date or contract.end_date else None
        lines.setdefault(str(contract.tenant_id), {}).setdefault(line.product_code, []).append(ContractLineFact(
            quantity=line.quantity, unit_price=line.unit_price, billing_cycle=line.billing_cycle.value,
            start_date=max(line.start_date, contract.start_date), end_date=end))  # fmt: skip
    values, per_product = {}, {}
    for tenant, by_code in lines.items():
        if (total := _value(quarter, [ln for code_lines in by_code.values() for ln in code_lines])) is not None:
            values[tenant] = total
        products = {code: v for code, code_lines in by_code.items() if (v := _value(quarter, code_lines)) is not None}
        if products:
            per_product[tenant] = products
    return values, per_product


def load_business_facts(session: Session, quarter: Quarter) -> BusinessFacts:
    start, end = quarter.bounds(QBR_SCHEDULE_TZ)
    invoices = session.exec(
        select(Invoice).where(Invoice.status == DraftStatus.ISSUED, col(Invoice.issue_date) >= quarter.first_day)
        .where(col(Invoice.issue_date) <= quarter.last_day)
    ).all()  # fmt: skip
    entries = session.exec(
        select(TimeEntry).where(col(TimeEntry.started_at) >= start, col(TimeEntry.started_at) < end)
    ).all()  # fmt: skip
    tickets = session.exec(
        select(Ticket.tenant_id).where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
    ).all()  # fmt: skip
    technicians = session.exec(
        select(User.id).where(col(User.role).in_(TECHNICIAN_ROLES), col(User.is_active))
    ).all()  # fmt: skip
    values, per_product = _contract_values(session, quarter)
    codes = {code for products in per_product.values() for code in products}
    names = session.exec(select(Product.code, Product.name).where(col(Product.code).in_(codes))).all() if codes else []
    calendar = BusinessCalendar(CalendarSpec.standard_dach(MSP_COUNTRY, None, QBR_SCHEDULE_TZ))
    return BusinessFacts(
        quarter=str(quarter),
        time_zone=QBR_SCHEDULE_TZ,
        invoices=[InvoiceFact(tenant_id=str(i.tenant_id), issue_date=i.issue_date, net_total=abs(i.net_total),
                              credit_note=i.kind == InvoiceKind.CREDIT_NOTE) for i in invoices],  # fmt: skip
        contract_values=values,
        product_values=per_product,
        product_names=dict(names),
        technicians=len(technicians),
        available_minutes=calendar.business_minutes_between(start, end),
        time_entries=[TimeFact(started_at=e.started_at, minutes=e.minutes, billable=e.billable,
                               billed=e.invoice_id is not None) for e in entries],  # fmt: skip
        tickets_opened=dict(Counter(str(t) for t in tickets)),
    )
