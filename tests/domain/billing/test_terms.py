"""The stored contract terms map onto TimeRules and ContingentTerms without defaults being guessed."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.billing.contingent import CarryOver
from domain.billing.terms import ContingentDocument, TimeTerms, contingent_terms, time_rules
from domain.billing.time_billing import TimeClass


def test_contract_rates_win_over_the_price_list():
    terms = TimeTerms.model_validate({"rates": {"support": "120"}, "default_rate": "90", "minimum_minutes": 15})
    rules = time_rules(terms, {"support": Decimal("80"), "onsite": Decimal("110")})
    assert rules.rates == {"support": Decimal("120"), "onsite": Decimal("110")}
    assert (rules.default_rate, rules.round_up_minutes, rules.minimum_minutes) == (Decimal("90"), 15, 15)
    assert rules.rate("project") == Decimal("90")


def test_empty_document_is_the_documented_default():
    rules = time_rules(TimeTerms.model_validate({}))
    assert (rules.rates, rules.default_rate, rules.round_up_minutes, rules.surcharges) == ({}, None, 15, {})
    assert contingent_terms(None) is None


def test_contingent_maps_every_field():
    document = ContingentDocument.model_validate(
        {"included_minutes": 600, "carry_over": "next_month", "carry_over_cap_minutes": 120, "activity_types": ["a"]}
    )
    terms = contingent_terms(document)
    assert (terms.included_minutes, terms.overage_rate, terms.carry_over, terms.carry_over_cap_minutes,
            terms.activity_types) == (600, None, CarryOver.NEXT_MONTH, 120, frozenset({"a"}))


@pytest.mark.parametrize(("model", "data", "fragment"), [
    (TimeTerms, {"surcharges": {"business_hours": "10"}}, "no surcharge for business_hours"),
    (TimeTerms, {"rates": {"support": "1.001"}}, "decimal places"),
    (TimeTerms, {"rounding": 15}, "Extra inputs"),
    (ContingentDocument, {"included_minutes": 60, "carry_over_cap_minutes": 30}, "a cap needs carry_over"),
    (ContingentDocument, {"included_minutes": -1}, "greater than or equal to 0"),
])
def test_refusals(model, data, fragment):
    with pytest.raises(ValidationError, match=fragment):
        model.model_validate(data)


def test_surcharges_keep_their_time_class():
    terms = TimeTerms.model_validate({"surcharges": {"holiday": "100"}})
    assert time_rules(terms).surcharges == {TimeClass.HOLIDAY: Decimal("100")}
