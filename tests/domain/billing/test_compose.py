"""compose_draft: the golden month of test_golden_invoice.py through the composition, grouped time lines that cost
exactly what per-entry billing costs, items and credits, carry-over, and problems that name their culprit."""

import random
import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.billing.compose import (
    Composition,
    CustomerPeriod,
    Item,
    ItemKind,
    ProductInfo,
    RecurringLine,
    WorkedEntry,
    compose_draft,
    unit_code,
)
from domain.billing.contingent import CarryOver, ContingentTerms, apply_contingent
from domain.billing.invoice import LineSource, invoice_totals
from domain.billing.money import ZERO, money
from domain.billing.recurring import BillingMonth, Cycle
from domain.billing.tax import Party, TaxClass, tax_case
from domain.billing.terms import RevenueType
from domain.billing.time_billing import TimeClass, TimeRules, WorkedTime, bill_time, surcharge_amounts
from domain.business_calendar import BusinessCalendar
from domain.calendar_spec import CalendarSpec
from tests.domain.billing.test_golden_invoice import month_lines

BERLIN = ZoneInfo("Europe/Berlin")
OCTOBER = BillingMonth(2026, 10)
BAVARIA = BusinessCalendar(CalendarSpec.standard_dach("DE", "DE-BY"))
SURCHARGES = {TimeClass.AFTER_HOURS: Decimal(25), TimeClass.WEEKEND: Decimal(50), TimeClass.HOLIDAY: Decimal(100)}
RULES = TimeRules(rates={"remote": Decimal("110.00")}, round_up_minutes=15, surcharges=SURCHARGES)
PRODUCTS = {
    "MS-WS": ProductInfo("Managed Workstation", RevenueType.MANAGED_SERVICES),
    "remote": ProductInfo("Remote-Support", RevenueType.LABOUR),
}


def seats(**fields) -> RecurringLine:
    values = {
        "line_id": uuid.uuid4(),
        "contract_id": uuid.uuid4(),
        "contract_number": "V-K10001-01",
        "product_code": "MS-WS",
        "description": "Managed Workstation",
        "unit": "device",
        "quantity": Decimal(23),
        "unit_price": Decimal("14.90"),
        "cycle": Cycle.MONTHLY,
        "start": date(2026, 10, 17),
        "end": None,
        "revenue_type": RevenueType.MANAGED_SERVICES,
    } | fields
    return RecurringLine(**values)


def worked(day: int, hour: int, minute: int, minutes: int, activity: str = "remote", ticket: str | None = None):
    start = datetime(2026, 10, day, hour, minute, tzinfo=BERLIN)
    return WorkedEntry(WorkedTime(uuid.uuid4(), start, minutes, activity), ticket)


def golden_entries() -> tuple[WorkedEntry, ...]:
    return (
        worked(3, 10, 0, 60),  # holiday (and Saturday)
        worked(5, 9, 0, 50),
        worked(6, 10, 10, 7),
        worked(7, 13, 0, 400),  # 240 in hours, 165 after (rounding included)
        worked(8, 19, 0, 90),  # after hours
    )


def period(**fields) -> CustomerPeriod:
    values = {
        "month": OCTOBER,
        "currency": "EUR",
        "calendar": BAVARIA,
        "time_rules": RULES,
        "contingent": ContingentTerms(included_minutes=480),
        "recurring": (seats(),),
        "time": golden_entries(),
        "products": PRODUCTS,
    } | fields
    return CustomerPeriod(**values)


def by_description(composition: Composition) -> dict[str, tuple[Decimal, Decimal]]:
    return {line.description: (line.quantity, line.net_amount) for line in composition.lines}


