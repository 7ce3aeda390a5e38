"""DATEV "Buchungsstapel" (EXTF, header version 700, category 21, format version 13): the issued invoices and credit
notes of one period as the seller's tax advisor imports them into DATEV Rechnungswesen.

One booking per (document, VAT group, revenue account), gross against the customer's debtor account (Personenkonto):
Konto = debtor, Gegenkonto = revenue account, "S" for an invoice and "H" for a credit note. The revenue accounts of
the defaults are Automatikkonten: DATEV splits the output VAT off the gross amount itself, so they carry no
BU-Schlüssel (a key on an Automatikkonto is import error REW00305). Accounts, keys and the chart are the tax
advisor's decision; the seller's mapping overrides every default.

Only EUR documents: DATEV for a Swiss MSP (CHF books, Swiss charts) is out of scope and refused.

Text fields are written in cp1252 ("ANSI"), as DATEV expects. A character cp1252 cannot hold is transliterated on
purpose when Unicode decomposes it to a base letter cp1252 has ("ř" -> "r", "ő" -> "o"); anything else (e.g. "Ł",
CJK) raises a ValueError naming the document and field: the books must not get silently mangled names.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.billing.document import InvoiceDocument
from domain.billing.invoice import InvoiceLine, VatGroup
from domain.billing.money import ZERO, percent_of
from domain.billing.tax import TaxClass, VatCategory
from domain.billing.terms import RevenueType

RateKey = tuple[VatCategory, Decimal]
MappingKey = tuple[RevenueType, VatCategory, Decimal]

# Default revenue accounts per (VAT category, rate), used when the seller maps no account for a line's revenue type.
# All are Automatikkonten in the standard charts (hence no BU key):
#   19 % / 7 %: 8400 / 8300 (SKR03), 4400 / 4300 (SKR04), "Erlöse 19 % / 7 % USt";
#   reverse charge (AE): 8336 / 4336, "Erlöse aus im anderen EU-Land steuerpflichtigen sonstigen Leistungen, für die
#     der Leistungsempfänger die Umsatzsteuer schuldet" (feeds UStVA Kz 21 and the Zusammenfassende Meldung);
#   not subject (O, a customer outside the EU, § 3a Abs. 2 UStG): 8338 / 4338, "nicht steuerbare Umsätze Drittland".
# 8338/4338 is not the EU reverse-charge account, a common mix-up. There is no default for a small business (E) or
# for historical rates (16 % / 5 % in 2020): those need an explicit mapping.
CHART_DEFAULT_ACCOUNTS: dict[str, dict[RateKey, str]] = {
    "SKR03": {
        (VatCategory.STANDARD, Decimal("19")): "8400",
        (VatCategory.STANDARD, Decimal("7")): "8300",
        (VatCategory.REVERSE_CHARGE, Decimal("0")): "8336",
        (VatCategory.NOT_SUBJECT, Decimal("0")): "8338",
    },
    "SKR04": {
        (VatCategory.STANDARD, Decimal("19")): "4400",
        (VatCategory.STANDARD, Decimal("7")): "4300",
        (VatCategory.REVERSE_CHARGE, Decimal("0")): "4336",
        (VatCategory.NOT_SUBJECT, Decimal("0")): "4338",
    },
}
_AUTOMATIC_ACCOUNTS = {chart: frozenset(accounts.values()) for chart, accounts in CHART_DEFAULT_ACCOUNTS.items()}

# Belegfeld 1 (the OPOS key a payment is matched by): letters, digits and _ $ & % * + - /, up to 36 characters.
# Upper case only: datev-lint forces it, and the hub's invoice prefixes are upper case anyway.
_BELEGFELD = re.compile(r"^[A-Z0-9_$&%*+\-/]{1,36}$")
_DIGITS = re.compile(r"^[0-9]+$")
_BU_KEY = re.compile(r"^[0-9]{1,4}$")


@dataclass(frozen=True)
class DatevSettings:
    consultant_number: int  # Beraternummer, 1001-9999999
    client_number: int  # Mandantennummer, 1-99999
    fiscal_year_start: date  # any start day of the fiscal year; only its day and month count
    chart: str = "SKR03"  # "SKR03" or "SKR04"
    account_length: int = 4  # Sachkontenlänge; debtor accounts have one digit more
    # (revenue type, VAT category, rate) -> revenue account: the seller's account mapping, wins over the defaults.
    revenue_accounts: Mapping[MappingKey, str] = field(default_factory=dict)
    # (VAT category, rate) -> account when a revenue type has no mapping; None: the chart's CHART_DEFAULT_ACCOUNTS.
    default_accounts: Mapping[RateKey, str] | None = None
    # BU-Schlüssel of a revenue account that is not an Automatikkonto. Accounts not listed get no key, so a mapped
    # account must be an Automatikkonto (or untaxed): on a plain account DATEV would book the gross without the VAT.
    bu_keys: Mapping[str, str] = field(default_factory=dict)
    description: str = "Ausgangsrechnungen"  # header Bezeichnung, at most 30 characters

    def __post_init__(self) -> None:
        if self.chart not in CHART_DEFAULT_ACCOUNTS:
            raise ValueError(f"chart {self.chart!r}: DATEV export supports SKR03 and SKR04")
        if not 1001 <= self.consultant_number <= 9_999_999:
            raise ValueError(f"consultant number {self.consultant_number} is outside 1001-9999999")
        if not 1 <= self.client_number <= 99_999:
            raise ValueError(f"client number {self.client_number} is outside 1-99999")
        if not 4 <= self.account_length <= 8:
            raise ValueError(f"account length {self.account_length} is outside 4-8")
        if (self.fiscal_year_start.month, self.fiscal_year_start.day) == (2, 29):
            raise ValueError("a fiscal year cannot start on 29 February")
        if self.default_accounts is None and self.account_length != 4:
            raise ValueError("the chart's default accounts have 4 digits: give default_accounts for this length")
        for account in [*self.revenue_accounts.values(), *(self.default_accounts or {}).values(), *self.bu_keys]:
            if not _DIGITS.match(account) or len(account) != self.account_length:
                raise ValueError(f"revenue account {account!r} must have {self.account_length} digits")
        for account, key in self.bu_keys.items():
            if not _BU_KEY.match(key):
                raise ValueError(f"BU key {key!r} of account {account} must be 1-4 digits")
            if account in _AUTOMATIC_ACCOUNTS[self.chart] and key.lstrip("0") != "40":
                raise ValueError(f"account {account} is an Automatikkonto in {self.chart}: no BU key (REW00305)")
        if len(self.description) > 30:
            raise ValueError("description: DATEV allows 30 characters")
        try:
            self.description.encode("cp1252")
        except UnicodeEncodeError:
            raise ValueError("description: only characters cp1252 holds") from None

    @property
    def skr(self) -> str:
        return self.chart[-2:]

    def revenue_account(self, revenue_type: RevenueType, category: VatCategory, rate: Decimal) -> str:
        mapped = self.revenue_accounts.get((revenue_type, category, rate))
        if mapped is not None:
            return mapped
        defaults = CHART_DEFAULT_ACCOUNTS[self.chart] if self.default_accounts is None else self.default_accounts
        account = defaults.get((category, rate))
        if account is None:
            raise ValueError(
                f"no revenue account for {revenue_type.value} at VAT {category.value} {rate} %: "
                "map it in the seller's account mapping"
            )
        return account

    def fiscal_year_of(self, day: date) -> date:
        """Start of the fiscal year that contains `day`."""
        start = self.fiscal_year_start.replace(year=day.year)
        return start if start <= day else start.replace(year=day.year - 1)


def revenue_accounts_from_rows(rows: Iterable[Mapping[str, object]]) -> dict[MappingKey, str]:
    """The seller profile's stored account mapping (JSON rows of revenue_type, vat_category, rate, account) as
    `DatevSettings.revenue_accounts`."""
    return {
        (RevenueType(str(row["revenue_type"])), VatCategory(str(row["vat_category"])), Decimal(str(row["rate"]))): str(
            row["account"]
        )
        for row in rows
    }


# --- bookings: shared with the BMD export -------------------------------------------------------------------------


@dataclass(frozen=True)
class RevenueBooking:
    """The gross amount of one VAT group booked to one revenue account: net of its lines plus its share of the tax."""

    group: VatGroup
    account: str
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def _lines_per_group(doc: InvoiceDocument) -> list[tuple[VatGroup, list[InvoiceLine]]]:
    """Which lines each VAT group holds. A document keeps the group per (category, rate) but a line only its tax
    class; for one seller and buyer both classes share the category, so two groups are the standard and the reduced
    rate (standard = the higher one). The taxable amounts are checked against the lines, so a document this rule
    does not fit is refused, never booked wrong."""
    groups = sorted(doc.totals.groups, key=lambda g: -g.rate)
    classes = sorted({line.tax_class for line in doc.lines}, key=lambda c: c != TaxClass.STANDARD)
    if len(groups) == 1:
        result = [(groups[0], list(doc.lines))]
    elif len(groups) == len(classes) == 2 and groups[0].category == groups[1].category:
        result = [
            (group, [line for line in doc.lines if line.tax_class == cls])
            for group, cls in zip(groups, classes, strict=True)
        ]
    else:
        raise ValueError(f"{doc.number}: cannot assign its lines to its {len(groups)} VAT groups")
    for group, lines in result:
        if sum((line.net_amount for line in lines), ZERO) != group.taxable_amount:
            raise ValueError(f"{doc.number}: lines do not add up to the taxable amount of VAT group {group.rate} %")
    return result


def revenue_bookings(doc: InvoiceDocument, account_for: Callable[[RevenueType, VatGroup], str]) -> list[RevenueBooking]:
    """The document split per VAT group and revenue account. A group's tax was rounded once for the whole group, so
    each account gets its rate of its net and the rounding remainder goes to the largest account: the bookings add up
    to the document's amount due to the cent."""
    bookings: list[RevenueBooking] = []
    for group, lines in _lines_per_group(doc):
        net_per_account: dict[str, Decimal] = {}
        for line in lines:
            account = account_for(line.revenue_type, group)
            net_per_account[account] = net_per_account.get(account, ZERO) + line.net_amount
        if not net_per_account:
            continue
        tax = {account: percent_of(net, group.rate) for account, net in net_per_account.items()}
        largest = max(net_per_account, key=lambda a: abs(net_per_account[a]))
        tax[largest] += group.tax_amount - sum(tax.values(), ZERO)
        bookings += [RevenueBooking(group, a, net, tax[a]) for a, net in net_per_account.items() if net + tax[a] != 0]
    return bookings


