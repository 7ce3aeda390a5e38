"""The monthly service report through the API: finance starts a customer's report, the customer lists and downloads
its own PDF (read back), another tenant's users see nothing of it; MSP admins start the month's run and read its
progress; roles; 4xx for a bad month; contacts opt in (and out) through the contact API."""

import io
import uuid

import pytest
from pypdf import PdfReader

from domain.processes import service_report_workflow_id
from domain.roles import Role
from tests.conftest import auth
from tests.factories import make_user
from tests.service_report_setup import seed_report_customer

BUILDS, REPORTS, RUNS = "/api/v1/service-reports/builds", "/api/v1/service-reports", "/api/v1/service-reports/runs"


@pytest.fixture(scope="module")
def world(engine):
    seeded = seed_report_customer(engine)
    keys = {
        "admin": make_user(engine, Role.MSP_ADMIN)[1],
        "finance": make_user(engine, Role.FINANCE)[1],
        "tech": make_user(engine, Role.MSP_TECH)[1],
        "customer": make_user(engine, Role.CUSTOMER_USER, seeded.tenant)[1],
        "customer_it": make_user(engine, Role.CUSTOMER_IT, seeded.tenant)[1],
        "stranger": make_user(engine, Role.CUSTOMER_IT, seeded.other)[1],
    }
    return seeded, keys


async def test_report_download_and_tenant_scoping(api, client, world):
    seeded, keys = world
    tenant, other = seeded.tenant, seeded.other
    r = await api.post(BUILDS, json={"tenant_id": str(tenant.id), "month": "2026-11"}, headers=auth(keys["finance"]))
    assert r.status_code == 202, r.text
    assert r.json()["workflow_id"] == service_report_workflow_id(tenant.customer_number, "2026-11")
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    r = await api.post(BUILDS, json={"tenant_id": str(other.id), "month": "2026-11"}, headers=auth(keys["admin"]))
    await client.get_workflow_handle(r.json()["workflow_id"]).result()

    mine = (await api.get(REPORTS, headers=auth(keys["customer"]))).json()
    assert [(d["tenant_id"], d["month"]) for d in mine] == [(str(tenant.id), "2026-11")]
    pdf = await api.get(mine[0]["download_url"], headers=auth(keys["customer"]))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f"Servicebericht-{tenant.customer_number}-2026-11.pdf" in pdf.headers["content-disposition"]
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Monatlicher Servicebericht November 2026" in text and "SLA-Erfüllung Lösung\n0 %\n100 %" in text

    # Another tenant's user: only its own report, ours is missing (404), not forbidden; asking by our id: nothing.
    theirs = (await api.get(REPORTS, headers=auth(keys["stranger"]))).json()
    assert [d["tenant_id"] for d in theirs] == [str(other.id)]
    assert (await api.get(REPORTS, params={"tenant_id": str(tenant.id)}, headers=auth(keys["stranger"]))).json() == []
    refused = await api.get(f"{REPORTS}/{tenant.id}/2026-11/pdf", headers=auth(keys["stranger"]))
    assert refused.status_code == 404 and tenant.name.encode() not in refused.content
    # ... and ours cannot download theirs either.
    assert (await api.get(f"{REPORTS}/{other.id}/2026-11/pdf", headers=auth(keys["customer"]))).status_code == 404
    # MSP staff see every customer's.
    listed = await api.get(REPORTS, params={"month": "2026-11"}, headers=auth(keys["tech"]))
    assert {str(tenant.id), str(other.id)} <= {d["tenant_id"] for d in listed.json()}
    assert (await api.get(f"{REPORTS}/{other.id}/2026-11/pdf", headers=auth(keys["tech"]))).status_code == 200


async def test_who_may_start_and_bad_input(api, world):
    seeded, keys = world
    body = {"tenant_id": str(seeded.tenant.id), "month": "2026-11"}
    for who in ("tech", "customer", "customer_it"):
        assert (await api.post(BUILDS, json=body, headers=auth(keys[who]))).status_code == 403
        assert (await api.post(RUNS, json={"month": "2026-11"}, headers=auth(keys[who]))).status_code == 403
    unknown = await api.post(BUILDS, json=body | {"tenant_id": str(uuid.uuid4())}, headers=auth(keys["finance"]))
    assert unknown.status_code == 404
    for month in ("2026-13", "2026-Q4", "11-2026", "２０２６-11"):
        r = await api.post(BUILDS, json=body | {"month": month}, headers=auth(keys["finance"]))
        assert r.status_code == 422, (month, r.text)
    assert (await api.get(REPORTS, params={"month": "2026-13"}, headers=auth(keys["tech"]))).status_code == 422
    assert (await api.get(f"{RUNS}/2026-13", headers=auth(keys["finance"]))).status_code == 422


async def test_the_months_run_and_its_progress(api, client, world):
    seeded, keys = world
    numbers = [seeded.tenant.customer_number]
    r = await api.post(RUNS, json={"month": "2026-08", "customer_numbers": numbers}, headers=auth(keys["admin"]))
    assert r.status_code == 202 and r.json()["workflow_id"] == "service-report-run-2026-08"
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    status = (await api.get(r.headers["location"], headers=auth(keys["finance"]))).json()
    assert (status["total"], status["done"], status["finished"], status["temporal_status"]) == (1, 1, True, "completed")
    assert (await api.get(f"{RUNS}/2020-01", headers=auth(keys["finance"]))).status_code == 404


async def test_contacts_opt_in_through_the_contact_api(api, world):
    seeded, keys = world
    r = await api.post("/api/v1/contacts", headers=auth(keys["customer_it"]),
                       json={"first_name": "Eva", "last_name": "Berg", "email": f"{uuid.uuid4().hex[:8]}@example.com",
                             "service_report_opt_in": True})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["service_report_opt_in"] is True
    url = f"/api/v1/contacts/{r.json()['id']}"
    off = await api.patch(url, json={"service_report_opt_in": False}, headers=auth(keys["customer_it"]))
    assert off.status_code == 200 and off.json()["service_report_opt_in"] is False
    null = await api.patch(url, json={"service_report_opt_in": None}, headers=auth(keys["customer_it"]))
    assert null.status_code == 422
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    default = await api.post("/api/v1/contacts", headers=auth(keys["customer_it"]),
                             json={"first_name": "Udo", "last_name": "Berg", "email": email})  # fmt: skip
    assert default.json()["service_report_opt_in"] is False  # nobody is mailed without opting in
    schema = (await api.get("/openapi.json")).json()["components"]["schemas"]["ContactCreate"]
    assert schema["properties"]["service_report_opt_in"]["title"] == "Monatlichen Servicebericht per E-Mail erhalten"
