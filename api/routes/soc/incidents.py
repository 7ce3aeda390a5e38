"""SOC incidents: read one, approve or reject its proposed containment, acknowledge a P1 page, and its vendor status
and on-call paging. The incident row answers what is stored; the running incident workflow answers what is live
(containment proposal, paging) and receives the decisions, so no transaction stays open while it works."""

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.deps import CurrentUser, MspStaff, Principal, SessionDep, TemporalDep
from api.problems import Problem, not_found
from api.schemas.common import Body, text
from domain.contracts.soc import (
    ACKNOWLEDGE_ROLES,
    Acknowledgement,
    ContainmentDecision,
    ContainmentProposal,
    PagingState,
)
from domain.processes import incident_key
from hub.temporal.soc import acknowledge_page, incident_state
from hub.temporal.soc import decide_containment as send_containment_decision
from models import SocIncident

router = APIRouter(tags=["soc"])


class ContainmentBody(Body):
    approve: bool
    reason: text(2_000) | None = None


class IncidentPublic(BaseModel):
    key: str
    tenant_id: UUID
    ticket_id: UUID | None
    status: str
    priority: str
    title: str
    alert_count: int
    first_alert_at: datetime
    last_alert_at: datetime
    vendor_status: str | None = Field(default=None, description="The vendor's view: new ... resolved, over all alerts")
    vendor_resolved_at: datetime | None = None
    paged_level: int | None = Field(default=None, description="P1: the on-call level paged last")
    acknowledged_by: UUID | None = None
    acknowledged_at: datetime | None = None
    containment: ContainmentProposal | None = None


class IncidentLifecycle(BaseModel):
    key: str
    vendor_status: str | None
    vendor_resolved_at: datetime | None
    paged_level: int | None
    acknowledged_by: UUID | None
    acknowledged_at: datetime | None
    paging: PagingState | None = Field(default=None, description="Live from the running incident; None once closed")


def _incident(session: Session, key: str) -> SocIncident:
    row = session.get(SocIncident, incident_key(key))  # the key or the workflow id the webhook answered
    if row is None:
        raise not_found("incident", key)
    return row


def _visible_incident(session: Session, key: str, principal: Principal) -> SocIncident:
    row = session.get(SocIncident, incident_key(key))
    # Another tenant's incident does not exist for the caller (checked before the role: nothing leaks).
    if row is None or not principal.can_see_tenant(row.tenant_id):
        raise not_found("incident", key)
    if principal.role not in ACKNOWLEDGE_ROLES:
        allowed = ", ".join(sorted(r.value for r in ACKNOWLEDGE_ROLES))
        raise Problem(403, f"role {principal.role.value} may not do this; allowed roles: {allowed}")
    return row


@router.get("/soc/incidents/{key}", response_model=IncidentPublic, summary="An incident (MSP staff)")
async def get_incident(key: str, principal: MspStaff, session: SessionDep, temporal: TemporalDep):
    row = _incident(session, key)
    state = await incident_state(temporal, row.key)
    containment = state.containment if state is not None else None  # closed: its decisions are in the ticket
    return IncidentPublic.model_validate(row, from_attributes=True).model_copy(update={"containment": containment})


@router.post(
    "/soc/incidents/{key}/containment",
    response_model=ContainmentProposal,
    summary="Approve or reject the proposed containment (MSP admins and technicians)",
    description="Approval runs the action at the vendor (e.g. SentinelOne: disconnect from network); "
    "who decided and when is kept in the workflow history and in the ticket.",
)
async def decide_containment(
    key: str, body: ContainmentBody, principal: MspStaff, session: SessionDep, temporal: TemporalDep
):
    _incident(session, key)
    session.commit()
    decision = ContainmentDecision(
        actor_user_id=principal.user_id, actor_role=principal.role, approve=body.approve, reason=body.reason
    )
    return await send_containment_decision(temporal, key, decision)


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
    return await acknowledge_page(temporal, key, ack)


@router.get(
    "/soc/incidents/{key}/lifecycle",
    response_model=IncidentLifecycle,
    summary="Vendor status and on-call paging of an incident (MSP admins and technicians)",
)
async def get_lifecycle(key: str, principal: CurrentUser, session: SessionDep, temporal: TemporalDep):
    row = _visible_incident(session, key, principal)
    state = await incident_state(temporal, row.key)
    paging = state.paging if state is not None else None  # closed: the row and the ticket keep what happened
    return IncidentLifecycle.model_validate(row, from_attributes=True).model_copy(update={"paging": paging})
