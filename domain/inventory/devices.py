"""Datto RMM devices as the hub reads them: one `RmmDevice` per device of a site's device list
(`GET /api/v2/site/{siteUid}/devices`), parsed from the vendor's JSON. Pure: no I/O.

Timestamps arrive as epoch milliseconds (what the live API sends), numeric strings or ISO-8601 (what its swagger
declares); all three are read, always as UTC. Unknown enum values of the antivirus and patch status are kept as
`unknown` rather than failing the device: the vendor adds states, a sync must not stop on them. The documented
device schema has no serial number; `serialNumber` is read when an answer carries one (the serial otherwise stays
as the hub has it)."""

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class AssetKind(StrEnum):
    """The hub's device types (models.AssetType has the same values)."""

    SERVER = "server"
    WORKSTATION = "workstation"
    LAPTOP = "laptop"
    NETWORK = "network"
    MOBILE = "mobile"
    PRINTER = "printer"
    OTHER = "other"


class AntivirusStatus(StrEnum):
    RUNNING_AND_UP_TO_DATE = "RunningAndUpToDate"
    RUNNING_AND_NOT_UP_TO_DATE = "RunningAndNotUpToDate"
    NOT_RUNNING = "NotRunning"
    NOT_DETECTED = "NotDetected"
    UNKNOWN = "unknown"


class PatchStatus(StrEnum):
    NO_POLICY = "NoPolicy"
    NO_DATA = "NoData"
    REBOOT_REQUIRED = "RebootRequired"
    INSTALL_ERROR = "InstallError"
    APPROVED_PENDING = "ApprovedPending"
    FULLY_PATCHED = "FullyPatched"
    UNKNOWN = "unknown"


class DeviceFormatError(ValueError):
    """A device object the hub cannot use (no uid, no host name, a field of the wrong type)."""


# deviceType.category (free text at Datto: Desktop, Laptop, Server, ESXi Host, Network Device, ...), lower-cased.
CATEGORY_KINDS = {
    "desktop": AssetKind.WORKSTATION,
    "workstation": AssetKind.WORKSTATION,
    "laptop": AssetKind.LAPTOP,
    "notebook": AssetKind.LAPTOP,
    "server": AssetKind.SERVER,
    "esxi host": AssetKind.SERVER,
    "esxihost": AssetKind.SERVER,
    "printer": AssetKind.PRINTER,
    "network device": AssetKind.NETWORK,
    "router": AssetKind.NETWORK,
    "switch": AssetKind.NETWORK,
    "firewall": AssetKind.NETWORK,
    "mobile": AssetKind.MOBILE,
    "mobile device": AssetKind.MOBILE,
}
# deviceClass decides where the category says nothing useful.
CLASS_KINDS = {"printer": AssetKind.PRINTER, "esxihost": AssetKind.SERVER}


class RmmDevice(BaseModel):
    uid: str
    site_uid: str | None = None
    hostname: str
    kind: AssetKind
    category: str | None = None  # as Datto names it
    os: str | None = None
    serial: str | None = None
    warranty_end: date | None = None
    online: bool | None = False  # None: the RMM does not report it (N-central's device list)
    last_seen: datetime | None = None
    antivirus_product: str | None = None
    antivirus_status: AntivirusStatus | None = None  # None: the RMM reports no antivirus block
    patch_status: PatchStatus | None = None
    reboot_required: bool | None = False  # None: the RMM does not report it
    deleted: bool = False  # the RMM lists it as deleted: treated as gone


def timestamp(value: Any, field: str) -> datetime | None:
    """Epoch milliseconds (int, float or numeric string) or ISO-8601 (a time without a zone is UTC); None for
    null/empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise DeviceFormatError(f"{field}: not a timestamp: {value!r}")
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise DeviceFormatError(f"{field}: epoch milliseconds out of range: {value!r}") from exc
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise DeviceFormatError(f"{field}: not a timestamp: {value!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise DeviceFormatError(f"{field}: not a timestamp: {value!r}")


def _day(value: Any, field: str) -> date | None:
    """warrantyDate: a day ("2027-03-31"), a full timestamp or epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        return date.fromisoformat(value.strip())
    when = timestamp(value, field)
    return when.date() if when else None


def hostname_key(name: str) -> str:
    """The host name as the hub stores it (api/schemas/assets.check_hostname): a DNS name lower-cased without a
    trailing dot, any other computer name as given."""
    return name.lower().removesuffix(".") if re.fullmatch(r"[A-Za-z0-9.-]+", name) else name


def _text(raw: dict[str, Any], key: str, limit: int) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise DeviceFormatError(f"{key}: not text: {value!r}")
    text = str(value).strip()
    return text[:limit] or None


def _enum(enum: type[StrEnum], value: Any) -> Any:
    if value in (None, ""):
        return None
    try:
        return enum(value)
    except ValueError:
        return enum("unknown")


def asset_kind(category: str | None, device_class: str | None) -> AssetKind:
    by_class = CLASS_KINDS.get((device_class or "").lower())
    return CATEGORY_KINDS.get((category or "").strip().lower()) or by_class or AssetKind.OTHER


def _block(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeviceFormatError(f"{key}: not an object")
    return value


def parse_device(raw: Any) -> RmmDevice:
    """One device of `devices[]`; `DeviceFormatError` when it cannot be used."""
    if not isinstance(raw, dict):
        raise DeviceFormatError("a device is not an object")
    uid, hostname = _text(raw, "uid", 100), _text(raw, "hostname", 253)
    if not uid:
        raise DeviceFormatError("device without uid")
    if not hostname:
        raise DeviceFormatError(f"device {uid} without hostname")
    device_type = _block(raw, "deviceType")
    category = device_type.get("category") if isinstance(device_type.get("category"), str) else None
    device_class = raw.get("deviceClass") if isinstance(raw.get("deviceClass"), str) else None
    antivirus, patches = _block(raw, "antivirus"), _block(raw, "patchManagement")
    patch_status = _enum(PatchStatus, patches.get("patchStatus"))
    return RmmDevice(
        uid=uid.lower(),
        site_uid=_text(raw, "siteUid", 100),
        hostname=hostname_key(hostname),
        kind=asset_kind(category, device_class),
        category=category,
        os=_text(raw, "operatingSystem", 100),
        serial=_text(raw, "serialNumber", 100),
        warranty_end=_day(raw.get("warrantyDate"), "warrantyDate"),
        online=raw.get("online") is True,
        last_seen=timestamp(raw.get("lastSeen"), "lastSeen"),
        antivirus_product=_text(antivirus, "antivirusProduct", 100),
        antivirus_status=_enum(AntivirusStatus, antivirus.get("antivirusStatus")),
        patch_status=patch_status,
        reboot_required=raw.get("rebootRequired") is True or patch_status == PatchStatus.REBOOT_REQUIRED,
        deleted=raw.get("deleted") is True,
    )


NCENTRAL_UID_PREFIX = "ncentral:"  # N-central's numeric deviceId, kept apart from Datto's uids


def reports_antivirus(rmm_uid: str | None) -> bool:
    """Whether the RMM behind an asset's uid reports an antivirus state at all: Datto RMM does (a device without
    its antivirus block is not covered), N-central's device list does not (its antivirus is unknown, "k. A.")."""
    return rmm_uid is not None and not rmm_uid.startswith(NCENTRAL_UID_PREFIX)


def is_windows(os: str | None) -> bool:
    return bool(os) and "windows" in os.lower()
