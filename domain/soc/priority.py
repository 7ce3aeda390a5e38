"""Ticket priority of a SOC alert from a configurable matrix: threat level x asset criticality x confidence.

Inputs, besides the alert's ``verdict``, ``severity`` and vendor ``status`` (a rule may name ``statuses``):

* asset class: ``critical`` (the asset's type is in ``critical_asset_types``, default server, or it carries
  one of ``critical_tags``, default "critical"), ``standard`` (any other asset found in our inventory:
  workstation, laptop, printer, ...), ``unknown`` (the alert names a device we cannot find). An alert that
  names no device at all (identity or mail alerts, RocketCyber incidents) counts as ``no_device_asset``
  (default unknown): knowing less about the device never makes an alert more urgent than a named host that is
  missing from our inventory.
* confidence band: ``high`` (>= ``high_confidence``, default 80), ``medium`` (>= ``medium_confidence``,
  default 50), ``low``, or ``unknown`` (the vendor gave none).

Threats the vendor already handled (mitigated, resolved, benign) are decided before the matrix by the triage
policy (`domain.soc.triage.decide`, setting ``handled_threats``); only with ``normal`` do they reach it, and a
custom matrix can still rank them by ``statuses``.

The rules are tried in order; the first that matches gives the priority, else ``fallback`` (P4): every alert
gets a priority, none is lost. An empty condition list matches anything. The default table:

    | # | verdict    | severity at least | asset              | confidence | priority |
    |---|------------|-------------------|--------------------|------------|----------|
    | 1 | malicious  |                   | critical           |            | P1       |
    | 2 | malicious  | critical          | standard           | high       | P1       |
    | 3 | malicious  |                   | standard           |            | P2       |
    | 4 | malicious  | critical          | unknown            | high       | P2       |
    | 5 | malicious  |                   | unknown            |            | P3       |
    | 6 | suspicious | high              | critical           |            | P2       |
    | 7 | suspicious |                   | critical, standard |            | P3       |
    | 8 | suspicious | high              | unknown            |            | P3       |
    | 9 | suspicious |                   | unknown            |            | P4       |
    |10 | unknown    | high              | critical, standard |            | P3       |

Anything else (benign, informational, unknown verdicts below high severity) gets the fallback P4. An unknown
device is never more urgent than a standard one, mostly one step less (rows 4, 5, 9 and 10 vs. fallback), never
dropped; a suspicious alert the vendor rates high or critical (a RocketCyber incident names no device) is P3.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.soc.alerts import AlertStatus, NormalizedAlert, Severity, Verdict
from domain.tickets import Priority

# Vendor statuses that mean: nothing left to do about the alert's threat (stopped, closed, or closed as benign).
HANDLED_STATUSES = frozenset({AlertStatus.MITIGATED, AlertStatus.RESOLVED, AlertStatus.SUPPRESSED})


def is_handled(alert: NormalizedAlert) -> bool:
    """The vendor reports the threat stopped, closed or harmless: nothing urgent is left to do."""
    return alert.status in HANDLED_STATUSES or alert.verdict == Verdict.BENIGN


class AssetClass(StrEnum):
    CRITICAL = "critical"
    STANDARD = "standard"
    UNKNOWN = "unknown"


class ConfidenceBand(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriorityRule(_Strict):
    """One row: all given conditions must hold; empty lists and a missing severity match anything."""

    verdicts: list[Verdict] = Field(default_factory=list)
    min_severity: Severity | None = None
    assets: list[AssetClass] = Field(default_factory=list)
    confidence: list[ConfidenceBand] = Field(default_factory=list)
    statuses: list[AlertStatus] = Field(default_factory=list, description="The vendor's status of the alert")
    priority: Priority

    def matches(
        self,
        verdict: Verdict,
        severity: Severity,
        asset: AssetClass,
        band: ConfidenceBand,
        status: AlertStatus = AlertStatus.NEW,
    ) -> bool:
        return (
            (not self.verdicts or verdict in self.verdicts)
            and (not self.statuses or status in self.statuses)
            and (self.min_severity is None or severity.severity_id >= self.min_severity.severity_id)
            and (not self.assets or asset in self.assets)
            and (not self.confidence or band in self.confidence)
        )


def _rule(verdict: Verdict, assets: list[AssetClass], priority: Priority, **conditions) -> PriorityRule:
    return PriorityRule(verdicts=[verdict], assets=assets, priority=priority, **conditions)


_M, _S, _U = Verdict.MALICIOUS, Verdict.SUSPICIOUS, Verdict.UNKNOWN
_CRIT, _STD, _UNK = AssetClass.CRITICAL, AssetClass.STANDARD, AssetClass.UNKNOWN
_HIGH = [ConfidenceBand.HIGH]

DEFAULT_RULES: tuple[PriorityRule, ...] = (
    _rule(_M, [_CRIT], Priority.P1),
    _rule(_M, [_STD], Priority.P1, min_severity=Severity.CRITICAL, confidence=_HIGH),
    _rule(_M, [_STD], Priority.P2),
    _rule(_M, [_UNK], Priority.P2, min_severity=Severity.CRITICAL, confidence=_HIGH),
    _rule(_M, [_UNK], Priority.P3),
    _rule(_S, [_CRIT], Priority.P2, min_severity=Severity.HIGH),
    _rule(_S, [_CRIT, _STD], Priority.P3),
    _rule(_S, [_UNK], Priority.P3, min_severity=Severity.HIGH),
    _rule(_S, [_UNK], Priority.P4),
    _rule(_U, [_CRIT, _STD], Priority.P3, min_severity=Severity.HIGH),
)


class PriorityMatrix(_Strict):
    rules: list[PriorityRule] = Field(default_factory=lambda: list(DEFAULT_RULES), max_length=200)
    fallback: Priority = Priority.P4
    critical_asset_types: list[str] = Field(default_factory=lambda: ["server"])
    critical_tags: list[str] = Field(default_factory=lambda: ["critical"])
    no_device_asset: AssetClass = AssetClass.UNKNOWN
    high_confidence: int = Field(default=80, ge=0, le=100)
    medium_confidence: int = Field(default=50, ge=0, le=100)

    @model_validator(mode="after")
    def _bands_ordered(self) -> "PriorityMatrix":
        if self.medium_confidence > self.high_confidence:
            raise ValueError("medium_confidence must not exceed high_confidence")
        return self


DEFAULT_MATRIX = PriorityMatrix()


def asset_class(
    alert: NormalizedAlert, asset_type: str | None, asset_tags: list[str], matrix: PriorityMatrix
) -> AssetClass:
    """`asset_type`/`asset_tags` of the inventory asset the alert's device resolved to (None: not found)."""
    if not alert.has_device:
        return matrix.no_device_asset
    if asset_type is None:
        return AssetClass.UNKNOWN
    critical_types = {t.casefold() for t in matrix.critical_asset_types}
    critical_tags = {t.casefold() for t in matrix.critical_tags}
    if asset_type.casefold() in critical_types or any(tag.casefold() in critical_tags for tag in asset_tags):
        return AssetClass.CRITICAL
    return AssetClass.STANDARD


