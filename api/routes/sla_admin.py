"""SLA administration: calendars, SLA definitions, escalation policies and the simulation endpoint."""

from fastapi import APIRouter

router = APIRouter()
