"""Billing master data: the MSP as seller, each customer's billing profile, the price list, one-off items and
credits of a contract. Contract terms (time rules, contingent) live on the contract itself (models/contract.py)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, LargeBinary
from sqlmodel import Field, Session, SQLModel, select

from domain.billing.contingent import ContingentTerms
from domain.billing.tax import TaxClass
from domain.billing.terms import ContingentDocument, RevenueType, TimeTerms, contingent_terms, time_rules
from domain.billing.time_billing import TimeRules
from models.base import created_at_field, id_field
from models.contract import BillingCycle, Contract, LineUnit
from models.types import Money, UtcDateTime, enum_type


class ChartOfAccounts(StrEnum):
    SKR03 = "SKR03"
    SKR04 = "SKR04"


class InvoiceFormat(StrEnum):
    PDF = "pdf"
    XRECHNUNG = "xrechnung"
    ZUGFERD = "zugferd"


class MandateSequence(StrEnum):
    """SEPA sequence type of the next direct debit: FRST for the first collection, RCUR after it."""

    FIRST = "first"
    RECURRING = "recurring"


class ItemKind(StrEnum):
    ONE_OFF = "one_off"
    CREDIT = "credit"


class SellerProfile(SQLModel, table=True):
    """The MSP as seller on every invoice: one row (id 1) per installation."""

    __tablename__ = "seller_profile"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    legal_name: str = Field(max_length=200)
    street: str = Field(max_length=200)
    postal_code: str = Field(max_length=16)
    city: str = Field(max_length=100)
    country: str = Field(max_length=2)
    vat_id: str | None = Field(default=None, max_length=32)
    tax_number: str | None = Field(default=None, max_length=32)
    register_entry: str | None = Field(default=None, max_length=200)  # e.g. Amtsgericht München HRB 123456
    iban: str = Field(max_length=34)
    bic: str = Field(max_length=11)
    bank_name: str | None = Field(default=None, max_length=100)
    sepa_creditor_id: str | None = Field(default=None, max_length=35)
    invoice_number_prefix: str = Field(max_length=20)
    credit_note_prefix: str = Field(default="GS", max_length=20)
    contact_name: str | None = Field(default=None, max_length=100)  # on e-invoices (XRechnung BG-6)
    contact_phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=254)
    invoice_number_digits: int
    payment_terms_days: int
    datev_consultant_number: int | None = None
    datev_client_number: int | None = None
    chart_of_accounts: ChartOfAccounts = Field(sa_type=enum_type(ChartOfAccounts, 8))
    account_mapping: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    logo_svg: str | None = Field(default=None, max_length=100_000)  # documents scale a vector logo to any size
    # The MSP's branding of the QBR deck and PDF: a raster logo (PNG or JPEG: python-pptx and reportlab place
    # raster images; the SVG above needs a converter the hub does not have), colours as #RRGGBB, and optionally the
    # MSP's own PowerPoint template as the deck's base presentation.
    logo_image: bytes | None = Field(default=None, sa_type=LargeBinary)
    brand_colour: str | None = Field(default=None, max_length=7)
    accent_colour: str | None = Field(default=None, max_length=7)
    qbr_template: bytes | None = Field(default=None, sa_type=LargeBinary)
    updated_at: datetime = created_at_field()


class CustomerBillingProfile(SQLModel, table=True):
    """How a tenant is invoiced: address, tax data, payment terms, SEPA mandate, invoice format."""

    __tablename__ = "customer_billing_profiles"

    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", unique=True, ondelete="CASCADE")
    billing_name: str = Field(max_length=200)
    street: str = Field(max_length=200)
    postal_code: str = Field(max_length=16)
    city: str = Field(max_length=100)
    country: str = Field(max_length=2)
    billing_email: str = Field(max_length=254)
    vat_id: str | None = Field(default=None, max_length=32)
    is_business: bool = True
    payment_terms_days: int | None = None  # None: the seller's
    invoice_format: InvoiceFormat = Field(sa_type=enum_type(InvoiceFormat, 16))
    language: str = Field(default="de", max_length=2, sa_column_kwargs={"server_default": "de"})  # de or en
    public_sector: bool = False
    buyer_reference: str | None = Field(default=None, max_length=100)  # BT-10; the Leitweg-ID for public customers
    sepa_mandate_id: str | None = Field(default=None, max_length=35)
    sepa_mandate_signed_on: date | None = None
    sepa_iban: str | None = Field(default=None, max_length=34)
    sepa_sequence: MandateSequence | None = Field(default=None, sa_type=enum_type(MandateSequence, 16))
    # The Personenkonto in DATEV or BMD; None: the digits of the customer number (documents/datev.py, bmd.py)
    debtor_account: str | None = Field(default=None, max_length=10, unique=True)
    updated_at: datetime = created_at_field()


class Product(SQLModel, table=True):
    """The price list: contract lines, items and time entries (by activity type) are priced by code."""

    __tablename__ = "products"

    id: uuid.UUID = id_field()
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=500)
    unit: LineUnit = Field(sa_type=enum_type(LineUnit))
    unit_price: Decimal = Field(sa_type=Money(14, 2))
    billing_cycle: BillingCycle = Field(sa_type=enum_type(BillingCycle))
    revenue_type: RevenueType = Field(sa_type=enum_type(RevenueType))
    tax_class: TaxClass = Field(default=TaxClass.STANDARD, sa_type=enum_type(TaxClass, 16))
    active: bool = True
    created_at: datetime = created_at_field()


class ContractItem(SQLModel, table=True):
    """A one-off charge or a credit on a contract, billed once in the month of its service date."""

    __tablename__ = "contract_items"

    id: uuid.UUID = id_field()
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True, ondelete="CASCADE")
    kind: ItemKind = Field(sa_type=enum_type(ItemKind, 16))
    product_code: str | None = Field(default=None, max_length=64)
    description: str = Field(max_length=500)
    quantity: Decimal = Field(sa_type=Money(14, 3))
    unit_price: Decimal = Field(sa_type=Money(14, 2))  # positive; a credit's kind makes it a deduction
    service_date: date
    tax_class: TaxClass = Field(default=TaxClass.STANDARD, sa_type=enum_type(TaxClass, 16))
    created_at: datetime = created_at_field()
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    billed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # set by the billing run
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoices.id", ondelete="RESTRICT")


def hourly_price_list(session: Session) -> dict[str, Decimal]:
    """Net hourly prices of the active products of unit hour, by code: the rate of a time entry whose activity
    type is that code when its contract names none."""
    query = select(Product).where(Product.unit == LineUnit.HOUR, Product.active == True)  # noqa: E712
    return {p.code: p.unit_price for p in session.exec(query)}


def contract_terms(session: Session, contract: Contract) -> tuple[TimeRules, ContingentTerms | None]:
    """The contract's time rules (with the price list's hourly rates) and hour contingent, as the run bills them."""
    contingent = None if contract.contingent is None else ContingentDocument.model_validate(contract.contingent)
    rules = time_rules(TimeTerms.model_validate(contract.time_terms), hourly_price_list(session))
    return rules, contingent_terms(contingent)
