"""A customer's own replacement costs per device type: set, listed and removed by MSP staff, used in that customer's
budget outlook only (the lifecycle view and the QBR's facts), never visible to or settable by customers, with an
audit event on the customer for each change, and bad input refused with the field named."""

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from sqlmodel import Session, col, select

from api.app import create_app
from domain.qbr.facts import DeviceFact
from domain.qbr.lifecycle import budget_outlook, configured_costs
from domain.roles import Role
from hub.config import Settings
from models import AuditEvent, CustomerReplacementCost
from models.asset import AssetType
from models.qbr_lifecycle import lifecycle_facts
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user

MSP_COSTS, LIFECYCLE = "/api/v1/qbr/replacement-costs", "/api/v1/qbr/lifecycle"


def costs_of(tenant_id) -> str:  # noqa: ANN001
    return f"/api/v1/qbr/replacement-costs/customers/{tenant_id}"


@pytest.fixture
async def http(engine):
    """The app with its clock at 31 December 2026 (Berlin): the lifecycle view's reference day is fixed."""

    async def clock() -> datetime:
        return datetime(2026, 12, 31, 11, 0, tzinfo=UTC)

    app = create_app(Settings(), engine=engine, temporal=None, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client:
        yield client


@pytest.fixture(scope="module")
def tenants(engine):
    own, other = make_tenant(engine), make_tenant(engine)
    for tenant in (own, other):  # one laptop each, its warranty ending in 2027
        make_asset(engine, tenant, asset_type=AssetType.LAPTOP, warranty_end=date(2027, 3, 31))
    return own, other


@pytest.fixture(scope="module")
def keys(engine, tenants):
    own, other = tenants
    return {
        "admin": make_user(engine, Role.MSP_ADMIN)[1],
        "tech": make_user(engine, Role.MSP_TECH)[1],
        "finance": make_user(engine, Role.FINANCE)[1],
        "own_it": make_user(engine, Role.CUSTOMER_IT, own)[1],
        "other_it": make_user(engine, Role.CUSTOMER_IT, other)[1],
        "other_user": make_user(engine, Role.CUSTOMER_USER, other)[1],
    }


@pytest.fixture
async def msp_laptop(http, keys):
    """The MSP's laptop price 1600; reset afterwards (one set for the installation)."""
    r = await http.put(MSP_COSTS, json={"costs": {"laptop": "1600"}}, headers=auth(keys["admin"]))
    assert r.status_code == 200
    yield
    await http.put(MSP_COSTS, json={"costs": {"laptop": None}}, headers=auth(keys["admin"]))


def _by_type(listing: list[dict]) -> dict[str, tuple[str, str]]:
    return {c["asset_type"]: (c["cost"], c["source"]) for c in listing}


async def _budget_2027(http, key: str, tenant_id) -> str:  # noqa: ANN001
    r = await http.get(f"{LIFECYCLE}/{tenant_id}", headers=auth(key))
    assert r.status_code == 200, r.text
    return next(y["replacements"] for y in r.json()["budget"] if y["year"] == 2027)


async def test_the_override_is_used_for_that_customer_only(http, engine, tenants, keys, msp_laptop):
    own, other = tenants
    r = await http.put(costs_of(own.id), json={"costs": {"laptop": "2199.9", "server": 12000}},
                       headers=auth(keys["tech"]))  # fmt: skip
    assert r.status_code == 200, r.text
    listed = _by_type(r.json())
    assert listed["laptop"] == ("2199.90", "customer") and listed["server"] == ("12000.00", "customer")
    assert listed["printer"] == ("600.00", "default") and len(listed) == len(AssetType)
    assert _by_type((await http.get(costs_of(other.id), headers=auth(keys["finance"]))).json())["laptop"] == (
        "1600.00", "msp")  # fmt: skip
    msp = {c["asset_type"]: c["cost"] for c in (await http.get(MSP_COSTS, headers=auth(keys["admin"]))).json()}
    assert msp["laptop"] == "1600.00" and msp["server"] == "8000.00"  # the MSP's own set is unchanged

    assert await _budget_2027(http, keys["admin"], own.id) == "2199.90"
    assert await _budget_2027(http, keys["admin"], other.id) == "1600.00"
    assert await _budget_2027(http, keys["own_it"], own.id) == "2199.90"  # the customer sees its budget, not the price
    with Session(engine) as session:  # the QBR's facts read the same
        assert lifecycle_facts(session, own.id)["replacement_costs"]["laptop"] == Decimal("2199.90")
        assert lifecycle_facts(session, other.id)["replacement_costs"]["laptop"] == Decimal("1600.00")

    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "qbr_customer_replacement_cost",
                                                       AuditEvent.tenant_id == own.id)
                              .order_by(col(AuditEvent.at))).all()  # fmt: skip
    assert {(e.data["asset_type"], tuple(e.data["cost"])) for e in events} >= {
        ("laptop", (None, "2199.90")), ("server", (None, "12000.00"))}  # fmt: skip

    assert (await http.delete(f"{costs_of(own.id)}/laptop", headers=auth(keys["admin"]))).status_code == 204
    assert await _budget_2027(http, keys["admin"], own.id) == "1600.00"  # the MSP's price again
    r = await http.put(costs_of(own.id), json={"costs": {"server": None}}, headers=auth(keys["admin"]))
    assert _by_type(r.json())["server"] == ("8000.00", "default")
    with Session(engine) as session:
        assert not session.exec(select(CustomerReplacementCost).where(
            CustomerReplacementCost.tenant_id == own.id)).all()  # fmt: skip
        last = session.exec(select(AuditEvent).where(AuditEvent.entity == "qbr_customer_replacement_cost",
                                                     AuditEvent.tenant_id == own.id)).all()  # fmt: skip
    assert ("laptop", ("2199.90", None)) in {(e.data["asset_type"], tuple(e.data["cost"])) for e in last}


