"""Where the recurring revenue grew from, against a hand count: five customers over 2026-Q3 and 2026-Q4 with
monthly contract values per product (MS managed services, BACKUP, SOC)."""

from decimal import Decimal

import pytest

from domain.qbr.business import BusinessFacts, business_kpis
from domain.qbr.business_growth import (
    active_customers,
    cross_sell,
    net_new,
    service_coverage,
    services,
    upsell,
)
from domain.qbr.measure import NA

D = Decimal


def _facts(quarter: str, products: dict[str, dict[str, str]]) -> BusinessFacts:
    per_product = {c: {code: D(v) for code, v in p.items()} for c, p in products.items()}
    return BusinessFacts(quarter=quarter, product_values=per_product,
                         contract_values={c: sum(p.values(), D("0.00")) for c, p in per_product.items()},
                         product_names={"MS": "Managed Services", "BACKUP": "Cloud-Backup"})  # fmt: skip


PREVIOUS = _facts("2026-Q3", {
    "a": {"MS": "800.00", "BACKUP": "200.00"},
    "b": {"MS": "500.00"},
    "c": {"MS": "0.00"},  # a contract without value: not active
    "d": {"MS": "300.00"},  # lost in Q4
})  # fmt: skip
CURRENT = _facts("2026-Q4", {
    "a": {"MS": "1000.00", "BACKUP": "150.00", "SOC": "300.00"},  # MS +200 (upsell), BACKUP -50, SOC new (cross-sell)
    "b": {"MS": "500.00", "BACKUP": "200.00"},  # BACKUP new (cross-sell)
    "c": {"MS": "400.00"},  # no value at Q3's end: net new
    "e": {"SOC": "250.00"},  # a new customer
})  # fmt: skip


def test_net_new_upsell_and_cross_sell_by_hand():
    assert active_customers(PREVIOUS) == {"a", "b", "d"} and active_customers(CURRENT) == {"a", "b", "c", "e"}
    assert net_new(CURRENT, PREVIOUS) == D("650.00")  # c 400 + e 250
    assert upsell(CURRENT, PREVIOUS) == D("200.00")  # a's MS 1000 - 800; a's BACKUP fell (not netted), b's MS equal
    assert cross_sell(CURRENT, PREVIOUS) == D("500.00")  # a's SOC 300 + b's BACKUP 200


def test_every_value_counts_once():
    # the change of the active customers' value splits into the three and the decreases (a's BACKUP -50, d lost 300)
    change = sum(CURRENT.contract_values.values()) - sum(PREVIOUS.contract_values.values())
    gained = net_new(CURRENT, PREVIOUS) + upsell(CURRENT, PREVIOUS) + cross_sell(CURRENT, PREVIOUS)
    assert gained - D("50.00") - D("300.00") == change == D("1000.00")


@pytest.mark.parametrize(
    ("code", "now", "before"),
    [("MS", D("75.0"), D("100.0")),  # a, b, c of 4; a, b, d of 3
     ("BACKUP", D("50.0"), D("33.3")),  # a, b of 4; a of 3
     ("SOC", D("50.0"), D("0.0"))],  # a, e of 4; none of 3
)  # fmt: skip
def test_service_coverage_by_hand(code, now, before):
    assert (service_coverage(CURRENT, code), service_coverage(PREVIOUS, code)) == (now, before)


def test_without_active_customers_coverage_is_k_a_and_growth_zero():
    empty, before = BusinessFacts(quarter="2026-Q4"), BusinessFacts(quarter="2026-Q3")
    assert service_coverage(empty, "MS") == NA
    assert net_new(empty, before) == upsell(empty, before) == cross_sell(empty, before) == D("0.00")
    everything_new = net_new(CURRENT, before)  # without a previous customer: a 1450 + b 700 + c 400 + e 250
    assert everything_new == D("2800.00") and upsell(CURRENT, before) == cross_sell(CURRENT, before) == D("0.00")


def test_the_kpi_rows():
    rows = {k.key: k for k in business_kpis(CURRENT, PREVIOUS)}
    assert (rows["net_new_business"].current, rows["net_new_business"].previous) == (D("650.00"), NA)
    assert rows["upsell"].current == D("200.00") and rows["cross_sell"].current == D("500.00")
    assert rows["net_new_business"].unit == "EUR" and rows["upsell"].label.startswith("Upselling")
    assert (rows["active_customers"].current, rows["active_customers"].previous) == (D(4), D(3))
    assert services(CURRENT, PREVIOUS) == ["BACKUP", "MS", "SOC"]
    backup = rows["service_coverage:BACKUP"]
    assert (backup.label, backup.unit, backup.current, backup.previous) == (
        "Kundenabdeckung Cloud-Backup (BACKUP)", "%", D("50.0"), D("33.3"))  # fmt: skip
    assert rows["service_coverage:SOC"].label == "Kundenabdeckung SOC (SOC)"  # not in the price list: the code
