"""Tenants (the MSP's customers), their sites and contacts."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, false, func, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200, index=True)
    customer_number: str = Field(max_length=32, unique=True)
    country: str = Field(max_length=2)  # DE, AT, CH
    subdivision: str | None = Field(default=None, max_length=8)  # ISO 3166-2, e.g. DE-BY, AT-9, CH-ZH
    time_zone: str = Field(default="Europe/Berlin", max_length=64)
    vat_id: str | None = Field(default=None, max_length=32)
    # Business hours for the SLA; empty: Mon-Fri 08-17 with the holidays of country/subdivision.
    calendar_id: uuid.UUID | None = Field(default=None, foreign_key="business_calendars.id", ondelete="SET NULL")
    # Co-managed IT: the customer's own IT staff (role customer_it) work tickets with the MSP.
    co_managed: bool = False
    # Which new tickets are co-managed by default: None every category, else the listed ones.
    co_managed_categories: list[str] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = created_at_field()


class Site(SQLModel, table=True):
    __tablename__ = "sites"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    street: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=16)
    city: str | None = Field(default=None, max_length=100)
    country: str = Field(max_length=2)
    subdivision: str | None = Field(default=None, max_length=8)
    created_at: datetime = created_at_field()


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    # One contact per address and tenant, whatever the case: the API checks first, the index closes the race.
    __table_args__ = (Index("uq_contacts_tenant_email_ci", "tenant_id", func.lower(text("email")), unique=True),)

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    site_id: uuid.UUID | None = Field(default=None, foreign_key="sites.id", ondelete="SET NULL")
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=50)
    job_title: str | None = Field(default=None, max_length=100)
    is_primary: bool = False
    # Receives the monthly service report by e-mail ("Monatlichen Servicebericht erhalten"); off until opted in.
    service_report_opt_in: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = created_at_field()