def test_the_golden_month_composes_to_the_golden_figures():
    draft = compose_draft(period())
    assert draft.problems == ()
    assert [(line.description, line.quantity, line.unit, line.unit_price, line.net_amount) for line in draft.lines] == [
        ("Managed Workstation (17.10.–31.10.2026)", 23, "C62", Decimal("14.90"), Decimal("165.82")),
        ("Remote-Support im Kontingent", Decimal("8.00"), "HUR", ZERO, ZERO),
        ("Remote-Support über Kontingent", Decimal("2.50"), "HUR", Decimal("110.00"), Decimal("275.00")),
        # 165 + 90 min after hours at 27.50/h: 75.63 + 41.25 per entry (4.25 h x 27.50 would be 116.875)
        (
            "Zuschlag außerhalb der Geschäftszeit 25 % auf Remote-Support",
            Decimal("4.25"),
            "HUR",
            Decimal("27.50"),
            Decimal("116.88"),
        ),  # fmt: skip
        ("Zuschlag Feiertag 100 % auf Remote-Support", Decimal("1.00"), "HUR", Decimal("110.00"), Decimal("110.00")),
        ("Kontingent Oktober 2026: 8,00 h enthalten, 8,00 h genutzt", 1, "C62", ZERO, ZERO),
    ]
    golden = month_lines()
    assert draft.net_total == sum(line.net_amount for line in golden) == Decimal("667.70")
    # Group by group: the overage and each surcharge class cost what the golden per-entry lines cost.
    over = sum(line.net_amount for line in golden if "Kontingent" in line.description)
    after = sum(line.net_amount for line in golden if line.description == "Zuschlag after_hours")
    assert by_description(draft)["Remote-Support über Kontingent"][1] == over
    assert by_description(draft)["Zuschlag außerhalb der Geschäftszeit 25 % auf Remote-Support"][1] == after
    de = Party("DE", "DE136695976")
    totals = invoice_totals(draft.lines, lambda c: tax_case(de, Party("DE"), c, OCTOBER.last))
    assert (totals.line_total, totals.tax_total, totals.tax_inclusive) == (
        Decimal("667.70"), Decimal("126.86"), Decimal("794.56"))  # fmt: skip
    assert draft.contingent is not None
    assert (draft.contingent.used_minutes, draft.contingent.overage_minutes, draft.carried_out_minutes) == (480, 150, 0)


def test_lines_carry_their_sources_periods_and_revenue_types():
    entries = golden_entries()
    seat_line = seats()
    draft = compose_draft(period(time=entries, recurring=(seat_line,)))
    recurring, covered, over, after, holiday, info = draft.lines
    assert (recurring.source.kind, recurring.source.ids) == ("contract_line", (str(seat_line.line_id),))
    assert (recurring.period_start, recurring.period_end) == (date(2026, 10, 17), date(2026, 10, 31))
    assert recurring.revenue_type == RevenueType.MANAGED_SERVICES
    ids = [str(e.worked.entry_id) for e in entries]
    # The contingent covers in the order worked: entries 1-3 fully, 345 of the 400 minutes of entry 4.
    assert covered.source == LineSource("time_entry", tuple(ids[:4]))
    assert over.source.ids == tuple(ids[3:]) and after.source.ids == tuple(ids[3:])
    assert holiday.source.ids == (ids[0],) and (holiday.period_start, holiday.period_end) == (date(2026, 10, 3),) * 2
    assert {line.revenue_type for line in (covered, over, after, holiday, info)} == {RevenueType.LABOUR}
    assert info.source.kind == "contingent" and info.net_amount == 0


