"""Read the SLA context (business calendar, SLA definition, active escalation policy version) from the database
into domain types. The ticket's clock and the SLA simulation both resolve through here, so a calendar fallback
or an active policy version means the same thing to both.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from uuid import UUID

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


def tenant_calendar(session: Session, tenant: Tenant, calendar_id: UUID | None = None) -> CalendarSpec:
    """The calendar ``calendar_id`` (a contract's), else the tenant's, else Mon-Fri 08-17 with the tenant's
    regional holidays."""
    ident = calendar_id or tenant.calendar_id
    row = session.get(BusinessCalendarRow, ident) if ident else None
    if row is not None:
        return CalendarSpec.model_validate(row.spec)
    return CalendarSpec.standard_dach(tenant.country, tenant.subdivision, tenant.time_zone)  # type: ignore[arg-type]


def active_policy(session: Session, policy_id: UUID) -> ActivePolicy | None:
    """The policy's active version, None while it has none; UnknownPolicy when there is no such policy."""
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise UnknownPolicy(policy_id)
    version = session.get(EscalationPolicyVersion, policy.active_version_id) if policy.active_version_id else None
    if version is None:
        return None
    return ActivePolicy(EscalationPolicyDocument.model_validate(version.document), version.id, version.version)


def contract_in_force(session: Session, tenant_id: UUID, day: date) -> Contract | None:
    """The tenant's contract in force on ``day`` that names an SLA definition (the latest to start)."""
    return session.exec(
        select(Contract)
        .where(Contract.tenant_id == tenant_id, col(Contract.start_date) <= day)
        .where(or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= day))
        .where(col(Contract.sla_definition_id).is_not(None))
        .order_by(col(Contract.start_date).desc())
    ).first()


def resolve_context(session: Session, req: LoadSlaContext) -> SlaContext | None:
    """Contract (in force at ``at``) -> its SLA definition and calendar; else the MSP default definition and the
    tenant's calendar (or Mon-Fri 08-17 with its regional holidays). None without a tenant or a definition."""
    tenant = session.get(Tenant, req.tenant_id)
    if tenant is None:
        return None
    contract = contract_in_force(session, tenant.id, req.at.date())
    definition_row = session.get(SlaDefinitionRow, contract.sla_definition_id) if contract else None
    if definition_row is None:
        definition_row = session.exec(select(SlaDefinitionRow).where(SlaDefinitionRow.is_default)).first()
    if definition_row is None:
        return None
    calendar = tenant_calendar(session, tenant, contract.calendar_id if contract else None)
    policy = None
    if definition_row.escalation_policy_id:
        with suppress(UnknownPolicy):  # a ticket runs without escalations rather than not at all
            policy = active_policy(session, definition_row.escalation_policy_id)
    return SlaContext(
        definition=SlaDefinition.model_validate(definition_row.document),
        calendar=calendar,
        policy=policy.document if policy else None,
        definition_id=definition_row.id,
        policy_version_id=policy.version_id if policy else None,
        customer_number=req.customer_number,
        category=req.category,
    )
