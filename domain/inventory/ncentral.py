"""N-able N-central devices as the hub reads them: one `RmmDevice` per item of the device list's `data`
(`GET /api/org-units/{orgUnitId}/devices`, connectors/ncentral.py has the sources of each field). Pure: no I/O.

What the list gives is mapped: `deviceId` (the uid, prefixed `ncentral:`), `longName` (the host name),
`deviceClass` (the device type), `supportedOsLabel`/`supportedOs` (the operating system) and
`lastApplianceCheckinTime` (last seen). What it does not give stays unknown, never guessed: online state and reboot
flag are None, antivirus and patch status None (the health snapshot counts them as not reported, the QBR shows
"k. A."). A device whose last check-in is old is not called offline: the list says nothing about the agent's
schedule."""

import re
from typing import Any

from domain.inventory.devices import (
    NCENTRAL_UID_PREFIX,
    AssetKind,
    DeviceFormatError,
    RmmDevice,
    hostname_key,
    timestamp,
)

# deviceClass is a free label in N-central ("Workstations - Windows", "Servers - Windows", "Laptop - Windows", ...):
# matched by word, first hit wins (a "Server" before a "Workstation" in the same label does not occur).
CLASS_WORDS = (
    ("laptop", AssetKind.LAPTOP),
    ("server", AssetKind.SERVER),
    ("workstation", AssetKind.WORKSTATION),
    ("desktop", AssetKind.WORKSTATION),
    ("printer", AssetKind.PRINTER),
    ("switch", AssetKind.NETWORK),
    ("router", AssetKind.NETWORK),
    ("firewall", AssetKind.NETWORK),
    ("mobile", AssetKind.MOBILE),
)


def ncentral_kind(device_class: str | None) -> AssetKind:
    words = set(re.findall(r"[a-z]+", (device_class or "").lower()))
    stems = {w.removesuffix("s") for w in words}
    for word, kind in CLASS_WORDS:
        if word in stems:
            return kind
    return AssetKind.OTHER


def _text(raw: dict[str, Any], key: str, limit: int) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise DeviceFormatError(f"{key}: not text: {value!r}")
    return str(value).strip()[:limit] or None


def device_uid(raw: Any) -> str | None:
    """`ncentral:<deviceId>`, or None when the item has no usable deviceId."""
    device_id = raw.get("deviceId") if isinstance(raw, dict) else None
    if isinstance(device_id, bool) or not isinstance(device_id, int | str):
        return None
    text = str(device_id).strip()
    return f"{NCENTRAL_UID_PREFIX}{text}" if re.fullmatch(r"-?\d+", text) else None


def parse_ncentral_device(raw: Any) -> RmmDevice:
    """One item of the device list's `data`; `DeviceFormatError` when it cannot be used."""
    if not isinstance(raw, dict):
        raise DeviceFormatError("a device is not an object")
    uid = device_uid(raw)
    if uid is None:
        raise DeviceFormatError(f"device without a numeric deviceId: {raw.get('deviceId')!r}")
    hostname = _text(raw, "longName", 253)
    if not hostname:
        raise DeviceFormatError(f"device {uid} without longName")
    device_class = _text(raw, "deviceClass", 100)
    return RmmDevice(
        uid=uid,
        site_uid=_text(raw, "siteId", 100) or _text(raw, "customerId", 100),
        hostname=hostname_key(hostname),
        kind=ncentral_kind(device_class),
        category=_text(raw, "deviceClassLabel", 100) or device_class,
        os=_text(raw, "supportedOsLabel", 100) or _text(raw, "supportedOs", 100),
        online=None,
        last_seen=timestamp(raw.get("lastApplianceCheckinTime"), "lastApplianceCheckinTime"),
        antivirus_status=None,
        patch_status=None,
        reboot_required=None,
    )
