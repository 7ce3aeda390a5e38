"""Business calendars: the opening hours and holidays SLA clocks count in. Tenants and contracts point at one,
so a calendar in use cannot be deleted; an edit reaches running tickets only through a re-pin.
"""

from uuid import UUID

from fastapi import APIRouter, Response
from sqlmodel import select

from api.crud import apply_patch, count_refs, ensure_unique_name, ensure_unused, get_or_404, patch_changes
from api.deps import MspAdmin, MspReader, SessionDep
from api.pagination import Page, PageDep, paginate
from api.schemas.common import audit_event
from api.schemas.sla import CalendarCreate, CalendarPublic, CalendarUpdate
from domain.calendar_spec import CalendarSpec
from models import BusinessCalendarRow, Contract, Tenant

router = APIRouter(prefix="/calendars", tags=["sla"])


def _calendar_public(row: BusinessCalendarRow) -> CalendarPublic:
    return CalendarPublic(
        id=row.id, name=row.name, spec=CalendarSpec.model_validate(row.spec), created_at=row.created_at
    )


@router.get("", response_model=Page[CalendarPublic], summary="List business calendars (MSP staff)")
def list_calendars(principal: MspReader, session: SessionDep, page: PageDep):
    query = select(BusinessCalendarRow).order_by(BusinessCalendarRow.name, BusinessCalendarRow.id)
    return paginate(session, query, page, _calendar_public)


@router.get("/{calendar_id}", response_model=CalendarPublic, summary="One business calendar")
def get_calendar(calendar_id: UUID, principal: MspReader, session: SessionDep):
    return _calendar_public(get_or_404(session, BusinessCalendarRow, calendar_id, "calendar"))


@router.post("", status_code=201, response_model=CalendarPublic, summary="Create a business calendar (MSP admins)")
def create_calendar(body: CalendarCreate, principal: MspAdmin, session: SessionDep):
    ensure_unique_name(session, BusinessCalendarRow, body.name, "a calendar")
    row = BusinessCalendarRow(name=body.name, spec=body.spec.model_dump(mode="json"))
    session.add(row)
    session.flush()
    session.add(audit_event(principal, None, "calendar", row.id, "created", {"name": row.name, "spec": row.spec}))
    session.flush()
    return _calendar_public(row)


@router.patch(
    "/{calendar_id}",
    response_model=CalendarPublic,
    summary="Rename or replace a calendar (MSP admins)",
    description="Tickets already running keep the due times computed with the old calendar."
    " To apply the change to them, re-pin: POST /api/v1/sla/repin (or /tickets/{id}/sla/repin).",
)
def update_calendar(calendar_id: UUID, body: CalendarUpdate, principal: MspAdmin, session: SessionDep):
    row = get_or_404(session, BusinessCalendarRow, calendar_id, "calendar")
    changes = patch_changes(body, "spec")
    if "name" in changes:
        ensure_unique_name(session, BusinessCalendarRow, changes["name"], "a calendar", own_id=row.id)
    apply_patch(session, principal, None, "calendar", row, changes)
    return _calendar_public(row)


@router.delete(
    "/{calendar_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a calendar that no tenant or contract uses (MSP admins)",
)
def delete_calendar(calendar_id: UUID, principal: MspAdmin, session: SessionDep) -> Response:
    row = get_or_404(session, BusinessCalendarRow, calendar_id, "calendar")
    ensure_unused(
        "calendar",
        row.id,
        tenant=count_refs(session, Tenant, Tenant.calendar_id, row.id),
        contract=count_refs(session, Contract, Contract.calendar_id, row.id),
    )
    session.add(audit_event(principal, None, "calendar", row.id, "deleted", {"name": row.name}))
    session.delete(row)
    session.flush()
    return Response(status_code=204)
