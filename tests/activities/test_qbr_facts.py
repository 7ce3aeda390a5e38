"""The facts of two quarters loaded from the database give the hand-counted KPIs; another tenant's rows never
count; a re-run of the deck activity stores its files once, in the file store; a rebuild replaces them once."""

import pytest
from sqlmodel import Session, select

from activities.qbr.decks import QbrDeckActivities
from activities.qbr.facts import list_customers, load_facts
from domain.contracts.qbr import LoadFacts, QbrRunInput, StoreDeck
from domain.qbr.kpis import compute_kpis
from domain.qbr.summary import ExecutiveSummary
from hub.db import session_scope
from hub.file_store import FileStore
from models import AuditEvent, QbrFile, RaciMatrixRow
from tests.factories import make_tenant
from tests.qbr_setup import EXPECTED, seed_two_quarters


@pytest.fixture(scope="module")
def seeded(engine):
    return seed_two_quarters(engine)


@pytest.fixture(scope="module")
def kpis(engine, seeded):
    tenant = seeded.tenant
    with Session(engine) as session:
        current = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter="2026-Q4", with_snapshot=True))
        previous = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter="2026-Q3"))
    return compute_kpis(current, previous, tenant.customer_number, tenant.name)


def test_kpis_from_the_database_match_the_hand_count(kpis):
    assert {k.key: (k.current, k.previous) for k in kpis.kpis} == EXPECTED
    by = {b.key: b for b in kpis.breakdowns}
    assert by["incidents_by_severity"].current == {"critical": 1}  # the highest severity of its two alerts
    assert by["opened_by_category"].current == {"Drucker": 1, "Netzwerk": 2}


def test_list_customers_of_a_quarter(engine, seeded):
    with Session(engine) as session:
        numbers = [c.customer_number for c in list_customers(session, QbrRunInput(quarter="2026-Q4"))]
        only = list_customers(session, QbrRunInput(quarter="2026-Q4", customer_numbers=[seeded.other.customer_number]))
        before = list_customers(session, QbrRunInput(quarter="2025-Q4"))
    assert {seeded.tenant.customer_number, seeded.other.customer_number} <= set(numbers)
    assert [c.tenant_id for c in only] == [seeded.other.id]
    assert seeded.tenant.customer_number not in {c.customer_number for c in before}  # its contract began 2026


def test_deck_is_stored_once(engine, seeded, kpis, tmp_path):
    decks = QbrDeckActivities(engine, FileStore(tmp_path))
    req = StoreDeck(tenant_id=seeded.tenant.id, workflow_id="qbr-test", kpis=kpis)
    first = decks.store_deck(req)
    again = decks.store_deck(req)
    assert [f.kind for f in first] == ["pdf", "pptx"] and again == first
    with Session(engine) as session:
        rows = session.exec(select(QbrFile).where(QbrFile.tenant_id == seeded.tenant.id)).all()
    assert len(rows) == 2
    assert all(r.content is None and (tmp_path / r.path).read_bytes()[:4] in (b"%PDF", b"PK\x03\x04") for r in rows)

    summary = ExecutiveSummary(lines=["Im Quartal wurden 3 Tickets eröffnet."], source="llm")
    rebuild = req.model_copy(update={"version": 2, "summary": summary, "requested_by": None})
    second = decks.store_deck(rebuild)
    assert decks.store_deck(rebuild) == second  # a retry of the rebuild replaces nothing again
    assert [f.version for f in second] == [2, 2] and {f.sha256 for f in second}.isdisjoint(f.sha256 for f in first)
    with Session(engine) as session:
        rows = session.exec(select(QbrFile).where(QbrFile.tenant_id == seeded.tenant.id)).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.tenant_id == seeded.tenant.id,
                                                       AuditEvent.entity == "qbr_deck")).all()  # fmt: skip
    assert {r.sha256 for r in rows} == {f.sha256 for f in second}
    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(f"{f.sha256}.{f.kind}" for f in second)  # the first version's files are gone
    [event] = events
    assert event.action == "rebuilt" and event.data["quarter"] == "2026-Q4"
    assert event.data["files"]["pdf"]["version"] == [1, 2]


def test_the_customers_raci_matrix_as_it_stands_is_in_the_reported_quarter_only(engine):
    tenant = make_tenant(engine)
    matrix = {
        "parties": [{"name": "MSP", "kind": "msp"}, {"name": "Kunden-IT", "kind": "customer_it"},
                    {"name": "Softwarehaus", "kind": "external"}],
        "areas": [{"name": "Netzwerk", "categories": ["netz"], "cells": {"MSP": "R", "Kunden-IT": "A"}},
                  {"name": "Fachanwendungen", "categories": ["erp"],
                   "cells": {"Softwarehaus": "R", "Kunden-IT": "A", "MSP": "C"}}],
    }  # fmt: skip
    with session_scope(engine) as s:
        s.add(RaciMatrixRow(tenant_id=tenant.id, matrix=matrix))
    with Session(engine) as session:
        current = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter="2026-Q4", with_snapshot=True))
        previous = load_facts(session, LoadFacts(tenant_id=tenant.id, quarter="2026-Q3"))
    assert [(r.area, r.responsible, r.accountable, r.consulted, r.informed) for r in current.raci] == [
        ("Netzwerk", ["MSP"], ["Kunden-IT"], [], []),
        ("Fachanwendungen", ["Softwarehaus"], ["Kunden-IT"], ["MSP"], []),
    ]
    assert previous.raci == []
