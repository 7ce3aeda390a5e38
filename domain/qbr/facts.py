"""The facts an activity loads for one customer and period (a quarter, or a month for the service report).

Tickets, SLA clocks and SOC incidents are read as rows (`TicketFact`, `SlaFact`, `IncidentFact`) and leave the
activity only as counts and sums of the period (`TicketStats`, `IncidentStats`, built by domain/qbr/aggregate.py):
the facts travel through the workflow's history, where Temporal refuses a payload over 2 MiB, so their size must
not grow with the number of tickets. The KPIs (domain/qbr/kpis.py) are computed from these counts; a hand count
over the rows gives the same numbers. Devices and licences stay lists: the deck shows them one by one."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, field_validator

from domain.inventory.health import HealthCounts
from domain.qbr.period import parse_report_period
from domain.qbr.vcio import VcioEntry
from domain.raci import RaciRow


class TicketFact(BaseModel):
    """A ticket row as the activity reads it (aggregated by `ticket_stats`, never sent)."""

    priority: str
    category: str | None = None
    created_at: datetime
    resolved_at: datetime | None = None  # the latest resolution
    resolutions: list[datetime] = []  # every change of status to resolved
    reopens: list[datetime] = []  # every change of status from resolved or closed back to an open status


class SlaFact(BaseModel):
    """A stopped SLA clock as the activity reads it (aggregated by `ticket_stats`, never sent)."""

    kind: str  # response, resolution
    met: bool
    stopped_at: datetime


class IncidentFact(BaseModel):
    """A SOC incident as the activity reads it (aggregated by `incident_stats`, never sent)."""

    severity: str  # the highest OCSF severity of its alerts (domain.soc.alerts.Severity)
    first_alert_at: datetime
    acknowledged_at: datetime | None = None


class MonthStats(BaseModel):
    """One month of the period (local months of the customer's time zone). SLA counts are keyed by clock kind
    (response, resolution); a kind without a stopped clock is missing."""

    month: str  # YYYY-MM
    opened: int = 0  # tickets with created_at in the month
    closed: int = 0  # tickets whose latest resolution (resolved_at) lies in the month
    sla_stopped: dict[str, int] = {}  # clocks stopped in the month
    sla_met: dict[str, int] = {}  # of those, met


class TicketStats(BaseModel):
    """The period's tickets and SLA clocks, counted (domain/qbr/aggregate.py `ticket_stats`). Priority and
    category keys are as the tickets have them (a ticket without a category: kpis.NO_CATEGORY)."""

    months: list[MonthStats] = []  # the period's months in order; a month without any row may be missing
    opened_by_priority: dict[str, int] = {}
    closed_by_priority: dict[str, int] = {}
    opened_by_category: dict[str, int] = {}
    closed_by_category: dict[str, int] = {}
    # Σ (resolved_at − created_at) in hours over the tickets closed in the period, each term Decimal(seconds) ÷ 3600
    # added in load order (the KPI's mean divides by the closed count).
    resolve_hours: Decimal = Decimal(0)
    resolved: int = 0  # tickets with a change to resolved in the period (the reopen rate's denominator)
    reopened: int = 0  # of those, with a change back from resolved/closed to an open status in the period


class IncidentStats(BaseModel):
    """The SOC incidents whose first alert lies in the period, counted (`incident_stats`)."""

    by_severity: dict[str, int] = {}  # the highest severity of each incident's alerts
    acknowledged: int = 0  # of those, acknowledged (paged)
    # Σ (acknowledged_at − first_alert_at) in minutes over the acknowledged ones, each term Decimal(seconds) ÷ 60
    acknowledge_minutes: Decimal = Decimal(0)


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
    tickets: TicketStats = TicketStats()  # the period's tickets and SLA clocks
    security_source: bool = False  # the customer has a SOC integration
    incidents: IncidentStats = IncidentStats()
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
