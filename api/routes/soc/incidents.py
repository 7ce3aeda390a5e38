"""SOC incidents: list and read them, approve or reject a proposed containment, acknowledge a P1 page, and an
incident's vendor status and on-call paging. The incident row answers what is stored; the running incident workflow
answers what is live (containment proposal, paging) and receives the decisions, so no transaction stays open while
it works."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api.deps import CurrentUser, MspStaff, Principal, SessionDep, TemporalDep
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.schemas.common import Body, field_error, filter_time, text
from domain.contracts.soc import (
    ACKNOWLEDGE_ROLES,
    Acknowledgement,
    ContainmentDecision,
    ContainmentProposal,
    PagingState,
)
from domain.processes import incident_key, incident_workflow_id
from domain.soc.alerts import Source
from domain.tickets import Priority
from hub.temporal.soc import acknowledge_page, incident_state
from hub.temporal.soc import decide_containment as send_containment_decision
from models import SocAlert, SocIncident, SocIntegration, Tenant

router = APIRouter(tags=["soc"])


class ContainmentBody(Body):
    approve: bool
    reason: text(2_000) | None = None


class IncidentPublic(BaseModel):
    key: str
    workflow_id: str = Field(description="incident-<key>: the id the webhook answers and the Temporal UI shows")
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
    device_keys: list[str] = Field(
        default_factory=list,
        description="Every device its alerts name: `agent:<vendor>:<agent id>`, `host:<host name>` or `ip:<address>` "
        "(a RocketCyber incident names each affected device)",
    )
    paged_level: int | None = Field(default=None, description="P1: the on-call level paged last")
    acknowledged_by: UUID | None = None
    acknowledged_at: datetime | None = None
    containment: ContainmentProposal | None = None
    containment_note: str | None = Field(
        default=None, description="Why no containment is proposed (or why it is no longer shown here)"
    )


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


def _public(row: SocIncident, **live) -> IncidentPublic:  # noqa: ANN003
    extra = {"workflow_id": incident_workflow_id(row.key), "device_keys": row.device_keys or []}
    public = IncidentPublic.model_validate(row.model_dump() | extra)
    return public.model_copy(update=live)


@router.get(
    "/soc/incidents",
    response_model=Page[IncidentPublic],
    summary="List incidents, newest alert first (MSP staff)",
    description="Filters combine; `from`/`to` select by the time of the incident's latest alert.",
)
def list_incidents(
    principal: MspStaff,
    session: SessionDep,
    page: PageDep,
    tenant_id: UUID | None = None,
    customer_number: Annotated[str | None, Query(max_length=32)] = None,
    status: Literal["open", "closed"] | None = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
):
    query = select(SocIncident)
    if tenant_id is not None:
        query = query.where(SocIncident.tenant_id == tenant_id)
    if customer_number is not None:
        query = query.join(Tenant, col(Tenant.id) == SocIncident.tenant_id).where(
            Tenant.customer_number == customer_number
        )
    if status is not None:
        query = query.where(SocIncident.status == status)
    if priority:
        query = query.where(col(SocIncident.priority).in_([p.value for p in priority]))
    from_ = filter_time("from", from_) if from_ is not None else None
    to = filter_time("to", to) if to is not None else None
    if from_ is not None and to is not None and from_ >= to:
        raise field_error("to", "must be after from")
    if from_ is not None:
        query = query.where(col(SocIncident.last_alert_at) >= from_)
    if to is not None:
        query = query.where(col(SocIncident.last_alert_at) < to)
    query = query.order_by(col(SocIncident.last_alert_at).desc(), col(SocIncident.key))
    return paginate(session, query, page, _public)


def _containment_note(session: Session, row: SocIncident, live: bool) -> str | None:
    """Why an incident shows no containment proposal: a person should not have to guess."""
    if not live:
        if row.status == "open":
            return "the running incident cannot be asked now (Temporal unreachable); try again shortly"
        return "the incident is closed; its containment decision, if any, is in the ticket's history"
    if row.priority != Priority.P1.value:
        return "containment is proposed for P1 incidents only"
    alert = session.exec(select(SocAlert).where(SocAlert.incident_key == row.key)).first()
    integration = session.get(SocIntegration, alert.integration_id) if alert is not None else None
    if integration is None or integration.source != Source.SENTINELONE.value:
        return "containment (disconnecting the device) is available for SentinelOne integrations only"
    if not integration.credentials_ref:
        return "the SentinelOne integration has no API credentials (credentials_ref): the hub cannot contain devices"
    return "the alert names no SentinelOne agent to disconnect"


@router.get("/soc/incidents/{key}", response_model=IncidentPublic, summary="An incident (MSP staff)")
async def get_incident(key: str, principal: MspStaff, session: SessionDep, temporal: TemporalDep):
    """`key` is the incident's key or its workflow id (`incident-<key>`, as the webhook answers)."""
    row = _incident(session, key)
    state = await incident_state(temporal, row.key)
    containment = state.containment if state is not None else None
    note = None if containment is not None else _containment_note(session, row, state is not None)
    return _public(row, containment=containment, containment_note=note)


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
