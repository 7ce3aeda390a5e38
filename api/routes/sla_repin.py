"""Re-pin running tickets after an SLA edit: one durable batch per request (see workflows/sla_repin.py).

Tickets keep the calendar, SLA definition and policy version they started with; an edit applies to new tickets.
Ops who want it applied to running tickets too ask for it here, for one customer or for all; each ticket records
the change as an event (POST /tickets/{id}/sla/repin does the same for one ticket and answers with its clocks).
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from temporalio.common import WorkflowIDConflictPolicy

from api.deps import NowDep, Principal, SessionDep, TemporalDep, require_roles
from api.schemas.common import Body, field_error
from domain.roles import Role
from domain.sla_repin import RepinBatchInput, repin_batch_workflow_id
from models import Tenant
from workflows.common import TICKETS_TASK_QUEUE
from workflows.sla_repin import SlaRepinBatchWorkflow

router = APIRouter(prefix="/sla", tags=["sla"])
Admin = Annotated[Principal, Depends(require_roles(Role.MSP_ADMIN))]


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
    body: RepinBatchCreate, principal: Admin, session: SessionDep, temporal: TemporalDep, now: NowDep
) -> RepinBatchAccepted:
    if body.tenant_id is not None and session.get(Tenant, body.tenant_id) is None:
        raise field_error("tenant_id", f"no tenant {body.tenant_id}")
    session.commit()
    workflow_id = repin_batch_workflow_id(body.tenant_id, now)
    await temporal.start_workflow(
        SlaRepinBatchWorkflow.run,
        RepinBatchInput(tenant_id=body.tenant_id, actor_user_id=principal.user_id, requested_at=now),
        id=workflow_id,
        task_queue=TICKETS_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"SLA re-pin {'all customers' if body.tenant_id is None else body.tenant_id}",
    )
    return RepinBatchAccepted(workflow_id=workflow_id, tenant_id=body.tenant_id)
