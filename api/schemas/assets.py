"""Request and response bodies of the asset routes."""

import re
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from api.schemas.common import Body, ShortText, not_null, text
from models import AssetType

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_TAGS = 20


def check_hostname(value: str) -> str:
    """A DNS host name (RFC 1123 labels: letters, digits, inner hyphens; up to 253 characters), lower-cased."""
    name = value.strip().lower().removesuffix(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        raise ValueError(
            f"{value!r} is not a valid host name (letters, digits, hyphens and dots, "
            "labels of 1-63 characters that do not start or end with a hyphen)"
        )
    return name


def unique_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Hostname = Annotated[str, StringConstraints(max_length=254), AfterValidator(check_hostname)]
Tag = text(32)
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(unique_tags)]


class AssetBase(BaseModel):
    site_id: UUID | None = None
    hostname: str = Field(max_length=253)
    asset_type: AssetType
    os: str | None = Field(default=None, max_length=100)
    serial: str | None = Field(default=None, max_length=100)
    warranty_end: date | None = None
    tags: list[str] = Field(default_factory=list)


class AssetCreate(AssetBase, Body):
    tenant_id: UUID | None = Field(default=None, description="Required for MSP users; customers create for their own")
    hostname: Hostname = Field(description="DNS host name, e.g. srv-dc01.kunde.local")
    os: ShortText | None = None
    serial: ShortText | None = None
    tags: Tags = Field(default_factory=list, description=f"Up to {MAX_TAGS} short labels")


class AssetUpdate(Body):
    site_id: UUID | None = None
    hostname: Hostname | None = None
    asset_type: AssetType | None = None
    os: ShortText | None = None
    serial: ShortText | None = None
    warranty_end: date | None = None
    tags: Tags | None = None

    _required = field_validator("hostname", "asset_type", "tags")(not_null)


class AssetPublic(AssetBase):
    id: UUID
    tenant_id: UUID
    created_at: datetime