def test_the_order_of_the_input_does_not_change_the_draft():
    entries, lines = golden_entries(), (seats(), seats(product_code="M365", description="Microsoft 365", unit="seat"))
    items = (
        Item(uuid.uuid4(), "V-1", ItemKind.CREDIT, "Kulanz", Decimal(1), Decimal("10.00"), date(2026, 10, 5)),
        Item(uuid.uuid4(), "V-1", ItemKind.ONE_OFF, "Einrichtung", Decimal(1), Decimal("90.00"), date(2026, 10, 5)),
    )
    shuffled = random.Random(7)
    drafts = set()
    for _ in range(5):
        e, r, i = list(entries), list(lines), list(items)
        for part in (e, r, i):
            shuffled.shuffle(part)
        products = PRODUCTS | {"M365": ProductInfo("Microsoft 365", RevenueType.LICENCES)}
        drafts.add(compose_draft(period(time=tuple(e), recurring=tuple(r), items=tuple(i), products=products)).lines)
    [draft] = drafts
    # recurring by start and product, time, then items: the one-off before the credit of the same day
    assert [line.source.kind for line in draft] == ["contract_line"] * 2 + ["time_entry"] * 4 + [
        "contingent", "one_off", "credit"]  # fmt: skip
    assert draft[0].description.startswith("Microsoft") and draft[1].description.startswith("Managed")  # M365 < MS-WS


def test_grouped_time_costs_what_per_entry_rounding_costs_not_what_the_summed_hours_cost():
    # Every started minute: 7 min x 110/h = 12.8333 -> 12.83 per entry; three of them 38.49 (21 min would be 38.50).
    rules = TimeRules(rates={"remote": Decimal("110.00")}, round_up_minutes=1)
    entries = (worked(5, 9, 0, 7), worked(6, 9, 0, 7), worked(7, 9, 0, 7))
    draft = compose_draft(period(time_rules=rules, contingent=None, recurring=(), time=entries))
    [line] = draft.lines
    assert (line.description, line.quantity, line.net_amount) == ("Remote-Support", Decimal("0.35"), Decimal("38.49"))
    assert line.net_amount == sum(bill_time(e.worked, rules, BAVARIA).base_amount() for e in entries)


def _per_entry_total(p: CustomerPeriod) -> Decimal:
    """The golden test's rule, entry by entry: overage (at the overage rate when set) plus each class's surcharge."""
    in_order = sorted(p.time, key=lambda e: (e.worked.started_at, str(e.worked.entry_id)))
    billed = [bill_time(e.worked, p.time_rules, p.calendar) for e in in_order]
    covered = apply_contingent(billed, p.contingent, p.carried_in_minutes).covered if p.contingent else {}
    total = ZERO
    for b in billed:
        over = b.billed_minutes - covered.get(b.entry_id, 0)
        if p.contingent and p.contingent.covers(b.activity_type) and p.contingent.overage_rate is not None:
            total += money(p.contingent.overage_rate * over / Decimal(60))
        else:
            total += b.base_amount(over)
        total += sum(surcharge_amounts(b, p.time_rules).values(), ZERO)
    return total


entry_strategy = st.tuples(
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(1, 600),
    st.sampled_from(["remote", "vor_ort"]),
)


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(entry_strategy, min_size=1, max_size=12),
    block=st.sampled_from([1, 5, 15]),
    included=st.integers(0, 900),
    overage=st.sampled_from([None, Decimal("99.99")]),
    only_remote=st.booleans(),
)
def test_grouping_never_changes_a_cent(entries, block, included, overage, only_remote):
    rules = TimeRules(
        rates={"remote": Decimal("107.30"), "vor_ort": Decimal("133.33")}, round_up_minutes=block, surcharges=SURCHARGES
    )
    contingent = ContingentTerms(included, overage, activity_types=frozenset({"remote"} if only_remote else ()))
    p = period(time_rules=rules, contingent=contingent, recurring=(), time=tuple(worked(*e) for e in entries))
    draft = compose_draft(p)
    assert draft.problems == ()
    assert draft.net_total == _per_entry_total(p)
    # every billed minute appears once at a price (covered, over or plain), whatever the grouping
    hours = sum(
        line.quantity for line in draft.lines if line.unit == "HUR" and not line.description.startswith("Zuschlag")
    )
    billed = sum(bill_time(e.worked, rules, BAVARIA).billed_minutes for e in p.time)
    assert abs(hours * 60 - billed) < Decimal("0.01") * len(draft.lines)


