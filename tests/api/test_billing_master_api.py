"""Billing master data over HTTP: the seller profile, customer billing profiles, the price list; validation,
roles and tenant scoping."""

import uuid

import pytest

from models import CustomerBillingProfile, Product, SellerProfile
from tests.api import assert_problem, audit_events, make_world, row
from tests.api.billing_support import PRODUCTS, SELLER, customer_body, nothing_billed, product_body, seller_body


@pytest.fixture
def w(engine):
    return make_world(engine)


def billing_path(tenant) -> str:  # noqa: ANN001
    return f"/api/v1/tenants/{tenant.id}/billing"


async def test_seller_profile_put_get_and_replace(api, engine, w):
    resp = await api.put(SELLER, json=seller_body(), headers=w.h("finance"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    # Canonical forms: compact IBAN, the BIC derived from it, the VAT id without spaces, rates as strings.
    assert (body["iban"], body["bic"], body["vat_id"]) == ("DE89370400440532013000", "COBADEFFXXX", "DE136695976")
    assert body["account_mapping"][1] == {"revenue_type": "managed_services", "vat_category": "AE", "rate": "0.00",
                                          "account": "8336"}
    stored = row(engine, SellerProfile, 1)
    assert (stored.datev_consultant_number, stored.datev_client_number, stored.chart_of_accounts) == (29098, 55003,
                                                                                                     "SKR03")
    assert (await api.get(SELLER, headers=w.h("msp_tech"))).json() == body

    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    resp = await api.put(SELLER, json=seller_body(chart_of_accounts="SKR04", logo_svg=svg), headers=w.h("msp_admin"))
    assert resp.status_code == 200 and resp.json()["chart_of_accounts"] == "SKR04"
    assert row(engine, SellerProfile, 1).logo_svg == svg
    last = audit_events(engine, 1)[-1]
    assert (last.entity, last.action, last.data) == ("seller_profile", "updated",
                                                     {"chart_of_accounts": "SKR04", "logo_svg": "(changed)"})


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"iban": "DE89370400440532013001"}, "iban: Value error, not a valid IBAN"),
    ({"bic": "NOTABIC"}, "bic: Value error, not a valid BIC"),
    ({"vat_id": "DE123456789"}, "vat_id: Value error, 'DE123456789' is not a valid VAT id of DE"),
    ({"vat_id": "ATU13585627"}, "vat_id"),
    ({"vat_id": None, "tax_number": None}, "vat_id: Value error, an invoice needs"),
    ({"tax_number": "12345"}, "tax_number: Value error"),
    ({"sepa_creditor_id": "DE99ZZZ09999999999"}, "sepa_creditor_id: Value error, not a valid SEPA creditor id"),
    ({"country": "FR"}, "country"),
    ({"postal_code": "8080"}, "postal_code: Value error"),
    ({"datev_client_number": None}, "datev_client_number: Value error, DATEV needs both"),
    ({"datev_consultant_number": 99}, "datev_consultant_number"),
    ({"chart_of_accounts": "SKR07"}, "chart_of_accounts"),
    ({"invoice_number_prefix": "RE 2026"}, "invoice_number_prefix"),
    ({"account_mapping": [{"revenue_type": "labour", "vat_category": "S", "rate": "19", "account": "84"}]},
     "account_mapping.0.account"),
    ({"account_mapping": [{"revenue_type": "labour", "vat_category": "S", "rate": "19", "account": "8400"}] * 2},
     "account_mapping: Value error, one account per"),
    ({"logo_svg": "<svg><script>alert(1)</script></svg>"}, "logo_svg"),
    ({"payment_terms_days": -1}, "payment_terms_days"),
    ({"bank_colour": "blue"}, "bank_colour: Extra inputs are not permitted"),
])
async def test_seller_refusals_change_nothing(api, engine, w, fields, fragment):
    await api.put(SELLER, json=seller_body(), headers=w.h("msp_admin"))
    before = (await api.get(SELLER, headers=w.h("msp_admin"))).json()
    with nothing_billed(engine):
        assert_problem(await api.put(SELLER, json=seller_body(**fields), headers=w.h("finance")), 422, fragment)
    assert (await api.get(SELLER, headers=w.h("msp_admin"))).json() == before


async def test_seller_roles(api, engine, w):
    with nothing_billed(engine):
        for who in ("msp_tech", "a_it", "a_user"):
            resp = await api.put(SELLER, json=seller_body(), headers=w.h(who))
            assert_problem(resp, 403, "allowed roles: finance, msp_admin")
        # The seller's bank and DATEV settings are not for customers.
        for who in ("a_it", "b_user"):
            assert_problem(await api.get(SELLER, headers=w.h(who)), 403)


