"""One customer's monthly invoice draft: its recurring contract lines, its billable time and its one-off items and
credits, composed into invoice lines with a list of problems the draft cannot be issued with.

The input (`CustomerPeriod`) is everything the month needs, loaded once (activities/billing/compose_data.py), so the
composition is pure and reproducible by hand.

Lines, in this order:

1. **Recurring lines** (by start date, product code), each billed in advance for its cycle (`recurring_charge`), pro
   rata by days; the description names the billed span: "Managed Workstation (17.10.–31.10.2026)".
2. **Time**, grouped so a customer can check it against the time report, per activity type:
   * the hours the contingent covers ("… im Kontingent", price 0), then the hours beyond it at the contingent's
     overage rate or the activity's rate ("… über Kontingent"), and hours of types the contingent does not cover
     (or all hours without a contingent) at the activity's rate: one line per (activity type, kind, rate);
   * one surcharge line per (activity type, rate, time class, percent), with the hours of that class: surcharges
     apply to all billed minutes, covered ones too, at the activity's rate (as the contract's terms say);
   * a zero-amount line with the contingent's balance, when the month has billed time and a contingent.
   Each group's net amount is the sum of its entries' amounts, each rounded to the cent per entry (and per class) as
   `time_billing` prices an entry, never re-rounded from the summed hours: the grouping changes the layout of the
   invoice, not a cent of it. Hours x price of a group may thus differ by a few cents from its net amount (as a
   pro-rata line's does); every entry's id is in the line's source for the detailed time report.
3. **Items** (by service date, one-offs before credits): a one-off as it is, a credit as quantity -q with a negative
   net amount (its unit price stays positive, EN 16931 style).

Unit codes (UN/ECE Recommendation 20): pieces (seat, device, server, licence) are C62; hours HUR; a flat fee billed
monthly is MON (one month of it), a flat fee of any other cycle C62 (one lump sum; the line's span says for which
months).

A problem is a sentence naming the contract line, time entry or item; the culprit gets no line, the rest are still
composed, and the caller does not issue a draft that has problems.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import NamedTuple
from uuid import UUID

from domain.billing.contingent import ContingentTerms, apply_contingent
from domain.billing.invoice import InvoiceLine, LineSource
from domain.billing.money import ZERO, money
from domain.billing.recurring import BillingMonth, Cycle, RecurringCharge, recurring_charge
from domain.billing.tax import TaxClass
from domain.billing.terms import RevenueType
from domain.billing.time_billing import (
    BilledTime,
    BillingRuleError,
    TimeClass,
    TimeRules,
    WorkedTime,
    bill_time,
    surcharge_amounts,
)
from domain.business_calendar import BusinessCalendar

PIECE, HOUR, MONTH = "C62", "HUR", "MON"
_PIECE_UNITS = frozenset({"seat", "device", "server", "licence"})  # the values of models.contract.LineUnit
_MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember")  # fmt: skip
_CLASS_DE = {
    TimeClass.BUSINESS_HOURS: "Geschäftszeit",
    TimeClass.AFTER_HOURS: "außerhalb der Geschäftszeit",
    TimeClass.WEEKEND: "Wochenende",
    TimeClass.HOLIDAY: "Feiertag",
}


def unit_code(unit: str, cycle: Cycle) -> str:
    """The UN/ECE Rec 20 code of a line unit (a `LineUnit` value) on a line of `cycle`."""
    if unit in _PIECE_UNITS:
        return PIECE
    if unit == "hour":
        return HOUR
    if unit == "flat":
        return MONTH if cycle == Cycle.MONTHLY else PIECE
    raise ValueError(f"unknown unit {unit!r}")


def local_month_bounds(month: BillingMonth, calendar: BusinessCalendar) -> tuple[datetime, datetime]:
    """[start, end) of `month` in the customer's time zone, as aware datetimes: which entries the month bills."""
    start = datetime.combine(month.first, datetime.min.time(), calendar.zone)
    following = BillingMonth(month.year + 1, 1) if month.month == 12 else BillingMonth(month.year, month.month + 1)
    return start, datetime.combine(following.first, datetime.min.time(), calendar.zone)


@dataclass(frozen=True)
class ProductInfo:
    """What the price list says about a code: the name printed for an activity type, how its revenue is booked."""

    name: str
    revenue_type: RevenueType
    tax_class: TaxClass = TaxClass.STANDARD


@dataclass(frozen=True)
class RecurringLine:
    line_id: UUID
    contract_id: UUID
    contract_number: str
    product_code: str
    description: str
    unit: str  # a models.contract.LineUnit value: seat, device, server, hour, flat, licence
    quantity: Decimal
    unit_price: Decimal
    cycle: Cycle
    start: date
    end: date | None
    revenue_type: RevenueType = RevenueType.OTHER
    tax_class: TaxClass = TaxClass.STANDARD
    currency: str = "EUR"  # the contract's


