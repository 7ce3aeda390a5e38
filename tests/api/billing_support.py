"""Helpers of the billing API tests: valid master data, and row counts over the billing tables too."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models import (
    AuditEvent,
    Contract,
    ContractHistory,
    ContractItem,
    ContractLine,
    CustomerBillingProfile,
    Product,
    SellerProfile,
)
from tests.factories import unique

BILLING_TABLES = (
    SellerProfile, CustomerBillingProfile, Product, Contract, ContractLine, ContractItem, ContractHistory, AuditEvent,
)
SELLER = "/api/v1/billing/seller"
PRODUCTS = "/api/v1/billing/products"
CONTRACTS = "/api/v1/contracts"


def seller_body(**fields) -> dict:
    """A German MSP with real check digits: USt-IdNr., Steuernummer, IBAN of the Commerzbank, Gläubiger-ID."""
    return {
        "legal_name": "Muster IT-Service GmbH",
        "street": "Leopoldstraße 1",
        "postal_code": "80802",
        "city": "München",
        "country": "DE",
        "vat_id": "DE 136 695 976",
        "tax_number": "181/815/08155",
        "register_entry": "Amtsgericht München HRB 123456",
        "iban": "DE89 3704 0044 0532 0130 00",
        "sepa_creditor_id": "DE98ZZZ09999999999",
        "invoice_number_prefix": "RE",
        "invoice_number_digits": 5,
        "payment_terms_days": 14,
        "datev_consultant_number": 29098,
        "datev_client_number": 55003,
        "chart_of_accounts": "SKR03",
        "account_mapping": [
            {"revenue_type": "managed_services", "vat_category": "S", "rate": "19", "account": "8400"},
            {"revenue_type": "managed_services", "vat_category": "AE", "rate": 0, "account": "8336"},
        ],
    } | fields


def customer_body(**fields) -> dict:
    return {
        "billing_name": "Kunde GmbH Buchhaltung",
        "street": "Hauptstraße 5",
        "postal_code": "80331",
        "city": "München",
        "billing_email": "rechnung@kunde.example",
        "vat_id": "DE136695976",
        "payment_terms_days": 30,
        "invoice_format": "zugferd",
        "sepa_mandate_id": "MANDAT-K1-001",
        "sepa_mandate_signed_on": "2026-01-15",
        "sepa_iban": "DE89370400440532013000",
        "sepa_sequence": "first",
    } | fields


def product_body(**fields) -> dict:
    return {
        "code": unique("MS-WS").upper(),
        "name": "Managed Workstation",
        "unit": "device",
        "unit_price": "39.00",
        "billing_cycle": "monthly",
        "revenue_type": "managed_services",
    } | fields


def billing_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__tablename__: s.exec(select(func.count()).select_from(m)).one() for m in BILLING_TABLES}


@contextmanager
def nothing_billed(engine: Engine) -> Iterator[None]:
    """No row added to any billing table (nor an audit event) inside the block."""
    before = billing_counts(engine)
    yield
    assert billing_counts(engine) == before
