"""The hub's own Temporal Schedules, ensured in one place: at worker start, `psa dev` and `psa temporal setup`
(each ensure is idempotent and keeps a pause someone set)."""

from temporalio.client import Client

from hub.temporal.billing import ensure_billing_schedule
from hub.temporal.inventory import ensure_inventory_schedule
from hub.temporal.qbr import ensure_qbr_schedule
from hub.temporal.service_report import ensure_service_report_schedule
from hub.temporal.tickets import ensure_start_sweep_schedule

# Each schedule's ensure function, and what the schedule does (as `psa temporal setup` reports it).
HUB_SCHEDULES = (
    (ensure_billing_schedule, "the billing run on the 1st of each month at 03:00 Europe/Berlin"),
    (ensure_qbr_schedule, "the QBR run on the first working day of each quarter, 06:00 Europe/Berlin"),
    (ensure_inventory_schedule, "the inventory sync of every customer, daily 05:30 Europe/Berlin"),
    (ensure_service_report_schedule, "the service reports of the month before on the 2nd, 06:00 Europe/Berlin"),
    (ensure_start_sweep_schedule, "every minute, starts workflows of tickets stored while Temporal was away"),
)


async def ensure_hub_schedules(client: Client) -> list[tuple[str, str]]:
    """Create or update every hub schedule; (schedule id, what it does) of each, in order."""
    return [(await ensure(client), what) for ensure, what in HUB_SCHEDULES]
