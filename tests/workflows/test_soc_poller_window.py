"""The SOC poller quarantines a vendor item with a time the hub cannot store or compute with, as it quarantines an
unreadable one: the other alerts of the page reach their incidents and the cursor is not moved by that time."""

import asyncio
import copy
from datetime import UTC, datetime

from domain.soc.polling import OVERLAP
from tests.workflows import test_soc_poller as base
from tests.workflows.test_soc_poller import S1_BASE, S1_PAGES, alerts_of, cursor_of, eventually, s1_pages

poller = base.poller  # the fixture: a worker with the poller on a private task queue, vendor HTTP through respx


def threat(threat_id: str, **times: str) -> dict:
    item = copy.deepcopy(S1_PAGES[1]["data"][0])
    item["id"] = item["threatInfo"]["threatId"] = threat_id
    item["agentRealtimeInfo"]["agentComputerName"] = f"HOST-{threat_id}"
    item["threatInfo"].update(times)
    return item


async def test_items_outside_the_time_window_are_skipped_and_leave_the_cursor_alone(poller, engine):
    row = poller.integration("sentinelone")
    far_ahead = threat("1798765432109999901", updatedAt="9999-12-31T23:59:59Z")
    before_utc = threat("1798765432109999902", identifiedAt="0001-01-01T00:00:00+14:00")
    poller.router.get(S1_BASE + "/web/api/v2.1/threats").mock(side_effect=s1_pages(far_ahead, before_utc))

    result = await asyncio.wait_for(poller.run(row), timeout=60)

    assert (result.fetched, result.handed_over, result.skipped, result.quarantined) == (7, 5, 2, 2)
    newest = datetime(2026, 11, 20, 10, 6, 10, tzinfo=UTC)  # page 3's threatInfo.updatedAt, not the year 9999
    cursor = cursor_of(engine, row)
    assert (cursor.since, cursor.high_water) == (newest - OVERLAP, newest)
    stored = await eventually(lambda: len(a := alerts_of(engine, row)) == 5 and a)
    assert not {a.vendor_alert_id for a in stored} & {far_ahead["id"], before_utc["id"]}
