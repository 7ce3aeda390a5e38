"""The QBR through the API: finance starts a customer's build, the customer downloads its own deck (PowerPoint and
PDF, read back), another tenant's customer sees nothing of it; roles; 4xx for a bad quarter or kind."""

import io
import uuid

import pytest
from pptx import Presentation
from pypdf import PdfReader

from domain.processes import qbr_workflow_id
from domain.roles import Role
from tests.conftest import auth
from tests.factories import make_user
from tests.qbr_setup import seed_two_quarters

BUILDS, DECKS, RUNS = "/api/v1/qbr/builds", "/api/v1/qbr/decks", "/api/v1/qbr/runs"


@pytest.fixture(scope="module")
def world(engine):
    seeded = seed_two_quarters(engine)
    keys = {
        "finance": make_user(engine, Role.FINANCE)[1],
        "tech": make_user(engine, Role.MSP_TECH)[1],
        "customer": make_user(engine, Role.CUSTOMER_USER, seeded.tenant)[1],
        "stranger": make_user(engine, Role.CUSTOMER_IT, seeded.other)[1],
    }
    return seeded, keys


async def test_build_download_and_tenant_scoping(api, client, world):
    seeded, keys = world
    tenant = seeded.tenant
    r = await api.post(BUILDS, json={"tenant_id": str(tenant.id), "quarter": "2026Q4"}, headers=auth(keys["finance"]))
    assert r.status_code == 202, r.text
    assert (
        r.json()["workflow_id"] == qbr_workflow_id(tenant.customer_number, "2026-Q4")
        and r.json()["quarter"] == "2026-Q4"
    )
    await client.get_workflow_handle(r.json()["workflow_id"]).result()

    mine = (await api.get(DECKS, headers=auth(keys["customer"]))).json()
    assert {(d["quarter"], d["kind"]) for d in mine} == {("2026-Q4", "pptx"), ("2026-Q4", "pdf")}
    assert {d["tenant_id"] for d in mine} == {str(tenant.id)}
    pptx = await api.get(next(d["download_url"] for d in mine if d["kind"] == "pptx"), headers=auth(keys["customer"]))
    assert pptx.status_code == 200 and pptx.headers["content-type"].endswith("presentationml.presentation")
    table = next(s for s in Presentation(io.BytesIO(pptx.content)).slides[2].shapes if s.has_table).table
    rows = {row.cells[0].text: (row.cells[1].text, row.cells[2].text) for row in table.rows}
    assert rows["SLA-Erfüllung Reaktion"] == ("66,7 %", "100 %") and rows["Sicherheitsvorfälle"] == ("1", "k. A.")
    pdf = await api.get(f"{DECKS}/{tenant.id}/2026-Q4/pdf", headers=auth(keys["customer"]))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Aktueller Wert" in text and "530,00 €" in text and tenant.name in text

    # Another tenant's user: an empty list, and the deck is missing, not forbidden.
    assert (await api.get(DECKS, headers=auth(keys["stranger"]))).json() == []
    assert (await api.get(DECKS, params={"tenant_id": str(tenant.id)}, headers=auth(keys["stranger"]))).json() == []
    refused = await api.get(f"{DECKS}/{tenant.id}/2026-Q4/pdf", headers=auth(keys["stranger"]))
    assert refused.status_code == 404 and tenant.name.encode() not in refused.content
    # MSP staff see every customer's.
    listed = await api.get(
        DECKS, params={"tenant_id": str(tenant.id), "quarter": "2026-Q4"}, headers=auth(keys["tech"])
    )
    assert len(listed.json()) == 2


async def test_who_may_start_and_bad_input(api, world):
    seeded, keys = world
    body = {"tenant_id": str(seeded.tenant.id), "quarter": "2026-Q4"}
    for who in ("tech", "customer"):
        assert (await api.post(BUILDS, json=body, headers=auth(keys[who]))).status_code == 403
    unknown = await api.post(BUILDS, json=body | {"tenant_id": str(uuid.uuid4())}, headers=auth(keys["finance"]))
    assert unknown.status_code == 404
    for quarter in ("2026-Q5", "2026-13", "Q4-2026", "２０２６-Q1"):
        r = await api.post(BUILDS, json=body | {"quarter": quarter}, headers=auth(keys["finance"]))
        assert r.status_code == 422 and "quarter" in r.text, (quarter, r.text)
    bad_list = await api.get(DECKS, params={"quarter": "2026-Q9"}, headers=auth(keys["finance"]))
    assert bad_list.status_code == 422 and "expected YYYY-Qn" in bad_list.text
    bad_path = await api.get(f"{DECKS}/{seeded.tenant.id}/2026-Q0/pdf", headers=auth(keys["finance"]))
    assert bad_path.status_code == 422 and "expected YYYY-Qn" in bad_path.text
    bad_kind = await api.get(f"{DECKS}/{seeded.tenant.id}/2026-Q4/docx", headers=auth(keys["finance"]))
    assert bad_kind.status_code == 422
    assert (await api.get(f"{RUNS}/2026-Q7", headers=auth(keys["finance"]))).status_code == 422


async def test_quarterly_run_through_the_api(api, client, world):
    seeded, keys = world
    body = {"quarter": "2026-Q3", "customer_numbers": [seeded.tenant.customer_number]}
    started = await api.post(RUNS, json=body, headers=auth(keys["finance"]))
    assert started.status_code == 202, started.text
    await client.get_workflow_handle(started.json()["workflow_id"]).result()
    status = (await api.get(f"{RUNS}/2026-Q3", headers=auth(keys["finance"]))).json()
    assert (status["total"], status["done"], status["temporal_status"]) == (1, 1, "completed")
    mine = (await api.get(DECKS, params={"quarter": "2026-Q3"}, headers=auth(keys["customer"]))).json()
    assert {d["kind"] for d in mine} == {"pdf", "pptx"}
    assert (await api.get(f"{RUNS}/2026-Q3", headers=auth(keys["customer"]))).status_code == 403
