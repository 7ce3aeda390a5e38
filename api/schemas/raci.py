"""Request and response bodies of the RACI matrix routes; the matrix itself is `domain.raci.RaciMatrix`."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.raci import RaciMatrix


class RaciMatrixBody(RaciMatrix):
    expected_version: int | None = Field(
        default=None, ge=0, description="The version you read (0: none yet); another version meanwhile is a 409"
    )


class RaciMatrixPublic(RaciMatrix):
    tenant_id: UUID
    version: int
    updated_at: datetime
    updated_by_user_id: UUID | None


class RaciChangePublic(BaseModel):
    version: int
    at: datetime
    actor_user_id: UUID | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
