"""Request and response bodies of the contact routes."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator

from api.schemas.common import Body, ShortText, not_null
from domain.service_report.content import OPT_IN_LABEL

Email = Annotated[EmailStr, Field(max_length=254)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=50, pattern=r"^\+?[0-9][0-9 ()/.-]*$")
]


class ContactBase(BaseModel):
    site_id: UUID | None = None
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=50)
    job_title: str | None = Field(default=None, max_length=100)
    is_primary: bool = False
    service_report_opt_in: bool = Field(
        default=False,
        title=OPT_IN_LABEL,
        description="The contact receives the monthly service report (PDF) by e-mail",
    )


class ContactCreate(ContactBase, Body):
    tenant_id: UUID | None = Field(default=None, description="Required for MSP users; customers create for their own")
    first_name: ShortText
    last_name: ShortText
    email: Email
    phone: Phone | None = Field(default=None, description="e.g. +49 89 1234567")
    job_title: ShortText | None = None


class ContactUpdate(Body):
    site_id: UUID | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: Email | None = None
    phone: Phone | None = None
    job_title: ShortText | None = None
    is_primary: bool | None = None
    service_report_opt_in: bool | None = Field(default=None, title=OPT_IN_LABEL)

    _required = field_validator("first_name", "last_name", "email", "is_primary", "service_report_opt_in")(not_null)


class ContactPublic(ContactBase):
    id: UUID
    tenant_id: UUID
    created_at: datetime
