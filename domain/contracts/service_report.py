"""The monthly service report (`service-report-<customer>-<YYYY-MM>`, the monthly run `service-report-run-<YYYY-MM>`,
the schedule's tick): activity names, workflow inputs and results, activity payloads. Pure: nothing here does I/O.
The facts are loaded by the QBR's activity (`qbr.load_facts` over a month), the report's content is
`domain/service_report/content.py`."""

from uuid import UUID

from pydantic import BaseModel, field_validator

from domain.contracts.qbr import RunCounts
from domain.qbr.period import parse_month
from domain.service_report.content import ServiceReport

# The schedule's zone: which month was the one before.
SERVICE_REPORT_SCHEDULE_TZ = "Europe/Berlin"


class ServiceReportActivity:
    LIST_CUSTOMERS = "service_report.list_customers"
    STORE = "service_report.store"  # render the PDF and store it once
    SEND = "service_report.send"  # mail it to the opted-in contacts, once per contact


class ServiceReportInput(BaseModel):
    tenant_id: UUID
    customer_number: str
    customer_name: str
    month: str  # YYYY-MM, the month reported
    requested_by: UUID | None = None  # who started it through the API (in the workflow's input); None: the schedule

    _month = field_validator("month")(classmethod(lambda cls, v: parse_month(v)))


class StoreReport(BaseModel):
    tenant_id: UUID
    workflow_id: str
    report: ServiceReport


class StoredReport(BaseModel):
    filename: str
    sha256: str
    size: int


class SendReport(BaseModel):
    tenant_id: UUID
    month: str
    workflow_id: str


class SentReport(BaseModel):
    mailed: int  # contacts mailed by this attempt
    already: int  # opted-in contacts mailed before (a second run of the month)
    not_configured: bool = False  # no SMTP server: nothing mailed, nothing recorded


class ServiceReportResult(BaseModel):
    customer_number: str
    month: str
    file: StoredReport
    mailed: int
    already: int
    summary: str


class ServiceReportRunInput(BaseModel):
    month: str
    customer_numbers: list[str] | None = None  # None: every customer with a contract in the month

    _month = field_validator("month")(classmethod(lambda cls, v: parse_month(v)))


class ServiceReportRunProgress(RunCounts):
    month: str


class ServiceReportTickInput(BaseModel):
    timezone: str = SERVICE_REPORT_SCHEDULE_TZ
    customer_numbers: list[str] | None = None  # the run's customers (None, as the schedule sends: all of them)
