"""The portal's session cookie without a browser: HttpOnly, SameSite=Lax and Secure over TLS; a tampered cookie is
no session; a revoked key or a changed password ends the session at the next request."""

import re
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, select

from api.app import create_app
from api.portal import page_routes
from domain.roles import Role
from hub.config import Settings
from hub.security import revoke_key, set_password
from models import ApiKey, User
from tests.factories import make_tenant, make_user


@pytest.fixture
async def portal(engine):
    app = create_app(Settings(portal_secret="session-test"), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.test") as http:
        yield http


async def login(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    page = await http.get("/portal/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return await http.post("/portal/login", data={"csrf": csrf} | form)


async def test_cookie_flags_and_tampering(portal, engine):
    resp = await portal.get("/portal/login")
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie and "path=/portal" in cookie
    _, key = make_user(engine, Role.CUSTOMER_USER, make_tenant(engine))
    assert (await login(portal, api_key=key)).headers["location"] == "/portal/tickets"
    assert (await portal.get("/portal/tickets")).status_code == 200

    value = portal.cookies.get("psa_portal")
    portal.cookies.set("psa_portal", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/portal")
    resp = await portal.get("/portal/tickets")
    assert resp.status_code == 303 and resp.headers["location"] == "/portal/login"


async def test_revoked_key_and_changed_password_end_the_session(portal, engine):
    user, key = make_user(engine, Role.CUSTOMER_IT, make_tenant(engine))
    await login(portal, api_key=key)
    assert (await portal.get("/portal/tickets")).status_code == 200
    with Session(engine) as s:
        revoke_key(s, s.exec(select(ApiKey).where(ApiKey.user_id == user.id)).one(), datetime.now(UTC), None)
        s.commit()
    assert (await portal.get("/portal/tickets")).status_code == 303

    with Session(engine) as s:
        set_password(s, s.get(User, user.id), "erstes-Passwort-1", None)
        s.commit()
    assert (await login(portal, email=user.email, password="erstes-Passwort-1")).status_code == 303
    assert (await portal.get("/portal/tickets")).status_code == 200
    with Session(engine) as s:
        set_password(s, s.get(User, user.id), "zweites-Passwort-2", None)
        s.commit()
    assert (await portal.get("/portal/tickets")).status_code == 303


def test_every_portal_page_is_listed():
    routes = page_routes()
    assert ("GET", "/portal/tickets/{ticket_id}") in routes and ("POST", "/portal/tickets/new") in routes
    assert ("POST", "/portal/login") in routes and ("GET", "/portal/kb/{article_id}") in routes
