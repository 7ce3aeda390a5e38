"""The stored monthly service reports: list them and download one (PDF). MSP users see every customer's; customer
users only their own tenant's, another tenant's report is reported missing (404)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from sqlmodel import col, select

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.problems import Problem, not_found
from api.routes.service_reports.runs import month_or_422
from api.schemas.service_reports import ReportFile
from hub.file_store import FileStore
from hub.logging import get_logger
from models import ServiceReportFile

log = get_logger(__name__)

router = APIRouter(prefix="/service-reports", tags=["monthly service report"])


@router.get("", response_model=list[ReportFile], summary="List service reports (customers: their own)",
            name="list_service_reports")  # fmt: skip
def list_reports(
    principal: CurrentUser,
    session: SessionDep,
    request: Request,
    month: Annotated[str | None, Query(description="YYYY-MM, e.g. 2026-11")] = None,
    tenant_id: UUID | None = None,
):
    query = select(ServiceReportFile).order_by(col(ServiceReportFile.month).desc(), ServiceReportFile.customer_number)
    if not principal.is_msp:
        query = query.where(ServiceReportFile.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(ServiceReportFile.tenant_id == tenant_id)
    if month is not None:
        query = query.where(ServiceReportFile.month == month_or_422(month))
    return [
        ReportFile(
            **row.model_dump(exclude={"path", "workflow_id"}),
            download_url=str(request.url_for("download_service_report", tenant_id=row.tenant_id, month=row.month)),
        )  # fmt: skip
        for row in session.exec(query)
    ]


@router.get("/{tenant_id}/{month}/pdf", summary="Download a service report", name="download_service_report",
            responses={200: {"content": {"application/pdf": {}}}})  # fmt: skip
def download_report(tenant_id: UUID, month: str, principal: CurrentUser, session: SessionDep, settings: SettingsDep):
    month = month_or_422(month)
    row = session.get(ServiceReportFile, (tenant_id, month)) if principal.can_see_tenant(tenant_id) else None
    if row is None:
        raise not_found("service report", month)
    headers = {"Content-Disposition": f'attachment; filename="{row.filename}"', "ETag": f'"{row.sha256}"'}
    try:
        path = FileStore(settings.documents_path).path(row.path)
    except FileNotFoundError as err:  # the shared directory is not mounted on this replica, or the file was removed
        log.error("service report missing in the file store", path=row.path, error=str(err))
        raise Problem(
            503, "the report's file is not available on this server; the file store may not be mounted"
        ) from None
    return FileResponse(path, media_type=row.media_type, headers=headers)
