"""Request and response bodies of the tenant and site routes.

Country, subdivision and VAT id depend on each other, so the routes check them together (domain.regions) once
the stored values are merged with the request; here each field gets its own shape and bounds.
"""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from api.schemas.common import Body, CustomerNumber, Name, not_null, text
from domain.regions import Country, normalise_time_zone

CountryCode = Country
Subdivision = text(8)
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(normalise_time_zone)]
VatId = text(32)
Street = text(200)
PostalCode = text(16)
City = text(100)


class TenantBase(BaseModel):
    name: str = Field(max_length=200)
    customer_number: str = Field(max_length=32)
    country: str = Field(max_length=2)
    subdivision: str | None = Field(default=None, max_length=8, description="ISO 3166-2, e.g. DE-BY, AT-9, CH-ZH")
    time_zone: str = Field(default="Europe/Berlin", max_length=64)
    vat_id: str | None = Field(default=None, max_length=32)
    calendar_id: UUID | None = Field(
        default=None, description="Business calendar for the SLA; empty: Mon-Fri 08-17 with regional holidays"
    )


class TenantCreate(TenantBase, Body):
    name: Name
    customer_number: CustomerNumber = Field(description="Unique, e.g. K-10042 (A-Z, 0-9 and -)")
    country: CountryCode
    subdivision: Subdivision | None = Field(default=None, description="ISO 3166-2, e.g. DE-BY, AT-9, CH-ZH")
    time_zone: TimeZone | None = Field(default=None, description="IANA zone; defaults to the country's capital")
    vat_id: VatId | None = Field(default=None, description="DE812345673, ATU13585627 or CHE-116.281.710 MWST")


class TenantUpdate(Body):
    name: Name | None = None
    customer_number: CustomerNumber | None = None
    country: CountryCode | None = None
    subdivision: Subdivision | None = None
    time_zone: TimeZone | None = None
    vat_id: VatId | None = None
    calendar_id: UUID | None = None

    _required = field_validator("name", "customer_number", "country", "time_zone")(not_null)


class TenantPublic(TenantBase):
    id: UUID
    created_at: datetime


class SiteBase(BaseModel):
    name: str = Field(max_length=200)
    street: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=16)
    city: str | None = Field(default=None, max_length=100)
    country: str = Field(max_length=2)
    subdivision: str | None = Field(default=None, max_length=8)


class SiteCreate(SiteBase, Body):
    name: Name
    street: Street | None = None
    postal_code: PostalCode | None = None
    city: City | None = None
    country: CountryCode | None = Field(default=None, description="Defaults to the tenant's country")
    subdivision: Subdivision | None = Field(default=None, description="ISO 3166-2, e.g. DE-BY")


class SitePublic(SiteBase):
    id: UUID
    tenant_id: UUID
    created_at: datetime
