"""The SOC slice of the API: integrations and their triage settings, the signed webhook (into the durable inbox),
incidents and the quarantine of items that kept failing; beside them the inbox dispatcher that hands alerts to their
incidents, and the poll schedules kept in step with integrations. The routers are included in one fixed order, which
is the order paths are matched in."""

from fastapi import APIRouter

from api.routes.soc import incidents, integrations, mail_intake, quarantine, webhooks

router = APIRouter()
for part in (integrations.router, incidents.router, integrations.triage_router, quarantine.router):
    router.include_router(part)
# The webhook's router is included by the app ahead of all others (api/app.py): it gets most requests in a storm.
webhook_router = webhooks.router
router.include_router(mail_intake.router)  # the mail-address route; the SMTP receiver starts with the app
