"""Escalation policies: who is told or paged as an SLA target nears or passes breach. Versions are immutable and
one of them is active, because tickets pin the version they started with; MSP admins only, also for reading.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path
from sqlalchemy import func
from sqlmodel import Session, select

from api.crud import ensure_unique_name, get_or_404
from api.deps import MspAdmin, Principal, SessionDep
from api.pagination import Page, PageDep, paginate
from api.problems import Problem
from api.schemas.common import audit_event
from api.schemas.sla import (
    EscalationPolicyCheck,
    EscalationPolicyCreate,
    EscalationPolicyPublic,
    EscalationPolicySummary,
    EscalationPolicyVersionCreate,
    EscalationPolicyVersionPublic,
    PolicyValidation,
)
from domain.escalation import EscalationPolicyDocument
from models import EscalationPolicy, EscalationPolicyVersion
from models.base import utcnow

router = APIRouter(prefix="/escalation-policies", tags=["sla"])

_POLICY_SCHEMA = EscalationPolicyDocument.model_json_schema()

VersionNumber = Annotated[int, Path(ge=1, le=1_000_000, description="Version number (1, 2, ...)")]


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
    return get_or_404(session, EscalationPolicy, policy_id, "escalation policy")


def _load_version(session: Session, policy: EscalationPolicy, number: int) -> EscalationPolicyVersion:
    version = session.exec(
        select(EscalationPolicyVersion).where(
            EscalationPolicyVersion.policy_id == policy.id, EscalationPolicyVersion.version == number
        )
    ).one_or_none()
    if version is None:
        raise Problem(404, f"escalation policy {policy.id} has no version {number}", "Not Found")
    return version


def _add_version(
    session: Session,
    principal: Principal,
    policy: EscalationPolicy,
    number: int,
    document: EscalationPolicyDocument,
    action: str,
    **audit: Any,
) -> EscalationPolicyVersion:
    """Write version ``number`` of the policy (not active) and its audit event (``audit``: fields it leads with)."""
    version = EscalationPolicyVersion(
        policy_id=policy.id,
        version=number,
        document=document.model_dump(mode="json"),
        created_by_user_id=principal.user_id,
    )
    session.add(version)
    session.flush()
    data = {**audit, "version": number, "version_id": version.id, "levels": len(document.levels)}
    session.add(audit_event(principal, None, "escalation_policy", policy.id, action, data))
    session.flush()
    return version


@router.get("/schema", summary="JSON Schema of an escalation policy document (for policy editors)")
def policy_schema(principal: MspAdmin) -> dict[str, Any]:
    return _POLICY_SCHEMA


@router.post(
    "/validate",
    response_model=PolicyValidation,
    summary="Check a policy document without saving it",
    description="200 with the number of levels, or a 422 problem naming the offending field.",
)
def validate_policy(body: EscalationPolicyCheck, principal: MspAdmin):
    return PolicyValidation(valid=True, levels=len(body.document.levels))


@router.get("", response_model=Page[EscalationPolicySummary], summary="List escalation policies (MSP admins)")
def list_policies(principal: MspAdmin, session: SessionDep, page: PageDep):
    query = select(EscalationPolicy).order_by(EscalationPolicy.name, EscalationPolicy.id)
    return paginate(session, query, page, lambda p: EscalationPolicySummary(**_summary_fields(session, p)))


@router.post(
    "",
    status_code=201,
    response_model=EscalationPolicyPublic,
    summary="Create a policy with its document as version 1 (not active yet)",
)
def create_policy(body: EscalationPolicyCreate, principal: MspAdmin, session: SessionDep):
    ensure_unique_name(session, EscalationPolicy, body.name, "an escalation policy")
    policy = EscalationPolicy(name=body.name)
    session.add(policy)
    session.flush()
    _add_version(session, principal, policy, 1, body.document, "created", name=policy.name)
    return _policy_public(session, policy)


@router.get("/{policy_id}", response_model=EscalationPolicyPublic, summary="A policy with all its versions")
def get_policy(policy_id: UUID, principal: MspAdmin, session: SessionDep):
    return _policy_public(session, _load_policy(session, policy_id))


@router.get(
    "/{policy_id}/versions/{version}", response_model=EscalationPolicyVersionPublic, summary="One version of a policy"
)
def get_policy_version(policy_id: UUID, version: VersionNumber, principal: MspAdmin, session: SessionDep):
    policy = _load_policy(session, policy_id)
    return _version_public(policy, _load_version(session, policy, version))


@router.post(
    "/{policy_id}/versions",
    status_code=201,
    response_model=EscalationPolicyVersionPublic,
    summary="Add the next version of a policy (not active yet)",
    description="Versions are immutable once written: change a policy by adding a version.",
)
def create_policy_version(
    policy_id: UUID, body: EscalationPolicyVersionCreate, principal: MspAdmin, session: SessionDep
):
    policy = _load_policy(session, policy_id)
    latest = session.exec(
        select(func.max(EscalationPolicyVersion.version)).where(EscalationPolicyVersion.policy_id == policy.id)
    ).one()
    audit = {"reason": body.reason} if body.reason else {}
    version = _add_version(session, principal, policy, (latest or 0) + 1, body.document, "version_created", **audit)
    return _version_public(policy, version)


@router.post(
    "/{policy_id}/versions/{version}/activate",
    response_model=EscalationPolicyPublic,
    summary="Make a version the active one",
    description="Tickets pin the policy version they started with, so activating a version affects "
    "new tickets only; running tickets keep escalating by their version (re-pin them with POST /api/v1/sla/repin). "
    "Activating the active version again changes nothing.",
)
def activate_policy_version(policy_id: UUID, version: VersionNumber, principal: MspAdmin, session: SessionDep):
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
