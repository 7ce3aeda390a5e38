"""Ticket and SLA reports: who handled a ticket, periods, counts and attainment, checked by hand."""

import uuid
from datetime import UTC, date, datetime

import pytest

from domain.reports import Handler, Period, SlaFact, TicketFact, handler, period_start, sla_report, ticket_report
from domain.roles import Role

A, B = uuid.UUID(int=1), uuid.UUID(int=2)


@pytest.mark.parametrize(
    ("resolver", "assignee", "holds", "expected"),
    [
        (Role.CUSTOMER_IT, Role.MSP_TECH, False, Handler.CUSTOMER_IT),  # whoever resolved it
        (Role.EXTERNAL_TECH, None, False, Handler.EXTERNAL),
        (Role.MSP_ADMIN, Role.CUSTOMER_IT, True, Handler.MSP),
        (Role.CUSTOMER_USER, Role.EXTERNAL_TECH, False, Handler.EXTERNAL),  # a user closing says nothing
        (None, Role.MSP_TECH, True, Handler.CUSTOMER_IT),  # open, held by the customer's IT
        (None, Role.EXTERNAL_TECH, False, Handler.EXTERNAL),
        (None, Role.CUSTOMER_IT, False, Handler.CUSTOMER_IT),
        (None, None, False, Handler.MSP),  # nobody took it: the MSP's service desk
        (None, Role.CUSTOMER_USER, False, Handler.MSP),
    ],
)
def test_handler(resolver, assignee, holds, expected):
    assert handler(resolver, assignee, holds) == expected


def test_period_start():
    thursday = date(2026, 12, 3)
    assert period_start(thursday, Period.DAY) == thursday
    assert period_start(thursday, Period.WEEK) == date(2026, 11, 30)
    assert period_start(thursday, Period.MONTH) == date(2026, 12, 1)
    assert period_start(date(2027, 1, 1), Period.WEEK) == date(2026, 12, 28)  # ISO week across the year


def fact(day: int, month: int, who: Handler, *, tenant=A, resolved=True, handed_back=False, sla=()) -> TicketFact:
    created = datetime(2026, month, day, 9, tzinfo=UTC)
    return TicketFact(tenant, created, resolved, who, handed_back, tuple(sla))


def test_ticket_report_counts_per_tenant_period_and_handler():
    facts = [
        fact(3, 11, Handler.MSP),
        fact(20, 11, Handler.MSP, resolved=False),
        fact(5, 11, Handler.CUSTOMER_IT, handed_back=True),
        fact(1, 12, Handler.EXTERNAL, resolved=False),
        fact(4, 11, Handler.MSP, tenant=B),
    ]
    rows = [
        (r.tenant_id, r.period, r.handler, r.opened, r.resolved, r.open, r.handed_back)
        for r in ticket_report(facts, Period.MONTH)
    ]
    assert rows == [
        (A, date(2026, 11, 1), Handler.MSP, 2, 1, 1, 0),
        (A, date(2026, 11, 1), Handler.CUSTOMER_IT, 1, 1, 0, 1),
        (A, date(2026, 12, 1), Handler.EXTERNAL, 1, 0, 1, 0),
        (B, date(2026, 11, 1), Handler.MSP, 1, 1, 0, 0),
    ]
    weekly = ticket_report(facts[:3], Period.WEEK)
    assert [(r.period, r.handler, r.opened) for r in weekly] == [
        (date(2026, 11, 2), Handler.MSP, 1),
        (date(2026, 11, 2), Handler.CUSTOMER_IT, 1),
        (date(2026, 11, 16), Handler.MSP, 1),
    ]


def test_sla_report_attainment_and_customer_it_minutes():
    facts = [
        fact(3, 11, Handler.MSP, sla=[SlaFact("response", True), SlaFact("resolution", False)]),
        fact(4, 11, Handler.MSP, sla=[SlaFact("response", True), SlaFact("resolution", True)]),
        fact(5, 11, Handler.MSP, sla=[SlaFact("response", False), SlaFact("resolution", None, 600)]),
        fact(
            6,
            11,
            Handler.CUSTOMER_IT,
            sla=[SlaFact("response", None, 7230), SlaFact("update", False), SlaFact("resolution", None, 0, True)],
        ),
    ]
    rows = [
        (r.handler, r.kind, r.met, r.breached, r.running, r.attainment, r.customer_it_minutes)
        for r in sla_report(facts, Period.MONTH)
    ]
    assert rows == [
        (Handler.MSP, "response", 2, 1, 0, 0.6667, 0),
        (Handler.MSP, "resolution", 1, 1, 1, 0.5, 10),
        (Handler.CUSTOMER_IT, "response", 0, 0, 1, None, 120),  # the update clock is not reported
        (Handler.CUSTOMER_IT, "resolution", 0, 1, 0, 0.0, 0),  # running past its target: a breach already
    ]


def test_empty():
    assert ticket_report([], Period.MONTH) == [] and sla_report([], Period.DAY) == []
