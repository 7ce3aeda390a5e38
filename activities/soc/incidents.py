"""SOC activities: store each vendor alert once (with asset enrichment and its latest vendor status), resolve
the triage policy, keep the incident record, and page on-call for P1 incidents."""

import re
from datetime import UTC, datetime
from uuid import UUID

import httpx
from pydantic import ValidationError
from sqlalchemy import Engine, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.webhooks import WebhookError, post_json, redact_url
from domain.contracts.soc import (
    EarlierIncident,
    IncidentRecord,
    PageRequest,
    RecordAlert,
    RecordAlerts,
    RecordedAlert,
    RecordedAlerts,
    SocActivity,
)
from domain.soc.alerts import AlertStatus, NormalizedAlert, host_key, is_stale_update
from domain.soc.paging import page_body
from domain.soc.triage import (
    TriageOverride,
    TriagePolicy,
    incident_vendor_status,
    is_settled,
    resolve_policy,
)
from hub.config import Settings, get_settings, hub_defaults
from hub.db import session_scope
from hub.logging import get_logger
from models import Asset, SocAlert, SocIncident, SocIntegration

log = get_logger(__name__)


def _find_asset(session: Session, tenant_id: UUID, alert: NormalizedAlert) -> Asset | None:
    """The alert's device in the tenant's inventory (never another customer's), by what identifies it best: the
    EDR agent (UUID, then the vendor's agent id), the serial, the host name (regardless of case and of blanks vs.
    hyphens, full or first label: "arvchristos MacBook Pro" is the asset "arvchristos-macbook-pro.local"), the IP."""
    own = Asset.tenant_id == tenant_id
    candidates = []
    if alert.device_agent_uuid:
        candidates.append(Asset.agent_uuid == alert.device_agent_uuid.strip().lower())
    if alert.device_external_id:
        candidates.append(Asset.agent_id == alert.device_external_id)
    if alert.device_serial:
        candidates.append(func.lower(Asset.serial) == alert.device_serial.strip().lower())
    if alert.device_hostname:
        names = _host_spellings(alert.device_hostname)
        lowered = func.lower(Asset.hostname)
        in_domain = [lowered.like(_escape_like(n) + ".%", escape="\\") for n in names if "." not in n]
        candidates.append(or_(lowered.in_(names), func.replace(lowered, " ", "-").in_(names), *in_domain))
    if alert.device_ip:
        candidates.append(Asset.ip_address == alert.device_ip)
    for condition in candidates:  # in order: the first kind of identity that finds one wins
        found = session.exec(select(Asset).where(own, condition).order_by(Asset.created_at, Asset.id)).first()
        if found is not None:
            return found
    return None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _host_spellings(hostname: str) -> list[str]:
    """The lower-case spellings an asset may have for a reported host name: as reported, blanks as hyphens, and
    the first DNS label of either (an IP stays whole)."""
    name = hostname.strip().lower()
    dashed = re.sub(r"\s+", "-", name)
    spellings = [name, dashed, host_key(hostname)]
    if not re.fullmatch(r"[\d.]+", name):
        spellings.append(name.split(".")[0])
    return list(dict.fromkeys(spellings))


def _policy(settings: Settings, integration: SocIntegration | None) -> TriagePolicy:
    override = None
    if integration is not None and integration.triage_settings:
        try:
            override = TriageOverride.model_validate(integration.triage_settings)
        except ValidationError as err:
            # Written around the API (which validates): the alert must still be handled, with the hub defaults.
            log.warning("invalid triage settings ignored", integration_id=str(integration.id), error=str(err))
    return resolve_policy(hub_defaults(settings), override)


def _own(integration: SocIntegration | None, tenant_id: UUID) -> SocIntegration | None:
    return integration if integration is not None and integration.tenant_id == tenant_id else None


def _closed_incident_update(session: Session, alert: SocAlert, before: AlertStatus) -> EarlierIncident | None:
    """A new vendor status of an alert whose incident run has closed: the incident row takes the vendor status of
    its alerts now (resolved only when all are), and the run that got the update learns where to note it. None
    while another run of the key holds the row (it is open): that run's alerts are its own business."""
    row = session.get(SocIncident, alert.incident_key)
    if row is None or row.status != "closed":
        return None
    session.flush()  # this update's status is among the statuses read next
    statuses = [
        AlertStatus(s)
        for s in session.exec(
            select(SocAlert.vendor_status).where(
                SocAlert.incident_key == alert.incident_key, SocAlert.run_id == alert.run_id
            )
        ).all()
    ]
    overall = incident_vendor_status(statuses)
    settled_before = row.vendor_resolved_at is not None
    row.vendor_status = overall.value
    if not is_settled(overall):
        row.vendor_resolved_at = None
    elif not settled_before:
        row.vendor_resolved_at = datetime.now(UTC)
    session.add(row)
    return EarlierIncident(
        ticket_id=row.ticket_id,
        before=before,
        alert_count=len(statuses),
        overall=overall,
        now_settled=is_settled(overall) and not settled_before,
    )


