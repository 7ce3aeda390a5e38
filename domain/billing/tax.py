"""VAT of an MSP's invoice: which tax case applies between seller and buyer, at which rate, with which legal note.

Services of an MSP (support, managed services, licences resold as a service) follow the general place-of-supply
rules, which this module applies:

* same country: the seller's VAT (category ``S``) at the rate of the supply date: DE 19 % / 7 %, AT 20 % / 10 %,
  CH 8.1 % / 2.6 % (7.7 % / 2.5 % before 2024);
* business customer in another EU member state with a valid VAT id (DE/AT seller): reverse charge (``AE``, 0 %),
  the customer accounts for the tax (DE § 13b / § 3a Abs. 2 UStG, AT § 19 Abs. 1 / § 3a Abs. 6 UStG 1994); both VAT
  ids and the note go on the invoice (§ 14a UStG). Without a valid VAT id the seller's VAT applies, as for a
  consumer;
* business customer across the EU border (a German or Austrian MSP's Swiss customer, a Swiss MSP's German or Austrian
  customer): the supply is taxable where the customer is (DE § 3a Abs. 2 UStG, AT § 3a Abs. 6 UStG 1994, CH Art. 8
  Abs. 1 MWSTG), not in the seller's country: ``O`` ("not subject to VAT"), the customer self-assesses (CH:
  Bezugsteuer);
* consumers abroad pay the seller's VAT (general B2C rule); the EU's OSS rules for electronic services to consumers
  are not modelled: MSP customers are businesses;
* a small business (DE § 19 UStG, AT § 6 Abs. 1 Z 27 UStG 1994) charges no VAT (``E``) and says so.

Category codes and exemption reason codes are those of EN 16931 (UNTDID 5305, VATEX), so the e-invoice takes them
as they are. Rates come from a dated table: an invoice for a past period uses the rate of its supply date.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from stdnum.ch import vat as ch_vat
from stdnum.eu import vat as eu_vat

EU_MEMBER_STATES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
SELLER_COUNTRIES = frozenset({"DE", "AT", "CH"})


class TaxClass(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"


class VatCategory(StrEnum):
    """UNTDID 5305 codes as EN 16931 uses them (BT-118, BT-151)."""

    STANDARD = "S"
    REVERSE_CHARGE = "AE"
    NOT_SUBJECT = "O"
    EXEMPT = "E"


class TaxError(ValueError):
    """A tax case the hub cannot decide (unknown country, no rate for the date): the draft says so."""


# (valid from, standard, reduced), newest last; a date before the first entry has no known rate.
_RATES: dict[str, list[tuple[date, Decimal, Decimal]]] = {
    "DE": [
        (date(2007, 1, 1), Decimal("19"), Decimal("7")),
        (date(2020, 7, 1), Decimal("16"), Decimal("5")),  # the Corona cut, 1.7.-31.12.2020
        (date(2021, 1, 1), Decimal("19"), Decimal("7")),
    ],
    "AT": [(date(2016, 1, 1), Decimal("20"), Decimal("10"))],
    "CH": [
        (date(2018, 1, 1), Decimal("7.7"), Decimal("2.5")),
        (date(2024, 1, 1), Decimal("8.1"), Decimal("2.6")),
    ],
}


def vat_rate(country: str, tax_class: TaxClass, on: date) -> Decimal:
    """The country's VAT rate in percent for a supply on `on`."""
    table = _RATES.get(country)
    if table is None:
        raise TaxError(f"no VAT rates known for {country!r}; sellers are in DE, AT or CH")
    rates = [row for row in table if row[0] <= on]
    if not rates:
        raise TaxError(f"no {country} VAT rate known for {on.isoformat()}")
    _, standard, reduced = rates[-1]
    return standard if tax_class == TaxClass.STANDARD else reduced


def is_eu(country: str) -> bool:
    return country in EU_MEMBER_STATES


