"""Ticket and SLA reports per customer and period, split by who handled the tickets."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from domain.reports import Handler, Period


class ReportScope(BaseModel):
    from_date: date
    to_date: date  # inclusive
    period: Period
    tenant_id: UUID | None  # None: every customer (MSP only)


class TicketReportRow(BaseModel):
    tenant_id: UUID
    period: date  # first day of the period (UTC)
    handler: Handler
    opened: int
    resolved: int
    open: int
    handed_back: int


class SlaReportRow(BaseModel):
    tenant_id: UUID
    period: date
    handler: Handler
    kind: str
    met: int
    breached: int
    running: int
    attainment: float | None
    customer_it_minutes: int


class TicketReport(ReportScope):
    rows: list[TicketReportRow]


class SlaReport(ReportScope):
    rows: list[SlaReportRow]
