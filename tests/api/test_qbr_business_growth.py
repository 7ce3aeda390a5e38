"""Where the recurring revenue grew from, through the API, by hand over contracts in 2041-Q1 and 2041-Q2 (quarters
no other test's contracts start or end in; theirs run unchanged through both, so they add no growth): an existing
customer buys more of its managed services (upsell) and a backup it did not have (cross-sell), a new customer signs
(net new); each product's customer coverage among the active customers."""

import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from api.app import create_app
from domain.billing.terms import RevenueType
from domain.roles import Role
from hub.config import Settings
from hub.db import session_scope
from models import Contract, ContractLine, Product
from models.contract import BillingCycle, LineUnit
from tests.conftest import auth
from tests.factories import make_tenant, make_user, unique

URL = "/api/v1/qbr/business"
D = Decimal


@pytest.fixture
async def http(engine):
    app = create_app(Settings(), engine=engine, temporal=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client:
        yield client


def _line(contract: Contract, code: str, quantity: int, price: str, cycle: BillingCycle, start: date) -> ContractLine:
    return ContractLine(contract_id=contract.id, product_code=code, description=code, unit=LineUnit.DEVICE,
                        quantity=D(quantity), unit_price=D(price), billing_cycle=cycle, start_date=start)  # fmt: skip


@pytest.fixture(scope="module")
def codes(engine):
    tag = uuid.uuid4().hex[:6].upper()
    managed, backup = f"GRW-MS-{tag}", f"GRW-BK-{tag}"
    existing, new = make_tenant(engine), make_tenant(engine)
    with session_scope(engine) as s:
        s.add(Product(code=managed, name="Managed Workplace", unit=LineUnit.DEVICE, unit_price=D("50.00"),
                      billing_cycle=BillingCycle.MONTHLY, revenue_type=RevenueType.MANAGED_SERVICES))  # fmt: skip
        old = Contract(tenant_id=existing.id, number=unique("V"), name="Managed", start_date=date(2041, 1, 1))
        signed = Contract(tenant_id=new.id, number=unique("V"), name="Managed", start_date=date(2041, 4, 15))
        s.add_all([old, signed])
        s.flush()
        s.add_all([
            _line(old, managed, 10, "50.00", BillingCycle.MONTHLY, date(2041, 1, 1)),  # 500 in Q1 and Q2
            _line(old, managed, 5, "50.00", BillingCycle.MONTHLY, date(2041, 4, 1)),  # +250 in Q2: upsell
            _line(old, backup, 1, "1200.00", BillingCycle.YEARLY, date(2041, 5, 1)),  # 100 a month: cross-sell
            _line(old, "SETUP", 1, "999.00", BillingCycle.ONE_TIME, date(2041, 5, 1)),  # not recurring
            _line(signed, managed, 4, "50.00", BillingCycle.MONTHLY, date(2041, 4, 15)),  # 200: net new
        ])  # fmt: skip
    return managed, backup


def _percent(part: int, whole: int) -> str:
    return str((D(100) * part / whole).quantize(D("0.1"), rounding=ROUND_HALF_UP))


async def test_growth_split_and_service_coverage_by_hand(http, engine, codes):
    managed, backup = codes
    r = await http.get(f"{URL}/2041-Q2", headers=auth(make_user(engine, Role.FINANCE)[1]))
    assert r.status_code == 200, r.text
    by = {k["key"]: k for k in r.json()["kpis"]}
    assert (by["net_new_business"]["current"], by["net_new_business"]["previous"]) == ("200.00", "k. A.")
    assert by["upsell"]["current"] == "250.00"  # 750 - 500 of the product it had
    assert by["cross_sell"]["current"] == "100.00"  # 1200 a year
    active_now, active_before = int(by["active_customers"]["current"]), int(by["active_customers"]["previous"])
    assert active_now == active_before + 1  # the new customer; every other contract runs through both quarters
    ms = by[f"service_coverage:{managed}"]
    assert ms["label"] == f"Kundenabdeckung Managed Workplace ({managed})"
    assert (ms["current"], ms["previous"]) == (_percent(2, active_now), _percent(1, active_before))
    bk = by[f"service_coverage:{backup}"]
    assert bk["label"] == f"Kundenabdeckung {backup} ({backup})"  # not in the price list: the code
    assert (bk["current"], bk["previous"]) == (_percent(1, active_now), "0.0")
    assert "service_coverage:SETUP" not in by  # a one-time line is no service a customer has