class SocActivities:
    def __init__(self, engine: Engine, settings: Settings | None = None):
        self.engine = engine
        self.settings = settings or get_settings()
        # One client for all pages: keep-alive, and no TLS context built per page.
        self._http = httpx.Client(timeout=httpx.Timeout(self.settings.notify_timeout), follow_redirects=False)

    @activity.defn(name=SocActivity.RECORD_ALERTS)
    def record_alerts(self, batch: RecordAlerts) -> RecordedAlerts:
        """All alerts of one wake-up of the incident in one transaction (one commit instead of one per alert).
        Idempotent: a retry finds its own run's rows (still new) and the statuses stored."""
        try:
            return self._record_alerts(batch)
        except IntegrityError:
            # One of them was stored concurrently by another delivery: the whole batch was rolled back; now the
            # row exists and that alert is a repeat.
            return self._record_alerts(batch)

    def _record_alerts(self, batch: RecordAlerts) -> RecordedAlerts:
        run_id = activity.info().workflow_run_id
        with session_scope(self.engine) as session:
            results = [self._store(session, req, run_id) for req in batch.alerts]
        for req, result in zip(batch.alerts, results, strict=True):
            self._log_recorded(req, result)
        return RecordedAlerts(results=results)

    def _store(self, session: Session, req: RecordAlert, run_id: str) -> RecordedAlert:
        a, tenant_id = req.item.alert, req.item.tenant_id
        applied, earlier = True, None
        existing = session.exec(select(SocAlert).where(SocAlert.dedupe_key == a.dedupe_key)).first()
        # New to this incident run, also when this activity is a retry of the run's own first write;
        # an alert stored by an earlier run (e.g. polled again much later) is a repeat, not a new threat.
        is_new = existing is None or existing.run_id == run_id
        if existing is None:
            session.add(SocAlert.of(a, tenant_id, req.incident_key, run_id))
        else:
            if existing.run_id != run_id and req.known_status is None:
                existing.deliveries += 1
            # A later delivery with another status (resolved, mitigated, ...) updates the row; a retry of
            # this activity finds the status already stored and changes nothing.
            applied = not is_stale_update(existing.vendor_updated_at, a.vendor_updated_at)
            if applied and existing.vendor_status != a.status.value:
                before = AlertStatus(existing.vendor_status)
                existing.vendor_status = a.status.value
                existing.vendor_updated_at = a.vendor_updated_at or existing.vendor_updated_at
                existing.deliveries += 1 if req.known_status is not None else 0
                existing.normalized = a.model_dump(mode="json", exclude={"raw"})
                existing.raw = a.raw
                if existing.run_id != run_id and existing.incident_key is not None:
                    earlier = _closed_incident_update(session, existing, before)
        asset = _find_asset(session, tenant_id, a)
        integration = session.get(SocIntegration, UUID(a.integration_id)) if req.with_policy else None
        return RecordedAlert(
            is_new=is_new,
            asset_id=asset.id if asset else None,
            asset_type=asset.asset_type.value if asset else None,
            asset_tags=list(asset.tags) if asset else [],
            asset_hostname=asset.hostname if asset else None,
            applied=applied,
            # Only the alert's own tenant's integration can set its policy.
            policy=_policy(self.settings, _own(integration, tenant_id)) if req.with_policy else None,
            llm_summary=self.settings.llm_configured if req.with_policy else None,
            earlier=earlier,
        )

    @staticmethod
    def _log_recorded(req: RecordAlert, result: RecordedAlert) -> None:
        a = req.item.alert
        log.info(
            "soc alert recorded",
            tenant_id=str(req.item.tenant_id),
            dedupe_key=a.dedupe_key,
            new=result.is_new,
            vendor_status=a.status.value,
            applied=result.applied,
            incident=req.incident_key,
            workflow_id=activity.info().workflow_id,
        )

    @activity.defn(name=SocActivity.RECORD_INCIDENT)
    def record_incident(self, rec: IncidentRecord) -> None:
        with session_scope(self.engine) as session:
            row = session.get(SocIncident, rec.key) or SocIncident(
                key=rec.key,
                tenant_id=rec.tenant_id,
                status=rec.status,
                priority=rec.priority.value,
                title=rec.title[:500],
                first_alert_at=rec.first_alert_at,
                last_alert_at=rec.last_alert_at,
            )
            row.ticket_id, row.asset_id, row.status = rec.ticket_id, rec.asset_id, rec.status
            row.priority, row.alert_count, row.last_alert_at = rec.priority.value, rec.alert_count, rec.last_alert_at
            row.resolved_at = rec.resolved_at
            row.device_keys = rec.device_keys
            row.vendor_status, row.vendor_resolved_at = rec.vendor_status, rec.vendor_resolved_at
            row.paged_level, row.acknowledged_by, row.acknowledged_at = (
                rec.paged_level,
                rec.acknowledged_by,
                rec.acknowledged_at,
            )
            session.add(row)

    @activity.defn(name=SocActivity.PAGE)
    def page(self, req: PageRequest) -> str:
        """Page one on-call level. The body is rendered from the request alone and sent with its key as
        Idempotency-Key, so a retry repeats the same page and the paging tool can drop it."""
        ids = {"incident": req.incident_key, "level": req.level, "key": req.key, "tenant_id": str(req.tenant_id)}
        try:
            post_json(
                req.url,
                page_body(req),
                idempotency_key=req.key,
                timeout=self.settings.notify_timeout,
                client=self._http,
            )
        except WebhookError as err:
            log.warning("page failed", **ids, error=str(err), attempt=activity.info().attempt)
            # A 4xx other than timeout/rate limit will not heal by retrying: the next level is paged instead.
            status = err.status_code or 0
            permanent = 400 <= status < 500 and status not in (408, 429)
            raise ApplicationError(str(err), type="PageFailed", non_retryable=permanent) from err
        log.info("on-call paged", **ids, destination=redact_url(req.url))
        return redact_url(req.url)
