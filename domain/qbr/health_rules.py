"""Recommendations from the device health and MFA KPIs of a QBR (German or English), with the counts of the
reported quarter's last health snapshot (`KpiSet.health`). A rule never fires on a KPI that is "k. A.".

Thresholds, in percent of the KPI's denominator (domain/qbr/kpis_health.py); each is compared on the exact counts,
not the rounded percentage, so 1 user without MFA among 10 000 still counts."""

from decimal import Decimal

from domain.inventory.health import HealthCounts
from domain.qbr.kpis import KpiSet
from domain.qbr.measure import NotAvailable

ANTIVIRUS_TARGET = Decimal(95)  # managed devices with antivirus running and up to date
PATCH_TARGET = Decimal(90)  # Windows devices under a patch policy that are fully patched
RMM_COVERAGE_TARGET = Decimal(95)  # known devices with an RMM agent
MFA_TARGET = Decimal(100)  # members registered for MFA: every account
REBOOT_PENDING_LIMIT = Decimal(10)  # managed devices waiting for a reboot: more than 10 % ...
REBOOT_PENDING_MIN = 3  # ... and at least 3 devices (one laptop of two is not "many")

TEXTS = {
    "de": {
        "antivirus": ("{n} Gerät ohne aktiven Virenschutz (von {total} verwalteten): den Virenschutz prüfen und "
                      "aktualisieren.",
                      "{n} Geräte ohne aktiven Virenschutz (von {total} verwalteten): den Virenschutz auf diesen "
                      "Geräten prüfen und aktualisieren."),
        "patch": ("{n} von {total} Windows-Geräten ist nicht vollständig gepatcht: ausstehende Updates einspielen "
                  "und fehlgeschlagene Installationen klären.",
                  "{n} von {total} Windows-Geräten sind nicht vollständig gepatcht: ausstehende Updates einspielen "
                  "und fehlgeschlagene Installationen klären."),
        "rmm": ("{n} Gerät ohne RMM-Agent (von {total} im Inventar): den Agenten installieren oder das Gerät aus dem "
                "Inventar nehmen.",
                "{n} Geräte ohne RMM-Agent (von {total} im Inventar): Agenten installieren oder ausgemusterte Geräte "
                "aus dem Inventar nehmen."),
        "mfa": ("{n} Benutzerkonto ohne MFA (von {total}): MFA für alle Konten verbindlich machen "
                "(Sicherheitsstandards oder bedingter Zugriff).",
                "{n} Benutzerkonten ohne MFA (von {total}): MFA für alle Konten verbindlich machen "
                "(Sicherheitsstandards oder bedingter Zugriff)."),
        "reboot": ("{n} Gerät wartet auf einen Neustart (von {total} verwalteten): Neustarts in einem "
                   "Wartungsfenster einplanen, damit Updates wirksam werden.",
                   "{n} Geräte warten auf einen Neustart (von {total} verwalteten): Neustarts in einem "
                   "Wartungsfenster einplanen, damit Updates wirksam werden."),
    },
    "en": {
        "antivirus": ("{n} device without active antivirus (of {total} managed): check and update its antivirus.",
                      "{n} devices without active antivirus (of {total} managed): check and update the antivirus on "
                      "these devices."),
        "patch": ("{n} of {total} Windows devices is not fully patched: install the pending updates and resolve "
                  "failed installations.",
                  "{n} of {total} Windows devices are not fully patched: install the pending updates and resolve "
                  "failed installations."),
        "rmm": ("{n} device without an RMM agent (of {total} in the inventory): install the agent or remove the "
                "device from the inventory.",
                "{n} devices without an RMM agent (of {total} in the inventory): install agents or remove retired "
                "devices from the inventory."),
        "mfa": ("{n} user account without MFA (of {total}): make MFA mandatory for every account (security "
                "defaults or conditional access).",
                "{n} user accounts without MFA (of {total}): make MFA mandatory for every account (security "
                "defaults or conditional access)."),
        "reboot": ("{n} device is waiting for a reboot (of {total} managed): schedule reboots in a maintenance "
                   "window so updates take effect.",
                   "{n} devices are waiting for a reboot (of {total} managed): schedule reboots in a maintenance "
                   "window so updates take effect."),
    },
}  # fmt: skip


def _known(kpis: KpiSet, key: str) -> bool:
    return not isinstance(kpis.kpi(key).current, NotAvailable)


def _below(part: int, whole: int, target: Decimal) -> bool:
    """part / whole < target %, on the exact counts."""
    return whole > 0 and Decimal(100) * part < target * whole


def _say(t: dict, key: str, n: int, total: int) -> str:
    return t[key][0 if n == 1 else 1].format(n=n, total=total)


def _findings(c: HealthCounts, kpis: KpiSet) -> list[tuple[str, int, int]]:
    """(text key, count concerned, its denominator) of every rule that fires."""
    found = []
    if _known(kpis, "rmm_coverage") and _below(c.devices_managed, c.devices_known, RMM_COVERAGE_TARGET):
        found.append(("rmm", c.devices_known - c.devices_managed, c.devices_known))
    if _known(kpis, "antivirus_coverage") and _below(c.av_up_to_date, c.av_reported, ANTIVIRUS_TARGET):
        found.append(("antivirus", c.av_reported - c.av_up_to_date, c.av_reported))
    if _known(kpis, "patch_compliance") and _below(c.windows_fully_patched, c.windows_with_policy, PATCH_TARGET):
        found.append(("patch", c.windows_with_policy - c.windows_fully_patched, c.windows_with_policy))
    reboots = c.reboot_pending
    if _known(kpis, "reboot_pending") and reboots >= REBOOT_PENDING_MIN and (
        Decimal(100) * reboots > REBOOT_PENDING_LIMIT * c.reboot_reported
    ):
        found.append(("reboot", reboots, c.reboot_reported))
    if _known(kpis, "mfa_coverage") and c.mfa is not None and _below(c.mfa.registered, c.mfa.members, MFA_TARGET):
        found.append(("mfa", c.mfa.without_mfa, c.mfa.members))
    return found


def health_recommendations(kpis: KpiSet, language: str = "de") -> list[str]:
    if kpis.health is None:
        return []
    t = TEXTS["en" if language == "en" else "de"]
    return [_say(t, key, n, total) for key, n, total in _findings(kpis.health, kpis)]
