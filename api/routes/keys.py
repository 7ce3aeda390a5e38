"""API keys of hub users: issued (the key shown once), listed, revoked. MSP admins only; a revoked or expired
key is refused from the next request on (`api.deps.get_principal`). Expiry is wall-clock time, as there."""

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Response
from sqlmodel import col, select

from api.crud import get_or_404, get_or_422
from api.deps import MspAdmin, SessionDep
from api.pagination import Page, PageDep, paginate
from api.routes.users import account_problems
from api.schemas.users import KeyCreate, KeyIssued, KeyPublic
from hub.security import issue_key, revoke_key
from models import ApiKey, User

router = APIRouter(prefix="/keys", tags=["users and keys"])


def key_public(key: ApiKey) -> KeyPublic:
    return KeyPublic.model_validate(key, from_attributes=True)


@router.post("", response_model=KeyIssued, status_code=201, summary="Issue a key; the answer holds it, once")
def create_key(body: KeyCreate, principal: MspAdmin, session: SessionDep, response: Response):
    user = get_or_422(session, User, body.user_id, "user_id", "user")
    with account_problems():
        row, key = issue_key(session, user, body.name, body.expires_at, datetime.now(UTC), principal.user_id)
    response.headers["Location"] = f"/api/v1/keys/{row.id}"
    response.headers["Cache-Control"] = "no-store"
    return KeyIssued(**key_public(row).model_dump(), key=key)


@router.get("", response_model=Page[KeyPublic], summary="List keys (never the keys themselves)")
def list_keys(
    principal: MspAdmin, session: SessionDep, page: PageDep, user_id: UUID | None = None, revoked: bool | None = None
):
    query = select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id))
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    if revoked is not None:
        query = query.where(col(ApiKey.revoked_at).is_not(None) if revoked else col(ApiKey.revoked_at).is_(None))
    return paginate(session, query, page, key_public)


@router.get("/{key_id}", response_model=KeyPublic, summary="One key")
def get_key(key_id: UUID, principal: MspAdmin, session: SessionDep):
    return key_public(get_or_404(session, ApiKey, key_id, "API key"))


@router.post("/{key_id}/revoke", response_model=KeyPublic, summary="Revoke a key at once (again: no change)")
def revoke(key_id: UUID, principal: MspAdmin, session: SessionDep):
    key = get_or_404(session, ApiKey, key_id, "API key")
    revoke_key(session, key, datetime.now(UTC), principal.user_id)
    return key_public(key)
