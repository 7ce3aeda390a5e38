"""Where the MSP's recurring revenue grew from, quarter on quarter, and how many customers take each service: from
each customer's monthly contract value on the quarter's last day, in total (`BusinessFacts.contract_values`) and per
product code of the price list (`BusinessFacts.product_values`). Pure functions; each formula in its docstring.

A customer is *active* at a quarter's end when its monthly contract value then is above zero, *existing* when it was
active at the previous quarter's end. A product a customer *had* is one with a value above zero at the previous
quarter's end. Decreases (a product reduced or given up, a customer lost) are not netted against the growth: the
three figures are what was gained."""

from decimal import Decimal
from typing import TYPE_CHECKING

from domain.qbr.kpis import Kpi
from domain.qbr.measure import NA, Measure, share

if TYPE_CHECKING:
    from domain.qbr.business import BusinessFacts

ZERO = Decimal("0.00")
SOURCE = "Verträge"


def active_customers(facts: "BusinessFacts") -> set[str]:
    """The customers whose monthly contract value on the quarter's last day is above zero."""
    return {c for c, value in facts.contract_values.items() if value > 0}


def _products(facts: "BusinessFacts", customer: str) -> dict[str, Decimal]:
    return {code: value for code, value in facts.product_values.get(customer, {}).items() if value > 0}


def net_new(current: "BusinessFacts", previous: "BusinessFacts") -> Measure:
    """Σ monthly contract value at the quarter's end of the customers active now and not active at the previous
    quarter's end (new customers, and customers back after a gap)."""
    new = active_customers(current) - active_customers(previous)
    return sum((current.contract_values[c] for c in new), ZERO)


def upsell(current: "BusinessFacts", previous: "BusinessFacts") -> Measure:
    """Σ over the existing customers and the products they had of max(value now − value then, 0): more of what a
    customer already takes (more devices, users, a higher price)."""
    total = ZERO
    for customer in active_customers(current) & active_customers(previous):
        now = _products(current, customer)
        for code, before in _products(previous, customer).items():
            total += max(now.get(code, ZERO) - before, ZERO)
    return total


def cross_sell(current: "BusinessFacts", previous: "BusinessFacts") -> Measure:
    """Σ over the existing customers of the value now of the products they did not have at the previous quarter's
    end: a service new to a customer."""
    total = ZERO
    for customer in active_customers(current) & active_customers(previous):
        before = _products(previous, customer)
        total += sum((v for code, v in _products(current, customer).items() if code not in before), ZERO)
    return total


def services(*facts: "BusinessFacts") -> list[str]:
    """The product codes with a value above zero for some customer in any of `facts`, sorted."""
    return sorted({code for f in facts for c in f.product_values for code in _products(f, c)})


def service_coverage(facts: "BusinessFacts", code: str) -> Measure:
    """100 × active customers with the product `code` (value above zero) ÷ active customers, one decimal; k. A.
    without an active customer."""
    active = active_customers(facts)
    return share(sum(code in _products(facts, c) for c in active), len(active))


def growth_kpis(current: "BusinessFacts", previous: "BusinessFacts") -> list[Kpi]:
    """Net new business, upsell and cross-sell of `current` against `previous` (no previous value: that would need
    the quarter before it), the active customers, and per service its customer coverage in both quarters."""
    rows = [Kpi(key=key, label=label, unit="EUR", source=SOURCE, better="higher", current=f(current, previous),
                previous=NA)
            for key, label, f in (("net_new_business", "Neugeschäft (monatlicher Vertragswert)", net_new),
                                  ("upsell", "Upselling (monatlicher Vertragswert)", upsell),
                                  ("cross_sell", "Cross-Selling (monatlicher Vertragswert)", cross_sell))]  # fmt: skip
    rows.append(Kpi(key="active_customers", label="Kunden mit Vertragswert", unit="", source=SOURCE, better="higher",
                    current=Decimal(len(active_customers(current))),
                    previous=Decimal(len(active_customers(previous)))))  # fmt: skip
    names = previous.product_names | current.product_names
    rows += [Kpi(key=f"service_coverage:{code}", label=f"Kundenabdeckung {names.get(code, code)} ({code})", unit="%",
                 source=SOURCE, better="higher", current=service_coverage(current, code),
                 previous=service_coverage(previous, code)) for code in services(current, previous)]  # fmt: skip
    return rows
