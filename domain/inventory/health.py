"""The health of a customer's devices on one day, as counts: what the daily snapshot stores and the QBR's device
KPIs (domain/qbr/kpis_health.py) are computed from. Pure: no I/O.

Counted over the customer's inventory as it stands after a sync: every asset not marked gone from the RMM is
known; those with an RMM agent are managed; the health columns (antivirus, patches, online, reboot) are the RMM's
and are counted over the managed devices only. An RMM that does not report a column at all (N-central's device list:
no online state, reboot flag or antivirus state) leaves its devices out of that column's denominator
(`*_unreported`), so the KPI is "k. A." rather than 0 %. The MFA counts come with the Microsoft 365 sync
(domain/inventory/mfa.py)."""

from collections.abc import Iterable

from pydantic import BaseModel

from domain.inventory.devices import AntivirusStatus, PatchStatus, is_windows
from domain.inventory.mfa import MfaCoverage


class DeviceHealth(BaseModel):
    managed: bool  # has an RMM agent (an rmm uid) and was in the RMM's list at the last sync
    os: str | None = None
    antivirus_status: str | None = None
    antivirus_reported: bool = True  # False: the RMM has no antivirus state (domain.inventory.devices)
    patch_status: str | None = None
    online: bool | None = False  # None: the RMM does not report it
    reboot_required: bool | None = False  # None: the RMM does not report it


class HealthCounts(BaseModel):
    devices_known: int = 0
    devices_managed: int = 0
    av_up_to_date: int = 0  # managed, antivirus RunningAndUpToDate
    windows_devices: int = 0  # managed, a Windows operating system
    windows_with_policy: int = 0  # of those, under a patch policy (a status other than NoPolicy, none reported)
    windows_fully_patched: int = 0  # of those, FullyPatched
    online: int = 0  # managed and online at the sync
    reboot_pending: int = 0  # managed with a reboot required (the flag or patch status RebootRequired)
    # Managed devices whose RMM does not report the column at all (N-central): left out of its denominator. Snapshots
    # written before these counts read as 0: Datto RMM reports every column.
    av_unreported: int = 0
    online_unreported: int = 0
    reboot_unreported: int = 0
    licences_purchased: int = 0  # Microsoft 365: prepaid enabled units over all SKUs
    licences_assigned: int = 0
    mfa: MfaCoverage | None = None  # Microsoft 365 members and their MFA registration; None: not measured

    @property
    def av_reported(self) -> int:
        return self.devices_managed - self.av_unreported

    @property
    def online_reported(self) -> int:
        return self.devices_managed - self.online_unreported

    @property
    def reboot_reported(self) -> int:
        return self.devices_managed - self.reboot_unreported


NOT_UNDER_POLICY = {PatchStatus.NO_POLICY.value, None}


def health_counts(devices: Iterable[DeviceHealth], licences: Iterable[tuple[int, int]] = ()) -> HealthCounts:
    """The counts of `devices` (every known device) and `licences` ((purchased, assigned) per SKU)."""
    counts = HealthCounts()
    for d in devices:
        counts.devices_known += 1
        if not d.managed:
            continue
        counts.devices_managed += 1
        counts.av_unreported += not d.antivirus_reported
        counts.av_up_to_date += d.antivirus_status == AntivirusStatus.RUNNING_AND_UP_TO_DATE.value
        counts.online_unreported += d.online is None
        counts.online += d.online is True
        reboot = d.reboot_required is True or d.patch_status == PatchStatus.REBOOT_REQUIRED.value
        counts.reboot_unreported += d.reboot_required is None and not reboot
        counts.reboot_pending += reboot
        if is_windows(d.os):
            counts.windows_devices += 1
            if d.patch_status not in NOT_UNDER_POLICY:
                counts.windows_with_policy += 1
                counts.windows_fully_patched += d.patch_status == PatchStatus.FULLY_PATCHED.value
    for purchased, assigned in licences:
        counts.licences_purchased += purchased
        counts.licences_assigned += assigned
    return counts
