"""The price list: products by code with unit, net price, cycle, revenue type and tax class. Contract lines and
items are priced from it by code, time entries by their activity type (a product of unit hour with that code).
Products are deactivated, not deleted: old contract lines still name them."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sqlmodel import Session, col, or_, select

from api.crud import apply_patch, ensure_unique, get_or_404, patch_changes
from api.deps import BillingWriter, MspReader, SessionDep
from api.pagination import Page, PageDep, paginate
from api.schemas.billing import ProductCreate, ProductPublic, ProductUpdate
from api.schemas.common import SearchText, audit_event, contains, field_error
from models import BillingCycle, Product

router = APIRouter(prefix="/billing/products", tags=["billing"])


def _public(product: Product) -> ProductPublic:
    return ProductPublic.model_validate(product, from_attributes=True)


def product_by_code(session: Session, code: str, field: str = "product_code") -> Product:
    """An active product of the price list, or a 422 on ``field``."""
    product = session.exec(select(Product).where(Product.code == code)).first()
    if product is None:
        raise field_error(field, f"unknown product code {code!r}; add it to the price list first")
    if not product.active:
        raise field_error(field, f"product {code!r} is deactivated")
    return product


@router.get("", response_model=Page[ProductPublic], summary="The price list (MSP staff)")
def list_products(
    principal: MspReader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[SearchText | None, Query(description="Part of code or name")] = None,
    active: bool | None = None,
):
    query = select(Product).order_by(Product.code, Product.id)
    if q:
        pattern = contains(q)
        query = query.where(
            or_(col(Product.code).ilike(pattern, escape="\\"), col(Product.name).ilike(pattern, escape="\\"))
        )
    if active is not None:
        query = query.where(Product.active == active)
    return paginate(session, query, page, _public)


@router.get("/{product_id}", response_model=ProductPublic, summary="One product")
def get_product(product_id: UUID, principal: MspReader, session: SessionDep):
    return _public(get_or_404(session, Product, product_id, "product"))


@router.post("", status_code=201, response_model=ProductPublic, summary="Add a product (admins, finance)")
def create_product(body: ProductCreate, principal: BillingWriter, session: SessionDep):
    ensure_unique(session, Product, "code", f"product code {body.code} already exists", Product.code == body.code)
    values = body.model_dump() | {"billing_cycle": BillingCycle(body.billing_cycle)}
    product = Product(**values)
    session.add(product)
    session.flush()
    data = _public(product).model_dump(mode="json", exclude={"id", "created_at"})
    session.add(audit_event(principal, None, "product", product.id, "created", data))
    session.flush()
    return _public(product)


@router.patch("/{product_id}", response_model=ProductPublic, summary="Change a product (admins, finance)")
def update_product(product_id: UUID, body: ProductUpdate, principal: BillingWriter, session: SessionDep):
    product = get_or_404(session, Product, product_id, "product")
    changes = patch_changes(body)
    if "billing_cycle" in changes:
        changes["billing_cycle"] = BillingCycle(changes["billing_cycle"])
    apply_patch(session, principal, None, "product", product, changes)
    return _public(product)
