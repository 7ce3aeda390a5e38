"""Dry run of the SLA clock for people who design SLAs and escalation policies: when targets fall due and which
levels fire. Stored calendars, definitions and policies resolve as for a real ticket (models.sla_context), and
inline drafts stand in for them; nothing is written.
"""

from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from sqlmodel import Session

from api.crud import get_or_422
from api.deps import MspStaff, SessionDep
from api.schemas.common import field_error
from api.schemas.sla import SimulatedEscalation, SimulationRequest, SimulationResult
from domain.escalation import EscalationPolicyDocument, TargetKind
from domain.sla import SlaContext, SlaDefinition
from domain.sla_simulation import simulate, ticket_timeline
from domain.tickets import TicketStatus
from models import SlaDefinitionRow, Tenant
from models.sla_context import UnknownPolicy, active_policy, tenant_calendar

router = APIRouter(prefix="/sla", tags=["sla"])


def _active_policy(
    session: Session, policy_id: UUID, *, required: bool
) -> tuple[EscalationPolicyDocument | None, int | None]:
    try:
        active = active_policy(session, policy_id)
    except UnknownPolicy:
        raise field_error("escalation_policy_id", f"no escalation policy {policy_id}") from None
    if active is None:
        if required:
            raise field_error(
                "escalation_policy_id",
                f"escalation policy {policy_id} has no active version; activate one or send the draft as policy",
            )
        return None, None
    return active.document, active.version


@router.post(
    "/simulate",
    response_model=SimulationResult,
    summary="Dry run: when targets fall due and levels fire",
    description="For people designing SLAs and escalation policies (MSP admins and technicians); creates nothing. "
    "Calendar: tenant_id (its calendar, else Mon-Fri 08-17 with its regional holidays) or an inline "
    "calendar. Targets for the priority: sla_definition_id, an inline definition or explicit targets. "
    "Policy: escalation_policy_id (its active version), an inline draft policy, or else the active "
    "version of the stored definition's policy. The ticket is created at created_at, waits for the "
    "customer during each pause, and is never answered unless first_response_at is given. Due times "
    "are those after the last event; escalations lists every action with the instant it fires, in UTC "
    "and in the calendar's local time.",
)
def simulate_sla(body: SimulationRequest, principal: MspStaff, session: SessionDep):
    calendar, customer_number = body.calendar, body.customer_number
    if body.tenant_id is not None:
        tenant = get_or_422(session, Tenant, body.tenant_id, "tenant_id", "tenant")
        calendar = tenant_calendar(session, tenant)
        customer_number = customer_number or tenant.customer_number
    assert calendar is not None

    linked_policy_id = None
    if body.sla_definition_id is not None:
        row = get_or_422(session, SlaDefinitionRow, body.sla_definition_id, "sla_definition_id", "SLA definition")
        definition = SlaDefinition.model_validate(row.document)
        linked_policy_id = row.escalation_policy_id
    elif body.definition is not None:
        definition = body.definition
    else:
        assert body.targets is not None
        definition = SlaDefinition(name="Simulation", targets={body.priority: body.targets})
    targets = definition.targets.get(body.priority)
    if targets is None:
        raise field_error("priority", f"the SLA definition has no targets for {body.priority.value}")

    policy, policy_id, policy_version = body.policy, None, None
    if body.escalation_policy_id is not None:
        policy_id = body.escalation_policy_id
        policy, policy_version = _active_policy(session, policy_id, required=True)
    elif policy is None and linked_policy_id is not None:
        policy, policy_version = _active_policy(session, linked_policy_id, required=False)
        policy_id = linked_policy_id if policy is not None else None

    context = SlaContext(
        definition=definition,
        calendar=calendar,
        policy=policy,
        customer_number=customer_number or "",
        category=body.category,
    )
    events = ticket_timeline(
        body.created_at,
        body.priority,
        pauses=[(p.start, p.end) for p in body.pauses],
        pause_status=(definition.pause_statuses or [TicketStatus.WAITING_CUSTOMER])[0],
        queue=body.queue,
        first_response_at=body.first_response_at,
        customer_reply_at=body.customer_reply_at,
    )
    try:
        result = simulate(context, events)
    except (ValueError, OverflowError) as err:  # e.g. a calendar that never opens within the horizon
        raise field_error("calendar", f"the SLA clock cannot be computed with this calendar: {err}") from None

    zone = ZoneInfo(calendar.time_zone)

    def utc(value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def local(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat() if value is not None else None

    due = {kind: result.due.get(kind) for kind in TargetKind}
    escalations = [
        SimulatedEscalation(
            level=a.level,
            target=a.target,
            action=a.action.type,
            fire_at=a.fire_at.astimezone(UTC),
            fire_at_local=a.fire_at.astimezone(zone).isoformat(),
            business_hours_only=getattr(a.action, "business_hours_only", False),
            details=a.action.model_dump(mode="json"),
        )
        for a in result.actions
    ]
    return SimulationResult(
        time_zone=calendar.time_zone,
        priority=body.priority,
        final_priority=result.final_priority,
        targets=targets,
        calendar=calendar,
        escalation_policy_id=policy_id,
        policy_version=policy_version,
        created_at=body.created_at.astimezone(UTC),
        created_at_local=body.created_at.astimezone(zone).isoformat(),
        response_due_at=utc(due[TargetKind.RESPONSE]),
        response_due_at_local=local(due[TargetKind.RESPONSE]),
        resolution_due_at=utc(due[TargetKind.RESOLUTION]),
        resolution_due_at_local=local(due[TargetKind.RESOLUTION]),
        update_due_at=utc(due[TargetKind.UPDATE]),
        update_due_at_local=local(due[TargetKind.UPDATE]),
        escalations=escalations,
        truncated=result.truncated,
    )
