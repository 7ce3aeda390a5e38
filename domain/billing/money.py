"""Money arithmetic: Decimal only, rounded half-up to the cent where an amount becomes a figure on an invoice."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """An amount rounded half-up to cents (a float is refused: its binary error would reach the invoice)."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, int or str, never float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, rate: Decimal) -> Decimal:
    """`rate` percent of `amount`, in cents (half-up): the tax of a VAT group, a surcharge."""
    return money(amount * rate / Decimal(100))
