"""Render a customer's monthly service report and store it once: the PDF goes to the file store
(hub/file_store.py), the `service_report_files` row points to it. A retry or a second run of the month finds the
row and renders nothing again (the report a customer received stays the report on file)."""

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio import activity

from documents.service_report_pdf import render_service_report_pdf
from domain.contracts.service_report import ServiceReportActivity, StoredReport, StoreReport
from hub.db import session_scope
from hub.file_store import FileStore
from models import ServiceReportFile

PDF = "application/pdf"


def report_filename(customer_number: str, month: str) -> str:
    return f"Servicebericht-{customer_number}-{month}.pdf"


def _public(row: ServiceReportFile) -> StoredReport:
    return StoredReport(filename=row.filename, sha256=row.sha256, size=row.size)


class ServiceReportFileActivities:
    def __init__(self, engine: Engine, store: FileStore):
        self.engine = engine
        self.store = store

    @activity.defn(name=ServiceReportActivity.STORE)
    def store_report(self, req: StoreReport) -> StoredReport:
        key = (req.tenant_id, req.report.month)
        with Session(self.engine) as session:  # rendered without the write lock (SQLite): a read first
            row = session.get(ServiceReportFile, key)
            if row is not None:
                return _public(row)
        content = render_service_report_pdf(req.report)
        path, sha256 = self.store.put(f"service-reports/{req.tenant_id}/{req.report.month}", "pdf", content)
        try:  # the file first, then the index: a row never points to a missing file
            with session_scope(self.engine) as session:
                session.add(ServiceReportFile(
                    tenant_id=req.tenant_id, month=req.report.month, customer_number=req.report.customer_number,
                    workflow_id=req.workflow_id, filename=report_filename(req.report.customer_number, req.report.month),
                    media_type=PDF, path=path, sha256=sha256, size=len(content),
                ))  # fmt: skip
        except IntegrityError:
            pass  # a concurrent attempt stored it meanwhile: theirs stays
        with Session(self.engine) as session:
            return _public(session.get(ServiceReportFile, key))
