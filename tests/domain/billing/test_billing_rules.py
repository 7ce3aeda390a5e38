"""The billing rules one by one: VAT cases and dated rates, recurring cycles, time classes, rounding, contingents."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.billing.contingent import CarryOver, ContingentTerms, apply_contingent
from domain.billing.money import money
from domain.billing.recurring import BillingMonth, Cycle, recurring_charge
from domain.billing.tax import Party, TaxClass, TaxError, VatCategory, tax_case, valid_vat_id, vat_rate
from domain.billing.time_billing import (
    BillingRuleError,
    TimeClass,
    TimeRules,
    WorkedTime,
    bill_time,
    classify,
    rounded_minutes,
)
from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import CalendarSpec

BERLIN = ZoneInfo("Europe/Berlin")
BAVARIA = BusinessCalendar(CalendarSpec.standard_dach("DE", "DE-BY"))
D = Decimal


# --- money and VAT ----------------------------------------------------------------------------------------------


def test_money_rounds_half_up_and_refuses_float():
    assert (money("2.345"), money("-2.345"), money(D("0.004"))) == (D("2.35"), D("-2.35"), D("0.00"))
    with pytest.raises(TypeError):
        money(0.1)


@pytest.mark.parametrize(
    ("country", "tax_class", "on", "rate"),
    [
        ("DE", TaxClass.STANDARD, date(2026, 11, 30), D(19)),
        ("DE", TaxClass.REDUCED, date(2026, 11, 30), D(7)),
        ("DE", TaxClass.STANDARD, date(2020, 8, 31), D(16)),  # the second half of 2020
        ("DE", TaxClass.STANDARD, date(2021, 1, 1), D(19)),
        ("AT", TaxClass.STANDARD, date(2026, 1, 1), D(20)),
        ("AT", TaxClass.REDUCED, date(2026, 1, 1), D(10)),
        ("CH", TaxClass.STANDARD, date(2023, 12, 31), D("7.7")),
        ("CH", TaxClass.STANDARD, date(2024, 1, 1), D("8.1")),
        ("CH", TaxClass.REDUCED, date(2024, 1, 1), D("2.6")),
    ],
)
def test_vat_rate_of_the_supply_date(country, tax_class, on, rate):
    assert vat_rate(country, tax_class, on) == rate


def test_unknown_rates_and_countries_are_errors():
    with pytest.raises(TaxError, match="no VAT rates known for 'FR'"):
        vat_rate("FR", TaxClass.STANDARD, date(2026, 1, 1))
    with pytest.raises(TaxError, match="no CH VAT rate known for 2017-12-31"):
        vat_rate("CH", TaxClass.STANDARD, date(2017, 12, 31))
    with pytest.raises(TaxError, match="buyer country"):
        tax_case(Party("DE"), Party("de"), TaxClass.STANDARD, date(2026, 1, 1))


def test_vat_ids_are_checked_by_format_check_digit_and_country():
    assert valid_vat_id("DE", "DE 136 695 976") and valid_vat_id("AT", "ATU13585627")
    assert not valid_vat_id("DE", "DE136695975")  # wrong check digit
    assert not valid_vat_id("AT", "DE136695976")  # another country's id
    assert valid_vat_id("CH", "CHE-116.281.710 MWST") and not valid_vat_id("CH", "CHE-116.281.711 MWST")
    assert valid_vat_id("GR", "EL094259216") and not valid_vat_id("GR", None)


def test_eu_business_without_a_valid_vat_id_pays_the_sellers_vat():
    case = tax_case(Party("DE"), Party("FR", "FR00000000000"), TaxClass.STANDARD, date(2026, 3, 1))
    assert (case.category, case.rate, case.note_de) == (VatCategory.STANDARD, D(19), None)


def test_consumers_abroad_pay_the_sellers_vat_and_austrian_msps_reverse_charge_to_germany():
    consumer = tax_case(Party("AT"), Party("DE", is_business=False), TaxClass.STANDARD, date(2026, 3, 1))
    assert (consumer.category, consumer.rate) == (VatCategory.STANDARD, D(20))
    rc = tax_case(Party("AT"), Party("DE", "DE136695976"), TaxClass.STANDARD, date(2026, 3, 1))
    assert rc.category == VatCategory.REVERSE_CHARGE and "Übergang der Steuerschuld" in rc.note_de
    assert rc.buyer_vat_id_required and rc.note("en").startswith("Reverse charge")


def test_swiss_msp_exports_services_to_germany_and_small_businesses_charge_no_vat():
    export = tax_case(Party("CH"), Party("DE", "DE136695976"), TaxClass.STANDARD, date(2026, 3, 1))
    assert (export.category, export.rate, export.exemption_code) == (VatCategory.NOT_SUBJECT, D(0), "VATEX-EU-O")
    assert "Art. 8 Abs. 1 MWSTG" in export.note_de
    small = tax_case(Party("DE", small_business=True), Party("DE"), TaxClass.STANDARD, date(2026, 3, 1))
    assert (small.category, small.rate) == (VatCategory.EXEMPT, D(0)) and "§ 19 UStG" in small.note_de


# --- recurring lines ---------------------------------------------------------------------------------------------


def test_billing_month_parse():
    assert str(BillingMonth.parse("2026-02")) == "2026-02" and BillingMonth.parse("2024-02").last == date(2024, 2, 29)
    for bad in ("2026-13", "2026", "26-1x", ""):
        with pytest.raises(ValueError, match="expected YYYY-MM"):
            BillingMonth.parse(bad)


def test_monthly_line_ending_mid_month_and_lines_outside_the_month():
    nov = BillingMonth(2026, 11)
    # 10 x 49.00 = 490.00 for 1.-12.11. = 12 of 30 days: 196.00
    charge = recurring_charge(Cycle.MONTHLY, D(10), D("49.00"), date(2026, 1, 1), date(2026, 11, 12), nov)
    assert (charge.billed_from, charge.billed_to, charge.amount) == (date(2026, 11, 1), date(2026, 11, 12), D("196.00"))
    assert recurring_charge(Cycle.MONTHLY, D(1), D(1), date(2026, 12, 1), None, nov) is None  # starts later
    assert recurring_charge(Cycle.MONTHLY, D(1), D(1), date(2026, 1, 1), date(2026, 10, 31), nov) is None  # ended
    with pytest.raises(ValueError, match="negative"):
        recurring_charge(Cycle.MONTHLY, D(-1), D(1), date(2026, 1, 1), None, nov)


def test_quarterly_lines_are_billed_once_per_quarter_in_advance():
    # Line from 15.2.2026: billed in February for 15.2.-31.3. (45 of 90 days of Q1); not in January or March.
    line = (Cycle.QUARTERLY, D(1), D("900.00"), date(2026, 2, 15), None)
    billed = {m: recurring_charge(*line, BillingMonth(2026, m)) for m in range(1, 8)}
    assert [m for m, c in billed.items() if c is not None] == [2, 4, 7]
    assert (billed[2].days, billed[2].span_days, billed[2].amount) == (45, 90, D("450.00"))
    q2 = billed[4]
    assert (q2.span_start, q2.span_end, q2.amount) == (date(2026, 4, 1), date(2026, 6, 30), D("900.00"))


def test_yearly_and_one_time_lines():
    yearly = (Cycle.YEARLY, D(2), D("120.00"), date(2025, 3, 10), None)
    assert recurring_charge(*yearly, BillingMonth(2026, 2)) is None
    charge = recurring_charge(*yearly, BillingMonth(2026, 3))
    assert (charge.span_start, charge.span_end, charge.amount) == (date(2026, 3, 10), date(2027, 3, 9), D("240.00"))
    once = (Cycle.ONE_TIME, D(1), D("350.00"), date(2026, 5, 20), None)
    assert recurring_charge(*once, BillingMonth(2026, 5)).amount == D("350.00")
    assert recurring_charge(*once, BillingMonth(2026, 6)) is None


# --- time ----------------------------------------------------------------------------------------------------------


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_time_classes_across_midnight_into_a_holiday_and_the_christmas_half_day():
    # Friday 30.10.2026 23:30 -> Saturday 31.10. 00:30 (Bavaria: 31.10. is no holiday there): after hours, weekend
    assert classify(BAVARIA, at(2026, 10, 30, 23, 30), 60) == [(TimeClass.AFTER_HOURS, 30), (TimeClass.WEEKEND, 30)]
    # Thursday 24.12.2026 11:00 for 2 h: open until 12:00, after hours from then on
    assert classify(BAVARIA, at(2026, 12, 24, 11, 0), 120) == [
        (TimeClass.BUSINESS_HOURS, 60), (TimeClass.AFTER_HOURS, 60)]
    # Tuesday 8.12.2026 is no holiday in Bavaria: 07:00-09:00 is 60 after hours then 60 in hours
    early = classify(BAVARIA, at(2026, 12, 8, 7, 0), 120)
    assert early == [(TimeClass.AFTER_HOURS, 60), (TimeClass.BUSINESS_HOURS, 60)]
    # Corpus Christi 4.6.2026 is a holiday in Bavaria
    assert classify(BAVARIA, at(2026, 6, 4, 10, 0), 30) == [(TimeClass.HOLIDAY, 30)]


def test_seconds_in_a_start_time_do_not_lose_minutes():
    parts = classify(BAVARIA, datetime(2026, 11, 2, 16, 50, 30, tzinfo=BERLIN), 20)
    assert sum(minutes for _, minutes in parts) == 20 and parts[0][0] == TimeClass.BUSINESS_HOURS


def test_rounding_minimum_and_missing_rates():
    rules = TimeRules(rates={"onsite": D("95")}, round_up_minutes=15, minimum_minutes=60)
    assert [rounded_minutes(m, rules) for m in (1, 60, 61, 75, 76)] == [60, 60, 75, 75, 90]
    with pytest.raises(BillingRuleError, match="0 minutes"):
        rounded_minutes(0, rules)
    with pytest.raises(BillingRuleError, match="no hourly rate for the activity type 'remote'"):
        bill_time(WorkedTime(uuid.uuid4(), at(2026, 11, 2, 10, 0), 10, "remote"), rules, BAVARIA)
    with pytest.raises(ValueError):
        TimeRules(rates={}, round_up_minutes=0)


# --- contingents -------------------------------------------------------------------------------------------------


def test_contingent_uses_carried_minutes_first_covers_only_its_types_and_carries_the_unused_rest():
    rules = TimeRules(rates={"remote": D(100), "project": D(120)}, round_up_minutes=15)
    entries = [
        bill_time(WorkedTime(uuid.uuid4(), at(2026, 11, 2, 9, 0), 90, "remote"), rules, BAVARIA),
        bill_time(WorkedTime(uuid.uuid4(), at(2026, 11, 3, 9, 0), 240, "project"), rules, BAVARIA),
        bill_time(WorkedTime(uuid.uuid4(), at(2026, 11, 4, 9, 0), 60, "remote"), rules, BAVARIA),
    ]
    terms = ContingentTerms(
        included_minutes=240, carry_over=CarryOver.NEXT_MONTH, carry_over_cap_minutes=60,
        activity_types=frozenset({"remote"}),
    )  # fmt: skip
    use = apply_contingent(entries, terms, carried_in_minutes=30)
    # remote 90: 30 carried + 60 own; project not covered; remote 60: 60 own -> 120 of 240 own used, 120 left, cap 60
    assert [use.covered.get(e.entry_id, 0) for e in entries] == [90, 0, 60]
    assert (use.used_minutes, use.carried_out_minutes) == (150, 60)
    no_carry = apply_contingent(entries, ContingentTerms(included_minutes=600))
    assert (no_carry.used_minutes, no_carry.carried_out_minutes) == (390, 0)
