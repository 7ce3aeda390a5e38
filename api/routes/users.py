"""Hub users and their roles and memberships (the tenant a customer role belongs to): MSP admins only.
The rules are `hub.security`'s, shared with `psa users`."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlmodel import col, select

from api.crud import get_or_404, patch_changes
from api.deps import MspAdmin, SessionDep
from api.pagination import Page, PageDep, paginate
from api.schemas.common import field_error
from api.schemas.users import PasswordSet, UserCreate, UserPublic, UserUpdate
from domain.roles import Role
from hub.security import AccountError, change_user, create_user, set_password
from models import User

router = APIRouter(prefix="/users", tags=["users and keys"])


@contextmanager
def account_problems() -> Iterator[None]:
    """A refused user or key change becomes a 4xx naming the field."""
    try:
        yield
    except AccountError as err:
        raise field_error(err.field, err.message, err.status) from None


def user_public(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("", response_model=UserPublic, status_code=201, summary="Create a user with a role (and tenant)")
def create(body: UserCreate, principal: MspAdmin, session: SessionDep, response: Response):
    with account_problems():
        user = create_user(
            session,
            email=body.email,
            display_name=body.display_name,
            role=body.role,
            tenant_id=body.tenant_id,
            actor_user_id=principal.user_id,
            access_expires_at=body.access_expires_at,
            now=datetime.now(UTC),  # wall-clock time, as the key check at every request
        )
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return user_public(user)


@router.get("", response_model=Page[UserPublic], summary="List users")
def list_users(
    principal: MspAdmin,
    session: SessionDep,
    page: PageDep,
    tenant_id: UUID | None = None,
    role: Annotated[list[Role] | None, Query()] = None,
    is_active: bool | None = None,
):
    query = select(User).order_by(col(User.email))
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    if role:
        query = query.where(col(User.role).in_(role))
    if is_active is not None:
        query = query.where(User.is_active == is_active)
    return paginate(session, query, page, user_public)


@router.get("/{user_id}", response_model=UserPublic, summary="One user")
def get_user(user_id: UUID, principal: MspAdmin, session: SessionDep):
    return user_public(get_or_404(session, User, user_id, "user"))


@router.patch("/{user_id}", response_model=UserPublic, summary="Change name, role, membership or active flag")
def update_user(user_id: UUID, body: UserUpdate, principal: MspAdmin, session: SessionDep):
    user = get_or_404(session, User, user_id, "user")
    with account_problems():
        change_user(session, user, patch_changes(body), principal.user_id)
    return user_public(user)


@router.put("/{user_id}/password", status_code=204, summary="Set the user's password for the web portal")
def put_password(user_id: UUID, body: PasswordSet, principal: MspAdmin, session: SessionDep):
    user = get_or_404(session, User, user_id, "user")
    with account_problems():
        set_password(session, user, body.password, principal.user_id)
    return Response(status_code=204)
