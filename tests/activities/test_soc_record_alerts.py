"""soc.record_alerts: the alerts of one wake-up in one transaction, with an answer for each; a retry (the local
activity run again) counts and changes nothing twice."""

from sqlmodel import Session, select

from activities.soc.incidents import SocActivities
from domain.contracts.soc import RecordAlert, RecordAlerts
from domain.soc.alerts import AlertStatus
from hub.config import Settings
from models import SocAlert
from tests.activities.test_soc_activities import _env, _item, _row, integration  # noqa: F401


def test_batch_records_each_alert_once_and_a_retry_changes_nothing(engine, integration):  # noqa: F811
    tenant, row = integration
    acts, env = SocActivities(engine, Settings()), _env("run-batch")
    first, second = (_item(tenant, row, mitigationStatus="not_mitigated") for _ in range(2))
    batch = RecordAlerts(
        alerts=[
            RecordAlert(incident_key="k-batch", item=first),
            RecordAlert(incident_key="k-batch", item=second, with_policy=False),
        ]
    )
    for _ in range(2):  # the second run is a retry of the same local activity
        results = env.run(acts.record_alerts, batch).results
        assert [r.is_new for r in results] == [True, True]
        assert results[0].policy.quiet_window_hours == 3 and results[1].policy is None
    assert _row(engine, first).deliveries == 1 and _row(engine, second).deliveries == 1

    # A later wake-up: the first alert resolved at the vendor, a repeat of the second: stored and counted once.
    resolved = first.model_copy(update={"alert": first.alert.model_copy(update={"status": AlertStatus.RESOLVED})})
    later = RecordAlerts(
        alerts=[
            RecordAlert(incident_key="k-batch", item=resolved, known_status=AlertStatus.NEW, with_policy=False),
            RecordAlert(incident_key="k-batch", item=second, with_policy=False),
        ]
    )
    for _ in range(2):
        results = env.run(acts.record_alerts, later).results
        assert results[0].applied and results[1].is_new
    assert _row(engine, first).vendor_status == "resolved" and _row(engine, first).deliveries == 2
    assert _row(engine, second).deliveries == 1

    # Another incident run meets the same alert: a repeat, not new.
    again = _env("run-other").run(acts.record_alerts, RecordAlerts(alerts=[RecordAlert(incident_key="k", item=second)]))
    assert not again.results[0].is_new and _row(engine, second).deliveries == 2
    with Session(engine) as s:
        assert len(s.exec(select(SocAlert).where(SocAlert.tenant_id == tenant.id)).all()) == 2