def check_text(value: str, doc: InvoiceDocument, what: str, encoding: str = "cp1252") -> str:
    """`value` as a single line that `encoding` holds: line breaks become spaces, a letter outside the encoding is
    replaced by its decomposed base letter; anything else raises (see the module docstring)."""
    value = re.sub(r"[\x00-\x1f\x7f]+", " ", value)
    out = []
    for char in value:
        try:
            char.encode(encoding)
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        try:
            base.encode(encoding)
        except UnicodeEncodeError:
            base = ""
        if not base:
            raise ValueError(f"{doc.number}: {what} contains {char!r}, which {encoding} cannot hold; change the text")
        out.append(base)
    return "".join(out)


def default_debtor_account(customer_number: str, account_length: int = 4) -> str:
    """The debtor account (Personenkonto, account length + 1 digits, 10000-69999 at length 4) of a customer without
    an explicit one: the digits of the customer number when they are such an account ("K10001" -> "10001").
    Anything else raises: a shifted or hashed number could give two customers one account, which a tax advisor
    would not notice until the open items are wrong."""
    digits = "".join(c for c in customer_number if c.isdigit())
    low, high = 10**account_length, 7 * 10**account_length - 1
    if not digits or not low <= int(digits) <= high:
        raise ValueError(
            f"customer number {customer_number!r} gives no debtor account in {low}-{high}: map it explicitly"
        )
    return str(int(digits))


