"""Helpers shared by the table modules."""

import uuid
from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

from models.types import UtcDateTime

# Stable constraint names, so migrations can alter them on PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_field() -> uuid.UUID:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def created_at_field() -> datetime:
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)
