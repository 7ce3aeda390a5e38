"""The lifecycle, budget and licence facts loaded from the database (on both databases): the tenant's devices with
host name and OS, its licences only (never another tenant's), the MSP's replacement costs; and the deck activity
renders in the customer's language with the MSP's branding from the seller profile."""

import io
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image
from pptx import Presentation
from sqlmodel import Session, select

from activities.qbr.branding import deck_branding, deck_language
from activities.qbr.decks import QbrDeckActivities
from activities.qbr.facts import load_facts
from domain.contracts.qbr import LoadFacts, StoreDeck
from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import compute_kpis
from hub.db import session_scope
from hub.file_store import FileStore
from models import CustomerBillingProfile, Licence, QbrFile, ReplacementCost, SellerProfile
from models.asset import AssetType
from models.billing import InvoiceFormat
from tests.billing_setup import set_seller
from tests.factories import make_asset, make_tenant


@pytest.fixture(scope="module")
def tenants(engine):
    tenant, other = make_tenant(engine), make_tenant(engine)
    make_asset(engine, tenant, hostname="srv-old", asset_type=AssetType.SERVER, os="Windows Server 2012 R2",
               warranty_end=date(2025, 6, 30))  # fmt: skip
    make_asset(engine, tenant, hostname="nb-01", asset_type=AssetType.LAPTOP, os="Windows 11 Enterprise 24H2",
               warranty_end=date(2027, 5, 31))  # fmt: skip
    make_asset(engine, other, hostname="fremd", asset_type=AssetType.SERVER, os="Windows Server 2008",
               warranty_end=date(2020, 1, 1))  # fmt: skip
    with session_scope(engine) as s:
        s.add(Licence(tenant_id=tenant.id, vendor="Microsoft", product="Microsoft 365 Business Premium", quantity=20,
                      assigned=13))  # fmt: skip
        s.add(Licence(tenant_id=other.id, vendor="Microsoft", product="Microsoft 365 Business Premium", quantity=99,
                      assigned=1))  # fmt: skip
        s.add(CustomerBillingProfile(tenant_id=tenant.id, billing_name=tenant.name, street="Marienplatz 3",
                                     postal_code="80331", city="München", country="DE",
                                     billing_email="rechnung@kunde.example", invoice_format=InvoiceFormat.PDF,
                                     language="en"))  # fmt: skip
        row = s.get(ReplacementCost, "laptop") or ReplacementCost(asset_type="laptop", cost=Decimal(0))
        row.cost = Decimal("1800.00")
        s.add(row)
    return tenant, other


def test_the_snapshot_holds_the_tenants_devices_licences_and_the_replacement_costs(engine, tenants):
    tenant, _ = tenants
    with Session(engine) as session:
        facts = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter="2026-Q4", with_snapshot=True))
        before = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter="2026-Q3"))
    assert sorted((d.hostname, d.os) for d in facts.devices) == [
        ("nb-01", "Windows 11 Enterprise 24H2"), ("srv-old", "Windows Server 2012 R2")]  # fmt: skip
    assert [(lic.product, lic.quantity, lic.assigned) for lic in facts.licences] == [
        ("Microsoft 365 Business Premium", 20, 13)]  # not the other tenant's 99  # fmt: skip
    assert facts.replacement_costs["laptop"] == Decimal("1800.00")
    assert facts.language == "en"  # the billing profile's
    assert before.licences == [] and before.replacement_costs == {}  # the snapshot belongs to the reported quarter

    kpis = compute_kpis(facts, before, tenant.customer_number, tenant.name)
    assert kpis.lifecycle.warranty_expired == 1 and kpis.lifecycle.os_unsupported == 1
    assert [d.hostname for d in kpis.lifecycle.devices] == ["srv-old", "nb-01"]
    assert kpis.kpi("licences_unused").current == Decimal(7)
    assert {y.year: y.replacements for y in kpis.budget} == {
        2026: Decimal("8000.00"), 2027: Decimal("1800.00"), 2028: Decimal("0.00")}  # fmt: skip


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 20), (0, 90, 160)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def branded_seller(engine):
    logo = _png()
    set_seller(engine, "QB", logo_image=logo, brand_colour="#005AA0", accent_colour="#E07000")
    yield logo
    with session_scope(engine) as s:
        row = s.get(SellerProfile, 1)
        row.logo_image = row.brand_colour = row.accent_colour = row.qbr_template = None


def test_the_deck_is_rendered_in_the_customers_language_with_the_msps_branding(engine, tenants, branded_seller,
                                                                               tmp_path):  # fmt: skip
    tenant, other = tenants
    with Session(engine) as session:
        assert deck_language(session, tenant.id) == "en"
        assert deck_language(session, other.id) == "de"  # no billing profile: German
        branding = deck_branding(session)
    assert (branding.logo, branding.brand_colour, branding.accent_colour) == (branded_seller, "#005AA0", "#E07000")
    with Session(engine) as session:
        current = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter="2026-Q4", with_snapshot=True))
        german = load_facts(session, LoadFacts(tenant_id=other.id, quarter="2026-Q4", with_snapshot=True))
    assert german.language == "de"
    kpis = compute_kpis(current, QbrFacts(quarter="2026-Q3", time_zone="Europe/Berlin"), tenant.customer_number,
                        tenant.name)  # fmt: skip
    assert kpis.language == "en"
    store = FileStore(tmp_path)
    QbrDeckActivities(engine, store).store_deck(StoreDeck(tenant_id=tenant.id, workflow_id="qbr-en", kpis=kpis))
    with Session(engine) as session:
        row = session.exec(select(QbrFile).where(QbrFile.tenant_id == tenant.id, QbrFile.kind == "pptx")).one()
    deck = Presentation(io.BytesIO((tmp_path / row.path).read_bytes()))
    titles = [s.shapes.title.text for s in deck.slides]
    assert "Executive summary" in titles and "Licences" in titles and "Lizenzen" not in titles
    summary = deck.slides[1].placeholders[1].text_frame.text
    assert summary.startswith("In quarter 2026-Q4")  # the rule-based summary, in English
    assert all(any(getattr(sh, "image", None) and sh.image.blob == branded_seller for sh in s.shapes
                   if sh.shape_type == 13) for s in deck.slides)  # fmt: skip