def test_an_activity_type_outside_the_contingent_is_billed_at_its_own_rate():
    rules = TimeRules(rates={"remote": Decimal("110.00"), "onsite": Decimal("140.00")}, round_up_minutes=15)
    contingent = ContingentTerms(included_minutes=120, activity_types=frozenset({"remote"}))
    entries = (worked(5, 9, 0, 60, "onsite"), worked(6, 9, 0, 60, "remote"))
    draft = compose_draft(period(time_rules=rules, contingent=contingent, recurring=(), time=entries))
    assert by_description(draft) == {
        "onsite": (Decimal("1.00"), Decimal("140.00")),  # no product in the price list: its code names it
        "Remote-Support im Kontingent": (Decimal("1.00"), ZERO),
        "Kontingent Oktober 2026: 2,00 h enthalten, 1,00 h genutzt": (1, ZERO),
    }
    assert draft.contingent.used_minutes == 60 and draft.contingent.overage_minutes == 0


def test_the_overage_rate_prices_time_beyond_the_contingent_and_surcharges_stay_on_the_activity_rate():
    contingent = ContingentTerms(included_minutes=60, overage_rate=Decimal("95.00"))
    entries = (worked(5, 9, 0, 60), worked(5, 19, 0, 30))  # the second after hours, beyond the contingent
    draft = compose_draft(period(contingent=contingent, recurring=(), time=entries))
    lines = by_description(draft)
    assert lines["Remote-Support über Kontingent"] == (Decimal("0.50"), Decimal("47.50"))  # 0.5 h x 95
    # 30 min x 110 x 25 % = 13.75
    assert lines["Zuschlag außerhalb der Geschäftszeit 25 % auf Remote-Support"] == (Decimal("0.50"), Decimal("13.75"))


def test_carried_in_minutes_are_used_first_and_the_unused_own_minutes_carry_out_up_to_the_cap():
    contingent = ContingentTerms(480, carry_over=CarryOver.NEXT_MONTH, carry_over_cap_minutes=300)
    entries = (worked(5, 9, 0, 120),)  # 60 carried in + 60 of the month's own 480: 420 left, 300 carry
    draft = compose_draft(period(contingent=contingent, carried_in_minutes=60, recurring=(), time=entries))
    assert draft.carried_out_minutes == 300
    s = draft.contingent
    assert (s.included_minutes, s.carried_in_minutes, s.used_minutes, s.carried_out_minutes) == (480, 60, 120, 300)
    assert draft.lines[-1].description == (
        "Kontingent Oktober 2026: 8,00 h enthalten, 1,00 h aus dem Vormonat, 2,00 h genutzt, "
        "5,00 h übertragen in den Folgemonat"
    )
    assert draft.net_total == ZERO
    # Without a cap the whole unused own part carries; without carry-over nothing does.
    uncapped = ContingentTerms(480, carry_over=CarryOver.NEXT_MONTH)
    assert compose_draft(period(contingent=uncapped, carried_in_minutes=60, time=entries)).carried_out_minutes == 420
    assert compose_draft(period(carried_in_minutes=60, time=entries)).carried_out_minutes == 0


def test_a_month_without_time_has_no_contingent_line_but_a_summary():
    contingent = ContingentTerms(480, carry_over=CarryOver.NEXT_MONTH)
    draft = compose_draft(period(contingent=contingent, time=()))
    assert [line.source.kind for line in draft.lines] == ["contract_line"]
    assert draft.carried_out_minutes == 480 and draft.contingent.used_minutes == 0


