"""The MSP's replacement costs (QBR budget outlook) and QBR branding through the API: who may read and set them
(customers of any tenant: never), 4xx with a reason for bad input, audit events."""

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from PIL import Image
from pptx import Presentation
from sqlmodel import Session, col, select

from api.app import create_app
from domain.qbr.vcio import VcioKind, VcioStatus
from domain.roles import Role
from hub.config import Settings
from hub.db import session_scope
from models import AuditEvent, Licence, SellerProfile, VcioItem
from models.asset import AssetType
from tests.billing_setup import set_seller
from tests.conftest import auth
from tests.factories import make_asset, make_tenant, make_user

COSTS, BRANDING = "/api/v1/qbr/replacement-costs", "/api/v1/billing/seller/branding"
LOGO, TEMPLATE = "/api/v1/billing/seller/logo-image", "/api/v1/billing/seller/qbr-template"
ALL_TYPES = ("server", "workstation", "laptop", "network", "mobile", "printer", "other")


@pytest.fixture(scope="module")
def keys(engine):
    tenant = make_tenant(engine)
    return {
        "admin": make_user(engine, Role.MSP_ADMIN)[1],
        "tech": make_user(engine, Role.MSP_TECH)[1],
        "finance": make_user(engine, Role.FINANCE)[1],
        "customer_it": make_user(engine, Role.CUSTOMER_IT, tenant)[1],
        "customer": make_user(engine, Role.CUSTOMER_USER, tenant)[1],
    }


async def test_replacement_costs_defaults_overrides_and_reset(api, engine, keys):
    reset = await api.put(COSTS, json={"costs": dict.fromkeys(ALL_TYPES)}, headers=auth(keys["admin"]))
    assert reset.status_code == 200, reset.text
    listed = {c["asset_type"]: (c["cost"], c["default"]) for c in reset.json()}
    assert listed["server"] == ("8000.00", True) and listed["laptop"] == ("1500.00", True) and len(listed) == 7

    r = await api.put(COSTS, json={"costs": {"laptop": "1799.5", "server": 9500}}, headers=auth(keys["tech"]))
    assert r.status_code == 200, r.text
    listed = {c["asset_type"]: (c["cost"], c["default"]) for c in r.json()}
    assert listed["laptop"] == ("1799.50", False) and listed["server"] == ("9500.00", False)
    assert listed["printer"] == ("600.00", True)  # not named: unchanged
    read = await api.get(COSTS, headers=auth(keys["finance"]))
    assert {c["asset_type"]: c["cost"] for c in read.json()}["laptop"] == "1799.50"
    with Session(engine) as s:
        laptop = (AuditEvent.entity == "qbr_replacement_cost", AuditEvent.entity_id == "laptop")
        events = s.exec(select(AuditEvent).where(*laptop).order_by(col(AuditEvent.at))).all()
    assert [e.data["cost"] for e in events][-1] == [None, "1799.50"]

    again = await api.put(COSTS, json={"costs": {"laptop": None}}, headers=auth(keys["admin"]))
    assert {c["asset_type"]: c["default"] for c in again.json()}["laptop"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [({"costs": {"tablet": "500"}}, "tablet"), ({"costs": {"laptop": "-1"}}, "laptop"),
     ({"costs": {"laptop": "1.234"}}, "laptop"), ({"costs": {}}, "costs")],
)  # fmt: skip
async def test_bad_replacement_costs_are_422_with_the_field(api, keys, body, field):
    r = await api.put(COSTS, json=body, headers=auth(keys["admin"]))
    assert r.status_code == 422 and field in r.text


async def test_customers_and_finance_cannot_set_and_customers_cannot_read_the_costs(api, keys):
    for role in ("customer", "customer_it"):
        assert (await api.get(COSTS, headers=auth(keys[role]))).status_code == 403
        assert (await api.put(COSTS, json={"costs": {"laptop": "1"}}, headers=auth(keys[role]))).status_code == 403
    assert (await api.put(COSTS, json={"costs": {"laptop": "1"}}, headers=auth(keys["finance"]))).status_code == 403


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 10), (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()


def _pptx(with_layouts: bool = True) -> bytes:
    prs = Presentation()
    if not with_layouts:  # a presentation whose layouts have no title: nothing to build a deck on
        for layout in list(prs.slide_layouts):
            for placeholder in list(layout.placeholders):
                placeholder._element.getparent().remove(placeholder._element)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


@pytest.fixture
def seller(engine):
    set_seller(engine, "QL")
    yield
    with session_scope(engine) as s:
        row = s.get(SellerProfile, 1)
        row.logo_image = row.brand_colour = row.accent_colour = row.qbr_template = None


async def test_branding_colours_logo_and_template(api, engine, keys, seller):
    r = await api.put(BRANDING, json={"brand_colour": "#c81e28", "accent_colour": "#00A0B0"},
                      headers=auth(keys["finance"]))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["brand_colour"] == "#C81E28" and r.json()["logo_image"] is None
    bad = await api.put(BRANDING, json={"brand_colour": "red"}, headers=auth(keys["admin"]))
    assert bad.status_code == 422 and "#RRGGBB" in bad.text

    logo = _png()
    up = await api.put(LOGO, content=logo, headers=auth(keys["admin"]) | {"content-type": "image/png"})
    assert up.status_code == 200 and up.json()["logo_image"] == "png", up.text
    down = await api.get(LOGO, headers=auth(keys["tech"]))
    assert down.content == logo and down.headers["content-type"] == "image/png"
    text = await api.put(LOGO, content=b"<svg/>", headers=auth(keys["admin"]) | {"content-type": "image/svg+xml"})
    assert text.status_code == 415 and "PNG or JPEG" in text.text

    template = await api.put(TEMPLATE, content=_pptx(), headers=auth(keys["admin"]) | {"content-type": "application/"
                             "vnd.openxmlformats-officedocument.presentationml.presentation"})  # fmt: skip
    assert template.status_code == 200 and template.json()["qbr_template_sha256"], template.text
    no_layouts = await api.put(TEMPLATE, content=_pptx(with_layouts=False), headers=auth(keys["admin"]))
    assert no_layouts.status_code == 422 and "layout" in no_layouts.text
    not_zip = await api.put(TEMPLATE, content=b"hello", headers=auth(keys["admin"]))
    assert not_zip.status_code == 415
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "kein PowerPoint")
    wrong = await api.put(TEMPLATE, content=other_zip.getvalue(), headers=auth(keys["admin"]))
    assert wrong.status_code == 422 and "not a PowerPoint .pptx file" in wrong.text
    with Session(engine) as s:
        row = s.get(SellerProfile, 1)
        assert row.logo_image == logo and row.brand_colour == "#C81E28" and row.qbr_template.startswith(b"PK")
        actions = s.exec(select(AuditEvent.data).where(AuditEvent.action == "branding_updated")
                         .order_by(col(AuditEvent.at))).all()  # fmt: skip
    assert any("logo_image" in d for d in actions) and any("qbr_template" in d for d in actions)

    assert (await api.delete(LOGO, headers=auth(keys["finance"]))).status_code == 204
    assert (await api.get(LOGO, headers=auth(keys["tech"]))).status_code == 404


