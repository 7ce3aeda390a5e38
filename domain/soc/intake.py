"""Where a delivered or polled alert goes, decided the same way on every path (webhook, SOC mail, poller): to its
incident, or recorded on its alert row only.

* An alert the hub has goes to its incident (a closed one's next run records the new status and notes it on that
  incident's ticket, `workflows/soc/incident.py`); one recorded without an incident stays recorded.
* An alert the hub does not have is an old threat's update when the vendor detected it before the hub started
  watching the integration and changed it since (`is_old_threat`): recorded, not opened as a new incident with its
  ticket and its page at 3 a.m. "Started watching": the poller's first scan (its cursor's ``watch_start``), for
  pushes (webhook, mail) the integration's creation. An alert without a vendor update time (a SOC mail) is no
  update: it is triaged like any new alert, as is the late first delivery of one the vendor has not changed since.
"""

from datetime import datetime
from enum import StrEnum

from domain.soc.alerts import NormalizedAlert


class Route(StrEnum):
    HAND_OVER = "hand_over"  # to its incident workflow
    RECORD = "record"  # on its alert row, without an incident


def is_old_threat(alert: NormalizedAlert, watch_start: datetime | None) -> bool:
    """Detected before `watch_start` and changed at the vendor since: an update of a threat the hub never saw."""
    if watch_start is None or alert.detected_at >= watch_start:
        return False
    return alert.vendor_updated_at is not None and alert.vendor_updated_at >= watch_start


def route(alert: NormalizedAlert, known: bool, incident_key: str | None, watch_start: datetime | None) -> Route:
    """`known`: the hub has the alert (`incident_key`: under which incident; None: recorded without one)."""
    if known:
        return Route.HAND_OVER if incident_key else Route.RECORD
    return Route.RECORD if is_old_threat(alert, watch_start) else Route.HAND_OVER
