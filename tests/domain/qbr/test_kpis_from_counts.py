"""The KPIs computed from the period's counts (domain/qbr/aggregate.py) equal, value for value, what the engine
gave when the facts still carried every ticket, SLA clock and incident: kpis_expected.json was written by the
previous engine (commit 6c736fa, facts as row lists) over the same seeded rows (tests/domain/qbr/rows.py), for a
quarter and for a month of the service report."""

import json
import random
from pathlib import Path

import pytest

from domain.qbr.aggregate import facts_from_rows
from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import compute_kpis
from tests.domain.qbr.rows import CONTINGENTS, LINES, ZONE, devices, quarter_rows

EXPECTED = json.loads((Path(__file__).parent / "kpis_expected.json").read_text(encoding="utf-8"))


PERIODS = [("quarter", "2026-Q4", "2026-Q3"), ("month", "2026-11", "2026-10")]


@pytest.mark.parametrize(("name", "now", "before"), PERIODS)
def test_every_kpi_as_the_row_engine_gave_it(name, now, before):
    current = facts_from_rows(now, ZONE, security_source=True, devices_source=True,
                              devices=devices(random.Random(7), 40), contract_lines=LINES, contingents=CONTINGENTS,
                              billable_minutes=4321, **quarter_rows(1, 600))  # fmt: skip
    previous = facts_from_rows(before, ZONE, security_source=True, contract_lines=LINES, contingents=CONTINGENTS,
                               billable_minutes=1234, **quarter_rows(2, 400))  # fmt: skip
    got = json.loads(compute_kpis(current, previous, "K10001", "Muster GmbH").model_dump_json())
    expected = EXPECTED[name]
    assert {k["key"]: (k["current"], k["previous"]) for k in got["kpis"]} == {
        k["key"]: (k["current"], k["previous"]) for k in expected["kpis"]
    }
    assert got == expected  # breakdowns, top categories, months, lifecycle and budget too
    assert expected["kpis"][0]["current"] not in ("0", "k. A.")  # the data set counts something


def test_rows_outside_the_period_count_nowhere():
    rows = quarter_rows(3, 300)
    facts = facts_from_rows("2026-Q4", ZONE, security_source=True, **rows)
    outside = facts_from_rows("2027-Q2", ZONE, security_source=True, **rows)
    assert sum(m.opened for m in facts.tickets.months) > 0
    assert outside.model_dump(exclude={"quarter"}) == QbrFacts(
        quarter="2027-Q2", time_zone=ZONE, security_source=True,
        tickets={"months": [{"month": m} for m in ("2027-04", "2027-05", "2027-06")]},
    ).model_dump(exclude={"quarter"})