def confidence_band(confidence: int | None, matrix: PriorityMatrix) -> ConfidenceBand:
    if confidence is None:
        return ConfidenceBand.UNKNOWN
    if confidence >= matrix.high_confidence:
        return ConfidenceBand.HIGH
    return ConfidenceBand.MEDIUM if confidence >= matrix.medium_confidence else ConfidenceBand.LOW


def prioritize(
    alert: NormalizedAlert,
    asset_type: str | None,
    asset_tags: list[str],
    matrix: PriorityMatrix = DEFAULT_MATRIX,
) -> Priority:
    """The priority of the first matching rule, else the matrix's fallback."""
    asset = asset_class(alert, asset_type, asset_tags, matrix)
    band = confidence_band(alert.confidence, matrix)
    for rule in matrix.rules:
        if rule.matches(alert.verdict, alert.severity, asset, band, alert.status):
            return rule.priority
    return matrix.fallback


def reachable_priority(alert: NormalizedAlert, matrix: PriorityMatrix = DEFAULT_MATRIX) -> Priority:
    """The most urgent priority the alert can get once enriched: as if its device were a critical asset. Known
    before enrichment, so the webhook inbox can hand over what may become a P1 first when the hub is behind. A threat
    the vendor already handled is last: the default triage policy makes it an informational P4."""
    if is_handled(alert):
        return list(Priority)[-1]
    critical_type = next(iter(matrix.critical_asset_types), "server")
    return prioritize(alert, critical_type, list(matrix.critical_tags), matrix)
