"""The stored QBR decks: list them and download one (PowerPoint or PDF). MSP users see every customer's;
customer users only their own tenant's, another tenant's deck is reported missing (404)."""

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from sqlmodel import col, select

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.problems import Problem, not_found
from api.routes.qbr.builds import quarter_or_422
from api.schemas.qbr import DeckFile
from hub.file_store import FileStore
from hub.logging import get_logger
from models import QbrFile

log = get_logger(__name__)

router = APIRouter(prefix="/qbr/decks", tags=["quarterly business review"])
Kind = Literal["pptx", "pdf"]


@router.get("", response_model=list[DeckFile], summary="List QBR decks (customers: their own)", name="list_decks")
def list_decks(
    principal: CurrentUser,
    session: SessionDep,
    request: Request,
    quarter: Annotated[str | None, Query(description="YYYY-Qn, e.g. 2026-Q4")] = None,
    tenant_id: UUID | None = None,
):
    columns = [c for c in QbrFile.__table__.columns if c.name != "content"]  # never load the files to list them
    query = select(*columns).order_by(col(QbrFile.quarter).desc(), QbrFile.customer_number, QbrFile.kind)
    if not principal.is_msp:
        query = query.where(QbrFile.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(QbrFile.tenant_id == tenant_id)
    if quarter is not None:
        query = query.where(QbrFile.quarter == quarter_or_422(quarter))
    return [
        DeckFile(
            **row._mapping,
            download_url=str(
                request.url_for("download_deck", tenant_id=row.tenant_id, quarter=row.quarter, kind=row.kind)
            ),
        )  # fmt: skip
        for row in session.exec(query)
    ]


@router.get("/{tenant_id}/{quarter}/{kind}", summary="Download a QBR deck", name="download_deck",
            responses={200: {"content": {"application/pdf": {}, "application/vnd.openxmlformats-officedocument"
                                         ".presentationml.presentation": {}}}})  # fmt: skip
def download_deck(
    tenant_id: UUID, quarter: str, kind: Kind, principal: CurrentUser, session: SessionDep, settings: SettingsDep
):
    quarter = quarter_or_422(quarter)
    row = session.get(QbrFile, (tenant_id, quarter, kind)) if principal.can_see_tenant(tenant_id) else None
    if row is None:
        raise not_found("QBR deck", f"{quarter} {kind}")
    headers = {"Content-Disposition": f'attachment; filename="{row.filename}"', "ETag": f'"{row.sha256}"'}
    if row.path is None:  # stored before the file store
        return Response(row.content, media_type=row.media_type, headers=headers)
    try:
        path = FileStore(settings.documents_path).path(row.path)
    except FileNotFoundError as err:  # the shared directory is not mounted on this replica, or the file was removed
        log.error("qbr deck missing in the file store", path=row.path, error=str(err))
        raise Problem(
            503, "the deck's file is not available on this server; the file store may not be mounted"
        ) from None
    return FileResponse(path, media_type=row.media_type, headers=headers)
