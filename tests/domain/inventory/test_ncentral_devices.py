"""N-central devices mapped into the hub's device model: type from deviceClass, OS, last check-in as UTC; online,
reboot, antivirus and patch left unknown, and the snapshot counts and QBR KPIs that follow from that: "k. A." for what
N-central does not report, never 0 %, also beside Datto RMM devices."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.inventory.devices import AssetKind, DeviceFormatError, reports_antivirus
from domain.inventory.health import DeviceHealth, HealthCounts, health_counts
from domain.inventory.ncentral import device_uid, ncentral_kind, parse_ncentral_device
from domain.qbr.facts import HealthFact
from domain.qbr.health_rules import health_recommendations
from domain.qbr.kpis import compute_kpis
from domain.qbr.kpis_health import antivirus_coverage, availability, patch_compliance, reboot_pending, rmm_coverage
from domain.qbr.measure import NA
from tests.domain.qbr.facts import current, previous
from tests.inventory_mocks import fixture


def test_a_documented_device_maps_to_the_hub_model_with_unknowns_left_unknown():
    raw = fixture("ncentral_org_unit_devices_page1.json")["data"][1]
    d = parse_ncentral_device(raw)
    assert (d.uid, d.hostname, d.kind) == ("ncentral:1187654322", "contoso-dc01", AssetKind.SERVER)
    assert d.os == "Microsoft Windows Server 2022 Standard 64-bit" and d.site_uid == "1234"
    assert d.last_seen == datetime(2026, 12, 2, 6, 40, 2, tzinfo=UTC)
    assert (d.online, d.reboot_required, d.antivirus_status, d.patch_status) == (None, None, None, None)
    assert not d.deleted and not reports_antivirus(d.uid) and reports_antivirus("0f8e7d6c-5b4a-4392")


@pytest.mark.parametrize(
    ("device_class", "kind"),
    [
        ("Workstations - Windows", AssetKind.WORKSTATION),
        ("Servers - Windows", AssetKind.SERVER),
        ("Laptop - Windows", AssetKind.LAPTOP),
        ("Printers", AssetKind.PRINTER),
        ("Switch/Router", AssetKind.NETWORK),
        ("Other", AssetKind.OTHER),
        (None, AssetKind.OTHER),
    ],
)
def test_device_class_words_give_the_type(device_class, kind):
    assert ncentral_kind(device_class) is kind


def test_a_device_without_id_or_name_is_refused_with_the_reason():
    with pytest.raises(DeviceFormatError, match="deviceId"):
        parse_ncentral_device({"longName": "X"})
    with pytest.raises(DeviceFormatError, match="longName"):
        parse_ncentral_device({"deviceId": 7})
    with pytest.raises(DeviceFormatError, match="lastApplianceCheckinTime"):
        parse_ncentral_device({"deviceId": 7, "longName": "X", "lastApplianceCheckinTime": "gestern"})
    assert device_uid({"deviceId": "42"}) == "ncentral:42" and device_uid({"deviceId": True}) is None


def _ncentral(os: str = "Microsoft Windows 11 Pro") -> DeviceHealth:
    return DeviceHealth(managed=True, os=os, antivirus_reported=False, online=None, reboot_required=None)


def test_an_ncentral_only_customer_gets_k_a_for_every_column_the_rmm_does_not_report():
    counts = health_counts([_ncentral(), _ncentral(), DeviceHealth(managed=False)])
    assert (counts.devices_known, counts.devices_managed, counts.windows_devices) == (3, 2, 2)
    assert (counts.av_unreported, counts.online_unreported, counts.reboot_unreported) == (2, 2, 2)
    assert rmm_coverage(counts) == Decimal("66.7")  # the one KPI N-central's list does give
    for kpi in (antivirus_coverage, availability, reboot_pending, patch_compliance):
        assert kpi(counts) is NA  # "k. A.", not 0 %


def test_ncentral_devices_beside_datto_devices_leave_only_their_own_columns_out():
    datto = DeviceHealth(managed=True, os="Windows 10", antivirus_status="RunningAndUpToDate",
                         patch_status="FullyPatched", online=True, reboot_required=False)  # fmt: skip
    datto_bad = DeviceHealth(managed=True, os="Windows 10", antivirus_status=None, patch_status="InstallError",
                             online=False, reboot_required=True)  # fmt: skip
    counts = health_counts([datto, datto_bad, _ncentral(), _ncentral()])
    assert antivirus_coverage(counts) == Decimal("50.0")  # 1 of the 2 Datto devices, not 1 of 4
    assert availability(counts) == Decimal("50.0") and reboot_pending(counts) == Decimal("50.0")
    assert patch_compliance(counts) == Decimal("50.0")  # N-central devices are under no reported policy
    assert rmm_coverage(counts) == Decimal("100.0")


def test_old_snapshots_without_the_unreported_counts_read_as_before():
    old = HealthCounts.model_validate({"devices_known": 4, "devices_managed": 4, "av_up_to_date": 3, "online": 2})
    assert antivirus_coverage(old) == Decimal("75.0") and availability(old) == Decimal("50.0")


def test_no_recommendation_from_a_column_the_rmm_does_not_report():
    counts = health_counts([_ncentral() for _ in range(5)])  # 0 of 5 "up to date" if unknown were counted as not
    now = current().model_copy(update={"health": HealthFact(day=date(2026, 12, 30), counts=counts)})
    assert health_recommendations(compute_kpis(now, previous(), "K10001", "Muster GmbH")) == []
