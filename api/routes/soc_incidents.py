"""SOC incident lifecycle: acknowledging a P1 page, an incident's vendor status and paging, and each
integration's triage settings (overrides of the hub's PSA_SOC_* defaults: correlation window, priority matrix,
auto-resolve, on-call chain)."""

from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.soc import hub_defaults
from api.deps import CurrentUser, Principal, SessionDep, SettingsDep, TemporalDep, require_roles
from api.problems import Problem, not_found
from api.schemas.common import audit_event
from domain.roles import Role
from domain.soc.incident_flow import ACKNOWLEDGE_ROLES, Acknowledgement, PagingState
from domain.soc.triage import TriageOverride, TriagePolicy, resolve_policy
from models import SocIncident, SocIntegration
from workflows.incident import IncidentWorkflow

router = APIRouter(tags=["soc"])
Admin = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN))]
Staff = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN, Role.MSP_TECH))]


def _visible_incident(session: Session, key: str, principal: Principal) -> SocIncident:
    row = session.get(SocIncident, key)
    # Another tenant's incident does not exist for the caller (checked before the role: nothing leaks).
    if row is None or not principal.can_see_tenant(row.tenant_id):
        raise not_found("incident", key)
    if principal.role not in ACKNOWLEDGE_ROLES:
        allowed = ", ".join(sorted(r.value for r in ACKNOWLEDGE_ROLES))
        raise Problem(403, f"role {principal.role.value} may not do this; allowed roles: {allowed}")
    return row


@router.post(
    "/soc/incidents/{key}/acknowledge",
    response_model=PagingState,
    summary="Acknowledge the on-call page of a P1 incident (MSP admins and technicians)",
    description="Stops the escalation to the next on-call level; who acknowledged and when is kept in the "
    "workflow history, the incident and the ticket. 409 when no page is waiting for an acknowledgement.",
)
async def acknowledge(key: str, principal: CurrentUser, session: SessionDep, temporal: TemporalDep):
    _visible_incident(session, key, principal)
    session.commit()  # no transaction held open while the workflow works
    ack = Acknowledgement(
        actor_user_id=principal.user_id, actor_role=principal.role, actor_name=principal.display_name[:200]
    )
    handle = temporal.get_workflow_handle(f"incident-{key}")
    try:
        return await handle.execute_update(IncidentWorkflow.acknowledge, ack, rpc_timeout=timedelta(seconds=30))
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise Problem(409, cause.message if isinstance(cause, ApplicationError) else str(cause)) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise Problem(503, "the incident did not answer in time; check the incident and try again") from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Problem(409, "the incident is closed; nothing to acknowledge") from None
        raise


class IncidentLifecycle(BaseModel):
    key: str
    vendor_status: str | None
    vendor_resolved_at: datetime | None
    paged_level: int | None
    acknowledged_by: UUID | None
    acknowledged_at: datetime | None
    paging: PagingState | None = Field(default=None, description="Live from the running incident; None once closed")


@router.get(
    "/soc/incidents/{key}/lifecycle",
    response_model=IncidentLifecycle,
    summary="Vendor status and on-call paging of an incident (MSP admins and technicians)",
)
async def get_lifecycle(key: str, principal: CurrentUser, session: SessionDep, temporal: TemporalDep):
    row = _visible_incident(session, key, principal)
    try:
        paging = (await temporal.get_workflow_handle(f"incident-{key}").query(IncidentWorkflow.state)).paging
    except RPCError:
        paging = None  # closed: the row and the ticket keep what happened
    return IncidentLifecycle.model_validate(row, from_attributes=True).model_copy(update={"paging": paging})


class TriageSettingsPublic(BaseModel):
    integration_id: UUID
    override: TriageOverride = TriageOverride()
    effective: TriagePolicy


def _integration(session: Session, integration_id: UUID) -> SocIntegration:
    row = session.get(SocIntegration, integration_id)
    if row is None:
        raise not_found("integration", integration_id)
    return row


def _settings_of(row: SocIntegration, defaults: TriagePolicy) -> TriageSettingsPublic:
    override = TriageOverride.model_validate(row.triage_settings or {})
    return TriageSettingsPublic(integration_id=row.id, override=override, effective=resolve_policy(defaults, override))


@router.get(
    "/soc/integrations/{integration_id}/triage-settings",
    response_model=TriageSettingsPublic,
    summary="Triage settings of an integration: its overrides and the policy in force (MSP staff)",
)
def get_triage_settings(integration_id: UUID, principal: Staff, session: SessionDep, settings: SettingsDep):
    return _settings_of(_integration(session, integration_id), hub_defaults(settings))


@router.patch(
    "/soc/integrations/{integration_id}/triage-settings",
    response_model=TriageSettingsPublic,
    summary="Change an integration's triage overrides (MSP admins); null removes an override",
    description="Applies to incidents that start afterwards; a running incident keeps the policy it started with.",
)
def patch_triage_settings(
    integration_id: UUID, body: TriageOverride, principal: Admin, session: SessionDep, settings: SettingsDep
):
    row = _integration(session, integration_id)
    merged: dict[str, Any] = dict(row.triage_settings or {})
    merged.update(body.model_dump(mode="json", exclude_unset=True))
    merged = {k: v for k, v in merged.items() if v is not None}
    TriageOverride.model_validate(merged)  # each part was valid; so is the whole
    row.triage_settings = merged or None
    session.add(row)
    session.add(
        audit_event(principal, row.tenant_id, "soc_integration", row.id, "triage_settings_changed", {"set": merged})
    )
    return _settings_of(row, hub_defaults(settings))