async def test_customer_billing_profile_lifecycle(api, engine, w):
    await api.put(SELLER, json=seller_body(), headers=w.h("msp_admin"))
    path = billing_path(w.a)
    assert_problem(await api.get(path, headers=w.h("msp_admin")), 404, "no billing profile")
    resp = await api.put(path, json=customer_body(), headers=w.h("finance"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["country"], body["tenant_id"], body["sepa_sequence"]) == ("DE", str(w.a.id), "first")
    assert body["tax_case"] == {"category": "S", "note_de": None, "buyer_vat_id_required": False}
    profile_id = row_id(engine, w.a.id)
    assert [e.action for e in audit_events(engine, profile_id)] == ["created"]
    # The customer reads its own profile, another customer does not see it at all.
    assert (await api.get(path, headers=w.h("a_user"))).json() == body
    assert_problem(await api.get(path, headers=w.h("b_it")), 404, f"tenant {w.a.id} not found")

    # An Austrian business address with a valid UID: reverse charge from the German seller.
    austrian = customer_body(country="AT", postal_code="6020", vat_id="ATU 13585627", sepa_sequence="recurring")
    resp = await api.put(path, json=austrian, headers=w.h("msp_admin"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["vat_id"] == "ATU13585627" and resp.json()["tax_case"]["category"] == "AE"
    assert audit_events(engine, profile_id)[-1].data == {"country": "AT", "postal_code": "6020",
                                                         "vat_id": "ATU13585627", "sepa_sequence": "recurring"}
    public = customer_body(invoice_format="xrechnung", public_sector=True, buyer_reference="04011000-1234512345-06")
    resp = await api.put(path, json=public, headers=w.h("msp_admin"))
    assert resp.status_code == 200 and resp.json()["buyer_reference"] == "04011000-1234512345-06"


def row_id(engine, tenant_id):  # noqa: ANN001, ANN201
    from sqlmodel import Session, select

    with Session(engine) as s:
        return s.exec(select(CustomerBillingProfile.id).where(CustomerBillingProfile.tenant_id == tenant_id)).one()


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"vat_id": "DE123456789"}, "vat_id: 'DE123456789' is not a valid VAT id of DE"),
    ({"country": "AT", "vat_id": "DE136695976"}, "vat_id: 'DE136695976' is not a valid VAT id of AT"),
    ({"postal_code": "803"}, "postal_code"),
    ({"billing_email": "nope"}, "billing_email"),
    ({"sepa_iban": "DE00370400440532013000"}, "sepa_iban: Value error, not a valid IBAN"),
    ({"sepa_mandate_signed_on": None}, "sepa_mandate_id: Value error, a SEPA mandate needs"),
    ({"sepa_mandate_id": "Mandat#1"}, "sepa_mandate_id"),
    ({"sepa_mandate_signed_on": "2999-01-01"}, "sepa_mandate_signed_on: 2999-01-01 lies in the future"),
    ({"sepa_sequence": "final"}, "sepa_sequence"),
    ({"invoice_format": "xrechnung"}, "buyer_reference: Value error, XRechnung requires"),
    ({"public_sector": True, "buyer_reference": "04011000-1234512345-07"}, "buyer_reference: Value error, a public"),
    ({"invoice_format": "edifact"}, "invoice_format"),
    ({"country": "Deutschland"}, "country"),
    ({"iban": "DE89370400440532013000"}, "iban: Extra inputs are not permitted"),
])
async def test_customer_profile_refusals_write_nothing(api, engine, w, fields, fragment):
    with nothing_billed(engine):
        assert_problem(await api.put(billing_path(w.b), json=customer_body(**fields), headers=w.h("finance")), 422,
                       fragment)


async def test_customer_profile_roles_and_scoping(api, engine, w):
    with nothing_billed(engine):
        for who in ("msp_tech", "a_it"):
            assert_problem(await api.put(billing_path(w.a), json=customer_body(), headers=w.h(who)), 403)
        missing = uuid.uuid4()
        assert_problem(await api.put(f"/api/v1/tenants/{missing}/billing", json=customer_body(),
                                     headers=w.h("finance")), 404, f"tenant {missing} not found")


async def test_products_create_list_patch(api, engine, w):
    body = product_body(unit_price=95, unit="hour", billing_cycle="one_time", revenue_type="labour")
    resp = await api.post(PRODUCTS, json=body, headers=w.h("finance"))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["unit_price"] == "95.00" and created["tax_class"] == "standard" and created["active"] is True
    pid = uuid.UUID(created["id"])
    assert row(engine, Product, pid).unit_price == 95
    listed = (await api.get(PRODUCTS, params={"q": body["code"]}, headers=w.h("msp_tech"))).json()
    assert [p["id"] for p in listed["items"]] == [created["id"]]

    resp = await api.patch(f"{PRODUCTS}/{pid}", json={"unit_price": "99.5", "active": False}, headers=w.h("msp_admin"))
    assert resp.status_code == 200 and (resp.json()["unit_price"], resp.json()["active"]) == ("99.50", False)
    assert audit_events(engine, pid)[-1].data == {"unit_price": "99.5", "active": False}
    inactive = (await api.get(PRODUCTS, params={"q": body["code"], "active": "false"}, headers=w.h("finance"))).json()
    assert inactive["total"] == 1


