"""The site -> customer check: an alert is filed under its integration's customer only if the vendor site or account
it names is one of the integration's."""

from datetime import UTC, datetime

from domain.soc.alerts import NormalizedAlert, Source
from domain.soc.sites import allowed_ids, site_refusal


def alert(site: str | None, name: str | None = None, source: Source = Source.SENTINELONE) -> NormalizedAlert:
    return NormalizedAlert(
        source=source,
        integration_id="i-1",
        vendor_alert_id="t-1",
        title="Trojan",
        detected_at=datetime(2026, 11, 20, 8, 15, tzinfo=UTC),
        vendor_tenant_id=site,
        vendor_tenant_name=name,
    )


def test_a_mapped_site_is_taken_another_is_refused_naming_both():
    sites = allowed_ids(["1650000000000000001", " ", "  1650000000000000004 "])
    assert sites == {"1650000000000000001", "1650000000000000004"}
    assert site_refusal(alert("1650000000000000001"), sites) is None
    why = site_refusal(alert("1650000000000000002", "Fabrikam AG"), sites)
    assert why is not None and "SentinelOne site 1650000000000000002 (Fabrikam AG)" in why
    assert "1650000000000000001, 1650000000000000004" in why


def test_without_a_mapping_any_named_site_is_refused_and_an_alert_without_one_taken():
    why = site_refusal(alert("42", source=Source.ROCKETCYBER), allowed_ids(None))
    assert why is not None and "RocketCyber account 42" in why and "vendor_tenant_ids" in why
    assert site_refusal(alert(None), allowed_ids([])) is None


def test_an_integration_that_expects_sites_refuses_an_alert_naming_none():
    why = site_refusal(alert(None, source=Source.BARRACUDA_XDR), allowed_ids(["CUST-0042"]))
    assert why is not None and "names no Barracuda XDR customer" in why
