"""The QBR through the API: finance starts a customer's build, the customer downloads its own deck (PowerPoint and
PDF, read back), another tenant's customer sees nothing of it; roles; 4xx for a bad quarter or kind; MSP staff
rebuild a deck (next version, audited)."""

import io
import uuid

import pytest
from pptx import Presentation
from pypdf import PdfReader
from sqlmodel import Session, select

from domain.processes import qbr_workflow_id
from domain.qbr.vcio import VcioKind, VcioStatus
from domain.roles import Role
from hub.db import session_scope
from models import AuditEvent, QbrFile, VcioItem
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


VCIO = "/api/v1/qbr/vcio"


async def test_vcio_entries_are_tenant_scoped_and_shown_in_the_deck(api, client, world):
    seeded, keys = world
    tenant, tech = seeded.tenant, auth(keys["tech"])
    base = {"tenant_id": str(tenant.id)}
    risks = [("Kein Offline-Backup", 4, 5), ("Veraltete Firewall", 3, 4), ("Phishing", 5, 3), ("Druckerausfall", 1, 1)]
    for title, likelihood, impact in risks:
        body = base | {"kind": "risk", "title": title, "likelihood": likelihood, "impact": impact, "owner": "vCIO"}
        assert (await api.post(VCIO, json=body, headers=tech)).status_code == 201
    roadmap = base | {"kind": "roadmap", "title": "Firewall ersetzen", "quarter": "2027Q1", "estimated_cost": "4800.00"}
    assert (await api.post(VCIO, json=roadmap, headers=tech)).json()["quarter"] == "2027-Q1"
    decision = base | {"kind": "decision", "title": "Backup-Konzept freigeben", "owner": "Frau Muster",
                       "due_date": "2027-01-31"}  # fmt: skip
    decision_id = (await api.post(VCIO, json=decision, headers=tech)).json()["id"]
    done = await api.patch(f"{VCIO}/{decision_id}", json={"status": "done"}, headers=tech)
    assert done.status_code == 200 and done.json()["status"] == "done"

    for bad in ({"kind": "risk", "title": "x", "likelihood": 6, "impact": 1},
                {"kind": "risk", "title": "ohne Auswirkung", "likelihood": 2},
                {"kind": "roadmap", "title": "x", "quarter": "2027-Q5"},
                {"kind": "roadmap", "title": "x", "estimated_cost": "-1"}):  # fmt: skip
        assert (await api.post(VCIO, json=base | bad, headers=tech)).status_code == 422, bad
    unknown = await api.post(VCIO, json={"tenant_id": str(uuid.uuid4()), "kind": "risk", "title": "x",
                                         "likelihood": 1, "impact": 1}, headers=tech)  # fmt: skip
    assert unknown.status_code == 422 and "tenant_id" in unknown.text
    assert (await api.patch(f"{VCIO}/{decision_id}", json={"title": None}, headers=tech)).status_code == 422
    customer, stranger = auth(keys["customer"]), auth(keys["stranger"])
    assert (await api.post(VCIO, json=decision, headers=customer)).status_code == 403
    assert len((await api.get(VCIO, headers=customer)).json()) == 6
    assert (await api.get(VCIO, params={"tenant_id": str(tenant.id)}, headers=stranger)).json() == []
    assert (await api.patch(f"{VCIO}/{decision_id}", json={"status": "open"}, headers=stranger)).status_code == 403

    r = await api.post(BUILDS, json={"tenant_id": str(tenant.id), "quarter": "2026-Q2"}, headers=auth(keys["finance"]))
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    pptx = await api.get(f"{DECKS}/{tenant.id}/2026-Q2/pptx", headers=customer)
    slides = {s.shapes.title.text: s for s in Presentation(io.BytesIO(pptx.content)).slides}

    def rows(title: str) -> list[list[str]]:
        table = next(s for s in slides[title].shapes if s.has_table).table
        return [[c.text for c in row.cells] for row in table.rows][1:]

    assert [r[0] for r in rows("Top-3-Risiken")] == ["Kein Offline-Backup", "Phishing", "Veraltete Firewall"]
    assert rows("Top-3-Risiken")[0][1:4] == ["4", "5", "20"]
    assert rows("Roadmap") == [["Firewall ersetzen", "2027-Q1", "4.800,00 €", "offen", ""]]
    assert rows("Entscheidungen und nächste Schritte")[0] == ["Backup-Konzept freigeben", "Frau Muster", "31.01.2027",
                                                              "erledigt"]  # fmt: skip


