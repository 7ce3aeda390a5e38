"""Contracts: recurring lines priced from the price list, the customer's own SLA definition and calendar, billing
terms (time rules, hour contingent, auto-approve), one-off items and credits. Every change writes a ContractHistory
row (who, when, old and new values, the request's reason) and an audit event. Lines are ended, never deleted: a
billing run may have used them. Customers read their own contracts; another tenant's are missing (404)."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from sqlmodel import Session, col, or_, select

from api.crud import apply_patch, ensure_unique, get_or_422, patch_changes
from api.deps import BillingWriter, CurrentUser, Principal, SessionDep, get_scoped
from api.pagination import Page, PageDep, paginate
from api.problems import not_found
from api.routes.billing.products import product_by_code
from api.routes.tenants import require_tenant
from api.schemas.billing_contracts import (
    ContractCreate,
    ContractPublic,
    ContractUpdate,
    LineCreate,
    LinePublic,
    LineUpdate,
)
from api.schemas.common import SearchText, audit_event, contains, field_error, jsonable
from models import (
    BillingCycle,
    BusinessCalendarRow,
    Contract,
    ContractHistory,
    ContractLine,
    SlaDefinitionRow,
    Tenant,
)

router = APIRouter(prefix="/contracts", tags=["contracts"])
TERMS = ("time_terms", "contingent", "auto_approve")


def load_contract(session: Session, contract_id: UUID, principal: Principal) -> Contract:
    return get_scoped(session, Contract, contract_id, principal, "contract")


def _line_public(line: ContractLine) -> LinePublic:
    return LinePublic.model_validate(line, from_attributes=True)


def _publics(session: Session, contracts: list[Contract]) -> list[ContractPublic]:
    """The contracts with their lines, read in one query."""
    lines: dict[UUID, list[LinePublic]] = {c.id: [] for c in contracts}
    query = select(ContractLine).where(col(ContractLine.contract_id).in_(list(lines)))
    for line in session.exec(query.order_by(ContractLine.start_date, ContractLine.product_code, ContractLine.id)):
        lines[line.contract_id].append(_line_public(line))
    return [ContractPublic.model_validate(c.model_dump() | {"lines": lines[c.id]}) for c in contracts]


def _public(session: Session, contract: Contract) -> ContractPublic:
    return _publics(session, [contract])[0]


def record_history(
    session: Session,
    principal: Principal,
    contract: Contract,
    action: str,
    old: dict,
    new: dict,
    reason: str | None,
    **refs: Any,
) -> None:
    change = {"old": jsonable(old), "new": jsonable(new)} | {k: str(v) for k, v in refs.items()}
    session.add(
        ContractHistory(
            contract_id=contract.id, changed_by_user_id=principal.user_id, action=action, change=change, reason=reason
        )
    )


def _check_refs(session: Session, values: dict[str, Any]) -> None:
    if values.get("sla_definition_id") is not None:
        get_or_422(session, SlaDefinitionRow, values["sla_definition_id"], "sla_definition_id", "SLA definition")
    if values.get("calendar_id") is not None:
        get_or_422(session, BusinessCalendarRow, values["calendar_id"], "calendar_id", "calendar")


def _check_number(session: Session, number: str, own_id: UUID | None = None) -> None:
    message = f"contract number {number} is already taken"
    ensure_unique(session, Contract, "number", message, Contract.number == number, own_id=own_id)


def _within(contract: Contract, start: date, end: date | None, prefix: str = "") -> None:
    """A line or item runs inside its contract: not before its start, not after its end."""
    if start < contract.start_date:
        raise field_error(f"{prefix}start_date", f"{start} lies before the contract's start {contract.start_date}")
    if end is not None and end < start:
        raise field_error(f"{prefix}end_date", f"{end} lies before the start {start}")
    if contract.end_date is not None and (end or start) > contract.end_date:
        raise field_error(f"{prefix}end_date", f"runs past the contract's end {contract.end_date}")


def _new_line(session: Session, contract: Contract, body: LineCreate, prefix: str = "") -> ContractLine:
    product = product_by_code(session, body.product_code, f"{prefix}product_code")
    start = body.start_date or contract.start_date
    _within(contract, start, body.end_date, prefix)
    line = ContractLine(
        contract_id=contract.id,
        product_code=product.code,
        description=body.description or product.name,
        unit=body.unit or product.unit,
        quantity=body.quantity,
        unit_price=product.unit_price if body.unit_price is None else body.unit_price,
        billing_cycle=BillingCycle(body.billing_cycle or product.billing_cycle),
        start_date=start,
        end_date=body.end_date,
    )
    session.add(line)
    session.flush()
    return line


@router.get("", response_model=Page[ContractPublic], summary="List contracts (customers: their own)")
def list_contracts(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    tenant_id: UUID | None = None,
    customer_number: Annotated[str | None, Query(max_length=32, description="Exact customer number")] = None,
    active_on: Annotated[date | None, Query(description="In force on this day")] = None,
    q: Annotated[SearchText | None, Query(description="Part of number or name")] = None,
):
    query = select(Contract).order_by(Contract.number, Contract.id)
    if not principal.is_msp:
        query = query.where(Contract.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(Contract.tenant_id == tenant_id)
    if customer_number:
        query = query.join(Tenant, col(Tenant.id) == Contract.tenant_id).where(
            Tenant.customer_number == customer_number
        )
    if active_on is not None:
        query = query.where(col(Contract.start_date) <= active_on).where(
            or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= active_on)
        )
    if q:
        pattern = contains(q)
        query = query.where(
            or_(col(Contract.number).ilike(pattern, escape="\\"), col(Contract.name).ilike(pattern, escape="\\"))
        )
    result = paginate(session, query, page, lambda c: c)
    result["items"] = _publics(session, result["items"])
    return result


@router.get("/{contract_id}", response_model=ContractPublic, summary="One contract with its lines and terms")
def get_contract(contract_id: UUID, principal: CurrentUser, session: SessionDep):
    return _public(session, load_contract(session, contract_id, principal))


@router.post("", status_code=201, response_model=ContractPublic, summary="Create a contract (admins, finance)")
def create_contract(body: ContractCreate, principal: BillingWriter, session: SessionDep):
    require_tenant(session, body.tenant_id)
    tenant = session.get(Tenant, body.tenant_id)
    _check_refs(session, body.model_dump())
    _check_number(session, body.number)
    contract = Contract(
        tenant_id=body.tenant_id,
        number=body.number,
        name=body.name,
        start_date=body.start_date,
        end_date=body.end_date,
        currency=body.currency or ("CHF" if tenant.country == "CH" else "EUR"),
        sla_definition_id=body.sla_definition_id,
        calendar_id=body.calendar_id,
        time_terms=body.time_terms.model_dump(mode="json"),
        contingent=None if body.contingent is None else body.contingent.model_dump(mode="json"),
        auto_approve=body.auto_approve,
    )
    session.add(contract)
    session.flush()
    for i, line in enumerate(body.lines):
        _new_line(session, contract, line, prefix=f"lines.{i}.")
    public = _public(session, contract)
    data = public.model_dump(mode="json", exclude={"id", "tenant_id", "created_at"})
    record_history(session, principal, contract, "created", {}, data, body.reason)
    session.add(audit_event(principal, contract.tenant_id, "contract", contract.id, "created", data))
    session.flush()
    return public


@router.patch("/{contract_id}", response_model=ContractPublic, summary="Change a contract (admins, finance)")
def update_contract(contract_id: UUID, body: ContractUpdate, principal: BillingWriter, session: SessionDep):
    contract = load_contract(session, contract_id, principal)
    changes = patch_changes(body, "time_terms")
    reason = changes.pop("reason", None)
    if changes.get("contingent") is not None:
        changes["contingent"] = changes["contingent"].model_dump(mode="json")
    if "end_date" in changes and changes["end_date"] is not None and changes["end_date"] < contract.start_date:
        raise field_error("end_date", f"{changes['end_date']} lies before the start {contract.start_date}")
    if "number" in changes:
        _check_number(session, changes["number"], own_id=contract.id)
    _check_refs(session, changes)
    old = {name: getattr(contract, name) for name, value in changes.items() if getattr(contract, name) != value}
    new = {name: changes[name] for name in old}
    apply_patch(session, principal, contract.tenant_id, "contract", contract, changes)
    for action, names in (("updated", old.keys() - set(TERMS)), ("terms_changed", old.keys() & set(TERMS))):
        if names:
            pick = sorted(names)
            record_history(
                session, principal, contract, action, {n: old[n] for n in pick}, {n: new[n] for n in pick}, reason
            )
    session.flush()
    return _public(session, contract)


@router.post("/{contract_id}/lines", status_code=201, response_model=LinePublic, summary="Add a line (admins, finance)")
def add_line(contract_id: UUID, body: LineCreate, principal: BillingWriter, session: SessionDep):
    contract = load_contract(session, contract_id, principal)
    line = _new_line(session, contract, body)
    public = _line_public(line)
    data = public.model_dump(mode="json", exclude={"id"})
    record_history(session, principal, contract, "line_added", {}, data, body.reason, line_id=line.id)
    session.add(audit_event(principal, contract.tenant_id, "contract_line", line.id, "created", data))
    session.flush()
    return public


@router.patch(
    "/{contract_id}/lines/{line_id}",
    response_model=LinePublic,
    summary="Change or end a line (admins, finance)",
    description="Quantity, price and description change from now on; end_date ends the line (lines are never "
    "deleted, a billing run may have used them).",
)
def update_line(contract_id: UUID, line_id: UUID, body: LineUpdate, principal: BillingWriter, session: SessionDep):
    contract = load_contract(session, contract_id, principal)
    line = session.get(ContractLine, line_id)
    if line is None or line.contract_id != contract.id:
        raise not_found("contract line", line_id)
    changes = patch_changes(body)
    reason = changes.pop("reason", None)
    if "end_date" in changes:
        _within(contract, line.start_date, changes["end_date"])
    before = _line_public(line).model_dump(mode="json")  # old and new in the API's form ("2.5", not "2.500")
    apply_patch(session, principal, contract.tenant_id, "contract_line", line, changes)
    after = _line_public(line).model_dump(mode="json")
    old = {name: before[name] for name in changes if before[name] != after[name]}
    new = {name: after[name] for name in old}
    if old:
        action = "line_ended" if old.keys() == {"end_date"} and new["end_date"] is not None else "line_changed"
        record_history(session, principal, contract, action, old, new, reason, line_id=line.id)
        session.flush()
    return _line_public(line)
