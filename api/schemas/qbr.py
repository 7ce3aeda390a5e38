"""Request and response bodies of the quarterly business review."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from api.schemas.common import Body, CustomerNumber
from domain.qbr.quarter import parse_quarter

# [0-9], not \d: \d matches any Unicode digit, which int() then reads.
QuarterText = Annotated[str, Field(pattern=r"^[0-9]{4}-?[Qq][1-4]$", examples=["2026-Q4"], description="YYYY-Qn")]


class BuildRequest(Body):
    tenant_id: UUID
    quarter: QuarterText

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class BuildStarted(BaseModel):
    workflow_id: str
    customer_number: str
    quarter: str
    decks_url: str


class RunRequest(Body):
    quarter: QuarterText
    customer_numbers: list[CustomerNumber] | None = Field(default=None, max_length=10_000, description="null: all")

    _quarter = field_validator("quarter")(classmethod(lambda cls, v: parse_quarter(v)))


class RunStatus(BaseModel):
    workflow_id: str
    quarter: str
    temporal_status: str
    total: int
    done: int
    failed: int
    finished: bool


class DeckFile(BaseModel):
    tenant_id: UUID
    customer_number: str
    quarter: str
    kind: str
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime
    download_url: str
