"""Shared helpers for the REST API tests: a two-tenant world with a key per role, problem and row-count checks."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from domain.roles import Role
from hub.db import session_scope
from models import Asset, AuditEvent, Contact, Site, Tenant
from tests.conftest import auth
from tests.factories import make_tenant, make_user, unique

WRITE_TABLES = (Tenant, Site, Contact, Asset, AuditEvent)


@dataclass
class World:
    a: Tenant
    b: Tenant
    keys: dict[str, str]  # msp_admin, msp_tech, finance, a_it, a_user, b_it, b_user
    users: dict[str, object]

    def h(self, who: str) -> dict[str, str]:
        return auth(self.keys[who])


def make_world(engine: Engine) -> World:
    a, b = make_tenant(engine), make_tenant(engine)
    people = {"msp_admin": (Role.MSP_ADMIN, None), "msp_tech": (Role.MSP_TECH, None), "finance": (Role.FINANCE, None),
              "a_it": (Role.CUSTOMER_IT, a), "a_user": (Role.CUSTOMER_USER, a),
              "b_it": (Role.CUSTOMER_IT, b), "b_user": (Role.CUSTOMER_USER, b)}
    made = {name: make_user(engine, role, tenant) for name, (role, tenant) in people.items()}
    return World(a=a, b=b, keys={n: k for n, (_, k) in made.items()}, users={n: u for n, (u, _) in made.items()})


def make_site(engine: Engine, tenant: Tenant) -> Site:
    with session_scope(engine) as s:
        site = Site(tenant_id=tenant.id, name=unique("Werk"), country=tenant.country)
        s.add(site)
    return site


def assert_problem(resp: httpx.Response, status: int, *fragments: str) -> dict:
    """An RFC 9457 problem with the given status whose detail mentions every fragment."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status
    for fragment in fragments:
        assert fragment.lower() in body["detail"].lower(), body
    return body


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__tablename__: s.exec(select(func.count()).select_from(m)).one() for m in WRITE_TABLES}


@contextmanager
def nothing_written(engine: Engine) -> Iterator[None]:
    before = counts(engine)
    yield
    assert counts(engine) == before


def audit_events(engine: Engine, entity_id: object) -> list[AuditEvent]:
    with Session(engine) as s:
        query = select(AuditEvent).where(AuditEvent.entity_id == str(entity_id)).order_by(AuditEvent.at)
        return list(s.exec(query))


def row(engine: Engine, model: type, ident: object):
    with Session(engine) as s:
        return s.get(model, ident)


async def assert_auth_required(api: httpx.AsyncClient, method: str, path: str) -> None:
    """No key and an unknown key are both 401 problems, before any body validation."""
    for headers, fragment in (({}, "missing API key"), (auth("psa_not-a-real-key"), "invalid")):
        assert_problem(await api.request(method, path, headers=headers, json={}), 401, fragment)
