"""Render a customer's QBR deck (PowerPoint and PDF) from its KPIs and store both once: a retry or a second run of
the quarter finds the stored files and renders nothing again."""

import hashlib

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from domain.contracts.qbr import QbrActivity, StoreDeck, StoredFile
from hub.db import session_scope
from models import QbrFile

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF = "application/pdf"
KINDS = {"pptx": (PPTX, render_qbr_pptx), "pdf": (PDF, render_qbr_pdf)}


def _stored(session: Session, req: StoreDeck) -> list[QbrFile]:
    return list(
        session.exec(
            select(QbrFile).where(QbrFile.tenant_id == req.tenant_id, QbrFile.quarter == req.kpis.quarter)
            .order_by(QbrFile.kind)
        )
    )  # fmt: skip


def _public(rows: list[QbrFile]) -> list[StoredFile]:
    return [StoredFile(kind=r.kind, filename=r.filename, sha256=r.sha256, size=r.size) for r in rows]


def deck_filename(customer_number: str, quarter: str, kind: str) -> str:
    return f"QBR-{customer_number}-{quarter}.{kind}"


class QbrDeckActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=QbrActivity.STORE_DECK)
    def store_deck(self, req: StoreDeck) -> list[StoredFile]:
        with Session(self.engine) as session:  # rendered without the write lock (SQLite): a read first
            have = {r.kind for r in _stored(session, req)}
        missing = [kind for kind in KINDS if kind not in have]
        summary = req.summary.lines if req.summary else None
        rendered = {kind: KINDS[kind][1](req.kpis, summary) for kind in missing}
        try:
            with session_scope(self.engine) as session:
                have = {r.kind for r in _stored(session, req)}  # a concurrent attempt may have written meanwhile
                for kind, content in rendered.items():
                    if kind in have:
                        continue
                    session.add(QbrFile(tenant_id=req.tenant_id, quarter=req.kpis.quarter, kind=kind,
                                        customer_number=req.kpis.customer_number, workflow_id=req.workflow_id,
                                        filename=deck_filename(req.kpis.customer_number, req.kpis.quarter, kind),
                                        media_type=KINDS[kind][0], content=content,
                                        sha256=hashlib.sha256(content).hexdigest(), size=len(content)))  # fmt: skip
        except IntegrityError:
            pass  # written by a concurrent attempt: theirs stays
        with Session(self.engine) as session:
            return _public(_stored(session, req))
