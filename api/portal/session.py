"""The portal's login session: a signed cookie (itsdangerous) holding the user, how it logged in and the CSRF token.

Every request checks the user again as the API checks a key (deactivated, access expired, key revoked, password
changed: the session ends at once), and the caller becomes the same `Principal` the API routes take."""

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from api.deps import Principal, SessionDep
from domain.roles import Role
from hub.security import audit, key_refusal, user_refusal
from models import ApiKey, User

COOKIE = "psa_portal"
PATH = "/portal"
MAX_AGE_SECONDS = 12 * 3600  # a working day; then log in again


class LoginRequired(Exception):
    """No valid session: the portal answers with the login page."""


class CsrfRefused(Exception):
    """A form post without this session's CSRF token (forged on another site, or a stale page)."""


def _serializer(request: Request) -> URLSafeTimedSerializer:
    state = request.app.state
    secret = getattr(state, "portal_secret", None)
    if secret is None:
        secret = state.portal_secret = state.settings.portal_secret or secrets.token_urlsafe(32)
    return URLSafeTimedSerializer(secret, salt="psa-portal-session")


def read(request: Request) -> dict[str, Any]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer(request).loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # also an expired one (SignatureExpired)
        return {}
    return data if isinstance(data, dict) else {}


def write(request: Request, response: Response, data: dict[str, Any]) -> None:
    # Secure when the browser reached us over TLS (directly or, with --proxy-headers, through the reverse proxy).
    secure = request.url.scheme == "https" or request.app.state.settings.public_base_url.startswith("https://")
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps(data),
        max_age=MAX_AGE_SECONDS,
        path=PATH,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH)


def csrf_token(data: dict[str, Any]) -> str:
    """The session's token, made when first needed (the login form has one before anyone logged in)."""
    if "c" not in data:
        data["c"] = secrets.token_urlsafe(24)
    return data["c"]


def check_csrf(request: Request, data: dict[str, Any], sent: str | None) -> None:
    expected = data.get("c")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused


def password_mark(user: User) -> str:
    """A piece of the password hash: a session by password ends when the password is changed."""
    return (user.password_hash or "")[-12:]


@dataclass(frozen=True)
class PortalCaller:
    principal: Principal
    user: User
    session_data: dict[str, Any]

    @property
    def csrf(self) -> str:
        return self.session_data["c"]


def _caller(request: Request, session: SessionDep) -> PortalCaller:
    data = read(request)
    user_id = data.get("u")
    if not user_id or "c" not in data:
        raise LoginRequired
    user = session.get(User, UUID(user_id))
    if user is None:
        raise LoginRequired
    now = datetime.now(UTC)  # wall-clock time: an expiry is a real-world date, as in api.deps
    if data.get("k"):
        key = session.get(ApiKey, UUID(data["k"]))
        refusal = key_refusal(key, user, now) if key is not None and key.user_id == user.id else "key unknown"
    else:
        refusal = user_refusal(user, now)
        if refusal is None and (user.password_hash is None or data.get("p") != password_mark(user)):
            refusal = "password changed"
    if user.role == Role.EXTERNAL_TECH:  # every access of an external technician in the audit trail, as in the API
        entry = {"method": request.method, "path": request.url.path, "via": "portal"}
        if refusal is not None:
            entry["refusal"] = refusal
        audit(session, user.id, user.tenant_id, "access", user.id, "refused" if refusal else "request", entry)
        session.commit()
    if refusal is not None:
        raise LoginRequired
    principal = Principal(user_id=user.id, role=user.role, tenant_id=user.tenant_id, display_name=user.display_name)
    return PortalCaller(principal=principal, user=user, session_data=data)


Caller = Annotated[PortalCaller, Depends(_caller)]
