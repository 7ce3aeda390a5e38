"""Rendered QBR decks: one PowerPoint and one PDF per customer and quarter, written once by the QBR workflow's
activity (a re-run finds them and writes nothing)."""

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class QbrFile(SQLModel, table=True):
    __tablename__ = "qbr_files"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True, ondelete="CASCADE")
    quarter: str = Field(primary_key=True, max_length=7)  # 2026-Q4
    kind: str = Field(primary_key=True, max_length=8)  # pptx, pdf
    customer_number: str = Field(max_length=32)
    workflow_id: str = Field(max_length=100)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    content: bytes = Field(sa_type=LargeBinary)
    sha256: str = Field(max_length=64)
    size: int
    created_at: datetime = created_at_field()
