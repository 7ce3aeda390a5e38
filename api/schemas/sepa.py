"""SEPA direct debit collections: what finance creates and reads back."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body


class SepaCollectionCreate(Body):
    month: str = Field(description="YYYY-MM: the month the invoices to collect were issued in")
    collection_date: date = Field(description="The day the bank collects (after today)")


class SepaCollectionItemPublic(BaseModel):
    invoice_number: str
    mandate_id: str
    sequence: str = Field(description="FRST for a mandate's first collection, RCUR after it")
    amount: Decimal


class SepaCollectionPublic(BaseModel):
    id: UUID
    message_id: str
    month: str
    collection_date: date
    transactions: int
    total: Decimal
    filename: str
    sha256: str
    created_at: datetime
    items: list[SepaCollectionItemPublic]
    left_out: list[str] = Field(default_factory=list, description="Invoices of the month not in this file, and why")