class ItemKind(StrEnum):
    """The values of models.billing.ItemKind."""

    ONE_OFF = "one_off"
    CREDIT = "credit"


@dataclass(frozen=True)
class Item:
    item_id: UUID
    contract_number: str
    kind: ItemKind
    description: str
    quantity: Decimal  # positive; a credit's kind makes it a deduction
    unit_price: Decimal  # net, positive
    service_date: date
    tax_class: TaxClass = TaxClass.STANDARD
    revenue_type: RevenueType = RevenueType.OTHER
    unit: str = PIECE  # UN/ECE code
    currency: str = "EUR"  # the contract's


@dataclass(frozen=True)
class WorkedEntry:
    worked: WorkedTime
    ticket: str | None = None  # the ticket number, so a problem names an entry the way staff find it


@dataclass(frozen=True)
class CustomerPeriod:
    month: BillingMonth
    currency: str  # the invoice's: that of the contract whose terms price the time
    calendar: BusinessCalendar
    time_rules: TimeRules
    contingent: ContingentTerms | None = None
    carried_in_minutes: int = 0
    recurring: tuple[RecurringLine, ...] = ()
    items: tuple[Item, ...] = ()
    time: tuple[WorkedEntry, ...] = ()
    products: Mapping[str, ProductInfo] = field(default_factory=dict)  # price list by code, as far as used
    auto_approve: bool = False  # the terms contract issues its drafts without finance's approval

    def __post_init__(self) -> None:
        if self.carried_in_minutes < 0:
            raise ValueError("carried-in minutes must not be negative")


@dataclass(frozen=True)
class ContingentSummary:
    included_minutes: int
    carried_in_minutes: int
    used_minutes: int
    carried_out_minutes: int
    overage_minutes: int  # billed minutes of covered activity types beyond the contingent


@dataclass(frozen=True)
class Composition:
    lines: tuple[InvoiceLine, ...]
    problems: tuple[str, ...]
    contingent: ContingentSummary | None
    carried_out_minutes: int

    @property
    def net_total(self) -> Decimal:
        return sum((line.net_amount for line in self.lines), ZERO)


def compose_draft(period: CustomerPeriod) -> Composition:
    """The draft lines of `period` and the problems that keep it from being issued."""
    problems: list[str] = []
    lines = _recurring_lines(period, problems)
    time_lines, summary = _time_lines(period, problems)
    lines += time_lines
    lines += _item_lines(period, problems)
    carried_out = summary.carried_out_minutes if summary else 0
    return Composition(tuple(lines), tuple(problems), summary, carried_out)


# ---- recurring lines ----------------------------------------------------------------------------------------------


def _recurring_lines(period: CustomerPeriod, problems: list[str]) -> list[InvoiceLine]:
    lines = []
    for line in sorted(period.recurring, key=lambda r: (r.start, r.product_code, r.description, str(r.line_id))):
        name = f"Contract line {line.description!r} ({line.product_code}, contract {line.contract_number})"
        if line.currency != period.currency:
            problems.append(f"{name} is in {line.currency}, the invoice in {period.currency}")
            continue
        if line.unit_price < 0:
            problems.append(f"{name} has a negative unit price {line.unit_price}; a deduction is a credit item")
            continue
        if line.unit_price == 0 and line.product_code not in period.products:
            problems.append(f"{name} has no price: unit price 0 and no product {line.product_code!r} in the price list")
            continue
        try:
            unit = unit_code(line.unit, line.cycle)
            charge = recurring_charge(line.cycle, line.quantity, line.unit_price, line.start, line.end, period.month)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if charge is None:
            continue
        lines.append(
            InvoiceLine(
                description=f"{line.description} ({_span_text(charge)})",
                quantity=line.quantity,
                unit=unit,
                unit_price=line.unit_price,
                net_amount=charge.amount,
                tax_class=line.tax_class,
                source=LineSource("contract_line", (str(line.line_id),)),
                period_start=charge.billed_from,
                period_end=charge.billed_to,
                revenue_type=line.revenue_type,
            )
        )
    return lines


def _span_text(charge: RecurringCharge) -> str:
    start, end = charge.billed_from, charge.billed_to
    if start == end:
        return f"{start:%d.%m.%Y}"
    return f"{start:%d.%m.%Y}–{end:%d.%m.%Y}" if start.year != end.year else f"{start:%d.%m.}–{end:%d.%m.%Y}"


