"""Dependencies: database session, Temporal client, the calling principal, role and tenant checks."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from api.problems import MISSING_API_KEY, Problem, not_found
from domain.roles import MSP_ROLES, Role
from hub.config import Settings
from hub.security import audit, hash_api_key, key_refusal
from models import ApiKey, User


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def get_temporal(request: Request) -> Client:
    client = request.app.state.temporal
    if client is None:
        raise Problem(503, "the workflow engine (Temporal) is not reachable; try again shortly")
    return client


async def get_now(request: Request) -> datetime:
    return await request.app.state.clock()


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


# scope="function": commit before the response is sent, so a failed commit is never preceded by a 2xx.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
NowDep = Annotated[datetime, Depends(get_now)]

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key of a hub user")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token")


@dataclass(frozen=True)
class Principal:
    user_id: UUID
    role: Role
    tenant_id: UUID | None
    display_name: str

    @property
    def is_msp(self) -> bool:
        return self.role.is_msp

    def can_see_tenant(self, tenant_id: UUID) -> bool:
        return self.is_msp or self.tenant_id == tenant_id


def get_principal(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    key = api_key or (bearer.credentials if bearer else None)
    if not key:
        raise Problem(401, MISSING_API_KEY, headers={"WWW-Authenticate": "Bearer"})
    if len(key) > 200:
        raise Problem(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    row = session.exec(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == hash_api_key(key))
    ).one_or_none()
    if row is None:
        raise Problem(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    key_row, user = row
    # Wall-clock time: an expiry is a real-world date, not workflow time.
    refusal = key_refusal(key_row, user, datetime.now(UTC))
    if user.role == Role.EXTERNAL_TECH:
        _audit_access(session, request, key_row, user, refusal)
    if refusal is not None:
        raise Problem(401, refusal, headers={"WWW-Authenticate": "Bearer"})
    return Principal(user_id=user.id, role=user.role, tenant_id=user.tenant_id, display_name=user.display_name)


def _audit_access(session: Session, request: Request, key: ApiKey, user: User, refusal: str | None) -> None:
    """Every request of an external technician, also a refused one, in the audit trail. Committed at once, so a
    request that fails later (a 404 on another queue's ticket) is recorded too."""
    data = {"method": request.method, "path": request.url.path, "key_prefix": key.prefix}
    if request.url.query:
        data["query"] = request.url.query[:500]
    if refusal is not None:
        data["refusal"] = refusal
    action = "refused" if refusal is not None else "request"
    audit(session, user.id, user.tenant_id, "access", user.id, action, data)
    session.commit()


# Every authenticated caller, external technicians included: only routes that scope to their tickets take it.
AnyUser = Annotated[Principal, Depends(get_principal)]


def _not_external(principal: AnyUser) -> Principal:
    if principal.role == Role.EXTERNAL_TECH:
        raise Problem(403, "role external_tech sees only the tickets of its queues and those assigned to it")
    return principal


# Every authenticated caller but external technicians (tenant-wide data: contacts, assets, invoices, ...).
CurrentUser = Annotated[Principal, Depends(_not_external)]


def require_roles(*roles: Role):
    allowed = frozenset(roles)

    def check(principal: AnyUser) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Problem(403, f"role {principal.role.value} may not do this; allowed roles: {names}")
        return principal

    return check


# Who may call a route (a 403 names the allowed roles). Routes take one of these instead of their own alias.
MspAdmin = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN))]
MspStaff = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN, Role.MSP_TECH))]
MspReader = Annotated[Principal, Depends(require_roles(*MSP_ROLES))]
MspStaffOrCustomerIt = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN, Role.MSP_TECH, Role.CUSTOMER_IT))]
# Billing master data (seller, customer billing profiles, price list, contracts) is written by admins and finance.
BillingWriter = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN, Role.FINANCE))]


T = TypeVar("T")


def get_scoped(session: Session, model: type[T], ident: UUID, principal: Principal, entity: str) -> T:
    """Fetch a tenant-owned row; another tenant's row is reported as missing (404), never as forbidden."""
    obj = session.get(model, ident)
    if obj is None or not principal.can_see_tenant(obj.tenant_id):  # type: ignore[attr-defined]
        raise not_found(entity, ident)
    return obj


def resolve_tenant_id(principal: Principal, requested: UUID | None) -> UUID:
    """The tenant a write is for: customers write for their own tenant only; MSP staff must name one."""
    if principal.is_msp:
        if requested is None:
            raise Problem(
                422,
                "tenant_id: required for MSP users",
                errors=[{"field": "tenant_id", "message": "required for MSP users"}],
            )
        return requested
    assert principal.tenant_id is not None
    if requested is not None and requested != principal.tenant_id:
        raise not_found("tenant", requested)
    return principal.tenant_id


def _query_names(route: Any) -> frozenset[str]:
    names = getattr(route, "_psa_query_names", None)
    if names is None:
        found: set[str] = set()
        pending = [route.dependant]
        while pending:  # the route's own parameters and those of its dependencies (e.g. limit/offset)
            dependant = pending.pop()
            found.update(p.alias for p in dependant.query_params)
            pending.extend(dependant.dependencies)
        names = route._psa_query_names = frozenset(found)  # computed once per route
    return names


def reject_unknown_query(request: Request) -> None:
    """A query parameter the route does not know is an error, not silently ignored (a mistyped filter would
    otherwise return everything). Applied to every route of the app."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    unknown = sorted(set(request.query_params) - _query_names(route))
    if unknown:
        known = ", ".join(sorted(_query_names(route))) or "none"
        raise Problem(
            422,
            f"unknown query parameter(s): {', '.join(unknown)}; this route takes: {known}",
            errors=[{"field": name, "message": "unknown query parameter"} for name in unknown],
        )
