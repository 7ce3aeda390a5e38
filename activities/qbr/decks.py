"""Render a customer's QBR deck (PowerPoint and PDF) from its KPIs and store both once: the files go to the file
store (hub/file_store.py), the `qbr_files` row points to them. A retry or a second run of the quarter finds the
stored files and renders nothing again; a rebuild (a higher `version`) replaces them, writes an audit event in the
same transaction and removes the old files after the commit. The documents carry the MSP's branding
(activities/qbr/branding.py) and are written in the KPI set's language (the customer's)."""

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from activities.qbr.branding import deck_branding
from documents.qbr_pdf import render_qbr_pdf
from documents.qbr_pptx import render_qbr_pptx
from domain.contracts.qbr import QbrActivity, StoreDeck, StoredFile
from hub.db import session_scope
from hub.file_store import FileStore
from hub.security import audit
from models import QbrFile

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF = "application/pdf"
KINDS = {"pptx": (PPTX, render_qbr_pptx), "pdf": (PDF, render_qbr_pdf)}


def _stored(session: Session, req: StoreDeck) -> dict[str, QbrFile]:
    rows = session.exec(select(QbrFile).where(QbrFile.tenant_id == req.tenant_id, QbrFile.quarter == req.kpis.quarter))
    return {r.kind: r for r in rows}


def _public(rows: dict[str, QbrFile]) -> list[StoredFile]:
    return [StoredFile(kind=r.kind, filename=r.filename, sha256=r.sha256, size=r.size, version=r.version)
            for _, r in sorted(rows.items())]  # fmt: skip


def deck_filename(customer_number: str, quarter: str, kind: str) -> str:
    return f"QBR-{customer_number}-{quarter}.{kind}"


def _due(rows: dict[str, QbrFile], req: StoreDeck) -> list[str]:
    return [kind for kind in KINDS if kind not in rows or rows[kind].version < req.version]


class QbrDeckActivities:
    def __init__(self, engine: Engine, store: FileStore):
        self.engine = engine
        self.store = store

    @activity.defn(name=QbrActivity.STORE_DECK)
    def store_deck(self, req: StoreDeck) -> list[StoredFile]:
        with Session(self.engine) as session:  # rendered without the write lock (SQLite): a read first
            due = _due(_stored(session, req), req)
            branding = deck_branding(session) if due else None
        language = req.kpis.language
        summary = req.summary.lines if req.summary else None
        folder = f"qbr/{req.tenant_id}/{req.kpis.quarter}"
        written = {}  # files first, then the index: a row never points to a missing file
        for kind in due:
            content = KINDS[kind][1](req.kpis, summary, language=language, branding=branding)
            written[kind] = (*self.store.put(folder, kind, content), len(content))
        replaced: list[str] = []
        try:
            with session_scope(self.engine) as session:
                rows = _stored(session, req)  # a concurrent attempt may have written meanwhile
                changes = {}
                for kind in _due(rows, req):
                    path, sha256, size = written[kind]
                    row = rows.get(kind)
                    if row is None:
                        session.add(QbrFile(tenant_id=req.tenant_id, quarter=req.kpis.quarter, kind=kind,
                                            customer_number=req.kpis.customer_number, workflow_id=req.workflow_id,
                                            filename=deck_filename(req.kpis.customer_number, req.kpis.quarter, kind),
                                            media_type=KINDS[kind][0], path=path, sha256=sha256, size=size,
                                            version=req.version))  # fmt: skip
                        continue
                    changes[kind] = {"version": [row.version, req.version], "sha256": [row.sha256, sha256]}
                    if row.path and row.path != path:
                        replaced.append(row.path)
                    row.path, row.content, row.sha256, row.size, row.version = path, None, sha256, size, req.version
                    row.workflow_id = req.workflow_id
                if changes:
                    audit(session, req.requested_by, req.tenant_id, "qbr_deck", req.tenant_id, "rebuilt",
                          {"quarter": req.kpis.quarter, "files": changes})  # fmt: skip
        except IntegrityError:
            replaced = []  # written by a concurrent attempt: theirs stays
        for path in replaced:
            self.store.remove(path)
        with Session(self.engine) as session:
            return _public(_stored(session, req))
