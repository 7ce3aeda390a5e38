"""Ticket routes. Reads come from the database; every change goes through the ticket's workflow."""

from fastapi import APIRouter

from api.routes.tickets import comments, handover, lifecycle, sla, time_entries

router = APIRouter(tags=["tickets"])
for _module in (lifecycle, sla, comments, time_entries, handover):
    router.include_router(_module.router, prefix="/tickets")