def debtor_account_for(doc: InvoiceDocument, debtor_accounts: Mapping[str, str] | None, account_length: int) -> str:
    number = doc.buyer.customer_number
    account = (debtor_accounts or {}).get(number) or default_debtor_account(number, account_length)
    if not _DIGITS.match(account) or len(account) != account_length + 1:
        raise ValueError(f"debtor account {account!r} of {number} must have {account_length + 1} digits")
    return account


# --- the file -------------------------------------------------------------------------------------------------------

COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz",
    "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum", "Belegfeld 1",
    "Belegfeld 2", "Skonto", "Buchungstext", "Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank",
    "Sachverhalt", "Zinssperre", "Beleglink",
    *(name for n in range(1, 9) for name in (f"Beleginfo - Art {n}", f"Beleginfo - Inhalt {n}")),
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge", "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart", "Sachverhalt L+L", "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp", "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung",
    *(name for n in range(1, 21) for name in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")),
    "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr", "Zugeordnete Fälligkeit", "Skontotyp",
    "Auftragsnummer", "Buchungstyp", "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)", "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz",
    "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre", "Gesellschaftername",
    "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer", "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung", "Festschreibung", "Leistungsdatum",
    "Datum Zuord. Steuerperiode", "Fälligkeit", "Generalumkehr (GU)", "Steuersatz", "Land", "Abrechnungsreferenz",
    "BVV-Position", "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
)  # fmt: skip
_INDEX = {name: i for i, name in enumerate(COLUMNS)}
# Text columns written, as in DATEV's example row, quoted even when empty (the check program warns about a bare
# empty text field); every other empty column is bare.
_TEXT_COLUMNS = frozenset(
    _INDEX[name]
    for name in (
        "Soll/Haben-Kennzeichen", "WKZ Umsatz", "BU-Schlüssel", "Belegfeld 1", "Belegfeld 2", "Buchungstext",
        "EU-Land u. UStID (Bestimmung)", "SEPA-Mandatsreferenz",
    )
)  # fmt: skip


