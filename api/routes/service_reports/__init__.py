"""The monthly service report: finance and MSP admins start a customer's report or the month's run for all;
everyone downloads the reports they may see (customers: their own tenant's only)."""

from fastapi import APIRouter

from api.routes.service_reports import files, runs

router = APIRouter()
for _module in (runs, files):
    router.include_router(_module.router)
