"""The facts an activity loads for one customer and quarter: raw timestamps and flags, so a hand count over the same
rows gives the KPIs' numbers (domain/qbr/kpis.py)."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, field_validator

from domain.inventory.health import HealthCounts
from domain.qbr.period import parse_report_period
from domain.qbr.vcio import VcioEntry
from domain.raci import RaciRow


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
    hostname: str = ""
    os: str | None = None  # as the inventory writes it (domain/qbr/os_support.py reads it)


class LicenceFact(BaseModel):
    vendor: str
    product: str
    quantity: int  # bought
    assigned: int  # assigned to users


class HealthFact(BaseModel):
    """The quarter's last daily health snapshot of the customer's devices (domain/inventory/health.py)."""

    day: date
    counts: HealthCounts


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

    quarter: str  # the period: YYYY-Qn (QBR) or YYYY-MM (monthly service report)
    time_zone: str
    currency: str = "EUR"
    language: str = "de"  # the customer's document language (de, en), as of now (only the reported quarter has it)
    tickets: list[TicketFact] = []
    sla: list[SlaFact] = []
    security_source: bool = False  # the customer has a SOC integration
    incidents: list[IncidentFact] = []
    devices_source: bool = False  # the asset inventory is a snapshot: only the reported quarter has it
    devices: list[DeviceFact] = []
    contract_lines: list[ContractLineFact] = []
    contingents: list[ContingentFact] = []
    billable_minutes: int = 0
    vcio: list[VcioEntry] = []  # roadmap, risks, decisions as they stand now (only the reported quarter has them)
    raci: list[RaciRow] = []  # who is responsible for what, as it stands now (only the reported quarter has it)
    health: HealthFact | None = None  # the last health snapshot inside the quarter; None: none was taken in it
    licences: list[LicenceFact] = []  # a snapshot as the inventory: none means "k. A." (no licence data)
    # The estimated replacement cost per device type (net): the customer's own where set, else the MSP's; a type
    # missing here takes its default (domain/qbr/lifecycle.py DEFAULT_REPLACEMENT_COSTS).
    replacement_costs: dict[str, Decimal] = {}

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_report_period(v)))
