"""Values at the edge of what Python and the databases can hold are refused with a 422 that names the field and the
accepted range, and never wedge a ticket: its next change still goes through."""

import uuid

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from domain.roles import Role
from models import TicketEvent, TimeEntry
from tests.conftest import auth
from tests.factories import make_tenant, make_user


@pytest.fixture
def it_key(engine) -> str:
    return make_user(engine, Role.CUSTOMER_IT, make_tenant(engine))[1]


def _counts(engine, tid: str) -> tuple[int, int]:
    ticket_id = uuid.UUID(tid)
    with Session(engine) as s:
        events = s.exec(select(func.count()).where(TicketEvent.ticket_id == ticket_id)).one()
        entries = s.exec(select(func.count()).where(TimeEntry.ticket_id == ticket_id)).one()
    return events, entries


@pytest.mark.parametrize(
    ("started_at", "text"),
    [
        ("0001-01-01T00:00:00+14:00", "2000-01-01"),
        ("1999-12-31T23:59:59Z", "2000-01-01"),
    ],
)
async def test_time_entry_outside_the_window_is_422_and_the_ticket_stays_changeable(
    api, engine, it_key, started_at, text
):
    h = auth(it_key)
    created = await api.post("/api/v1/tickets", json={"title": "Laptop langsam"}, headers=h)
    tid = created.json()["id"]
    before = _counts(engine, tid)
    resp = await api.post(
        f"/api/v1/tickets/{tid}/time-entries", json={"started_at": started_at, "minutes": 5}, headers=h
    )
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert detail.startswith("started_at:") and text in detail, detail
    assert _counts(engine, tid) == before
    changed = await api.put(f"/api/v1/tickets/{tid}/priority", json={"priority": "P1"}, headers=h)
    assert changed.status_code == 200 and changed.json()["priority"] == "P1", changed.text


@pytest.mark.parametrize(
    ("param", "value", "edge"),
    [
        ("created_from", "0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00Z"),
        ("created_to", "9999-12-31T23:59:59-14:00", "9999-12-30T23:59:59Z"),
        ("created_from", "9999-12-31T23:59:59-14:00", "9999-12-30T23:59:59+00:00"),
        ("created_to", "0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00-01:00"),
    ],
)
async def test_date_filter_beyond_the_range_is_422_naming_it_and_the_range(api, it_key, param, value, edge):
    h = auth(it_key)
    resp = await api.get("/api/v1/tickets", params={param: value}, headers=h)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert detail.startswith(f"{param}:") and "0001-01-02" in detail and "9999-12-30" in detail, detail
    assert resp.json()["errors"] == [{"field": param, "message": detail.removeprefix(f"{param}: ")}]
    inside = await api.get("/api/v1/tickets", params={param: edge}, headers=h)  # the range's edge itself
    assert inside.status_code == 200, inside.text
