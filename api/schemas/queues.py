"""Request and response bodies of the queue routes."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from api.schemas.common import Body, Name

# What tickets and the Temporal UI carry: lower case, digits and dashes, e.g. servicedesk, k10001-it.
QueueName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


class QueueCreate(Body):
    name: QueueName
    display_name: Name
    tenant_id: UUID | None = Field(default=None, description="A queue shared with this customer; empty: an MSP queue")


class QueuePublic(BaseModel):
    id: UUID
    name: str
    display_name: str
    tenant_id: UUID | None
    created_at: datetime


class QueueMemberPublic(BaseModel):
    queue_id: UUID
    user_id: UUID
    created_at: datetime


class TicketQueueBody(Body):
    queue: QueueName | None = Field(description="The queue's name; null: out of every queue")
