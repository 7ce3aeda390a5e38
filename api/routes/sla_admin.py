"""SLA administration: business calendars, SLA definitions, versioned escalation policies and a dry run of the
SLA clock for people who design policies.

These are MSP-wide resources (no tenant owns them): MSP staff read them, MSP admins write them, customers never
see them. Every write leaves an audit event with tenant_id NULL. A 422 for an invalid document names the offending
field by its full path in the request, e.g. ``spec.hours.0.0`` or ``document.levels.1.name``.
"""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.deps import Principal, SessionDep, require_roles
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.schemas.common import apply_changes, audit_event, field_error
from api.schemas.sla import (
    CalendarCreate,
    CalendarPublic,
    CalendarUpdate,
    EscalationPolicyCreate,
    EscalationPolicyPublic,
    EscalationPolicySummary,
    EscalationPolicyVersionPublic,
    PolicyValidation,
    SimulatedEscalation,
    SimulationRequest,
    SimulationResult,
    SlaDefinitionCreate,
    SlaDefinitionPublic,
    SlaDefinitionUpdate,
)
from domain.business_calendar import CalendarSpec
from domain.escalation import EscalationPolicyDocument, TargetKind
from domain.roles import MSP_ROLES, Role
from domain.sla import SlaContext, SlaDefinition
from domain.sla_simulation import simulate, ticket_timeline
from domain.tickets import TicketStatus
from models import BusinessCalendarRow, Contract, EscalationPolicy, EscalationPolicyVersion, SlaDefinitionRow, Tenant
from models.base import utcnow

router = APIRouter()
calendars = APIRouter(prefix="/calendars", tags=["sla"])
definitions = APIRouter(prefix="/sla-definitions", tags=["sla"])
policies = APIRouter(prefix="/escalation-policies", tags=["sla"])
simulation = APIRouter(prefix="/sla", tags=["sla"])

Admin = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(*MSP_ROLES))]
Simulator = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN, Role.MSP_TECH))]


def _check_name(session: Session, model: Any, name: str, what: str, own_id: UUID | None = None) -> None:
    query = select(model.id).where(model.name == name)
    if own_id is not None:
        query = query.where(model.id != own_id)
    if session.exec(query).first() is not None:
        raise field_error("name", f"{what} named {name!r} already exists", 409)


def _count(session: Session, model: Any, column: Any, ident: UUID) -> int:
    return session.exec(select(func.count()).select_from(model).where(column == ident)).one()


def _in_use(entity: str, ident: UUID, **users: int) -> None:
    used = [f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in users.items() if n]
    if used:
        raise Problem(409, f"{entity} {ident} is still used by {' and '.join(used)}; point them elsewhere first")