@pytest.mark.parametrize(("fields", "status", "fragment"), [
    ({"unit_price": "-1"}, 422, "unit_price"),
    ({"unit_price": "1.005"}, 422, "unit_price"),
    ({"unit_price": 1e30}, 422, "unit_price"),
    ({"billing_cycle": "weekly"}, 422, "billing_cycle"),
    ({"unit": "crate"}, 422, "unit"),
    ({"code": "MS WS"}, 422, "code"),
    ({"revenue_type": "magic"}, 422, "revenue_type"),
    ({"code": "DUPLICATE"}, 409, "already exists"),
])
async def test_product_refusals_write_nothing(api, engine, w, fields, status, fragment):
    taken = (await api.post(PRODUCTS, json=product_body(), headers=w.h("finance"))).json()["code"]
    fields = {k: taken if v == "DUPLICATE" else v for k, v in fields.items()}
    with nothing_billed(engine):
        assert_problem(await api.post(PRODUCTS, json=product_body(**fields), headers=w.h("finance")), status, fragment)


async def test_product_roles(api, engine, w):
    created = (await api.post(PRODUCTS, json=product_body(), headers=w.h("msp_admin"))).json()
    with nothing_billed(engine):
        assert_problem(await api.post(PRODUCTS, json=product_body(), headers=w.h("msp_tech")), 403)
        assert_problem(await api.patch(f"{PRODUCTS}/{created['id']}", json={"name": "X"}, headers=w.h("a_it")), 403)
        assert_problem(await api.get(PRODUCTS, headers=w.h("a_user")), 403)
        assert_problem(await api.patch(f"{PRODUCTS}/{created['id']}", json={"name": None}, headers=w.h("finance")),
                       422, "name")
        missing = uuid.uuid4()
        assert_problem(await api.get(f"{PRODUCTS}/{missing}", headers=w.h("finance")), 404, f"product {missing}")


async def test_patch_seller_and_customer_profile(api, engine, w):
    await api.put(SELLER, json=seller_body(), headers=w.h("msp_admin"))
    # A new IBAN brings its own bank's BIC; the other fields stay.
    resp = await api.patch(SELLER, json={"iban": "AT61 1904 3002 3457 3201", "bic": "BKAUATWW",
                                         "payment_terms_days": 10}, headers=w.h("finance"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["iban"], body["bic"], body["payment_terms_days"], body["legal_name"]) == (
        "AT611904300234573201", "BKAUATWW", 10, "Muster IT-Service GmbH")
    resp = await api.patch(SELLER, json={"iban": "DE89370400440532013000"}, headers=w.h("finance"))
    assert resp.json()["bic"] == "COBADEFFXXX"
    before = (await api.get(SELLER, headers=w.h("finance"))).json()
    with nothing_billed(engine):
        for change, fragment in (({"legal_name": None}, "legal_name"), ({"vat_id": "DE123456789"}, "vat_id"),
                                 ({"payment_terms_days": 999}, "payment_terms_days"), ({"colour": 1}, "colour")):
            assert_problem(await api.patch(SELLER, json=change, headers=w.h("finance")), 422, fragment)
        assert_problem(await api.patch(SELLER, json={"legal_name": "X"}, headers=w.h("msp_tech")), 403)
    assert (await api.get(SELLER, headers=w.h("finance"))).json() == before

    path = billing_path(w.a)
    assert_problem(await api.patch(path, json={"city": "Augsburg"}, headers=w.h("finance")), 404, "no billing profile")
    await api.put(path, json=customer_body(), headers=w.h("finance"))
    resp = await api.patch(path, json={"city": "Augsburg", "postal_code": "86150"}, headers=w.h("finance"))
    assert resp.status_code == 200 and (resp.json()["city"], resp.json()["sepa_mandate_id"]) == ("Augsburg",
                                                                                                 "MANDAT-K1-001")
    assert audit_events(engine, row_id(engine, w.a.id))[-1].data == {"city": "Augsburg", "postal_code": "86150"}
    with nothing_billed(engine):
        cases = (({"sepa_iban": None}, "sepa_mandate_id: Value error, a SEPA mandate needs"),
                 ({"country": "AT"}, "vat_id: 'DE136695976' is not a valid VAT id of AT"),
                 ({"invoice_format": "xrechnung"}, "buyer_reference"))
        for change, fragment in cases:
            assert_problem(await api.patch(path, json=change, headers=w.h("msp_admin")), 422, fragment)
        assert_problem(await api.patch(path, json={"city": "X"}, headers=w.h("a_it")), 403)
        assert_problem(await api.patch(billing_path(w.a), json={"city": "X"}, headers=w.h("b_it")), 403)
