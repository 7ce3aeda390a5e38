"""Request and response bodies of the billing master data: the seller (the MSP), customer billing profiles, the
price list. Money is a `Decimal` with two places, written as a string in JSON ("39.00"); input takes a string or a
number. Bank data is checked with schwifty, tax ids with python-stdnum."""

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from schwifty import BIC, IBAN
from stdnum.de import leitweg, stnr
from stdnum.eu import at_02
from stdnum.eu import vat as eu_vat

from api.schemas.common import Body, Name, ShortText, not_null, text
from api.schemas.contacts import Email
from domain.billing.recurring import Cycle
from domain.billing.tax import TaxClass, VatCategory, valid_vat_id
from domain.billing.terms import Amount, Percent, RevenueType
from domain.regions import RegionError, normalise_postal_code, normalise_vat_id
from models import ChartOfAccounts, InvoiceFormat, LineUnit, MandateSequence

SellerCountry = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^(DE|AT|CH)$")]
CountryAlpha2 = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2}$")]
PostalCode = text(16, 3)
Street = text(200)


def _iban(value: str) -> str:
    try:
        return IBAN(value).compact
    except ValueError as err:  # schwifty's errors are ValueErrors naming the defect
        raise ValueError(f"not a valid IBAN: {err}") from None


def _bic(value: str) -> str:
    try:
        return BIC(value).compact
    except ValueError as err:
        raise ValueError(f"not a valid BIC: {err}") from None


def _creditor_id(value: str) -> str:
    if not at_02.is_valid(value):
        raise ValueError("not a valid SEPA creditor id (Gläubiger-ID), e.g. DE98ZZZ09999999999")
    return at_02.compact(value)


Iban = Annotated[str, StringConstraints(max_length=50), AfterValidator(_iban)]
Bic = Annotated[str, StringConstraints(max_length=20), AfterValidator(_bic)]
CreditorId = Annotated[str, StringConstraints(max_length=50), AfterValidator(_creditor_id)]
# SEPA mandate reference: up to 35 characters of the SEPA Latin set, no spaces at the ends.
MandateId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9+?/:().,' -]{1,35}$")]
# DATEV Belegfeld 1 allows letters, digits and _ $ & % * + - /; the number follows the prefix.
InvoicePrefix = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9_$&%*+/-]{0,20}$")]
Account = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{4,8}$")]
ProductCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


def vat_id_for(country: str, vat_id: str | None, field: str = "vat_id") -> str | None:
    """The VAT id in its canonical form if it is a valid id of `country` (format and check digit), else ValueError."""
    if vat_id is None:
        return None
    try:
        canonical = normalise_vat_id(country, vat_id) if country in ("DE", "AT", "CH") else eu_vat.compact(vat_id)
    except (RegionError, ValueError):
        canonical = vat_id
    if not valid_vat_id(country, canonical):
        raise ValueError(f"{field}: {vat_id!r} is not a valid VAT id of {country} (format or check digit)")
    return canonical


def postal_code_for(country: str, postal_code: str) -> str:
    if country not in ("DE", "AT", "CH"):
        return postal_code
    try:
        return normalise_postal_code(country, postal_code)
    except RegionError as err:
        raise ValueError(f"postal_code: {err.message}") from None


class AccountMapping(BaseModel):
    """Revenue account of one revenue type at one VAT category and rate, e.g. managed services at 19 % -> 8400."""

    revenue_type: RevenueType
    vat_category: VatCategory
    rate: Percent
    account: Account


class SellerProfileIn(Body):
    legal_name: Name
    street: Street
    postal_code: PostalCode
    city: ShortText
    country: SellerCountry
    vat_id: text(32) | None = Field(default=None, description="USt-IdNr. / UID / CHE-…")
    tax_number: text(32) | None = Field(default=None, description="Steuernummer (DE checked)")
    register_entry: text(200) | None = Field(default=None, description="e.g. Amtsgericht München HRB 123456")
    iban: Iban
    bic: Bic | None = Field(default=None, description="Derived from the IBAN when the bank is known")
    bank_name: ShortText | None = None
    sepa_creditor_id: CreditorId | None = None
    invoice_number_prefix: InvoicePrefix = "RE"
    invoice_number_digits: int = Field(default=5, ge=3, le=10)
    credit_note_prefix: InvoicePrefix = Field(default="GS", description="Series of credit notes (Gutschriften)")
    contact_name: ShortText | None = Field(default=None, description="Billing contact on e-invoices (XRechnung)")
    contact_phone: text(40) | None = None
    contact_email: Email | None = None
    payment_terms_days: int = Field(default=14, ge=0, le=365)
    datev_consultant_number: int | None = Field(default=None, ge=1001, le=9_999_999, description="Beraternummer")
    datev_client_number: int | None = Field(default=None, ge=1, le=99_999, description="Mandantennummer")
    chart_of_accounts: ChartOfAccounts = ChartOfAccounts.SKR03
    account_mapping: list[AccountMapping] = Field(default_factory=list, max_length=100)
    logo_svg: str | None = Field(default=None, max_length=100_000, description="SVG markup for documents")

    @field_validator("logo_svg")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lowered = value.lower()
        if "<svg" not in lowered or "<script" in lowered or "\x00" in value:
            raise ValueError("must be SVG markup without scripts")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        self.postal_code = postal_code_for(self.country, self.postal_code)
        self.vat_id = vat_id_for(self.country, self.vat_id)
        if self.tax_number is not None:
            if self.country == "DE" and not stnr.is_valid(self.tax_number):
                raise ValueError(f"tax_number: {self.tax_number!r} is not a valid German Steuernummer")
            self.tax_number = self.tax_number.strip()
        if self.vat_id is None and not self.tax_number:
            raise ValueError("vat_id: an invoice needs the seller's VAT id or tax number (§ 14 Abs. 4 UStG)")
        if self.bic is None:
            bank_bic = IBAN(self.iban).bic
            if bank_bic is None:
                raise ValueError("bic: required, the bank of this IBAN is not known")
            self.bic = bank_bic.compact
        if (self.datev_consultant_number is None) != (self.datev_client_number is None):
            raise ValueError("datev_client_number: DATEV needs both the consultant and the client number")
        keys = [(m.revenue_type, m.vat_category, m.rate) for m in self.account_mapping]
        if len(set(keys)) != len(keys):
            raise ValueError("account_mapping: one account per revenue type, VAT category and rate")
        return self