def test_one_off_item_and_credit():
    one_off = Item(uuid.uuid4(), "V-1", ItemKind.ONE_OFF, "Einrichtung Arbeitsplatz", Decimal(2), Decimal("90.00"),
                   date(2026, 10, 12), revenue_type=RevenueType.MANAGED_SERVICES)  # fmt: skip
    credit = Item(uuid.uuid4(), "V-1", ItemKind.CREDIT, "Kulanz Ausfall 06.10.", Decimal(1), Decimal("49.90"),
                  date(2026, 10, 6))  # fmt: skip
    book = Item(uuid.uuid4(), "V-1", ItemKind.ONE_OFF, "Fachbuch", Decimal(1), Decimal("20.00"), date(2026, 10, 31),
                tax_class=TaxClass.REDUCED, revenue_type=RevenueType.HARDWARE)  # fmt: skip
    draft = compose_draft(period(time=(), items=(one_off, credit, book)))
    assert draft.problems == ()
    _, *items = draft.lines
    assert [(i.description, i.quantity, i.unit_price, i.net_amount, i.source.kind) for i in items] == [
        ("Gutschrift: Kulanz Ausfall 06.10. (06.10.2026)", -1, Decimal("49.90"), Decimal("-49.90"), "credit"),
        ("Einrichtung Arbeitsplatz (12.10.2026)", 2, Decimal("90.00"), Decimal("180.00"), "one_off"),
        ("Fachbuch (31.10.2026)", 1, Decimal("20.00"), Decimal("20.00"), "one_off"),
    ]
    assert items[0].source.ids == (str(credit.item_id),) and items[1].revenue_type == RevenueType.MANAGED_SERVICES
    de = Party("DE")
    totals = invoice_totals(draft.lines, lambda c: tax_case(de, de, c, OCTOBER.last))
    # 19 %: 165.82 - 49.90 + 180.00 = 295.92 -> 56.22; 7 %: 20.00 -> 1.40
    assert {g.rate: (g.taxable_amount, g.tax_amount) for g in totals.groups} == {
        Decimal(19): (Decimal("295.92"), Decimal("56.22")),
        Decimal(7): (Decimal("20.00"), Decimal("1.40")),
    }


def test_problems_name_the_culprit_and_the_rest_is_still_composed():
    negative = seats(description="Managed Server", product_code="MS-SRV", quantity=Decimal(-2), contract_number="V-7")
    unpriced = seats(description="Backup Cloud", product_code="BKP-X", unit_price=ZERO)
    francs = seats(description="Firewall", product_code="FW", currency="CHF", contract_number="V-8")
    no_rate = worked(6, 9, 0, 30, activity="consulting", ticket="T-2026-000042")
    bad_item = Item(uuid.uuid4(), "V-1", ItemKind.ONE_OFF, "Kabel", Decimal(-3), Decimal("5.00"), date(2026, 10, 6))
    draft = compose_draft(
        period(recurring=(seats(), negative, unpriced, francs), time=(*golden_entries(), no_rate), items=(bad_item,))
    )
    assert draft.problems == (
        "Contract line 'Backup Cloud' (BKP-X, contract V-K10001-01) has no price: unit price 0 and no product 'BKP-X' "
        "in the price list",
        "Contract line 'Firewall' (FW, contract V-8) is in CHF, the invoice in EUR",
        "Contract line 'Managed Server' (MS-SRV, contract V-7): quantity -2 is negative; a credit is its own line",
        "Time entry of 06.10.2026 09:00 (ticket T-2026-000042, 30 min 'consulting'): no hourly rate for the activity "
        "type 'consulting' in the contract",
        "One-off item 'Kabel' of 06.10.2026 (contract V-1) has the quantity -3; enter a positive quantity (a credit's "
        "kind makes it a deduction)",
    )
    # The golden lines are all there; the culprits have none.
    assert draft.net_total == Decimal("667.70")
    assert not any(w in line.description for line in draft.lines for w in ("Server", "Backup", "Firewall", "Kabel"))


def test_a_free_line_of_a_product_in_the_price_list_is_no_problem():
    free = seats(description="Monitoring inklusive", product_code="MON-FREE", unit_price=ZERO, unit="flat")
    products = PRODUCTS | {"MON-FREE": ProductInfo("Monitoring", RevenueType.MANAGED_SERVICES)}
    draft = compose_draft(period(recurring=(free,), time=(), products=products))
    assert draft.problems == ()
    [line] = draft.lines
    assert (line.unit, line.net_amount) == ("MON", ZERO)