def _changes(body: Any, *documents: str) -> dict[str, Any]:
    """The fields a PATCH sets; documents are replaced whole (JSON form, defaults included)."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in set(documents) & changes.keys():
        changes[name] = changes[name].model_dump(mode="json")
    return changes


# --- business calendars -----------------------------------------------------------------------------------------


def _calendar_public(row: BusinessCalendarRow) -> CalendarPublic:
    return CalendarPublic(
        id=row.id, name=row.name, spec=CalendarSpec.model_validate(row.spec), created_at=row.created_at
    )


def _load_calendar(session: Session, calendar_id: UUID) -> BusinessCalendarRow:
    row = session.get(BusinessCalendarRow, calendar_id)
    if row is None:
        raise not_found("calendar", calendar_id)
    return row


@calendars.get("", response_model=Page[CalendarPublic], summary="List business calendars (MSP staff)")
def list_calendars(principal: Reader, session: SessionDep, page: PageDep):
    query = select(BusinessCalendarRow).order_by(BusinessCalendarRow.name, BusinessCalendarRow.id)
    return paginate(session, query, page, _calendar_public)


@calendars.get("/{calendar_id}", response_model=CalendarPublic, summary="One business calendar")
def get_calendar(calendar_id: UUID, principal: Reader, session: SessionDep):
    return _calendar_public(_load_calendar(session, calendar_id))


@calendars.post("", status_code=201, response_model=CalendarPublic, summary="Create a business calendar (MSP admins)")
def create_calendar(body: CalendarCreate, principal: Admin, session: SessionDep):
    _check_name(session, BusinessCalendarRow, body.name, "a calendar")
    row = BusinessCalendarRow(name=body.name, spec=body.spec.model_dump(mode="json"))
    session.add(row)
    session.flush()
    session.add(audit_event(principal, None, "calendar", row.id, "created", {"name": row.name, "spec": row.spec}))
    session.flush()
    return _calendar_public(row)


@calendars.patch(
    "/{calendar_id}",
    response_model=CalendarPublic,
    summary="Rename or replace a calendar (MSP admins)",
    description="Tickets already running keep the due times computed with the old calendar."
    " To apply the change to them, re-pin: POST /api/v1/sla/repin (or /tickets/{id}/sla/repin).",
)
def update_calendar(calendar_id: UUID, body: CalendarUpdate, principal: Admin, session: SessionDep):
    row = _load_calendar(session, calendar_id)
    changes = _changes(body, "spec")
    if "name" in changes:
        _check_name(session, BusinessCalendarRow, changes["name"], "a calendar", own_id=row.id)
    changed = apply_changes(row, changes)
    if changed:
        session.add(audit_event(principal, None, "calendar", row.id, "updated", changed))
        session.flush()
    return _calendar_public(row)


@calendars.delete(
    "/{calendar_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a calendar that no tenant or contract uses (MSP admins)",
)
def delete_calendar(calendar_id: UUID, principal: Admin, session: SessionDep) -> Response:
    row = _load_calendar(session, calendar_id)
    _in_use(
        "calendar",
        row.id,
        tenant=_count(session, Tenant, Tenant.calendar_id, row.id),
        contract=_count(session, Contract, Contract.calendar_id, row.id),
    )
    session.add(audit_event(principal, None, "calendar", row.id, "deleted", {"name": row.name}))
    session.delete(row)
    session.flush()
    return Response(status_code=204)


# --- SLA definitions --------------------------------------------------------------------------------------------


def _definition_public(row: SlaDefinitionRow) -> SlaDefinitionPublic:
    return SlaDefinitionPublic(
        id=row.id,
        name=row.name,
        document=SlaDefinition.model_validate(row.document),
        escalation_policy_id=row.escalation_policy_id,
        is_default=row.is_default,
        created_at=row.created_at,
    )


def _load_definition(session: Session, definition_id: UUID) -> SlaDefinitionRow:
    row = session.get(SlaDefinitionRow, definition_id)
    if row is None:
        raise not_found("SLA definition", definition_id)
    return row


def _check_policy(session: Session, policy_id: UUID | None) -> None:
    if policy_id is not None and session.get(EscalationPolicy, policy_id) is None:
        raise field_error("escalation_policy_id", f"no escalation policy {policy_id}")


def _unset_other_defaults(session: Session, principal: Principal, keep: UUID) -> None:
    """Only one default: the others lose the flag in the same transaction (each with its own audit event)."""
    query = select(SlaDefinitionRow).where(col(SlaDefinitionRow.is_default).is_(True), SlaDefinitionRow.id != keep)
    for other in session.exec(query).all():
        other.is_default = False
        session.add(other)
        session.add(
            audit_event(
                principal, None, "sla_definition", other.id, "updated", {"is_default": False, "replaced_by": str(keep)}
            )
        )
    session.flush()


@definitions.get("", response_model=Page[SlaDefinitionPublic], summary="List SLA definitions (MSP staff)")
def list_definitions(principal: Reader, session: SessionDep, page: PageDep):
    query = select(SlaDefinitionRow).order_by(SlaDefinitionRow.name, SlaDefinitionRow.id)
    return paginate(session, query, page, _definition_public)


@definitions.get("/{definition_id}", response_model=SlaDefinitionPublic, summary="One SLA definition")
def get_definition(definition_id: UUID, principal: Reader, session: SessionDep):
    return _definition_public(_load_definition(session, definition_id))


@definitions.post(
    "", status_code=201, response_model=SlaDefinitionPublic, summary="Create an SLA definition (MSP admins)"
)
def create_definition(body: SlaDefinitionCreate, principal: Admin, session: SessionDep):
    _check_name(session, SlaDefinitionRow, body.name, "an SLA definition")
    _check_policy(session, body.escalation_policy_id)
    row = SlaDefinitionRow(
        name=body.name,
        document=body.document.model_dump(mode="json"),
        escalation_policy_id=body.escalation_policy_id,
        is_default=body.is_default,
    )
    if row.is_default:  # first, so the one-default unique index never sees two
        _unset_other_defaults(session, principal, row.id)
    session.add(row)
    session.flush()
    data = _definition_public(row).model_dump(mode="json", exclude={"id", "created_at"})
    session.add(audit_event(principal, None, "sla_definition", row.id, "created", data))
    session.flush()
    return _definition_public(row)


@definitions.patch(
    "/{definition_id}",
    response_model=SlaDefinitionPublic,
    summary="Change an SLA definition",
    description="MSP admins. Tickets already running keep the targets they started with."
    " To apply the change to them, re-pin: POST /api/v1/sla/repin (or /tickets/{id}/sla/repin).",
)
def update_definition(definition_id: UUID, body: SlaDefinitionUpdate, principal: Admin, session: SessionDep):
    row = _load_definition(session, definition_id)
    changes = _changes(body, "document")
    if "name" in changes:
        _check_name(session, SlaDefinitionRow, changes["name"], "an SLA definition", own_id=row.id)
    if "escalation_policy_id" in changes:
        _check_policy(session, changes["escalation_policy_id"])
    if changes.get("is_default") is True and not row.is_default:
        _unset_other_defaults(session, principal, row.id)
    changed = apply_changes(row, changes)
    if changed:
        session.add(audit_event(principal, None, "sla_definition", row.id, "updated", changed))
        session.flush()
    return _definition_public(row)


@definitions.delete(
    "/{definition_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an SLA definition that no contract uses (MSP admins)",
)
def delete_definition(definition_id: UUID, principal: Admin, session: SessionDep) -> Response:
    row = _load_definition(session, definition_id)
    _in_use("SLA definition", row.id, contract=_count(session, Contract, Contract.sla_definition_id, row.id))
    session.add(
        audit_event(
            principal, None, "sla_definition", row.id, "deleted", {"name": row.name, "is_default": row.is_default}
        )
    )
    session.delete(row)
    session.flush()
    return Response(status_code=204)


# --- escalation policies ----------------------------------------------------------------------------------------

_POLICY_SCHEMA = EscalationPolicyDocument.model_json_schema()


def _versions(session: Session, policy_id: UUID) -> list[EscalationPolicyVersion]:
    query = select(EscalationPolicyVersion).where(EscalationPolicyVersion.policy_id == policy_id)
    return list(session.exec(query.order_by(EscalationPolicyVersion.version)))


def _version_public(policy: EscalationPolicy, version: EscalationPolicyVersion) -> EscalationPolicyVersionPublic:
    return EscalationPolicyVersionPublic(
        id=version.id,
        policy_id=version.policy_id,
        version=version.version,
        active=version.id == policy.active_version_id,
        document=EscalationPolicyDocument.model_validate(version.document),
        created_by_user_id=version.created_by_user_id,
        created_at=version.created_at,
        activated_at=version.activated_at,
    )


def _summary_fields(session: Session, policy: EscalationPolicy) -> dict[str, Any]:
    numbers = session.exec(
        select(EscalationPolicyVersion.id, EscalationPolicyVersion.version).where(
            EscalationPolicyVersion.policy_id == policy.id
        )
    ).all()
    active = next((n for ident, n in numbers if ident == policy.active_version_id), None)
    return {
        "id": policy.id,
        "name": policy.name,
        "active_version_id": policy.active_version_id,
        "active_version": active,
        "latest_version": max((n for _, n in numbers), default=0),
        "created_at": policy.created_at,
    }


def _policy_public(session: Session, policy: EscalationPolicy) -> EscalationPolicyPublic:
    versions = [_version_public(policy, v) for v in _versions(session, policy.id)]
    return EscalationPolicyPublic(**_summary_fields(session, policy), versions=versions)


def _load_policy(session: Session, policy_id: UUID) -> EscalationPolicy:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise not_found("escalation policy", policy_id)
    return policy


def _load_version(session: Session, policy: EscalationPolicy, number: int) -> EscalationPolicyVersion:
    version = session.exec(
        select(EscalationPolicyVersion).where(
            EscalationPolicyVersion.policy_id == policy.id, EscalationPolicyVersion.version == number
        )
    ).one_or_none()
    if version is None:
        raise Problem(404, f"escalation policy {policy.id} has no version {number}", "Not Found")
    return version


VersionNumber = Annotated[int, Path(ge=1, le=1_000_000, description="Version number (1, 2, ...)")]


@policies.get("/schema", summary="JSON Schema of an escalation policy document (for policy editors)")
def policy_schema(principal: Admin) -> dict[str, Any]:
    return _POLICY_SCHEMA


@policies.post(
    "/validate",
    response_model=PolicyValidation,
    summary="Check a policy document without saving it",
    description="200 with the number of levels, or a 422 problem naming the offending field.",
)
def validate_policy(body: EscalationPolicyDocument, principal: Admin):
    return PolicyValidation(valid=True, levels=len(body.levels))


@policies.get("", response_model=Page[EscalationPolicySummary], summary="List escalation policies (MSP admins)")
def list_policies(principal: Admin, session: SessionDep, page: PageDep):
    query = select(EscalationPolicy).order_by(EscalationPolicy.name, EscalationPolicy.id)
    return paginate(session, query, page, lambda p: EscalationPolicySummary(**_summary_fields(session, p)))


@policies.post(
    "",
    status_code=201,
    response_model=EscalationPolicyPublic,
    summary="Create a policy with its document as version 1 (not active yet)",
)
def create_policy(body: EscalationPolicyCreate, principal: Admin, session: SessionDep):
    _check_name(session, EscalationPolicy, body.name, "an escalation policy")
    policy = EscalationPolicy(name=body.name)
    session.add(policy)
    session.flush()
    version = EscalationPolicyVersion(
        policy_id=policy.id,
        version=1,
        document=body.document.model_dump(mode="json"),
        created_by_user_id=principal.user_id,
    )
    session.add(version)
    session.flush()
    session.add(
        audit_event(
            principal,
            None,
            "escalation_policy",
            policy.id,
            "created",
            {"name": policy.name, "version": 1, "version_id": version.id, "levels": len(body.document.levels)},
        )
    )
    session.flush()
    return _policy_public(session, policy)


@policies.get("/{policy_id}", response_model=EscalationPolicyPublic, summary="A policy with all its versions")
def get_policy(policy_id: UUID, principal: Admin, session: SessionDep):
    return _policy_public(session, _load_policy(session, policy_id))


@policies.get(
    "/{policy_id}/versions/{version}", response_model=EscalationPolicyVersionPublic, summary="One version of a policy"
)
def get_policy_version(policy_id: UUID, version: VersionNumber, principal: Admin, session: SessionDep):
    policy = _load_policy(session, policy_id)
    return _version_public(policy, _load_version(session, policy, version))


@policies.post(
    "/{policy_id}/versions",
    status_code=201,
    response_model=EscalationPolicyVersionPublic,
    summary="Add the next version of a policy (not active yet)",
    description="Versions are immutable once written: change a policy by adding a version.",
)
def create_policy_version(policy_id: UUID, body: EscalationPolicyDocument, principal: Admin, session: SessionDep):
    policy = _load_policy(session, policy_id)
    latest = session.exec(
        select(func.max(EscalationPolicyVersion.version)).where(EscalationPolicyVersion.policy_id == policy.id)
    ).one()
    version = EscalationPolicyVersion(
        policy_id=policy.id,
        version=(latest or 0) + 1,
        document=body.model_dump(mode="json"),
        created_by_user_id=principal.user_id,
    )
    session.add(version)
    session.flush()
    session.add(
        audit_event(
            principal,
            None,
            "escalation_policy",
            policy.id,
            "version_created",
            {"version": version.version, "version_id": version.id, "levels": len(body.levels)},
        )
    )
    session.flush()
    return _version_public(policy, version)


@policies.post(
    "/{policy_id}/versions/{version}/activate",
    response_model=EscalationPolicyPublic,
    summary="Make a version the active one",
    description="Tickets pin the policy version they started with, so activating a version affects "
    "new tickets only; running tickets keep escalating by their version (re-pin them with POST /api/v1/sla/repin). "
    "Activating the active version again changes nothing.",
)
def activate_policy_version(policy_id: UUID, version: VersionNumber, principal: Admin, session: SessionDep):
    policy = _load_policy(session, policy_id)
    target = _load_version(session, policy, version)
    if policy.active_version_id != target.id:
        previous = session.get(EscalationPolicyVersion, policy.active_version_id) if policy.active_version_id else None
        policy.active_version_id = target.id
        target.activated_at = utcnow()
        session.add_all([policy, target])
        session.add(
            audit_event(
                principal,
                None,
                "escalation_policy",
                policy.id,
                "activated",
                {
                    "version": target.version,
                    "version_id": target.id,
                    "previous_version": previous.version if previous else None,
                },
            )
        )
        session.flush()
    return _policy_public(session, policy)


# --- simulation -------------------------------------------------------------------------------------------------


def _tenant_calendar(session: Session, tenant: Tenant) -> CalendarSpec:
    row = session.get(BusinessCalendarRow, tenant.calendar_id) if tenant.calendar_id else None
    if row is not None:
        return CalendarSpec.model_validate(row.spec)
    return CalendarSpec.standard_dach(tenant.country, tenant.subdivision, tenant.time_zone)  # type: ignore[arg-type]


def _active_policy(
    session: Session, policy_id: UUID, *, required: bool
) -> tuple[EscalationPolicyDocument | None, int | None]:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise field_error("escalation_policy_id", f"no escalation policy {policy_id}")
    version = session.get(EscalationPolicyVersion, policy.active_version_id) if policy.active_version_id else None
    if version is None:
        if required:
            raise field_error(
                "escalation_policy_id",
                f"escalation policy {policy_id} has no active version; activate one or send the draft as policy",
            )
        return None, None
    return EscalationPolicyDocument.model_validate(version.document), version.version


@simulation.post(
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
def simulate_sla(body: SimulationRequest, principal: Simulator, session: SessionDep):
    calendar, customer_number = body.calendar, body.customer_number
    if body.tenant_id is not None:
        tenant = session.get(Tenant, body.tenant_id)
        if tenant is None:
            raise field_error("tenant_id", f"no tenant {body.tenant_id}")
        calendar = _tenant_calendar(session, tenant)
        customer_number = customer_number or tenant.customer_number
    assert calendar is not None

    linked_policy_id = None
    if body.sla_definition_id is not None:
        row = session.get(SlaDefinitionRow, body.sla_definition_id)
        if row is None:
            raise field_error("sla_definition_id", f"no SLA definition {body.sla_definition_id}")
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


for _sub in (calendars, definitions, policies, simulation):
    router.include_router(_sub)