class Text(str):
    """A field written in double quotes, with a quote inside doubled."""


def _line(fields: Sequence[object]) -> str:
    out = []
    for value in fields:
        if isinstance(value, Text):
            out.append('"' + value.replace('"', '""') + '"')
        else:
            out.append("" if value is None else str(value))
    return ";".join(out) + "\r\n"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def datev_filename(period_start: date) -> str:
    return f"EXTF_Buchungsstapel_{period_start:%Y-%m}.csv"


def _header(settings: DatevSettings, fiscal_year: date, start: date, end: date, created_at: datetime) -> list[object]:
    created = created_at.strftime("%Y%m%d%H%M%S") + f"{created_at.microsecond // 1000:03d}"
    return [
        Text("EXTF"), 700, 21, Text("Buchungsstapel"), 13, created, None, Text("RE"), Text(""), Text(""),
        settings.consultant_number, settings.client_number, f"{fiscal_year:%Y%m%d}", settings.account_length,
        f"{start:%Y%m%d}", f"{end:%Y%m%d}", Text(settings.description), Text(""),
        1,  # Buchungstyp: Finanzbuchführung
        0,  # Rechnungslegungszweck: none in particular
        1,  # Festschreibung: issued invoices are final (GoBD), the batch is locked on import
        Text("EUR"), None, Text(""), None, None, Text(settings.skr), None, None, Text(""), Text(""),
    ]  # fmt: skip


def _check_document(doc: InvoiceDocument) -> None:
    if doc.currency != "EUR":
        raise ValueError(
            f"{doc.number}: DATEV export takes EUR documents only, not {doc.currency} "
            "(DATEV for Swiss MSPs is out of scope)"
        )
    if not _BELEGFELD.match(doc.number):
        raise ValueError(
            f"{doc.number!r}: DATEV Belegfeld 1 allows up to 36 upper-case letters, digits and _ $ & % * + - / only"
        )


