"""Demo billing master data: the demo MSP as a German seller, a small price list, billing profiles of the three demo
customers and terms on their contracts. Idempotent: only what is missing is added. Tax ids, IBANs and the creditor
id are the well-known example numbers with valid check digits, not real accounts."""

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from domain.billing.tax import TaxClass
from domain.billing.terms import RevenueType
from models import (
    BillingCycle,
    ChartOfAccounts,
    Contract,
    ContractHistory,
    CustomerBillingProfile,
    InvoiceFormat,
    LineUnit,
    MandateSequence,
    Product,
    SellerProfile,
    Tenant,
)

SELLER = {
    "legal_name": "Muster IT-Service GmbH",
    "street": "Leopoldstraße 1",
    "postal_code": "80802",
    "city": "München",
    "country": "DE",
    "vat_id": "DE136695976",
    "tax_number": "181/815/08155",
    "register_entry": "Amtsgericht München HRB 123456",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "bank_name": "Commerzbank",
    "sepa_creditor_id": "DE98ZZZ09999999999",
    "invoice_number_prefix": "RE",
    "invoice_number_digits": 5,
    "credit_note_prefix": "GS",
    "contact_name": "Buchhaltung Muster IT",
    "contact_phone": "+49 89 1234567",
    "contact_email": "rechnung@muster-it.example",
    "payment_terms_days": 14,
    "datev_consultant_number": 29098,
    "datev_client_number": 55003,
    "chart_of_accounts": ChartOfAccounts.SKR03,
    # SKR03 automatic revenue accounts (DATEV splits the VAT) and 8336 for EU services under reverse charge.
    "account_mapping": [
        {"revenue_type": t, "vat_category": "S", "rate": "19.00", "account": "8400"} for t in RevenueType
    ]
    + [{"revenue_type": t, "vat_category": "AE", "rate": "0.00", "account": "8336"} for t in RevenueType]
    + [{"revenue_type": t, "vat_category": "O", "rate": "0.00", "account": "8338"} for t in RevenueType],
}

PRODUCTS = [
    ("MS-WS", "Managed Workstation", LineUnit.DEVICE, "39.00", BillingCycle.MONTHLY, RevenueType.MANAGED_SERVICES),
    ("MS-SRV", "Managed Server", LineUnit.SERVER, "149.00", BillingCycle.MONTHLY, RevenueType.MANAGED_SERVICES),
    ("M365-BP", "Microsoft 365 Business Premium", LineUnit.SEAT, "20.60", BillingCycle.MONTHLY, RevenueType.LICENCES),
    ("support", "Support (remote)", LineUnit.HOUR, "120.00", BillingCycle.ONE_TIME, RevenueType.LABOUR),
    ("onsite", "Einsatz vor Ort", LineUnit.HOUR, "140.00", BillingCycle.ONE_TIME, RevenueType.LABOUR),
    ("SETUP", "Einrichtungspauschale", LineUnit.FLAT, "450.00", BillingCycle.ONE_TIME, RevenueType.MANAGED_SERVICES),
]

# customer number -> billing profile (the address is the tenant's first site's, as in the demo)
PROFILES = {
    "K10001": {
        "billing_name": "Müller Maschinenbau GmbH, Buchhaltung",
        "street": "Landsberger Str. 100",
        "postal_code": "80339",
        "city": "München",
        "country": "DE",
        "billing_email": "rechnung@mueller-maschinenbau.example",
        "vat_id": "DE812345673",
        "invoice_format": InvoiceFormat.ZUGFERD,
        "sepa_mandate_id": "K10001-2026-01",
        "sepa_iban": "DE89370400440532013000",
        "sepa_sequence": MandateSequence.FIRST,
    },
    "K10002": {
        "billing_name": "Alpenblick Hotel GmbH",
        "street": "Maria-Theresien-Straße 1",
        "postal_code": "6020",
        "city": "Innsbruck",
        "country": "AT",
        "billing_email": "buchhaltung@alpenblick.example",
        "vat_id": "ATU13585627",  # a valid UID: reverse charge from the German seller
        "invoice_format": InvoiceFormat.PDF,
        "payment_terms_days": 30,
    },
    "K10003": {
        "billing_name": "Treuhand Zürich AG",
        "street": "Bahnhofstrasse 10",
        "postal_code": "8001",
        "city": "Zürich",
        "country": "CH",
        "billing_email": "kreditoren@treuhand-zh.example",
        "vat_id": "CHE-116.281.710 MWST",  # outside the EU: not subject to German VAT
        "invoice_format": InvoiceFormat.PDF,
    },
}

TIME_TERMS = {
    "round_up_minutes": 15,
    "minimum_minutes": 0,
    "rates": {},  # the price list's support and onsite rates
    "default_rate": "120.00",
    "surcharges": {"after_hours": "50.00", "weekend": "100.00", "holiday": "100.00"},
}
CONTINGENT = {
    "included_minutes": 600,
    "overage_rate": "110.00",
    "carry_over": "next_month",
    "carry_over_cap_minutes": 300,
    "activity_types": ["support"],
}


def seed_billing(session: Session) -> None:
    if session.get(SellerProfile, 1) is None:
        session.add(SellerProfile(id=1, **SELLER))
    known = set(session.exec(select(Product.code)).all())
    for code, name, unit, price, cycle, revenue in PRODUCTS:
        if code not in known:
            session.add(
                Product(
                    code=code,
                    name=name,
                    unit=unit,
                    unit_price=Decimal(price),
                    billing_cycle=cycle,
                    revenue_type=revenue,
                    tax_class=TaxClass.STANDARD,
                )
            )
    session.flush()
    for number, profile in PROFILES.items():
        tenant = session.exec(select(Tenant).where(Tenant.customer_number == number)).first()
        if tenant is None:
            continue
        has_profile = session.exec(
            select(CustomerBillingProfile.id).where(CustomerBillingProfile.tenant_id == tenant.id)
        ).first()
        if has_profile is None:
            extra = {"sepa_mandate_signed_on": date(2026, 1, 1)} if "sepa_mandate_id" in profile else {}
            session.add(CustomerBillingProfile(tenant_id=tenant.id, **profile, **extra))
        _add_terms(session, tenant, with_contingent=number == "K10001")


def _add_terms(session: Session, tenant: Tenant, with_contingent: bool) -> None:
    """Terms on the demo contract once: a contract whose terms were never set (no history of them) gets them."""
    contract = session.exec(select(Contract).where(Contract.number == f"V-{tenant.customer_number}-01")).first()
    if contract is None or contract.time_terms:
        return
    contingent = CONTINGENT if with_contingent else None
    contract.time_terms, contract.contingent = TIME_TERMS, contingent
    change = {
        "old": {"time_terms": {}, "contingent": None},
        "new": {"time_terms": TIME_TERMS, "contingent": contingent},
    }
    session.add(ContractHistory(contract_id=contract.id, action="terms_changed", change=change, reason="demo seed"))
