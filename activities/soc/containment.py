"""Containment: runs the approved action at the vendor, with the integration's configured credentials
(activities.soc.polling.resolve_credentials: from configuration, never from a request)."""

from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.soc.polling import resolve_credentials
from connectors.http import VendorError
from connectors.sentinelone import SentinelOneClient
from domain.contracts.soc import ContainRequest, SocActivity
from domain.soc.alerts import Source
from hub.logging import get_logger
from models import SocIntegration

log = get_logger(__name__)


class SocContainActivities:
    def __init__(self, engine: Engine, http_client=None):  # noqa: ANN001 - an httpx.AsyncClient for tests
        self.engine = engine
        self.http_client = http_client

    @activity.defn(name=SocActivity.CONTAIN)
    async def contain(self, req: ContainRequest) -> str:
        with Session(self.engine) as session:
            integration = session.get(SocIntegration, UUID(req.integration_id))
        if integration is None or integration.source != "sentinelone":
            raise ApplicationError(
                "containment needs a SentinelOne integration", type="NotSupported", non_retryable=True
            )
        creds = resolve_credentials(integration.credentials_ref, Source.SENTINELONE)
        try:
            async with SentinelOneClient(creds.base_url, creds.token, client=self.http_client) as s1:
                affected = await s1.disconnect_agent(req.agent_id)
        except VendorError as err:
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=not err.retryable) from None
        log.info(
            "containment executed",
            incident=req.incident_key,
            agent_id=req.agent_id,
            affected=affected,
            tenant_id=str(integration.tenant_id),
        )
        return f"SentinelOne: {affected} Agent(s) vom Netzwerk getrennt"
