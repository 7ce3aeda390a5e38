"""Re-pin running tickets after an SLA edit: one durable batch per request (workflows/tickets/sla_repin.py).
Tickets keep the calendar, definition and policy version they started with; ops ask here to move the open tickets
of one customer or of all onto the context in force now, and each ticket records the change as an event.
"""

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from api.crud import get_or_422
from api.deps import MspAdmin, NowDep, SessionDep, TemporalDep
from api.schemas.common import Body
from domain.contracts.tickets import RepinBatchInput
from hub.temporal.sla import start_repin_batch
from models import Tenant

router = APIRouter(prefix="/sla", tags=["sla"])


class RepinBatchCreate(Body):
    tenant_id: UUID | None = None


class RepinBatchAccepted(BaseModel):
    workflow_id: str
    tenant_id: UUID | None


@router.post(
    "/repin",
    status_code=202,
    response_model=RepinBatchAccepted,
    summary="Apply the SLA context in force now to all open tickets of a customer (or of all customers)",
    description="Starts a durable batch (Temporal workflow `sla-repin-<tenant|all>-<time>`); a repeat within the "
    "same second returns the same batch. Business time used stays; levels that fired stay fired (msp_admin).",
)
async def repin_open_tickets(
    body: RepinBatchCreate, principal: MspAdmin, session: SessionDep, temporal: TemporalDep, now: NowDep
) -> RepinBatchAccepted:
    if body.tenant_id is not None:
        get_or_422(session, Tenant, body.tenant_id, "tenant_id", "tenant")
    session.commit()
    inp = RepinBatchInput(tenant_id=body.tenant_id, actor_user_id=principal.user_id, requested_at=now)
    workflow_id = await start_repin_batch(temporal, inp)  # Temporal unreachable: 503 with Retry-After
    return RepinBatchAccepted(workflow_id=workflow_id, tenant_id=body.tenant_id)
