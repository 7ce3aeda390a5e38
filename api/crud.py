"""Shapes the CRUD routes share: a row or 404 (422 for an id a body names), a 409 for a duplicate or for a row
still in use, and a PATCH applied with its audit event. One copy, so every resource answers these cases with the
same status and wording.
"""

from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select

from api.deps import Principal
from api.problems import Problem, not_found
from api.schemas.common import apply_changes, audit_event, field_error

T = TypeVar("T")


def get_or_404(session: Session, model: type[T], ident: UUID, entity: str) -> T:
    """An MSP-wide row by id (tenant-owned rows go through api.deps.get_scoped)."""
    row = session.get(model, ident)
    if row is None:
        raise not_found(entity, ident)
    return row


def get_or_422(session: Session, model: type[T], ident: UUID, field: str, entity: str) -> T:
    """A row a request body names by id: an unknown id is a bad field (422), not a missing resource."""
    row = session.get(model, ident)
    if row is None:
        raise field_error(field, f"no {entity} {ident}")
    return row


def ensure_unique(
    session: Session, model: Any, field: str, message: str, *where: Any, own_id: UUID | None = None
) -> None:
    """409 on ``field`` when a row of ``model`` other than ``own_id`` (the one being changed) matches ``where``."""
    query = select(model.id).where(*where)
    if own_id is not None:
        query = query.where(model.id != own_id)
    if session.exec(query).first() is not None:
        raise field_error(field, message, 409)


def ensure_unique_name(session: Session, model: Any, name: str, what: str, own_id: UUID | None = None) -> None:
    """409 when another row of ``model`` (``what``, e.g. "a calendar") already has this name."""
    ensure_unique(session, model, "name", f"{what} named {name!r} already exists", model.name == name, own_id=own_id)


def count_refs(session: Session, model: Any, column: Any, ident: UUID) -> int:
    """How many rows of ``model`` point at ``ident`` through ``column``."""
    return session.exec(select(func.count()).select_from(model).where(column == ident)).one()


def ensure_unused(entity: str, ident: UUID, **users: int) -> None:
    """409 before a delete while other rows still point at it (``users``: kind -> count)."""
    used = [f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in users.items() if n]
    if used:
        raise Problem(409, f"{entity} {ident} is still used by {' and '.join(used)}; point them elsewhere first")


def patch_changes(body: BaseModel, *documents: str) -> dict[str, Any]:
    """The fields a PATCH body sets, in declaration order; ``documents`` (nested models) are replaced whole, in
    JSON form with their defaults."""
    changes = {name: getattr(body, name) for name in type(body).model_fields if name in body.model_fields_set}
    for name in set(documents) & changes.keys():
        changes[name] = changes[name].model_dump(mode="json")
    return changes


def apply_patch(
    session: Session, principal: Principal, tenant_id: UUID | None, entity: str, row: Any, changes: dict[str, Any]
) -> None:
    """Set the fields that differ and, if any did, leave an "updated" audit event listing them."""
    changed = apply_changes(row, changes)
    if changed:
        session.add(audit_event(principal, tenant_id, entity, row.id, "updated", changed))
        session.flush()
