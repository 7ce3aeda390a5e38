"""What the API stores is what the run bills: TimeRules and ContingentTerms built from a stored contract price
real entries by hand-computed figures."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session

from domain.billing.contingent import CarryOver, apply_contingent
from domain.billing.recurring import Cycle
from domain.billing.time_billing import TimeClass, WorkedTime, bill_time, surcharge_amounts
from domain.business_calendar import BusinessCalendar
from models import BillingCycle, Contract, Tenant
from models.billing import contract_terms
from models.sla_context import tenant_calendar
from tests.api import make_world
from tests.api.billing_support import CONTRACTS, PRODUCTS, product_body
from tests.factories import unique


async def test_stored_terms_bill_time_and_contingent(api, engine):
    w = make_world(engine)
    remote = unique("remote")  # an hourly product: the rate of activity type `remote` without a contract rate
    resp = await api.post(PRODUCTS, json=product_body(code=remote, unit="hour", unit_price="80",
                                                      billing_cycle="one_time", revenue_type="labour"),
                          headers=w.h("finance"))
    assert resp.status_code == 201, resp.text
    body = {
        "tenant_id": str(w.a.id), "number": unique("V").upper(), "name": "Support", "start_date": "2026-01-01",
        "time_terms": {"round_up_minutes": 15, "rates": {"support": "120"},
                       "surcharges": {"after_hours": "50", "weekend": "100"}},
        "contingent": {"included_minutes": 60, "overage_rate": "100", "carry_over": "next_month",
                       "carry_over_cap_minutes": 30, "activity_types": ["support"]},
    }
    resp = await api.post(CONTRACTS, json=body, headers=w.h("msp_admin"))
    assert resp.status_code == 201, resp.text

    with Session(engine) as s:
        contract = s.get(Contract, uuid.UUID(resp.json()["id"]))
        rules, contingent = contract_terms(s, contract)
        calendar = BusinessCalendar(tenant_calendar(s, s.get(Tenant, w.a.id), contract.calendar_id))
    assert (rules.round_up_minutes, rules.rates["support"], rules.rates[remote]) == (15, Decimal("120"), Decimal("80"))
    assert rules.surcharges == {TimeClass.AFTER_HOURS: Decimal("50"), TimeClass.WEEKEND: Decimal("100")}
    assert (contingent.included_minutes, contingent.carry_over, contingent.activity_types) == (
        60, CarryOver.NEXT_MONTH, frozenset({"support"}))

    # Monday 16.11.2026 16:50-17:10 in Munich (UTC+1): 10 minutes in business hours, 10 after; billed 30 minutes,
    # the started block's rest like the last minute (after hours). 30 min x 120/h = 60.00; the surcharge is 50 % on
    # 20 minutes: 120 x 20/60 x 0.5 = 20.00.
    support = bill_time(WorkedTime(uuid.uuid4(), datetime(2026, 11, 16, 15, 50, tzinfo=UTC), 20, "support"), rules,
                        calendar)
    assert support.billed_minutes == 30 and support.minutes_by_class == {TimeClass.BUSINESS_HOURS: 10,
                                                                         TimeClass.AFTER_HOURS: 20}
    assert (support.base_amount(), surcharge_amounts(support, rules)) == (Decimal("60.00"),
                                                                          {TimeClass.AFTER_HOURS: Decimal("20.00")})
    # Saturday 21.11.2026 10:00, 40 minutes of remote work: 45 billed at the price list's 80/h = 60.00, weekend +100 %.
    saturday = bill_time(WorkedTime(uuid.uuid4(), datetime(2026, 11, 21, 9, 0, tzinfo=UTC), 40, remote), rules,
                         calendar)
    assert (saturday.billed_minutes, saturday.base_amount()) == (45, Decimal("60.00"))
    assert surcharge_amounts(saturday, rules) == {TimeClass.WEEKEND: Decimal("60.00")}
    # The contingent covers support only: 30 of its 60 minutes used, 30 carried (the cap).
    use = apply_contingent([support, saturday], contingent)
    assert (use.covered, use.used_minutes, use.carried_out_minutes) == ({support.entry_id: 30}, 30, 30)


def test_stored_cycles_are_the_billing_cycles():
    """Contract lines store models.BillingCycle; the run bills with domain Cycle: the same values, or a line the API
    accepted could not be billed."""
    assert [c.value for c in BillingCycle] == [c.value for c in Cycle]
