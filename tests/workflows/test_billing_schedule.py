"""The monthly billing schedule on the dev server (the time-skipping server has no schedules): created once, brought
back to its shape by every later call, a pause someone set is kept; it fires on the 1st at 03:00 Europe/Berlin and
bills the month before."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import ScheduleActionStartWorkflow

from domain.contracts.billing import month_before
from domain.processes import BILLING_SCHEDULE_ID
from hub.temporal.billing import billing_schedule_exists, ensure_billing_schedule


async def test_schedule_is_created_once_and_fires_on_the_first_at_three(dev_server):
    client = dev_server.client
    assert not await billing_schedule_exists(client)
    assert await ensure_billing_schedule(client) == BILLING_SCHEDULE_ID
    assert await ensure_billing_schedule(client) == BILLING_SCHEDULE_ID  # idempotent: worker start, setup, dev
    handle = client.get_schedule_handle(BILLING_SCHEDULE_ID)
    desc = await handle.describe()
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == "BillingScheduleTick"
    assert desc.schedule.spec.time_zone_name == "Europe/Berlin"
    berlin = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in desc.info.next_action_times]
    assert berlin and all((t.day, t.hour, t.minute) == (1, 3, 0) for t in berlin), berlin

    await handle.pause(note="Umstellung Buchhaltung")
    await ensure_billing_schedule(client)
    assert (await handle.describe()).schedule.state.paused  # a pause set by a person survives a worker start


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "2026-11"),  # 03:00 in Berlin on the 1st
        (datetime(2027, 1, 1, 2, 0, tzinfo=UTC), "2026-12"),  # across the year
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "2026-11"),  # already 1 December in Berlin
    ],
)
def test_the_tick_bills_the_month_before_in_berlin(now, month):
    assert month_before(now) == month
