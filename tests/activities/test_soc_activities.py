"""SOC activities are retried by Temporal: a status update or a page run twice must not count or send twice."""

import copy
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.soc.incidents import SocActivities
from domain.contracts.soc import IncidentAlert, PageRequest, RecordAlert, RecordAlerts, RecordedAlert
from domain.soc.alerts import AlertStatus
from domain.soc.sentinelone import normalize_sentinelone
from domain.tickets import Priority
from hub.config import Settings
from models import SocAlert
from tests.factories import make_soc_integration, make_tenant

THREAT = json.loads((Path(__file__).parent.parent / "fixtures/soc/sentinelone_threat_webhook.json").read_text())


@pytest.fixture
def integration(engine):
    tenant = make_tenant(engine)
    row = make_soc_integration(engine, tenant, triage_settings={"quiet_window_hours": 3})
    return tenant, row


def _env(run_id: str) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = replace(env.info, workflow_run_id=run_id, workflow_id="incident-test")
    return env


def _item(tenant, row, **info) -> IncidentAlert:  # noqa: ANN001
    threat = copy.deepcopy(THREAT)
    threat["id"] = threat["threatInfo"]["threatId"] = f"{uuid.uuid4().int % 10**18}"
    threat["threatInfo"].update(info)
    alert = normalize_sentinelone(threat, str(row.id))
    return IncidentAlert(alert=alert, tenant_id=tenant.id, customer_number=tenant.customer_number)


def _row(engine, item: IncidentAlert) -> SocAlert:
    with Session(engine) as s:
        return s.exec(select(SocAlert).where(SocAlert.dedupe_key == item.alert.dedupe_key)).one()


def record(env, acts: SocActivities, req: RecordAlert) -> RecordedAlert:  # noqa: ANN001
    """One alert through the incident's batch activity."""
    return env.run(acts.record_alerts, RecordAlerts(alerts=[req])).results[0]


def test_status_update_is_stored_once_however_often_it_runs(engine, integration):
    tenant, row = integration
    acts, env = SocActivities(engine, Settings()), _env("run-1")
    first = _item(tenant, row, mitigationStatus="not_mitigated")
    recorded = record(env, acts, RecordAlert(incident_key="k", item=first))
    assert recorded.is_new and recorded.policy.quiet_window_hours == 3  # the integration's override
    assert _row(engine, first).vendor_status == "new"

    threat = copy.deepcopy(first.alert.raw)
    threat["threatInfo"].update(incidentStatus="resolved", updatedAt="2026-11-20T10:00:00Z")
    update = first.model_copy(update={"alert": normalize_sentinelone(threat, str(row.id))})
    req = RecordAlert(incident_key="k", item=update, known_status=AlertStatus.NEW, with_policy=False)
    for _ in range(2):  # the second run is Temporal's retry after a lost result
        result = record(env, acts, req)
        assert result.applied and result.policy is None
    stored = _row(engine, first)
    assert stored.vendor_status == "resolved" and stored.deliveries == 2
    assert stored.normalized["status"] == "resolved"

    # An older delivery (a late poll) is reported as not applied and changes nothing.
    old = copy.deepcopy(first.alert.raw)
    old["threatInfo"]["updatedAt"] = "2026-11-20T09:00:00Z"
    stale = first.model_copy(update={"alert": normalize_sentinelone(old, str(row.id))})
    req = RecordAlert(incident_key="k", item=stale, known_status=AlertStatus.RESOLVED)
    assert record(env, acts, req).applied is False
    assert _row(engine, first).vendor_status == "resolved"


def test_alert_of_another_tenant_never_takes_the_integrations_policy(engine, integration):
    _, row = integration
    other = make_tenant(engine)
    item = _item(other, row)  # an integration id that is not the tenant's: the hub defaults apply
    result = record(_env("run-2"), SocActivities(engine, Settings()), RecordAlert(incident_key="k", item=item))
    assert result.policy.quiet_window_hours == 24


def _page(url: str) -> PageRequest:
    return PageRequest(
        key="incident-k:run:page:1",
        url=url,
        level=1,
        levels=1,
        incident_key="k",
        tenant_id=uuid.uuid4(),
        customer_number="K1",
        ticket_id=uuid.uuid4(),
        title="Trojan",
        priority=Priority.P1,
        ack_due_at=datetime(2026, 11, 20, 9, 15, tzinfo=UTC),
    )


def test_page_sends_the_same_page_with_its_idempotency_key(engine):
    acts = SocActivities(engine, Settings(notify_timeout=2))
    with respx.mock() as mock:
        route = mock.post("https://pager.example.net/p").mock(return_value=httpx.Response(202))
        req = _page("https://pager.example.net/p")
        assert _env("r").run(acts.page, req) == "https://pager.example.net"  # only the origin: paths hold secrets
        _env("r").run(acts.page, req)  # Temporal's retry after a lost result
    first, second = route.calls
    assert first.request.headers["Idempotency-Key"] == second.request.headers["Idempotency-Key"]
    assert first.request.content == second.request.content


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (429, False), (503, False)])
def test_page_failures_are_typed_for_the_retry_policy(engine, status, permanent):
    acts = SocActivities(engine, Settings(notify_timeout=2))
    with respx.mock() as mock:
        mock.post("https://pager.example.net/p").mock(return_value=httpx.Response(status))
        with pytest.raises(ApplicationError) as err:
            _env("r").run(acts.page, _page("https://pager.example.net/p"))
    assert err.value.type == "PageFailed" and err.value.non_retryable is permanent
