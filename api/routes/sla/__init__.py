"""SLA administration as one router: business calendars, SLA definitions, versioned escalation policies, the
dry run of the SLA clock and the re-pin of running tickets. MSP-wide resources: MSP staff read them, MSP admins
write them (each write leaves an audit event with tenant_id NULL), customers never see them.
"""

from fastapi import APIRouter

from api.routes.sla import calendars, definitions, policies, repin, simulation

router = APIRouter()
for _module in (calendars, definitions, policies, simulation, repin):
    router.include_router(_module.router)
