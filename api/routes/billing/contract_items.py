"""One-off items and credits of a contract, and its history. An item is billed once, in its service date's month;
a credit keeps positive amounts, its kind makes it a deduction. The history (who, when, old and new, reason) is for
MSP staff only."""

from uuid import UUID

from fastapi import APIRouter
from sqlmodel import select

from api.deps import BillingWriter, CurrentUser, MspReader, SessionDep
from api.pagination import Page, PageDep, paginate
from api.routes.billing.contracts import load_contract, record_history
from api.routes.billing.products import product_by_code
from api.schemas.billing_contracts import HistoryPublic, ItemCreate, ItemPublic
from api.schemas.common import audit_event, field_error
from domain.billing.tax import TaxClass
from models import ContractHistory, ContractItem

router = APIRouter(prefix="/contracts", tags=["contracts"])


@router.get("/{contract_id}/items", response_model=Page[ItemPublic], summary="One-off items and credits")
def list_items(contract_id: UUID, principal: CurrentUser, session: SessionDep, page: PageDep):
    load_contract(session, contract_id, principal)
    query = select(ContractItem).where(ContractItem.contract_id == contract_id)
    query = query.order_by(ContractItem.service_date, ContractItem.created_at, ContractItem.id)
    return paginate(session, query, page, lambda i: ItemPublic.model_validate(i, from_attributes=True))


@router.post(
    "/{contract_id}/items",
    status_code=201,
    response_model=ItemPublic,
    summary="Add a one-off item or a credit (admins, finance)",
)
def add_item(contract_id: UUID, body: ItemCreate, principal: BillingWriter, session: SessionDep):
    contract = load_contract(session, contract_id, principal)
    product = product_by_code(session, body.product_code) if body.product_code else None
    day = body.service_date
    if day < contract.start_date or (contract.end_date is not None and day > contract.end_date):
        raise field_error(
            "service_date", f"{day} lies outside the contract ({contract.start_date} to {contract.end_date or 'open'})"
        )
    description = body.description or (product.name if product else None)
    if description is None:
        raise field_error("description", "required without a product_code")
    unit_price = body.unit_price if body.unit_price is not None else (product.unit_price if product else None)
    if unit_price is None:
        raise field_error("unit_price", "required without a product_code")
    item = ContractItem(
        contract_id=contract.id,
        kind=body.kind,
        product_code=product.code if product else None,
        description=description,
        quantity=body.quantity,
        unit_price=unit_price,
        service_date=body.service_date,
        tax_class=body.tax_class or (product.tax_class if product else TaxClass.STANDARD),
        created_by_user_id=principal.user_id,
    )
    session.add(item)
    session.flush()
    public = ItemPublic.model_validate(item, from_attributes=True)
    data = public.model_dump(mode="json", exclude={"id", "contract_id", "created_at", "billed_at"})
    record_history(session, principal, contract, "item_added", {}, data, body.reason, item_id=item.id)
    session.add(audit_event(principal, contract.tenant_id, "contract_item", item.id, "created", data))
    session.flush()
    return public


@router.get("/{contract_id}/history", response_model=Page[HistoryPublic], summary="Every change of a contract")
def list_history(contract_id: UUID, principal: MspReader, session: SessionDep, page: PageDep):
    load_contract(session, contract_id, principal)
    query = select(ContractHistory).where(ContractHistory.contract_id == contract_id)
    query = query.order_by(ContractHistory.changed_at, ContractHistory.id)
    return paginate(session, query, page, lambda h: HistoryPublic.model_validate(h, from_attributes=True))
