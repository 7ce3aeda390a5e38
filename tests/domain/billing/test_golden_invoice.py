"""A hand-computed month for a Bavarian customer, straight through the pure billing functions.

October 2026 has 31 days; the customer's calendar is Mon-Fri 08:00-17:00 Europe/Berlin with the holidays of Bavaria
(3 October, Tag der Deutschen Einheit, falls on a Saturday). Contract: 23 managed workstations at 14.90 EUR from
17 October; remote support at 110 EUR/h, every started 15 minutes; 8 h included per month; surcharges 25 % after
hours, 50 % weekends, 100 % public holidays, billed on contingent hours too.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.contingent import ContingentTerms, apply_contingent
from domain.billing.invoice import InvoiceLine, LineSource, invoice_totals
from domain.billing.recurring import BillingMonth, Cycle, recurring_charge
from domain.billing.tax import Party, TaxClass, VatCategory, tax_case
from domain.billing.time_billing import TimeClass, TimeRules, WorkedTime, bill_time, surcharge_amounts
from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import CalendarSpec

BERLIN = ZoneInfo("Europe/Berlin")
OCTOBER = BillingMonth(2026, 10)
BAVARIA = BusinessCalendar(CalendarSpec.standard_dach("DE", "DE-BY"))
RULES = TimeRules(
    rates={"remote": Decimal("110.00")},
    round_up_minutes=15,
    surcharges={TimeClass.AFTER_HOURS: Decimal(25), TimeClass.WEEKEND: Decimal(50), TimeClass.HOLIDAY: Decimal(100)},
)


def worked(day: int, hour: int, minute: int, minutes: int) -> WorkedTime:
    return WorkedTime(uuid.uuid4(), datetime(2026, 10, day, hour, minute, tzinfo=BERLIN), minutes, "remote")


def month_lines() -> list[InvoiceLine]:
    lines = []
    # 23 x 14.90 = 342.70 a month; from 17.10. to 31.10. = 15 of 31 days: 342.70 x 15 / 31 = 165.8225... -> 165.82
    seats = recurring_charge(Cycle.MONTHLY, Decimal(23), Decimal("14.90"), date(2026, 10, 17), None, OCTOBER)
    assert seats is not None and (seats.days, seats.span_days, seats.amount) == (15, 31, Decimal("165.82"))
    lines.append(InvoiceLine("Managed Workstation", Decimal(23), "C62", Decimal("14.90"), seats.amount,
                             TaxClass.STANDARD, LineSource("contract_line", ("L1",))))  # fmt: skip

    entries = [
        worked(3, 10, 0, 60),  # Saturday and holiday: the holiday counts; 60 min
        worked(5, 9, 0, 50),  # Monday in hours: 50 -> 60
        worked(6, 10, 10, 7),  # 7 -> 15
        worked(7, 13, 0, 400),  # 13:00-19:40: 240 in hours, 160 after; 400 -> 405, the 5 added after hours
        worked(8, 19, 0, 90),  # evening call-out: 90 after hours
    ]
    billed = [bill_time(e, RULES, BAVARIA) for e in entries]
    assert [b.billed_minutes for b in billed] == [60, 60, 15, 405, 90]
    assert billed[0].minutes_by_class == {TimeClass.HOLIDAY: 60}
    assert billed[3].minutes_by_class == {TimeClass.BUSINESS_HOURS: 240, TimeClass.AFTER_HOURS: 165}
    assert billed[4].minutes_by_class == {TimeClass.AFTER_HOURS: 90}

    # 480 included minutes in the order worked: 60 + 60 + 15 = 135, then 345 of the 405; the 90 not at all.
    use = apply_contingent(billed, ContingentTerms(included_minutes=480))
    assert [use.covered.get(b.entry_id, 0) for b in billed] == [60, 60, 15, 345, 0] and use.used_minutes == 480
    for b in billed:
        over = b.billed_minutes - use.covered.get(b.entry_id, 0)
        if over:  # 60 min x 110 = 110.00; 90 min x 110 = 165.00
            lines.append(InvoiceLine("Remote-Support über Kontingent", Decimal(over) / 60, "HUR", b.rate,
                                     b.base_amount(over), TaxClass.STANDARD, LineSource("time_entry", (str(b.entry_id),))))  # noqa: E501 # fmt: skip
        for time_class, amount in surcharge_amounts(b, RULES).items():
            lines.append(InvoiceLine(f"Zuschlag {time_class.value}", Decimal(1), "C62", amount, amount,
                                     TaxClass.STANDARD, LineSource("time_entry", (str(b.entry_id),))))  # fmt: skip
    # Surcharges: holiday 110 x 1 h x 100 % = 110.00; after hours 110 x 165/60 = 302.50 x 25 % = 75.625 -> 75.63;
    # evening 165.00 x 25 % = 41.25.
    assert sorted(line.net_amount for line in lines) == sorted(
        [Decimal("165.82"), Decimal("110.00"), Decimal("165.00"), Decimal("110.00"), Decimal("75.63"),
         Decimal("41.25")]  # fmt: skip
    )
    return lines


def totals_for(seller: Party, buyer: Party):  # noqa: ANN201
    return invoice_totals(month_lines(), lambda tax_class: tax_case(seller, buyer, tax_class, OCTOBER.last))


def test_german_customer_19_percent():
    totals = totals_for(Party("DE", "DE136695976"), Party("DE"))
    # 165.82 + 110.00 + 165.00 + 110.00 + 75.63 + 41.25 = 667.70; 19 % = 126.863 -> 126.86; 794.56 in all
    assert (totals.line_total, totals.tax_total, totals.tax_inclusive) == (
        Decimal("667.70"), Decimal("126.86"), Decimal("794.56"))
    [group] = totals.groups
    assert (group.category, group.rate, group.taxable_amount) == (VatCategory.STANDARD, Decimal(19), Decimal("667.70"))


def test_austrian_customer_of_an_austrian_msp_20_percent():
    totals = totals_for(Party("AT", "ATU13585627"), Party("AT"))
    assert (totals.tax_total, totals.amount_due) == (Decimal("133.54"), Decimal("801.24"))  # 667.70 x 20 %


def test_eu_business_customer_reverse_charge():
    totals = totals_for(Party("DE", "DE136695976"), Party("AT", "ATU13585627"))
    [group] = totals.groups
    assert (group.category, group.rate, group.tax_amount, totals.amount_due) == (
        VatCategory.REVERSE_CHARGE, Decimal(0), Decimal("0.00"), Decimal("667.70"))
    assert "Steuerschuldnerschaft des Leistungsempfängers" in group.note_de and group.exemption_code == "VATEX-EU-AE"


def test_swiss_customer_of_a_german_msp_is_not_subject_to_german_vat():
    totals = totals_for(Party("DE", "DE136695976"), Party("CH", "CHE-116.281.710 MWST"))
    [group] = totals.groups
    assert (group.category, totals.tax_total) == (VatCategory.NOT_SUBJECT, Decimal("0.00"))
    assert "§ 3a Abs. 2 UStG" in group.note_de


def test_swiss_msp_swiss_customer_8_1_percent():
    totals = totals_for(Party("CH", "CHE-116.281.710 MWST"), Party("CH"))
    assert totals.tax_total == Decimal("54.08")  # 667.70 x 8.1 % = 54.0837


def test_credit_line_lowers_the_group_and_tax_is_rounded_once_per_group():
    lines = [
        InvoiceLine("A", Decimal(1), "C62", Decimal("0.05"), Decimal("0.05"), TaxClass.STANDARD, LineSource("one_off")),
        InvoiceLine("B", Decimal(1), "C62", Decimal("0.05"), Decimal("0.05"), TaxClass.STANDARD, LineSource("one_off")),
        InvoiceLine("Gutschrift", Decimal(-1), "C62", Decimal("10.00"), Decimal("-10.00"), TaxClass.STANDARD,
                    LineSource("credit")),  # fmt: skip
        InvoiceLine("Buch", Decimal(1), "C62", Decimal("20.00"), Decimal("20.00"), TaxClass.REDUCED,
                    LineSource("one_off")),  # fmt: skip
    ]
    de = Party("DE")
    totals = invoice_totals(lines, lambda c: tax_case(de, de, c, date(2026, 10, 31)))
    # 19 %: 0.05 + 0.05 - 10.00 = -9.90 x 19 % = -1.881 -> -1.88, once for the group (per line: 0.0095 -> 0.01
    # twice and -1.90, also -1.88 here, but not in general); 7 %: 20.00 x 7 % = 1.40.
    by_rate = {g.rate: (g.taxable_amount, g.tax_amount) for g in totals.groups}
    assert by_rate == {
        Decimal(19): (Decimal("-9.90"), Decimal("-1.88")),
        Decimal(7): (Decimal("20.00"), Decimal("1.40")),
    }
    # 10.10 net, -1.88 + 1.40 = -0.48 tax, 9.62 due
    assert (totals.line_total, totals.tax_total, totals.amount_due) == (
        Decimal("10.10"), Decimal("-0.48"), Decimal("9.62"))
