"""SOC activities: store each vendor alert once (with asset enrichment) and keep the incident record."""

from uuid import UUID

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from domain.soc.incident_flow import IncidentRecord, RecordAlert, RecordedAlert, SocActivity
from hub.db import session_scope
from hub.logging import get_logger
from models import Asset, SocAlert, SocIncident

log = get_logger(__name__)


def _find_asset(session: Session, tenant_id, hostname: str | None) -> Asset | None:  # noqa: ANN001
    if not hostname:
        return None
    short = hostname.split(".")[0].lower()
    # Only within the alert's tenant: an asset of another customer is never matched.
    return session.exec(
        select(Asset).where(Asset.tenant_id == tenant_id, func.lower(Asset.hostname).in_([hostname.lower(), short]))
    ).first()


class SocActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name=SocActivity.RECORD_ALERT)
    def record_alert(self, req: RecordAlert) -> RecordedAlert:
        try:
            return self._record_alert(req)
        except IntegrityError:
            # The same alert was stored concurrently by another delivery; now it exists, so this is a repeat.
            return self._record_alert(req)

    def _record_alert(self, req: RecordAlert) -> RecordedAlert:
        a, tenant_id = req.item.alert, req.item.tenant_id
        run_id = activity.info().workflow_run_id
        with session_scope(self.engine) as session:
            existing = session.exec(select(SocAlert).where(SocAlert.dedupe_key == a.dedupe_key)).first()
            # New to this incident run, also when this activity is a retry of the run's own first write;
            # an alert stored by an earlier run (e.g. polled again much later) is a repeat, not a new threat.
            is_new = existing is None or existing.run_id == run_id
            if existing is not None and existing.run_id != run_id:
                existing.deliveries += 1
            else:
                session.add(
                    SocAlert(
                        dedupe_key=a.dedupe_key,
                        tenant_id=tenant_id,
                        integration_id=UUID(a.integration_id),
                        run_id=run_id,
                        source=a.source.value,
                        vendor_alert_id=a.vendor_alert_id,
                        incident_key=req.incident_key,
                        title=a.title[:500],
                        severity=a.severity.value,
                        verdict=a.verdict.value,
                        device_hostname=a.device_hostname,
                        detected_at=a.detected_at,
                        normalized=a.model_dump(mode="json", exclude={"raw"}),
                        raw=a.raw,
                    )
                )
            asset = _find_asset(session, tenant_id, a.device_hostname)
            result = RecordedAlert(
                is_new=is_new,
                asset_id=asset.id if asset else None,
                asset_type=asset.asset_type.value if asset else None,
                asset_tags=list(asset.tags) if asset else [],
                asset_hostname=asset.hostname if asset else None,
            )
        log.info(
            "soc alert recorded",
            tenant_id=str(tenant_id),
            dedupe_key=a.dedupe_key,
            new=result.is_new,
            incident=req.incident_key,
            workflow_id=activity.info().workflow_id,
        )
        return result

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
            session.add(row)
