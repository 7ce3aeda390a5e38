"""Pure parts of the SOC poller: reading one polled item, its version for the overlap's dedupe."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.soc.alerts import AlertFormatError, AlertOutOfWindow, Source
from domain.soc.polling import item_version, read_poll_item, seen_digest
from tests.domain.soc.conftest import load

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
S1_TIME = ("threatInfo.updatedAt", "updatedAt", "threatInfo.createdAt")


def test_a_polled_item_is_read_as_the_webhook_reads_it_and_must_lie_in_the_window(s1_webhook):
    alert = read_poll_item(Source.SENTINELONE, s1_webhook, "int-1", NOW, console_url="https://x.sentinelone.net/")
    assert alert.vendor_alert_id == s1_webhook["id"] and alert.vendor_url.startswith("https://x.sentinelone.net/inc")
    s1_webhook["threatInfo"]["updatedAt"] = (NOW + timedelta(days=2)).isoformat()
    with pytest.raises(AlertOutOfWindow, match="vendor_updated_at"):
        read_poll_item(Source.SENTINELONE, s1_webhook, "int-1", NOW)
    [incident, _] = load("rocketcyber_incidents_page.json")["data"]
    assert read_poll_item(Source.ROCKETCYBER, incident, "int-2", NOW).vendor_alert_id == str(incident["id"])
    with pytest.raises(AlertFormatError, match="createdAt"):
        read_poll_item(Source.ROCKETCYBER, {"id": 1, "title": "x"}, "int-2", NOW)
    with pytest.raises(ValueError, match="not polled"):
        read_poll_item(Source.GENERIC, {}, "int-3", NOW)


def test_an_items_version_is_its_id_and_the_time_the_scan_sorts_by(s1_webhook):
    version = item_version(s1_webhook, S1_TIME)
    assert version == (s1_webhook["id"], datetime(2026, 11, 20, 8, 16, 3, 654321, tzinfo=UTC))
    assert seen_digest(*version) == seen_digest(*version) and len(seen_digest(*version)) == 10
    updated = dict(s1_webhook, threatInfo=dict(s1_webhook["threatInfo"], updatedAt="2026-11-21T08:00:00Z"))
    assert seen_digest(*item_version(updated, S1_TIME)) != seen_digest(*version)  # a new version is not a repeat
    naive = dict(s1_webhook, threatInfo=dict(s1_webhook["threatInfo"], updatedAt="2026-11-21T08:00:00"))
    assert item_version(naive, S1_TIME) is None  # unreadable: never skipped as a repeat
    assert item_version({"threatInfo": {"updatedAt": "2026-11-21T08:00:00Z"}}, S1_TIME) is None