class SellerProfilePublic(SellerProfileIn):
    model_config = ConfigDict(extra="ignore")

    bic: str
    updated_at: datetime


class TaxCasePublic(BaseModel):
    category: VatCategory
    note_de: str | None
    buyer_vat_id_required: bool


class CustomerBillingIn(Body):
    billing_name: Name
    street: Street
    postal_code: PostalCode
    city: ShortText
    country: CountryAlpha2 | None = Field(default=None, description="ISO 3166-1 alpha-2; default: the tenant's")
    billing_email: Email
    vat_id: text(32) | None = None
    is_business: bool = True
    payment_terms_days: int | None = Field(default=None, ge=0, le=365, description="null: the seller's")
    invoice_format: InvoiceFormat = InvoiceFormat.PDF
    language: Literal["de", "en"] = Field(default="de", description="Language of the invoice documents")
    public_sector: bool = False
    buyer_reference: text(100) | None = Field(default=None, description="BT-10; the Leitweg-ID for authorities")
    sepa_mandate_id: MandateId | None = None
    sepa_mandate_signed_on: date | None = None
    sepa_iban: Iban | None = None
    sepa_sequence: MandateSequence | None = None
    debtor_account: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,9}$",
        description="The customer's account (Personenkonto) in DATEV (account length + 1 digits, e.g. 10001) or BMD; "
        "null: the digits of the customer number. Unique among customers.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        mandate = [self.sepa_mandate_id, self.sepa_mandate_signed_on, self.sepa_iban, self.sepa_sequence]
        if any(v is not None for v in mandate) and any(v is None for v in mandate):
            raise ValueError(
                "sepa_mandate_id: a SEPA mandate needs its id, date of signature, IBAN and sequence (first/recurring)"
            )
        if self.public_sector:
            if self.buyer_reference is None or not leitweg.is_valid(self.buyer_reference):
                raise ValueError(
                    "buyer_reference: a public customer needs a valid Leitweg-ID, e.g. 04011000-1234512345-06"
                )
            self.buyer_reference = leitweg.compact(self.buyer_reference)
        if self.invoice_format == InvoiceFormat.XRECHNUNG and self.buyer_reference is None:
            raise ValueError("buyer_reference: XRechnung requires a buyer reference (BT-10)")
        return self

    def checked(self, tenant_country: str) -> dict[str, Any]:
        """The column values, with the country defaulted and the VAT id and postal code checked against it."""
        country = self.country or tenant_country
        values = self.model_dump() | {"country": country}
        values["vat_id"] = vat_id_for(country, self.vat_id)
        values["postal_code"] = postal_code_for(country, self.postal_code)
        return values


class CustomerBillingPublic(CustomerBillingIn):
    model_config = ConfigDict(extra="ignore")

    tenant_id: UUID
    country: str
    updated_at: datetime
    tax_case: TaxCasePublic | None = Field(description="VAT treatment against the seller; null: no seller profile")


class ProductBase(BaseModel):
    name: Name
    description: text(500) | None = None
    unit: LineUnit
    unit_price: Amount
    billing_cycle: Cycle = Field(description="monthly, quarterly, yearly or one_time")
    revenue_type: RevenueType
    tax_class: TaxClass = TaxClass.STANDARD
    active: bool = True


class ProductCreate(ProductBase, Body):
    code: ProductCode = Field(description="Also the activity type a time entry is priced by, e.g. support")


class ProductUpdate(Body):
    name: Name | None = None
    description: text(500) | None = None
    unit: LineUnit | None = None
    unit_price: Amount | None = None
    billing_cycle: Cycle | None = None
    revenue_type: RevenueType | None = None
    tax_class: TaxClass | None = None
    active: bool | None = None

    _required = field_validator("name", "unit", "unit_price", "billing_cycle", "revenue_type", "tax_class", "active")(
        not_null
    )


class ProductPublic(ProductBase):
    id: UUID
    code: str
    created_at: datetime
