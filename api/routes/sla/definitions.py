"""SLA definitions: response, resolution and update targets per priority, with the escalation policy that goes
with them. Contracts name one; the single default applies to customers whose contract names none.
"""

from uuid import UUID

from fastapi import APIRouter, Response
from sqlmodel import Session, col, select

from api.crud import apply_patch, count_refs, ensure_unique_name, ensure_unused, get_or_404, get_or_422, patch_changes
from api.deps import MspAdmin, MspReader, Principal, SessionDep
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.schemas.common import audit_event, field_error
from api.schemas.sla import SlaDefinitionCreate, SlaDefinitionPublic, SlaDefinitionUpdate
from domain.sla import SlaDefinition
from models import Contract, EscalationPolicy, SlaDefinitionRow

router = APIRouter(prefix="/sla-definitions", tags=["sla"])
# New tickets of customers without a contract SLA get the default: it can be moved, never removed.
KEEP_DEFAULT = "it is the default SLA definition; make another one the default first"


def _definition_public(row: SlaDefinitionRow) -> SlaDefinitionPublic:
    return SlaDefinitionPublic(
        id=row.id,
        name=row.name,
        document=SlaDefinition.model_validate(row.document),
        escalation_policy_id=row.escalation_policy_id,
        is_default=row.is_default,
        created_at=row.created_at,
    )


def _check_policy(session: Session, policy_id: UUID | None) -> None:
    if policy_id is not None:
        get_or_422(session, EscalationPolicy, policy_id, "escalation_policy_id", "escalation policy")


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


@router.get("", response_model=Page[SlaDefinitionPublic], summary="List SLA definitions (MSP staff)")
def list_definitions(principal: MspReader, session: SessionDep, page: PageDep):
    query = select(SlaDefinitionRow).order_by(SlaDefinitionRow.name, SlaDefinitionRow.id)
    return paginate(session, query, page, _definition_public)


@router.get("/{definition_id}", response_model=SlaDefinitionPublic, summary="One SLA definition")
def get_definition(definition_id: UUID, principal: MspReader, session: SessionDep):
    return _definition_public(get_or_404(session, SlaDefinitionRow, definition_id, "SLA definition"))


@router.post("", status_code=201, response_model=SlaDefinitionPublic, summary="Create an SLA definition (MSP admins)")
def create_definition(body: SlaDefinitionCreate, principal: MspAdmin, session: SessionDep):
    ensure_unique_name(session, SlaDefinitionRow, body.name, "an SLA definition")
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


@router.patch(
    "/{definition_id}",
    response_model=SlaDefinitionPublic,
    summary="Change an SLA definition",
    description="MSP admins. Tickets already running keep the targets they started with."
    " To apply the change to them, re-pin: POST /api/v1/sla/repin (or /tickets/{id}/sla/repin).",
)
def update_definition(definition_id: UUID, body: SlaDefinitionUpdate, principal: MspAdmin, session: SessionDep):
    row = get_or_404(session, SlaDefinitionRow, definition_id, "SLA definition")
    changes = patch_changes(body, "document")
    if "name" in changes:
        ensure_unique_name(session, SlaDefinitionRow, changes["name"], "an SLA definition", own_id=row.id)
    if "escalation_policy_id" in changes:
        _check_policy(session, changes["escalation_policy_id"])
    if changes.get("is_default") is False and row.is_default:
        raise field_error("is_default", KEEP_DEFAULT, 409)
    if changes.get("is_default") is True and not row.is_default:
        _unset_other_defaults(session, principal, row.id)
    apply_patch(session, principal, None, "sla_definition", row, changes)
    return _definition_public(row)


@router.delete(
    "/{definition_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an SLA definition that no contract uses and that is not the default (MSP admins)",
)
def delete_definition(definition_id: UUID, principal: MspAdmin, session: SessionDep) -> Response:
    # Locked (PostgreSQL): a concurrent PATCH that makes this one the default is waited for and seen here.
    row = session.get(SlaDefinitionRow, definition_id, with_for_update=True)
    if row is None:
        raise not_found("SLA definition", definition_id)
    if row.is_default:
        raise Problem(409, f"SLA definition {row.id} cannot be deleted: {KEEP_DEFAULT}")
    ensure_unused("SLA definition", row.id, contract=count_refs(session, Contract, Contract.sla_definition_id, row.id))
    session.add(
        audit_event(
            principal, None, "sla_definition", row.id, "deleted", {"name": row.name, "is_default": row.is_default}
        )
    )
    session.delete(row)
    session.flush()
    return Response(status_code=204)