async def test_rebuild_replaces_the_files_with_the_next_version(api, client, engine, world):
    seeded, keys = world
    tenant, tech = seeded.tenant, auth(keys["tech"])
    deck = {"tenant_id": str(tenant.id), "quarter": "2026-Q4"}
    r = await api.post(BUILDS, json={"tenant_id": str(tenant.id), "quarter": "2026-Q4"}, headers=auth(keys["finance"]))
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    before = {d["kind"]: d for d in (await api.get(DECKS, params=deck, headers=tech)).json()}
    with session_scope(engine) as session:  # a vCIO entry added after the build: the rebuild shows it
        session.add(VcioItem(tenant_id=tenant.id, kind=VcioKind.DECISION, title="Firewall tauschen",
                             status=VcioStatus.OPEN, owner="IT-Leitung"))  # fmt: skip

    rebuild = f"{DECKS}/{tenant.id}/2026Q4/rebuild"
    assert (await api.post(rebuild, headers=auth(keys["customer"]))).status_code == 403
    r = await api.post(rebuild, headers=tech)
    assert r.status_code == 202, r.text
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    after = {d["kind"]: d for d in (await api.get(DECKS, params=deck, headers=tech)).json()}
    assert {d["version"] for d in after.values()} == {before["pdf"]["version"] + 1}
    assert after["pdf"]["sha256"] != before["pdf"]["sha256"]
    pdf = await api.get(after["pdf"]["download_url"], headers=auth(keys["customer"]))
    assert pdf.status_code == 200 and pdf.headers["etag"] == f'"{after["pdf"]["sha256"]}"'
    assert "Firewall tauschen" in "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.tenant_id == tenant.id,
                                                       AuditEvent.action == "rebuilt")).all()  # fmt: skip
    assert [e.data["files"]["pptx"]["version"] for e in events][-1] == [
        before["pptx"]["version"],
        after["pptx"]["version"],
    ]

    missing = await api.post(f"{DECKS}/{tenant.id}/2025-Q1/rebuild", headers=tech)
    assert missing.status_code == 404 and "build it first" in missing.text
    assert (await api.post(f"{DECKS}/{uuid.uuid4()}/2026-Q4/rebuild", headers=tech)).status_code == 404
    assert (await api.post(f"{DECKS}/{tenant.id}/2026-Q9/rebuild", headers=tech)).status_code == 422


async def test_a_deck_from_before_the_file_store_still_downloads_and_a_missing_file_is_503(api, engine, world):
    seeded, keys = world
    other, finance = seeded.other, auth(keys["finance"])
    with session_scope(engine) as session:
        common = {"tenant_id": other.id, "customer_number": other.customer_number, "workflow_id": "qbr-old",
                  "media_type": "application/pdf", "sha256": "0" * 64}  # fmt: skip
        session.add(QbrFile(**common, quarter="2025-Q4", kind="pdf", filename="old.pdf", content=b"%PDF-old", size=8))
        session.add(QbrFile(**common, quarter="2025-Q3", kind="pdf", filename="gone.pdf", path="qbr/x/1.pdf", size=1))
    old = await api.get(f"{DECKS}/{other.id}/2025-Q4/pdf", headers=finance)
    assert old.status_code == 200 and old.content == b"%PDF-old"
    gone = await api.get(f"{DECKS}/{other.id}/2025-Q3/pdf", headers=finance)
    assert gone.status_code == 503 and "file store" in gone.json()["detail"]
