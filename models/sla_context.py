"""Read the SLA context (business calendar, SLA definition, active escalation policy version) from the database
into domain types. The ticket's clock and the SLA simulation both resolve through here, so a calendar fallback
or an active policy version means the same thing to both.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from sqlalchemy import bindparam
from sqlmodel import Session, col, or_, select

from domain.calendar_spec import CalendarSpec
from domain.escalation import EscalationPolicyDocument
from domain.sla import LoadSlaContext, SlaContext, SlaDefinition
from models.contract import Contract
from models.sla import BusinessCalendarRow, EscalationPolicy, EscalationPolicyVersion, SlaDefinitionRow
from models.tenant import Tenant


class UnknownPolicy(LookupError):
    """No escalation policy has this id."""


@dataclass(frozen=True)
class ActivePolicy:
    """The active version of an escalation policy: the document tickets pin, its id and its number."""

    document: EscalationPolicyDocument
    version_id: UUID
    version: int


class TenantSettings(Protocol):
    """A tenant as `Tenant` or as the row `tenant_settings` reads (column selects, no ORM entity to load)."""

    id: UUID
    calendar_id: UUID | None
    country: str
    subdivision: str | None
    time_zone: str
    co_managed: bool
    co_managed_categories: list[str] | None


# Built once with bind parameters: every ticket's opening runs these, and building a statement (and its cache key)
# costs more than SQLite executing it.
_TENANT_SETTINGS = select(
    Tenant.id,
    Tenant.calendar_id,
    Tenant.country,
    Tenant.subdivision,
    Tenant.time_zone,
    Tenant.co_managed,
    Tenant.co_managed_categories,
).where(Tenant.id == bindparam("tenant_id"))
_CALENDAR_SPEC = select(BusinessCalendarRow.spec).where(BusinessCalendarRow.id == bindparam("calendar_id"))
_ACTIVE_VERSION = (
    select(EscalationPolicyVersion.id, EscalationPolicyVersion.version, EscalationPolicyVersion.document)
    .select_from(EscalationPolicy)
    .outerjoin(EscalationPolicyVersion, col(EscalationPolicyVersion.id) == EscalationPolicy.active_version_id)
    .where(EscalationPolicy.id == bindparam("policy_id"))
)
_TERMS_IN_FORCE = (
    select(Contract.sla_definition_id, Contract.calendar_id)
    .where(Contract.tenant_id == bindparam("tenant_id"), col(Contract.start_date) <= bindparam("day"))
    .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= bindparam("day")))
    .where(col(Contract.sla_definition_id).is_not(None))
    .order_by(col(Contract.start_date).desc())
    .limit(1)
)
_DEFINITION_COLUMNS = select(SlaDefinitionRow.id, SlaDefinitionRow.document, SlaDefinitionRow.escalation_policy_id)
_DEFINITION = _DEFINITION_COLUMNS.where(SlaDefinitionRow.id == bindparam("definition_id"))
_DEFAULT_DEFINITION = _DEFINITION_COLUMNS.where(col(SlaDefinitionRow.is_default))


def tenant_settings(session: Session, tenant_id: UUID) -> TenantSettings | None:
    return session.exec(_TENANT_SETTINGS, params={"tenant_id": tenant_id}).first()


def tenant_calendar(session: Session, tenant: TenantSettings, calendar_id: UUID | None = None) -> CalendarSpec:
    """The calendar ``calendar_id`` (a contract's), else the tenant's, else Mon-Fri 08-17 with the tenant's
    regional holidays."""
    ident = calendar_id or tenant.calendar_id
    spec = session.exec(_CALENDAR_SPEC, params={"calendar_id": ident}).first() if ident else None
    if spec is not None:
        return CalendarSpec.model_validate(spec)
    return CalendarSpec.standard_dach(tenant.country, tenant.subdivision, tenant.time_zone)  # type: ignore[arg-type]


def active_policy(session: Session, policy_id: UUID) -> ActivePolicy | None:
    """The policy's active version, None while it has none; UnknownPolicy when there is no such policy."""
    row = session.exec(_ACTIVE_VERSION, params={"policy_id": policy_id}).first()
    if row is None:
        raise UnknownPolicy(policy_id)
    version_id, version, document = row
    if version_id is None:
        return None
    return ActivePolicy(EscalationPolicyDocument.model_validate(document), version_id, version)


def sla_terms_in_force(session: Session, tenant_id: UUID, day: date) -> tuple[UUID | None, UUID | None] | None:
    """(SLA definition, calendar) of the tenant's contract in force on ``day`` that names an SLA definition (the
    latest to start)."""
    row = session.exec(_TERMS_IN_FORCE, params={"tenant_id": tenant_id, "day": day}).first()
    return None if row is None else (row[0], row[1])


def resolve_context(session: Session, req: LoadSlaContext, tenant: TenantSettings | None = None) -> SlaContext | None:
    """Contract (in force at ``at``) -> its SLA definition and calendar; else the MSP default definition and the
    tenant's calendar (or Mon-Fri 08-17 with its regional holidays). None without a tenant or a definition.
    Column reads only: a ticket's opening runs this for every new ticket (`tenant` when the caller has it)."""
    tenant = tenant or tenant_settings(session, req.tenant_id)
    if tenant is None:
        return None
    terms = sla_terms_in_force(session, tenant.id, req.at.date())
    definition = None
    if terms is not None:
        definition = session.exec(_DEFINITION, params={"definition_id": terms[0]}).first()
    if definition is None:
        definition = session.exec(_DEFAULT_DEFINITION).first()
    if definition is None:
        return None
    definition_id, document, policy_id = definition
    calendar = tenant_calendar(session, tenant, terms[1] if terms else None)
    policy = None
    if policy_id:
        with suppress(UnknownPolicy):  # a ticket runs without escalations rather than not at all
            policy = active_policy(session, policy_id)
    return SlaContext(
        definition=SlaDefinition.model_validate(document),
        calendar=calendar,
        policy=policy.document if policy else None,
        definition_id=definition_id,
        policy_version_id=policy.version_id if policy else None,
        customer_number=req.customer_number,
        category=req.category,
    )