def valid_vat_id(country: str, vat_id: str | None) -> bool:
    """Whether `vat_id` is a well-formed VAT id of `country` with a correct check digit (python-stdnum). Whether
    the authority knows it (VIES, the Swiss UID register) is an online check for an activity, not this function."""
    if not vat_id:
        return False
    if country == "CH":
        return ch_vat.is_valid(vat_id)
    if not is_eu(country) or not eu_vat.is_valid(vat_id):
        return False
    prefix = eu_vat.compact(vat_id)[:2]
    return prefix == ("EL" if country == "GR" else country)


@dataclass(frozen=True)
class Party:
    country: str  # ISO 3166-1 alpha-2
    vat_id: str | None = None
    is_business: bool = True
    small_business: bool = False  # seller only: DE § 19 UStG / AT Kleinunternehmer


@dataclass(frozen=True)
class TaxCase:
    category: VatCategory
    rate: Decimal  # percent
    note_de: str | None = None  # the legal note the invoice must carry (BT-120 exemption reason text)
    note_en: str | None = None
    exemption_code: str | None = None  # BT-121, VATEX code
    buyer_vat_id_required: bool = False

    def note(self, language: str) -> str | None:
        return self.note_en if language == "en" else self.note_de


_REVERSE_CHARGE_NOTE = {
    "DE": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG)",
    "AT": "Übergang der Steuerschuld auf den Leistungsempfänger (Reverse Charge, § 19 Abs. 1 UStG 1994)",
}
_NOT_SUBJECT_NOTE = {
    "DE": "Nicht im Inland steuerbare Leistung: Leistungsort beim Leistungsempfänger (§ 3a Abs. 2 UStG)",
    "AT": "Nicht im Inland steuerbare Leistung: Leistungsort beim Leistungsempfänger (§ 3a Abs. 6 UStG 1994)",
    "CH": "Leistungsort im Ausland (Art. 8 Abs. 1 MWSTG): nicht der schweizerischen Mehrwertsteuer unterliegend",
}
_SMALL_BUSINESS_NOTE = {
    "DE": "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
    "AT": "Umsatzsteuerfrei aufgrund der Kleinunternehmerregelung (§ 6 Abs. 1 Z 27 UStG 1994).",
}


def tax_case(seller: Party, buyer: Party, tax_class: TaxClass, supply_date: date) -> TaxCase:
    """The VAT treatment of a supply from `seller` to `buyer` (see the module docstring for the rules)."""
    if seller.country not in SELLER_COUNTRIES:
        raise TaxError(f"seller country {seller.country!r}: the hub bills from DE, AT or CH")
    if len(buyer.country) != 2 or not buyer.country.isalpha() or not buyer.country.isupper():
        raise TaxError(f"buyer country {buyer.country!r} is not an ISO 3166-1 alpha-2 code")
    if seller.small_business:
        if seller.country not in _SMALL_BUSINESS_NOTE:
            raise TaxError(f"no small-business rule modelled for {seller.country}")
        # No VATEX code fits the national small-business schemes; the note (BT-120) carries the reason.
        note = _SMALL_BUSINESS_NOTE[seller.country]
        return TaxCase(VatCategory.EXEMPT, Decimal("0"), note, "VAT exempt: small business scheme")
    domestic = TaxCase(VatCategory.STANDARD, vat_rate(seller.country, tax_class, supply_date))
    if buyer.country == seller.country or not buyer.is_business:
        return domestic
    if is_eu(seller.country) and is_eu(buyer.country):
        if not valid_vat_id(buyer.country, buyer.vat_id):
            return domestic  # no proof of a business customer abroad: the seller's VAT, as for a consumer
        return TaxCase(
            VatCategory.REVERSE_CHARGE,
            Decimal("0"),
            _REVERSE_CHARGE_NOTE[seller.country],
            "Reverse charge: VAT to be accounted for by the recipient",
            "VATEX-EU-AE",
            buyer_vat_id_required=True,
        )
    return TaxCase(
        VatCategory.NOT_SUBJECT,
        Decimal("0"),
        _NOT_SUBJECT_NOTE[seller.country],
        "Not subject to VAT in the supplier's country: place of supply is the recipient's",
        "VATEX-EU-O",
    )
