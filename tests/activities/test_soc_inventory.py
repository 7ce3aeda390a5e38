"""soc.record_alerts finds the alert's device in the tenant's inventory by what identifies it best: the EDR agent
(UUID, then the vendor's agent id), the serial, the host name as devices report it (case and blanks tolerated),
then the IP; never an asset of another customer."""

import json
from pathlib import Path

import pytest

from activities.soc.incidents import SocActivities
from domain.contracts.soc import IncidentAlert, RecordAlert
from domain.soc.generic import normalize_generic
from domain.soc.sentinelone import normalize_sentinelone
from hub.config import Settings
from models import AssetType
from tests.activities.test_soc_activities import _env, record
from tests.factories import make_asset, make_soc_integration, make_tenant, unique

MACOS = json.loads(
    (Path(__file__).parent.parent / "fixtures/soc/polling/sentinelone_threats_macos_agent.json").read_text()
)["data"]
MAC_UUID = "e3a1c5d7-9b2f-4c6e-8a0b-1d3f5a7c9e21"


@pytest.fixture
def customer(engine):
    tenant = make_tenant(engine)
    return tenant, make_soc_integration(engine, tenant)


def found(engine, customer, alert_payload: dict, *, source: str = "sentinelone") -> str | None:  # noqa: ANN001
    tenant, integration = customer
    normalize = normalize_sentinelone if source == "sentinelone" else normalize_generic
    alert = normalize(alert_payload, str(integration.id))
    item = IncidentAlert(alert=alert, tenant_id=tenant.id, customer_number=tenant.customer_number)
    result = record(_env(unique("run")), SocActivities(engine, Settings()), RecordAlert(incident_key="k", item=item))
    return result.asset_hostname


def test_the_agent_uuid_wins_over_a_host_name_that_names_another_asset(engine, customer):
    tenant, _ = customer
    make_asset(engine, tenant, hostname="arvchristos-macbook-pro")  # a stale record under the name
    make_asset(engine, tenant, hostname="mac-0042", agent_uuid=MAC_UUID, asset_type=AssetType.LAPTOP)
    assert found(engine, customer, MACOS[0]) == "mac-0042"
    assert found(engine, customer, MACOS[1]) == "mac-0042"  # no computer name in the alert: the agent still is


def test_a_macos_name_with_blanks_matches_as_reported_or_as_its_dns_name(engine, customer):
    tenant, _ = customer
    make_asset(engine, tenant, hostname="arvchristos-macbook-pro.local")
    assert found(engine, customer, MACOS[0]) == "arvchristos-macbook-pro.local"
    other = make_tenant(engine)
    make_asset(engine, other, hostname="Office MacBook Air")  # another customer's: never matched
    payload = json.loads(json.dumps(MACOS[0]))
    payload["id"] = payload["threatInfo"]["threatId"] = "1801000000000000499"
    payload["agentRealtimeInfo"].update(agentComputerName="office  macbook air", agentUuid="f" * 32)
    payload["agentDetectionInfo"]["agentUuid"] = "f" * 32
    assert found(engine, customer, payload) is None
    make_asset(engine, tenant, hostname="Office MacBook Air")
    assert found(engine, customer, payload) == "Office MacBook Air"


def test_agent_id_then_serial_then_ip(engine, customer):
    tenant, _ = customer
    make_asset(engine, tenant, hostname="srv-by-agent", agent_id="agent-77")
    make_asset(engine, tenant, hostname="srv-by-serial", serial="CZ123ABC")
    make_asset(engine, tenant, hostname="srv-by-ip", ip_address="10.1.2.3")

    def generic(**device) -> dict:
        return {"id": unique("evt"), "title": "Mimikatz", "detected_at": "2026-11-20T08:15:42Z", "device": device}

    assert found(engine, customer, generic(id="agent-77", serial="CZ123ABC"), source="generic") == "srv-by-agent"
    assert found(engine, customer, generic(serial="cz123abc", ip="10.1.2.3"), source="generic") == "srv-by-serial"
    assert found(engine, customer, generic(hostname="unknown-pc", ip="10.1.2.3"), source="generic") == "srv-by-ip"
    assert found(engine, customer, generic(hostname="unknown-pc"), source="generic") is None