def render_buchungsstapel(
    docs: Sequence[InvoiceDocument],
    settings: DatevSettings,
    period_start: date,
    period_end: date,
    created_at: datetime,
    debtor_accounts: Mapping[str, str] | None = None,
) -> bytes:
    """The EXTF file of `docs` for the batch period (Datum vom/bis). `debtor_accounts` maps customer numbers to
    debtor accounts; customers not in it get `default_debtor_account`. `created_at` is written as given."""
    if period_end < period_start:
        raise ValueError("period end is before period start")
    for doc in docs:
        _check_document(doc)
    years = {settings.fiscal_year_of(doc.issue_date) for doc in docs}
    if len(years) > 1:
        found = ", ".join(f"{y:%d.%m.%Y}" for y in sorted(years))
        raise ValueError(f"documents in {len(years)} fiscal years (starting {found}): one file per fiscal year")
    fiscal_year = settings.fiscal_year_of(period_start)
    if settings.fiscal_year_of(period_end) != fiscal_year or (years and years != {fiscal_year}):
        raise ValueError("the batch period and all documents must lie in one fiscal year (Belegdatum has no year)")
    outside = [doc.number for doc in docs if not period_start <= doc.issue_date <= period_end]
    if outside:
        raise ValueError(f"issue date outside the batch period {period_start}-{period_end}: {', '.join(outside)}")

    def account_for(revenue_type: RevenueType, group: VatGroup) -> str:
        return settings.revenue_account(revenue_type, group.category, group.rate)

    lines = [_line(_header(settings, fiscal_year, period_start, period_end, created_at)), ";".join(COLUMNS) + "\r\n"]
    customers: dict[str, str] = {}
    for doc in docs:
        debtor = debtor_account_for(doc, debtor_accounts, settings.account_length)
        other = customers.setdefault(debtor, doc.buyer.customer_number)
        if other != doc.buyer.customer_number:
            raise ValueError(
                f"customers {other} and {doc.buyer.customer_number} would share debtor account {debtor}: "
                "give one of them its own debtor account"
            )
        text = Text(check_text(doc.buyer.address.name, doc, "the customer name")[:60])
        for booking in revenue_bookings(doc, account_for):
            # An invoice debits the customer; a credit note, or a group that is a net credit, credits it.
            debit = (booking.gross > 0) != doc.is_credit_note
            row: list[object] = [None] * len(COLUMNS)
            for index in _TEXT_COLUMNS:
                row[index] = Text("")
            row[_INDEX["Umsatz (ohne Soll/Haben-Kz)"]] = _amount(abs(booking.gross))
            row[_INDEX["Soll/Haben-Kennzeichen"]] = Text("S" if debit else "H")
            row[_INDEX["WKZ Umsatz"]] = Text("EUR")
            row[_INDEX["Konto"]] = debtor
            row[_INDEX["Gegenkonto (ohne BU-Schlüssel)"]] = booking.account
            row[_INDEX["BU-Schlüssel"]] = Text(settings.bu_keys.get(booking.account, ""))
            row[_INDEX["Belegdatum"]] = f"{doc.issue_date:%d%m}"
            row[_INDEX["Belegfeld 1"]] = Text(doc.number)
            row[_INDEX["Buchungstext"]] = text
            if booking.group.category == VatCategory.REVERSE_CHARGE:
                vat_id = (doc.buyer.vat_id or "").replace(" ", "").upper()
                if not vat_id:
                    raise ValueError(f"{doc.number}: a reverse charge needs the buyer's VAT id (EU-Land u. UStID)")
                row[_INDEX["EU-Land u. UStID (Bestimmung)"]] = Text(vat_id)
            if doc.direct_debit is not None:
                mandate = check_text(doc.direct_debit.mandate_id, doc, "the mandate id")
                row[_INDEX["SEPA-Mandatsreferenz"]] = Text(mandate)
            row[_INDEX["Festschreibung"]] = 1
            row[_INDEX["Leistungsdatum"]] = f"{doc.period_end:%d%m%Y}"
            lines.append(_line(row))
    return "".join(lines).encode("cp1252")  # strict: check_text has made every text field encodable