# ---- time ---------------------------------------------------------------------------------------------------------


class _Kind(IntEnum):
    """Line kinds of an activity type's time, in the order they are listed."""

    COVERED = 0
    OVERAGE = 1
    PLAIN = 2
    SURCHARGE = 3


_CLASS_ORDER = {c: i for i, c in enumerate(TimeClass)}


class _Key(NamedTuple):
    """What one time line groups: an activity type's covered, overage or plain hours at one price, or the hours of
    one time class with one surcharge."""

    activity: str
    kind: _Kind
    price: Decimal  # per hour
    time_class: TimeClass | None = None  # surcharges only
    percent: Decimal | None = None  # surcharges only

    def order(self) -> tuple:
        return self.activity, self.kind, _CLASS_ORDER[self.time_class] if self.time_class else -1, self.price


@dataclass
class _Group:
    """The entries of one time line as they are added: minutes, the sum of the per-entry amounts, ids, dates."""

    minutes: int = 0
    amount: Decimal = ZERO
    ids: list[str] = field(default_factory=list)
    days: list[date] = field(default_factory=list)

    def add(self, minutes: int, amount: Decimal, entry_id: UUID, day: date) -> None:
        self.minutes += minutes
        self.amount += amount
        self.ids.append(str(entry_id))
        self.days.append(day)


def _entry_name(entry: WorkedEntry, period: CustomerPeriod) -> str:
    worked = entry.worked
    local = worked.started_at.astimezone(period.calendar.zone)
    ticket = f"ticket {entry.ticket}" if entry.ticket else f"entry {worked.entry_id}"
    return f"Time entry of {local:%d.%m.%Y %H:%M} ({ticket}, {worked.minutes} min {worked.activity_type!r})"


def _billed_entries(period: CustomerPeriod, problems: list[str]) -> list[tuple[BilledTime, date]]:
    """Each entry of the month as billed, in the order worked (the order the contingent covers them in)."""
    billed = []
    for entry in sorted(period.time, key=lambda e: (e.worked.started_at, str(e.worked.entry_id))):
        day = entry.worked.started_at.astimezone(period.calendar.zone).date()
        if not period.month.first <= day <= period.month.last:
            problems.append(f"{_entry_name(entry, period)} was not worked in {period.month}")
            continue
        try:
            billed.append((bill_time(entry.worked, period.time_rules, period.calendar), day))
        except BillingRuleError as exc:
            problems.append(f"{_entry_name(entry, period)}: {exc}")
    return billed


def _time_lines(period: CustomerPeriod, problems: list[str]) -> tuple[list[InvoiceLine], ContingentSummary | None]:
    billed = _billed_entries(period, problems)
    terms, rules = period.contingent, period.time_rules
    use = apply_contingent([b for b, _ in billed], terms, period.carried_in_minutes) if terms else None
    groups: dict[_Key, _Group] = {}
    overage_minutes = 0
    for entry, day in billed:
        activity, entry_id = entry.activity_type, entry.entry_id
        covered = use.covered.get(entry_id, 0) if use else 0
        rest = entry.billed_minutes - covered
        if covered:
            groups.setdefault(_Key(activity, _Kind.COVERED, ZERO), _Group()).add(covered, ZERO, entry_id, day)
        if rest and terms is not None and terms.covers(activity):
            rate = entry.rate if terms.overage_rate is None else terms.overage_rate
            overage_minutes += rest
            key = _Key(activity, _Kind.OVERAGE, rate)
            groups.setdefault(key, _Group()).add(rest, _amount(rate, rest), entry_id, day)
        elif rest:
            key = _Key(activity, _Kind.PLAIN, entry.rate)
            groups.setdefault(key, _Group()).add(rest, entry.base_amount(rest), entry_id, day)
        # Surcharges on all billed minutes (covered ones too) at the activity's rate, per entry and class.
        for time_class, amount in surcharge_amounts(entry, rules).items():
            key = _Key(activity, _Kind.SURCHARGE, entry.rate, time_class, rules.surcharges[time_class])
            groups.setdefault(key, _Group()).add(entry.minutes_by_class[time_class], amount, entry_id, day)

    lines = [_time_line(period, key, groups[key]) for key in sorted(groups, key=_Key.order)]
    summary = None
    if terms is not None and use is not None:
        summary = ContingentSummary(
            terms.included_minutes, use.carried_in_minutes, use.used_minutes, use.carried_out_minutes, overage_minutes
        )
        if billed:
            lines.append(_contingent_line(period, summary))
    return lines, summary


def _amount(rate: Decimal, minutes: int) -> Decimal:
    return money(rate * Decimal(minutes) / Decimal(60))


