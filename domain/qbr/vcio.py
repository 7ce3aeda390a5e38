"""vCIO planning shown in the QBR: roadmap items, risks (likelihood × impact, the top three in the deck) and
decisions / next steps with owners and dates (open ones carry over to the next QBR until marked done)."""

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

TOP_RISKS = 3


class VcioKind(StrEnum):
    ROADMAP = "roadmap"
    RISK = "risk"
    DECISION = "decision"


class VcioStatus(StrEnum):
    OPEN = "open"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


STATUS_LABEL = {VcioStatus.OPEN: "offen", VcioStatus.PLANNED: "geplant", VcioStatus.IN_PROGRESS: "in Arbeit",
                VcioStatus.DONE: "erledigt"}  # fmt: skip


class VcioEntry(BaseModel):
    kind: VcioKind
    title: str
    status: VcioStatus = VcioStatus.OPEN
    owner: str | None = None
    due_date: date | None = None
    quarter: str | None = None  # roadmap: the quarter it is planned for, YYYY-Qn
    estimated_cost: Decimal | None = None  # net, roadmap
    likelihood: int | None = Field(default=None, ge=1, le=5)  # risk
    impact: int | None = Field(default=None, ge=1, le=5)  # risk

    @property
    def risk_score(self) -> int:
        return (self.likelihood or 0) * (self.impact or 0)


def top_risks(entries: list[VcioEntry], n: int = TOP_RISKS) -> list[VcioEntry]:
    """The open risks with the highest likelihood × impact (ties: by title), at most `n`."""
    risks = [e for e in entries if e.kind == VcioKind.RISK and e.status != VcioStatus.DONE]
    return sorted(risks, key=lambda e: (-e.risk_score, e.title))[:n]


def of_kind(entries: list[VcioEntry], kind: VcioKind) -> list[VcioEntry]:
    return [e for e in entries if e.kind == kind]
