"""Billing master data as one router: the MSP as seller, customers' billing profiles, the price list and contracts
(lines, terms, one-off items and credits, history). MSP admins and finance write; MSP staff read; customers read
their own contracts and billing profile, never the seller's bank or DATEV settings."""

from fastapi import APIRouter

from api.routes.billing import (
    branding,
    contract_items,
    contracts,
    customers,
    exports,
    invoices,
    products,
    runs,
    seller,
    sepa_collections,
)

router = APIRouter()
for _module in (seller, branding, customers, products, contracts, contract_items, runs, invoices, exports,
                sepa_collections):
    router.include_router(_module.router)
