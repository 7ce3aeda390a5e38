"""Ticket queues: the MSP's own (servicedesk, soc: no tenant) and shared queues of one customer (its IT staff work
them with the MSP). A ticket names its queue in `tickets.queue`; members see the queue's tickets in "my queues"."""

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class Queue(SQLModel, table=True):
    __tablename__ = "queues"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=64, unique=True)  # what tickets and the Temporal UI (TicketQueue) carry
    display_name: str = Field(max_length=200)
    # None: an MSP queue, for every customer's tickets; else a queue shared with this customer only.
    tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_field()


class QueueMember(SQLModel, table=True):
    __tablename__ = "queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id"),)

    id: uuid.UUID = id_field()
    queue_id: uuid.UUID = Field(foreign_key="queues.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_field()
