"""Log in with an API key or with e-mail and password; log out. The login form carries a CSRF token too."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import func
from sqlmodel import select
from starlette.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.portal import session as portal_session
from api.portal.render import PortalRoute, page
from hub.security import check_password, hash_api_key, key_refusal, user_refusal
from models import ApiKey, User

router = APIRouter(route_class=PortalRoute)
REFUSED = "Anmeldung fehlgeschlagen: Zugangsdaten falsch oder Zugang nicht mehr gültig."


def _login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    data = portal_session.read(request)
    data.pop("u", None)
    token = portal_session.csrf_token(data)
    response = page(request, "login.html", status=status, csrf=token, error=error, caller=None)
    portal_session.write(request, response, data)
    return response


@router.get("/login")
def login_form(request: Request):
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    api_key: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
):
    data = portal_session.read(request)
    portal_session.check_csrf(request, data, csrf)
    now = datetime.now(UTC)
    user, key_id, refusal = None, None, "no credentials"
    if api_key.strip():
        row = session.exec(
            select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == hash_api_key(api_key))
        ).one_or_none()
        if row is not None:
            key, user = row
            key_id, refusal = str(key.id), key_refusal(key, user, now)
    elif email.strip() and password:
        user = session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).one_or_none()
        refusal = user_refusal(user, now) if check_password(user, password) else "wrong password"
    if user is None or refusal is not None:
        return _login_page(request, 401, REFUSED)
    # A new token at login: one seen before the login is no use afterwards.
    fresh = {"u": str(user.id), "k": key_id, "p": None if key_id else portal_session.password_mark(user)}
    portal_session.csrf_token(fresh)
    response = RedirectResponse("/portal/tickets", status_code=303)
    portal_session.write(request, response, fresh)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = ""):
    portal_session.check_csrf(request, portal_session.read(request), csrf)
    response = RedirectResponse("/portal/login", status_code=303)
    portal_session.clear(response)
    return response
