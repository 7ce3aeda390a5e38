"""The monthly service reports: one PDF per customer and month in the file store (written once by the report's
activity; a re-run finds it), and one row per contact mailed, so a second run of the month mails nobody twice."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at_field


class ServiceReportFile(SQLModel, table=True):
    __tablename__ = "service_report_files"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True, ondelete="CASCADE")
    month: str = Field(primary_key=True, max_length=7)  # 2026-11
    customer_number: str = Field(max_length=32)
    workflow_id: str = Field(max_length=100)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    path: str = Field(max_length=300)  # in the file store (hub/file_store.py), relative to Settings.documents_path
    sha256: str = Field(max_length=64)
    size: int
    created_at: datetime = created_at_field()


class ServiceReportMail(SQLModel, table=True):
    """A report mailed to a contact: written right after the SMTP server accepted it, and looked up before sending."""

    __tablename__ = "service_report_mails"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True, ondelete="CASCADE")
    month: str = Field(primary_key=True, max_length=7)
    contact_id: uuid.UUID = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    email: str = Field(max_length=254)  # the address it went to (the contact's may change later)
    message_id: str = Field(max_length=200)
    workflow_id: str = Field(max_length=100)
    sent_at: datetime = created_at_field()
