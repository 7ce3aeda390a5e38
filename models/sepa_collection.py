"""SEPA direct debit collections: each pain.008 file handed to the bank, kept with the invoices it collects.

An invoice is collected once (the item's primary key): a second file of the same month leaves it out instead of
debiting the customer twice. The file is stored as it was created, so a download gives the bank the same bytes."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field
from models.types import Money


class SepaCollection(SQLModel, table=True):
    __tablename__ = "sepa_collections"

    id: uuid.UUID = id_field()
    message_id: str = Field(max_length=35, unique=True)  # MsgId of the file
    month: str = Field(max_length=7, index=True)  # YYYY-MM the collected invoices were issued in
    collection_date: date
    transactions: int
    total: Decimal = Field(sa_type=Money(14, 2))
    filename: str = Field(max_length=200)
    content: bytes = Field(sa_type=LargeBinary)
    sha256: str = Field(max_length=64)
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()


class SepaCollectionItem(SQLModel, table=True):
    """One invoice in one collection; the sequence type it was collected with (FRST once per mandate)."""

    __tablename__ = "sepa_collection_items"

    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", primary_key=True, ondelete="RESTRICT")
    collection_id: uuid.UUID = Field(foreign_key="sepa_collections.id", index=True, ondelete="RESTRICT")
    mandate_id: str = Field(max_length=35, index=True)
    sequence: str = Field(max_length=4)  # FRST or RCUR, as in the file
    amount: Decimal = Field(sa_type=Money(14, 2))
