"""Request and response bodies of the monthly service report."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from api.schemas.common import Body, CustomerNumber
from domain.qbr.period import parse_month

# [0-9], not \d: \d matches any Unicode digit, which int() then reads.
MonthText = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2026-11"], description="YYYY-MM")]


class ReportRequest(Body):
    tenant_id: UUID
    month: MonthText

    _month = field_validator("month")(classmethod(lambda cls, v: parse_month(v)))


class ReportStarted(BaseModel):
    workflow_id: str
    customer_number: str
    month: str
    reports_url: str


class ReportRunRequest(Body):
    month: MonthText
    customer_numbers: list[CustomerNumber] | None = Field(default=None, max_length=10_000, description="null: all")

    _month = field_validator("month")(classmethod(lambda cls, v: parse_month(v)))


class ReportRunStatus(BaseModel):
    workflow_id: str
    month: str
    temporal_status: str
    total: int
    done: int
    failed: int
    finished: bool


class ReportFile(BaseModel):
    tenant_id: UUID
    customer_number: str
    month: str
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime
    download_url: str
