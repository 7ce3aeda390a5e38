"""Microsoft 365 subscriptions as the hub reads them: one `SkuLicence` per entry of Graph's
`GET /v1.0/subscribedSkus` `value` list. Pure: no I/O."""

from typing import Any

from pydantic import BaseModel

VENDOR = "Microsoft"


class LicenceFormatError(ValueError):
    """A subscribedSku object the hub cannot use."""


class SkuLicence(BaseModel):
    sku: str  # skuPartNumber, e.g. O365_BUSINESS_PREMIUM: what the licence rows are matched by
    sku_id: str | None = None
    quantity: int  # prepaidUnits.enabled: licences paid for and usable
    assigned: int  # consumedUnits
    capability_status: str | None = None  # Enabled, Warning, Suspended, Deleted, LockedOut


def _count(value: Any, field: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LicenceFormatError(f"{field}: not a count: {value!r}")
    return value


def parse_sku(raw: Any) -> SkuLicence:
    if not isinstance(raw, dict):
        raise LicenceFormatError("a subscribedSku is not an object")
    sku = raw.get("skuPartNumber")
    if not isinstance(sku, str) or not sku.strip():
        raise LicenceFormatError(f"subscribedSku {raw.get('skuId')!r} without skuPartNumber")
    prepaid = raw.get("prepaidUnits") or {}
    if not isinstance(prepaid, dict):
        raise LicenceFormatError(f"{sku}: prepaidUnits is not an object")
    status = raw.get("capabilityStatus")
    return SkuLicence(
        sku=sku.strip()[:100],
        sku_id=raw.get("skuId") if isinstance(raw.get("skuId"), str) else None,
        quantity=_count(prepaid.get("enabled"), f"{sku}: prepaidUnits.enabled"),
        assigned=_count(raw.get("consumedUnits"), f"{sku}: consumedUnits"),
        capability_status=status if isinstance(status, str) else None,
    )
