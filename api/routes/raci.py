"""The RACI matrix of a co-managed customer: service areas × parties with R/A/C/I. MSP staff write it (every change
in its history: who, when, before and after); the customer's IT reads its own. A new ticket's category routes it by
the matrix (`hub/tickets/raci.py`)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.deps import MspStaff, NowDep, Principal, SessionDep, require_roles
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.routes.tenants import load_tenant
from api.routes.tickets.access import check_ticket_queue
from api.schemas.raci import RaciChangePublic, RaciMatrixBody, RaciMatrixPublic
from domain.raci import RaciMatrix, matrix_errors
from domain.roles import MSP_ROLES, Role
from models import RaciChange, RaciMatrixRow

router = APIRouter(prefix="/tenants", tags=["co-managed IT"])
RaciReader = Annotated[Principal, Depends(require_roles(*MSP_ROLES, Role.CUSTOMER_IT))]


def _row(session: Session, tenant_id: UUID) -> RaciMatrixRow | None:
    return session.exec(select(RaciMatrixRow).where(RaciMatrixRow.tenant_id == tenant_id)).one_or_none()


def _public(row: RaciMatrixRow) -> RaciMatrixPublic:
    return RaciMatrixPublic(
        **row.matrix,
        tenant_id=row.tenant_id,
        version=row.version,
        updated_at=row.updated_at,
        updated_by_user_id=row.updated_by_user_id,
    )


def _check(session: Session, tenant_id: UUID, matrix: RaciMatrix) -> None:
    """422 naming everything wrong: the matrix's own rules, and each party's queue (an MSP queue or this
    customer's)."""
    errors = [e.model_dump() for e in matrix_errors(matrix)]
    for i, party in enumerate(matrix.parties):
        try:
            check_ticket_queue(session, party.queue, tenant_id, f"parties[{i}].queue")
        except Problem as problem:
            errors += problem.extra.get("errors", [])
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Problem(422, f"invalid RACI matrix: {summary}", errors=errors)


@router.get("/{tenant_id}/raci", response_model=RaciMatrixPublic, summary="The customer's RACI matrix")
def get_raci(tenant_id: UUID, principal: RaciReader, session: SessionDep):
    load_tenant(session, tenant_id, principal)
    row = _row(session, tenant_id)
    if row is None:
        raise not_found("RACI matrix of tenant", tenant_id)
    return _public(row)


@router.put(
    "/{tenant_id}/raci",
    response_model=RaciMatrixPublic,
    summary="Set the customer's RACI matrix (exactly one A and at least one R per area); recorded in its history",
)
def put_raci(tenant_id: UUID, body: RaciMatrixBody, principal: MspStaff, session: SessionDep, now: NowDep):
    load_tenant(session, tenant_id, principal)
    matrix = RaciMatrix.model_validate(body.model_dump(exclude={"expected_version"}))
    _check(session, tenant_id, matrix)
    row = session.exec(
        select(RaciMatrixRow).where(RaciMatrixRow.tenant_id == tenant_id).with_for_update()
    ).one_or_none()
    current = row.version if row is not None else 0
    if body.expected_version is not None and body.expected_version != current:
        raise Problem(409, f"the RACI matrix is at version {current}, not {body.expected_version}: reload it")
    new = matrix.model_dump(mode="json")
    if row is not None and row.matrix == new:
        return _public(row)  # nothing changed: no new version, no history entry
    old = row.matrix if row is not None else None
    if row is None:  # versions go on after a deleted matrix: the history keeps one entry per version
        last = session.exec(select(func.max(RaciChange.version)).where(RaciChange.tenant_id == tenant_id)).one()
        row = RaciMatrixRow(
            tenant_id=tenant_id,
            version=(last or 0) + 1,
            matrix=new,
            updated_at=now,
            updated_by_user_id=principal.user_id,
        )
    else:
        row.version, row.matrix, row.updated_at, row.updated_by_user_id = current + 1, new, now, principal.user_id
    session.add(row)
    session.add(
        RaciChange(tenant_id=tenant_id, version=row.version, at=now, actor_user_id=principal.user_id, old=old, new=new)
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Problem(409, "the RACI matrix was changed at the same time: reload it and try again") from None
    return _public(row)


@router.delete("/{tenant_id}/raci", status_code=204, summary="Remove the matrix (new tickets are no longer routed)")
def delete_raci(tenant_id: UUID, principal: MspStaff, session: SessionDep, now: NowDep):
    load_tenant(session, tenant_id, principal)
    row = _row(session, tenant_id)
    if row is None:
        raise not_found("RACI matrix of tenant", tenant_id)
    session.add(
        RaciChange(
            tenant_id=tenant_id, version=row.version + 1, at=now, actor_user_id=principal.user_id, old=row.matrix
        )
    )
    session.delete(row)
    return Response(status_code=204)


@router.get(
    "/{tenant_id}/raci/history",
    response_model=Page[RaciChangePublic],
    summary="Every change of the matrix, newest first: who, when, before and after",
)
def raci_history(tenant_id: UUID, principal: RaciReader, session: SessionDep, page: PageDep):
    load_tenant(session, tenant_id, principal)
    query = select(RaciChange).where(RaciChange.tenant_id == tenant_id)
    query = query.order_by(col(RaciChange.version).desc())
    return paginate(session, query, page, lambda c: RaciChangePublic.model_validate(c, from_attributes=True))