def _time_line(period: CustomerPeriod, key: _Key, g: _Group) -> InvoiceLine:
    activity, kind, price, time_class, percent = key
    product = period.products.get(activity)
    name = product.name if product else activity
    if time_class is not None and percent is not None:  # a surcharge
        description = f"Zuschlag {_CLASS_DE[time_class]} {_number(percent)} % auf {name}"
        price = _price(price * percent / Decimal(100))
    else:
        suffix = {_Kind.COVERED: " im Kontingent", _Kind.OVERAGE: " über Kontingent", _Kind.PLAIN: ""}[kind]
        description = f"{name}{suffix}"
    return InvoiceLine(
        description=description,
        quantity=_hours(g.minutes),
        unit=HOUR,
        unit_price=price,
        net_amount=g.amount,
        tax_class=product.tax_class if product else TaxClass.STANDARD,
        source=LineSource("time_entry", tuple(g.ids)),
        period_start=min(g.days),
        period_end=max(g.days),
        revenue_type=product.revenue_type if product else RevenueType.LABOUR,
    )


def _contingent_line(period: CustomerPeriod, s: ContingentSummary) -> InvoiceLine:
    month = f"{_MONTHS_DE[period.month.month - 1]} {period.month.year}"
    parts = [f"{_hours_text(s.included_minutes)} enthalten"]
    if s.carried_in_minutes:
        parts.append(f"{_hours_text(s.carried_in_minutes)} aus dem Vormonat")
    parts.append(f"{_hours_text(s.used_minutes)} genutzt")
    if s.carried_out_minutes:
        parts.append(f"{_hours_text(s.carried_out_minutes)} übertragen in den Folgemonat")
    return InvoiceLine(
        description=f"Kontingent {month}: {', '.join(parts)}",
        quantity=Decimal(1),
        unit=PIECE,
        unit_price=ZERO,
        net_amount=ZERO,
        tax_class=TaxClass.STANDARD,
        source=LineSource("contingent"),
        period_start=period.month.first,
        period_end=period.month.last,
        revenue_type=RevenueType.LABOUR,
    )


def _hours(minutes: int) -> Decimal:
    """Minutes as hours: two decimals where exact (every quarter hour), else four."""
    exact = Decimal(minutes) / Decimal(60)
    two = exact.quantize(Decimal("0.01"))
    return two if two == exact else exact.quantize(Decimal("0.0001"))


def _hours_text(minutes: int) -> str:
    return f"{money(Decimal(minutes) / Decimal(60)):.2f} h".replace(".", ",")


def _number(value: Decimal) -> str:
    """A percent as printed: 25, 12,5."""
    return format(value.normalize(), "f").replace(".", ",")


def _price(value: Decimal) -> Decimal:
    """A unit price with at least two decimals, never cut: 27.5 -> 27.50, 24.9975 stays."""
    return value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value


# ---- items --------------------------------------------------------------------------------------------------------


def _item_lines(period: CustomerPeriod, problems: list[str]) -> list[InvoiceLine]:
    lines = []
    for item in sorted(
        period.items, key=lambda i: (i.service_date, i.kind == ItemKind.CREDIT, i.description, str(i.item_id))
    ):
        credit = item.kind == ItemKind.CREDIT
        name = f"{'Credit' if credit else 'One-off item'} {item.description!r} of {item.service_date:%d.%m.%Y} " \
               f"(contract {item.contract_number})"  # fmt: skip
        if item.currency != period.currency:
            problems.append(f"{name} is in {item.currency}, the invoice in {period.currency}")
            continue
        if item.quantity <= 0:
            problems.append(f"{name} has the quantity {item.quantity}; enter a positive quantity (a credit's kind "
                            f"makes it a deduction)")  # fmt: skip
            continue
        if item.unit_price < 0:
            problems.append(f"{name} has a negative unit price {item.unit_price}; a deduction is a credit")
            continue
        if not period.month.first <= item.service_date <= period.month.last:
            problems.append(f"{name} does not fall in {period.month}")
            continue
        amount = money(item.quantity * item.unit_price)
        lines.append(
            InvoiceLine(
                description=f"{'Gutschrift: ' if credit else ''}{item.description} ({item.service_date:%d.%m.%Y})",
                quantity=-item.quantity if credit else item.quantity,
                unit=item.unit,
                unit_price=item.unit_price,
                net_amount=-amount if credit else amount,
                tax_class=item.tax_class,
                source=LineSource("credit" if credit else "one_off", (str(item.item_id),)),
                period_start=item.service_date,
                period_end=item.service_date,
                revenue_type=item.revenue_type,
            )
        )
    return lines