async def test_customers_cannot_see_or_set_any_customers_costs(http, engine, tenants, keys):
    own, other = tenants
    for key in ("own_it", "other_it", "other_user"):
        for tenant in (own, other):
            assert (await http.get(costs_of(tenant.id), headers=auth(keys[key]))).status_code == 403
            put = await http.put(costs_of(tenant.id), json={"costs": {"laptop": "1"}}, headers=auth(keys[key]))
            assert put.status_code == 403
            assert (await http.delete(f"{costs_of(tenant.id)}/laptop", headers=auth(keys[key]))).status_code == 403
    assert (await http.put(costs_of(own.id), json={"costs": {"laptop": "1"}},
                           headers=auth(keys["finance"]))).status_code == 403  # fmt: skip
    with Session(engine) as session:
        theirs = col(CustomerReplacementCost.tenant_id).in_((own.id, other.id))
        assert not session.exec(select(CustomerReplacementCost).where(theirs)).all()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"costs": {"tablet": "500"}}, "tablet"), ({"costs": {"laptop": "-1"}}, "laptop"),
     ({"costs": {"laptop": "1.234"}}, "laptop"), ({"costs": {}}, "costs"), ({"costs": {"laptop": "viel"}}, "laptop")],
)  # fmt: skip
async def test_bad_costs_are_422_with_the_field(http, tenants, keys, body, field):
    r = await http.put(costs_of(tenants[0].id), json=body, headers=auth(keys["admin"]))
    assert r.status_code == 422 and field in r.text


async def test_unknown_tenant_and_device_type(http, keys, tenants):
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await http.get(costs_of(unknown), headers=auth(keys["admin"]))).status_code == 404
    r = await http.put(costs_of(unknown), json={"costs": {"laptop": "1"}}, headers=auth(keys["admin"]))
    assert r.status_code == 404 and "tenant" in r.json()["detail"]
    assert (await http.delete(f"{costs_of(tenants[0].id)}/tablet", headers=auth(keys["admin"]))).status_code == 422
    assert (await http.get(costs_of("kein-mandant"), headers=auth(keys["admin"]))).status_code == 422


def test_configured_costs_prefer_the_customers_own():
    msp = {"laptop": Decimal("1600.00"), "server": Decimal("9000.00")}
    customer = {"laptop": Decimal("2200.00"), "printer": Decimal("350.00")}
    assert configured_costs(msp, customer) == {"laptop": Decimal("2200.00"), "server": Decimal("9000.00"),
                                               "printer": Decimal("350.00")}  # fmt: skip
    devices = [DeviceFact(asset_type=t, managed=True, warranty_end=date(2027, 5, 1)) for t in ("laptop", "mobile")]
    (_, year, _) = budget_outlook(devices, [], configured_costs(msp, customer), date(2026, 12, 31))
    assert year.replacements == Decimal("2900.00")  # 2200 (its own) + 700 (the default mobile)
