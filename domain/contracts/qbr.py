"""The quarterly business review (`qbr-<customer>-<YYYY>-Q<n>`, the quarterly run `qbr-run-<YYYY>-Q<n>`, the
schedule's tick): activity names, workflow inputs and results, and the facts an activity loads for one customer and
quarter. Pure: nothing here does I/O. Facts are raw (timestamps, flags), the KPIs are computed from them in
`domain/qbr/kpis.py`, so a hand count over the same rows gives the same numbers."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, field_validator

from domain.qbr.quarter import Quarter

# MSP roles who may start a build (finance and management present the QBR).
QBR_SCHEDULE_TZ = "Europe/Berlin"


class QbrActivity:
    LIST_CUSTOMERS = "qbr.list_customers"
    LOAD_FACTS = "qbr.load_facts"
    STORE_DECK = "qbr.store_deck"  # render PPTX + PDF and store them once


def parse_quarter(text: str) -> str:
    """'2026Q4' or '2026-Q4' as the canonical '2026-Q4'; ValueError otherwise."""
    return str(Quarter.parse(text))


class TicketFact(BaseModel):
    priority: str
    category: str | None = None
    created_at: datetime
    resolved_at: datetime | None = None  # the latest resolution
    resolutions: list[datetime] = []  # every change of status to resolved
    reopens: list[datetime] = []  # every change of status from resolved or closed back to an open status


class SlaFact(BaseModel):
    kind: str  # response, resolution
    met: bool
    stopped_at: datetime


class IncidentFact(BaseModel):
    severity: str  # the highest OCSF severity of its alerts (domain.soc.alerts.Severity)
    first_alert_at: datetime
    acknowledged_at: datetime | None = None


class DeviceFact(BaseModel):
    asset_type: str
    managed: bool  # an EDR agent is known for it
    warranty_end: date | None = None


class ContractLineFact(BaseModel):
    quantity: Decimal
    unit_price: Decimal
    billing_cycle: str  # monthly, quarterly, yearly, one_time
    start_date: date
    end_date: date | None = None


class ContingentFact(BaseModel):
    included_minutes: int  # per month
    start_date: date
    end_date: date | None = None


class QbrFacts(BaseModel):
    """What the hub knows about one customer in one quarter. `*_source` flags say whether a source exists at all:
    without one a KPI is "k. A.", never a zero."""

    quarter: str
    time_zone: str
    currency: str = "EUR"
    tickets: list[TicketFact] = []
    sla: list[SlaFact] = []
    security_source: bool = False  # the customer has a SOC integration
    incidents: list[IncidentFact] = []
    devices_source: bool = False  # the asset inventory is a snapshot: only the reported quarter has it
    devices: list[DeviceFact] = []
    contract_lines: list[ContractLineFact] = []
    contingents: list[ContingentFact] = []
    billable_minutes: int = 0

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class LoadFacts(BaseModel):
    tenant_id: UUID
    quarter: str
    with_devices: bool = False


class CustomerRef(BaseModel):
    tenant_id: UUID
    customer_number: str
    name: str


class QbrInput(BaseModel):
    tenant_id: UUID
    customer_number: str
    customer_name: str
    quarter: str  # YYYY-Qn, the quarter reported
    requested_by: UUID | None = None

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class StoredFile(BaseModel):
    kind: str  # pptx, pdf
    filename: str
    sha256: str
    size: int


class QbrResult(BaseModel):
    customer_number: str
    quarter: str
    files: list[StoredFile]
    summary: str


class QbrRunInput(BaseModel):
    quarter: str
    customer_numbers: list[str] | None = None  # None: every customer with a contract in the quarter

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class QbrRunProgress(BaseModel):
    quarter: str
    total: int = 0
    done: int = 0
    failed: int = 0
    finished: bool = False

    def label(self) -> str:
        return f"{self.done}/{self.total} done, {self.failed} failed"


class QbrTickInput(BaseModel):
    timezone: str = QBR_SCHEDULE_TZ
    country: str = "DE"  # whose holidays decide the first working day
    subdivision: str | None = None