async def test_customers_never_see_or_change_the_branding(api, keys, seller):
    for role in ("customer", "customer_it"):
        h = auth(keys[role])
        assert (await api.get(BRANDING, headers=h)).status_code == 403
        assert (await api.get(LOGO, headers=h)).status_code == 403
        assert (await api.put(LOGO, content=_png(), headers=h | {"content-type": "image/png"})).status_code == 403
        assert (await api.put(TEMPLATE, content=_pptx(), headers=h)).status_code == 403
    assert (await api.put(BRANDING, json={}, headers=auth(keys["tech"]))).status_code == 403  # billing writers only


# ---- a customer's lifecycle view ----------------------------------------------------------------------------------

LIFECYCLE = "/api/v1/qbr/lifecycle"


@pytest.fixture
async def fixed_api(env, engine):
    """The app with its clock at 31 December 2026, 12:00 in Berlin: the lifecycle's reference day is fixed."""

    async def clock() -> datetime:
        return datetime(2026, 12, 31, 11, 0, tzinfo=UTC)

    app = create_app(Settings(), engine=engine, temporal=env.client, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        yield http


async def test_a_customer_reads_its_own_lifecycle_view_only(fixed_api, engine, keys):
    own, other = make_tenant(engine), make_tenant(engine)
    make_asset(engine, own, hostname="srv-old", asset_type=AssetType.SERVER, os="Windows Server 2012 R2",
               warranty_end=date(2025, 6, 30))  # fmt: skip
    make_asset(engine, own, hostname="pc-01", asset_type=AssetType.WORKSTATION, os="Windows 10 Pro 22H2",
               warranty_end=date(2027, 2, 15))  # fmt: skip
    make_asset(engine, other, hostname="fremd-01", asset_type=AssetType.SERVER, warranty_end=date(2020, 1, 1))
    with session_scope(engine) as s:
        s.add(Licence(tenant_id=own.id, vendor="Microsoft", product="Microsoft 365 Business Standard", quantity=10,
                      assigned=12))  # fmt: skip
        s.add(VcioItem(tenant_id=own.id, kind=VcioKind.ROADMAP, title="Server-Ersatz", status=VcioStatus.PLANNED,
                       quarter="2027-Q2", estimated_cost=Decimal("6000.00")))  # fmt: skip
    costs = await fixed_api.put(COSTS, json={"costs": {"server": "9000", "workstation": None}},
                                headers=auth(keys["admin"]))  # fmt: skip
    assert costs.status_code == 200
    customer = auth(make_user(engine, Role.CUSTOMER_USER, own)[1])

    r = await fixed_api.get(f"{LIFECYCLE}/{own.id}", headers=customer)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["as_of"] == "2026-12-31"
    life = view["lifecycle"]
    assert (life["devices_total"], life["warranty_expired"], life["warranty_ending_6_months"],
            life["os_unsupported"]) == (2, 1, 1, 2)  # fmt: skip
    assert [d["hostname"] for d in life["devices"]] == ["srv-old", "pc-01"]
    assert view["budget"][0] == {"year": 2026, "roadmap": "0.00", "replacements": "9000.00", "replacement_devices": 1,
                                 "total": "9000.00"}  # srv-old, overdue, at the MSP's server price  # fmt: skip
    assert view["budget"][1]["total"] == "7200.00"  # Server-Ersatz 6000 + pc-01 1200 (the default)
    assert view["licences"] == [{"vendor": "Microsoft", "product": "Microsoft 365 Business Standard", "quantity": 10,
                                 "assigned": 12, "unused": 0, "over_assigned": 2}]  # fmt: skip
    assert "fremd-01" not in r.text

    assert (await fixed_api.get(f"{LIFECYCLE}/{other.id}", headers=customer)).status_code == 404
    msp = await fixed_api.get(f"{LIFECYCLE}/{other.id}", headers=auth(keys["tech"]))
    assert msp.status_code == 200 and msp.json()["lifecycle"]["warranty_expired"] == 1
    await fixed_api.put(COSTS, json={"costs": {"server": None}}, headers=auth(keys["admin"]))
