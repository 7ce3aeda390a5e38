"""The quarterly business review: finance and MSP admins start a customer's build or the quarterly run for all;
everyone downloads the decks they may see (customers: their own tenant's only); the MSP's own business KPIs for
its management."""

from fastapi import APIRouter

from api.routes.qbr import builds, business, customer_costs, decks, lifecycle, replacement_costs, vcio

router = APIRouter()
for _module in (builds, decks, vcio, lifecycle, replacement_costs, customer_costs, business):
    router.include_router(_module.router)
