"""The quarterly business review (`qbr-<customer>-<YYYY>-Q<n>`, the quarterly run `qbr-run-<YYYY>-Q<n>`, the
schedule's tick): activity names, workflow inputs and results and the activity payloads of one customer and
quarter. Pure: nothing here does I/O. The facts an activity loads are in `domain/qbr/facts.py`, the KPIs computed
from them in `domain/qbr/kpis.py`."""

from uuid import UUID

from pydantic import BaseModel, field_validator

from domain.qbr.kpis import KpiSet
from domain.qbr.quarter import parse_quarter
from domain.qbr.summary import ExecutiveSummary

# The schedule's zone: which day is the first working day of a quarter, which quarter was the one before.
QBR_SCHEDULE_TZ = "Europe/Berlin"


class QbrActivity:
    LIST_CUSTOMERS = "qbr.list_customers"
    LOAD_FACTS = "qbr.load_facts"
    STORE_DECK = "qbr.store_deck"  # render PPTX + PDF and store them once
    SUMMARIZE = "qbr.summarize"  # the optional LLM executive summary (domain/qbr/summary.py)


class LoadFacts(BaseModel):
    tenant_id: UUID
    quarter: str
    with_snapshot: bool = False  # the asset inventory and vCIO entries as they stand now (the reported quarter)


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
    version: int = 1  # the deck's version to store at least: a rebuild asks for the stored version + 1

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class StoreDeck(BaseModel):
    tenant_id: UUID
    workflow_id: str
    kpis: KpiSet
    summary: ExecutiveSummary | None = None  # None: the rule-based summary
    version: int = 1  # a stored deck of a lower version is replaced (and the replacement audited)
    requested_by: UUID | None = None


class StoredFile(BaseModel):
    kind: str  # pptx, pdf
    filename: str
    sha256: str
    size: int
    version: int = 1


class QbrResult(BaseModel):
    customer_number: str
    quarter: str
    files: list[StoredFile]
    summary: str
    executive_summary: str = "rules"  # llm, rules: who wrote the deck's executive summary


class QbrRunInput(BaseModel):
    quarter: str
    customer_numbers: list[str] | None = None  # None: every customer with a contract in the quarter

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class RunCounts(BaseModel):
    """Progress of a run over customers (the QBR run, the service report run)."""

    total: int = 0
    done: int = 0
    failed: int = 0
    finished: bool = False

    def label(self) -> str:
        return f"{self.done}/{self.total} done, {self.failed} failed"


class QbrRunProgress(RunCounts):
    quarter: str


class QbrTickInput(BaseModel):
    timezone: str = QBR_SCHEDULE_TZ
    country: str = "DE"  # whose holidays decide the first working day
    subdivision: str | None = None
