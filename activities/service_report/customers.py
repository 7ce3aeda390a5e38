"""The customers a month's service report run covers: tenants with a contract running on any day of the month."""

from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select
from temporalio import activity

from domain.contracts.qbr import CustomerRef
from domain.contracts.service_report import ServiceReportActivity, ServiceReportRunInput
from domain.qbr.period import Month
from models import Contract, Tenant


def list_customers(session: Session, req: ServiceReportRunInput) -> list[CustomerRef]:
    month = Month.parse(req.month)
    running = (
        select(Contract.id)
        .where(Contract.tenant_id == Tenant.id, col(Contract.start_date) <= month.last_day)
        .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= month.first_day))
    )
    query = select(Tenant).where(running.exists()).order_by(col(Tenant.customer_number))
    if req.customer_numbers is not None:
        query = query.where(col(Tenant.customer_number).in_(req.customer_numbers))
    return [CustomerRef(tenant_id=t.id, customer_number=t.customer_number, name=t.name) for t in session.exec(query)]


class ServiceReportCustomerActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=ServiceReportActivity.LIST_CUSTOMERS)
    def list_customers(self, req: ServiceReportRunInput) -> list[CustomerRef]:
        with Session(self.engine) as session:
            return list_customers(session, req)