def test_entries_and_items_outside_the_month_are_problems_not_lines():
    late = WorkedEntry(WorkedTime(uuid.uuid4(), datetime(2026, 11, 1, 0, 30, tzinfo=BERLIN), 30, "remote"), "T-9")
    # 31.10. 23:45 UTC is already 1 November in Berlin: the local day decides.
    also_late = WorkedEntry(WorkedTime(uuid.uuid4(), datetime(2026, 10, 31, 23, 45, tzinfo=ZoneInfo("UTC")), 30,
                                       "remote"), "T-10")  # fmt: skip
    item = Item(uuid.uuid4(), "V-1", ItemKind.ONE_OFF, "Kabel", Decimal(1), Decimal("5.00"), date(2026, 9, 30))
    draft = compose_draft(period(recurring=(), time=(late, also_late), items=(item,)))
    assert draft.lines == () and len(draft.problems) == 3
    assert "T-9" in draft.problems[0] and "T-10" in draft.problems[1] and "not worked in 2026-10" in draft.problems[1]
    assert "'Kabel' of 30.09.2026" in draft.problems[2]


def test_an_empty_period_composes_to_nothing():
    draft = compose_draft(CustomerPeriod(OCTOBER, "EUR", BAVARIA, TimeRules(rates={}), carried_in_minutes=90))
    assert (draft.lines, draft.problems, draft.contingent, draft.carried_out_minutes) == ((), (), None, 0)


def test_cycles_spans_and_units():
    quarterly = seats(description="Firewall-Lizenz", unit="licence", cycle=Cycle.QUARTERLY, quantity=Decimal(1),
                      unit_price=Decimal("300.00"), start=date(2026, 11, 16))  # fmt: skip
    yearly = seats(description="Domain", unit="flat", cycle=Cycle.YEARLY, quantity=Decimal(1),
                   unit_price=Decimal("24.00"), start=date(2025, 11, 1))  # fmt: skip
    hours = seats(description="Bereitschaft", unit="hour", quantity=Decimal(4), unit_price=Decimal("50.00"),
                  start=date(2026, 1, 1))  # fmt: skip
    draft = compose_draft(period(month=BillingMonth(2026, 11), recurring=(quarterly, yearly, hours), time=()))
    assert [(line.description, line.unit, line.net_amount) for line in draft.lines] == [
        ("Domain (01.11.2026–31.10.2027)", "C62", Decimal("24.00")),
        ("Bereitschaft (01.11.–30.11.2026)", "HUR", Decimal("200.00")),
        # the rest of its first quarter: 16.11.-31.12. = 46 of 92 days
        ("Firewall-Lizenz (16.11.–31.12.2026)", "C62", Decimal("150.00")),
    ]
    assert [unit_code(u, Cycle.MONTHLY) for u in ("seat", "device", "server", "licence", "hour", "flat")] == [
        "C62", "C62", "C62", "C62", "HUR", "MON"]  # fmt: skip
    assert unit_code("flat", Cycle.ONE_TIME) == "C62"


def test_a_recurring_line_of_an_unknown_unit_is_a_problem():
    draft = compose_draft(period(recurring=(seats(unit="crate"),), time=()))
    assert draft.lines == () and draft.problems == (
        "Contract line 'Managed Workstation' (MS-WS, contract V-K10001-01): unknown unit 'crate'",)  # fmt: skip


def test_entries_are_covered_in_the_order_worked_even_across_a_day_boundary():
    # Worked later in the month but listed first: the contingent covers the earlier one.
    first, second = worked(5, 9, 0, 60), worked(20, 9, 0, 60)
    draft = compose_draft(period(contingent=ContingentTerms(60), recurring=(), time=(second, first)))
    covered = next(line for line in draft.lines if line.description.endswith("im Kontingent"))
    assert covered.source.ids == (str(first.worked.entry_id),)
