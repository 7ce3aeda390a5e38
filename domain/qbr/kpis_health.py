"""The QBR's device health KPIs, from the quarter's last daily health snapshot (`QbrFacts.health`, written by the
inventory sync from Datto RMM or N-central: domain/inventory/health.py), and the MFA coverage the same snapshot
holds (from Microsoft 365: domain/inventory/mfa.py). Pure. Each quarter is read from its own last snapshot,
so the previous quarter's value is what was measured then, not recomputed from today's inventory.

k. A. when the quarter has no snapshot (no RMM source, or none synced in it) or the denominator is empty. Shares
are in percent with one decimal (domain.qbr.measure.share). A KPI whose source said why it could not be measured
(the MFA report refused) gives that reason beside its "k. A." (`HealthKpi.reason`)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from domain.inventory.health import HealthCounts
from domain.qbr.facts import QbrFacts
from domain.qbr.measure import NA, Measure, share

SOURCE = "RMM-Snapshot"
M365_SOURCE = "Microsoft 365"


def rmm_coverage(c: HealthCounts) -> Measure:
    """100 × (devices managed by the RMM: an RMM agent the last sync saw) ÷ (devices known to the hub: every asset
    not marked gone from the RMM, also those only the SOC or a person entered)."""
    return share(c.devices_managed, c.devices_known)


def antivirus_coverage(c: HealthCounts) -> Measure:
    """100 × (managed devices whose antivirus the RMM reports as RunningAndUpToDate) ÷ (managed devices whose RMM
    reports antivirus at all); a Datto device without an antivirus block counts as not covered, an N-central device
    not at all (its list has no antivirus state: k. A. when no device has one)."""
    return share(c.av_up_to_date, c.av_reported)


def patch_compliance(c: HealthCounts) -> Measure:
    """100 × (managed Windows devices with patch status FullyPatched) ÷ (managed Windows devices under a patch
    policy: any patch status but NoPolicy or none reported)."""
    return share(c.windows_fully_patched, c.windows_with_policy)


def availability(c: HealthCounts) -> Measure:
    """100 × (managed devices online at the snapshot) ÷ (managed devices whose RMM reports an online state): the
    share reachable at that moment, not an uptime over the quarter."""
    return share(c.online, c.online_reported)


def reboot_pending(c: HealthCounts) -> Measure:
    """100 × (managed devices with a reboot pending: the RMM's rebootRequired flag or patch status RebootRequired)
    ÷ (managed devices whose RMM reports it); lower is better."""
    return share(c.reboot_pending, c.reboot_reported)


def mfa_coverage(c: HealthCounts) -> Measure:
    """100 × (members registered for MFA: userType member and isMfaRegistered true in Graph's userRegistrationDetails)
    ÷ (members: every user of userType member); guests are not counted. k. A. without Microsoft 365 data, when the
    report was refused or unreadable (the reason is given), or without members."""
    if c.mfa is None or c.mfa.unavailable is not None:
        return NA
    return share(c.mfa.registered, c.mfa.members)


def mfa_reason(c: HealthCounts) -> str | None:
    """Why the MFA coverage is k. A. although Microsoft 365 was read: a domain.inventory.mfa.MfaUnavailable value."""
    return None if c.mfa is None or c.mfa.unavailable is None else c.mfa.unavailable.value


@dataclass(frozen=True)
class HealthKpi:
    key: str
    label: str  # German, as the deck shows it
    unit: str
    better: Literal["higher", "lower"]
    compute: Callable[[HealthCounts], Measure]
    source: str = SOURCE
    why_na: Callable[[HealthCounts], str | None] | None = None

    def measure(self, facts: QbrFacts) -> Measure:
        return NA if facts.health is None else self.compute(facts.health.counts)

    def reason(self, facts: QbrFacts) -> str | None:
        """Why the value is k. A., where the source said so; None otherwise."""
        return None if facts.health is None or self.why_na is None else self.why_na(facts.health.counts)


HEALTH_KPIS: tuple[HealthKpi, ...] = (
    HealthKpi("rmm_coverage", "Geräteabdeckung (RMM)", "%", "higher", rmm_coverage),
    HealthKpi("antivirus_coverage", "Virenschutz aktiv und aktuell", "%", "higher", antivirus_coverage),
    HealthKpi("patch_compliance", "Windows-Patchstand", "%", "higher", patch_compliance),
    HealthKpi("availability", "Geräte online (Stichtag)", "%", "higher", availability),
    HealthKpi("reboot_pending", "Neustart ausstehend", "%", "lower", reboot_pending),
    HealthKpi("mfa_coverage", "MFA-Abdeckung", "%", "higher", mfa_coverage, M365_SOURCE, mfa_reason),
)
