"""Datto RMM devices and Graph SKUs read into the hub's models: the spec-shaped fixtures, the three timestamp
forms, unknown enum values, device categories to asset types; health counts by hand."""

from datetime import UTC, date, datetime

import pytest

from domain.inventory.devices import (
    AntivirusStatus,
    AssetKind,
    DeviceFormatError,
    PatchStatus,
    asset_kind,
    parse_device,
    timestamp,
)
from domain.inventory.health import DeviceHealth, health_counts
from domain.inventory.licences import LicenceFormatError, parse_sku
from tests.inventory_mocks import fixture


def test_the_fixture_devices():
    ws, dc = (parse_device(d) for d in fixture("datto_site_devices_page1.json")["devices"])
    nb = parse_device(fixture("datto_site_devices_page2.json")["devices"][0])
    assert (ws.uid, ws.hostname, ws.kind, ws.os) == (
        "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "acme-ws-042", AssetKind.WORKSTATION,
        "Microsoft Windows 11 Pro 10.0.22631")  # fmt: skip
    assert ws.warranty_end == date(2027, 3, 31) and ws.online and not ws.reboot_required
    assert ws.last_seen == datetime.fromtimestamp(1795432100, tz=UTC)
    assert (ws.antivirus_status, ws.patch_status) == (AntivirusStatus.RUNNING_AND_UP_TO_DATE, PatchStatus.FULLY_PATCHED)
    assert dc.kind == AssetKind.SERVER and dc.reboot_required and dc.warranty_end is None
    assert dc.last_seen == datetime.fromtimestamp(1795432000, tz=UTC)  # a numeric string: milliseconds too
    assert nb.kind == AssetKind.LAPTOP and not nb.online and nb.patch_status == PatchStatus.NO_POLICY
    assert nb.last_seen == datetime(2026, 11, 28, 17, 45, tzinfo=UTC)  # ISO-8601


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795432100000, datetime(2026, 11, 23, 11, 8, 20, tzinfo=UTC)),
        ("1795432100000", datetime(2026, 11, 23, 11, 8, 20, tzinfo=UTC)),
        ("2026-11-23T11:08:20Z", datetime(2026, 11, 23, 11, 8, 20, tzinfo=UTC)),
        ("2026-11-23T12:08:20+01:00", datetime(2026, 11, 23, 11, 8, 20, tzinfo=UTC)),
        ("2026-11-23T11:08:20", datetime(2026, 11, 23, 11, 8, 20, tzinfo=UTC)),  # no zone: UTC
        (None, None),
        ("", None),
    ],
)
def test_timestamps(value, expected):
    assert timestamp(value, "lastSeen") == expected


@pytest.mark.parametrize("value", [True, "yesterday", {"ms": 1}])
def test_unreadable_timestamps(value):
    with pytest.raises(DeviceFormatError, match="lastSeen"):
        timestamp(value, "lastSeen")


def test_unknown_states_and_missing_fields():
    raw = {"uid": "ABC", "hostname": "x", "antivirus": {"antivirusStatus": "Quarantining"},
           "patchManagement": {"patchStatus": "SomethingNew"}}  # fmt: skip
    d = parse_device(raw)
    assert d.uid == "abc" and d.kind == AssetKind.OTHER
    assert (d.antivirus_status, d.patch_status) == (AntivirusStatus.UNKNOWN, PatchStatus.UNKNOWN)
    assert parse_device({"uid": "a", "hostname": "b"}).antivirus_status is None  # no report is not "unknown"
    for bad in ({"hostname": "x"}, {"uid": "a"}, {"uid": "a", "hostname": "b", "antivirus": "on"}, []):
        with pytest.raises(DeviceFormatError):
            parse_device(bad)


@pytest.mark.parametrize(
    ("category", "device_class", "kind"),
    [("Desktop", "device", AssetKind.WORKSTATION), ("Laptop", None, AssetKind.LAPTOP),
     ("Server", "device", AssetKind.SERVER), ("ESXi Host", "esxihost", AssetKind.SERVER),
     (None, "printer", AssetKind.PRINTER), ("Network Device", "device", AssetKind.NETWORK),
     ("Toaster", "unknown", AssetKind.OTHER)],
)  # fmt: skip
def test_asset_kinds(category, device_class, kind):
    assert asset_kind(category, device_class) == kind


def test_skus():
    premium, e3 = (parse_sku(s) for s in fixture("graph_subscribed_skus.json")["value"])
    assert (premium.sku, premium.quantity, premium.assigned, premium.capability_status) == (
        "O365_BUSINESS_PREMIUM", 50, 47, "Enabled")  # fmt: skip
    assert (e3.sku, e3.quantity, e3.assigned, e3.capability_status) == ("SPE_E3", 5, 3, "Warning")
    with pytest.raises(LicenceFormatError):
        parse_sku({"skuId": "x", "prepaidUnits": {"enabled": 1}})
    with pytest.raises(LicenceFormatError):
        parse_sku({"skuPartNumber": "X", "consumedUnits": -1})


def test_health_counts_by_hand():
    devices = [
        DeviceHealth(managed=True, os="Microsoft Windows 11 Pro", antivirus_status="RunningAndUpToDate",
                     patch_status="FullyPatched", online=True),
        DeviceHealth(managed=True, os="Microsoft Windows Server 2022", antivirus_status="RunningAndNotUpToDate",
                     patch_status="RebootRequired", online=True, reboot_required=True),
        DeviceHealth(managed=True, os="Microsoft Windows 10 Pro", antivirus_status="NotRunning",
                     patch_status="NoPolicy"),
        DeviceHealth(managed=True, os="macOS 14.6", antivirus_status="RunningAndUpToDate", online=True),
        DeviceHealth(managed=False, os="Windows 11", antivirus_status="RunningAndUpToDate", online=True),
    ]  # fmt: skip
    c = health_counts(devices, [(50, 47), (5, 3)])
    assert (c.devices_known, c.devices_managed) == (5, 4)  # the unmanaged one counts as known only
    assert c.av_up_to_date == 2  # the Windows 11 and the Mac; never the unmanaged one
    assert (c.windows_devices, c.windows_with_policy, c.windows_fully_patched) == (3, 2, 1)  # NoPolicy: outside
    assert (c.online, c.reboot_pending) == (3, 1)
    assert (c.licences_purchased, c.licences_assigned) == (55, 50)
