"""Containment: runs the approved action at the vendor. Credentials come from configuration, never a request:
`PSA_SOC_CREDENTIALS__<REF>__BASE_URL` and `PSA_SOC_CREDENTIALS__<REF>__TOKEN`, REF = the integration's
`credentials_ref` in upper case."""

import os
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.http import VendorError
from connectors.sentinelone import SentinelOneClient
from domain.soc.incident_flow import ContainRequest, SocActivity
from hub.logging import get_logger
from models import SocIntegration

log = get_logger(__name__)


def vendor_credentials(ref: str | None) -> tuple[str, str]:
    key = (ref or "").upper().replace("-", "_")
    base = os.environ.get(f"PSA_SOC_CREDENTIALS__{key}__BASE_URL", "")
    token = os.environ.get(f"PSA_SOC_CREDENTIALS__{key}__TOKEN", "")
    if not key or not base or not token:
        raise ApplicationError(f"no API credentials configured for credentials_ref {ref!r} "
                               f"(set PSA_SOC_CREDENTIALS__{key or '<REF>'}__BASE_URL and __TOKEN)",
                               type="MissingCredentials", non_retryable=True)
    return base, token


class SocContainActivities:
    def __init__(self, engine: Engine, http_client=None):  # noqa: ANN001 - an httpx.AsyncClient for tests
        self.engine = engine
        self.http_client = http_client

    @activity.defn(name=SocActivity.CONTAIN)
    async def contain(self, req: ContainRequest) -> str:
        with Session(self.engine) as session:
            integration = session.get(SocIntegration, UUID(req.integration_id))
        if integration is None or integration.source != "sentinelone":
            raise ApplicationError("containment needs a SentinelOne integration", type="NotSupported",
                                   non_retryable=True)
        base, token = vendor_credentials(integration.credentials_ref)
        try:
            async with SentinelOneClient(base, token, client=self.http_client) as s1:
                affected = await s1.disconnect_agent(req.agent_id)
        except VendorError as err:
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=not err.retryable) from None
        log.info("containment executed", incident=req.incident_key, agent_id=req.agent_id, affected=affected,
                 tenant_id=str(integration.tenant_id))
        return f"SentinelOne: {affected} Agent(s) vom Netzwerk getrennt"
