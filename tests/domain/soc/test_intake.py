"""One decision for every path (webhook, SOC mail, poller): an alert goes to its incident, or is recorded only."""

from datetime import UTC, datetime, timedelta

from domain.soc.barracuda_mail import normalize_barracuda_mail, read_mail
from domain.soc.intake import Route, is_old_threat, route
from domain.soc.sentinelone import normalize_sentinelone
from tests.domain.soc.conftest import FIXTURES

START = datetime(2026, 11, 1, tzinfo=UTC)  # the hub watches the integration since then


def s1(detected: datetime, updated: datetime, s1_webhook: dict):  # noqa: ANN201
    at = detected.isoformat()
    s1_webhook["threatInfo"].update(createdAt=at, identifiedAt=at, updatedAt=updated.isoformat())
    return normalize_sentinelone(s1_webhook, "int-1")


def test_an_old_threat_is_one_detected_before_the_watch_and_changed_at_the_vendor_since(s1_webhook):
    june, dec = datetime(2026, 6, 15, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    assert is_old_threat(s1(june, dec, s1_webhook), START)
    assert is_old_threat(s1(START - timedelta(seconds=1), START, s1_webhook), START)
    assert not is_old_threat(s1(START, dec, s1_webhook), START)  # detected while watched: new
    # A late first delivery of a threat the vendor has not changed since before the watch: triaged as new.
    assert not is_old_threat(s1(june, START - timedelta(days=1), s1_webhook), START)
    assert not is_old_threat(s1(june, dec, s1_webhook), None)  # unknown start: nothing is old


def test_route_known_alerts_go_to_their_incident_or_stay_recorded_unknown_old_ones_are_recorded(s1_webhook):
    old = s1(datetime(2026, 6, 15, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC), s1_webhook)
    assert route(old, False, None, START) == Route.RECORD
    assert route(old, True, None, START) == Route.RECORD  # recorded without an incident before
    assert route(old, True, "K1-host-x", START) == Route.HAND_OVER  # its incident (a closed one notes it)
    new = old.model_copy(update={"detected_at": datetime(2026, 12, 2, tzinfo=UTC)})
    assert route(new, False, None, START) == Route.HAND_OVER


def test_a_soc_mail_carries_no_update_time_so_it_is_never_an_old_threats_update():
    mail = read_mail((FIXTURES / "mail/plain_linux_brute_force.eml").read_bytes())
    alert = normalize_barracuda_mail(mail, "int-2", datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert alert.vendor_updated_at is None
    assert route(alert, False, None, datetime(2026, 12, 3, tzinfo=UTC)) == Route.HAND_OVER
