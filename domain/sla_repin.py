"""What crosses the boundary of the SLA re-pin batch: after ops edit a calendar, an SLA definition or a policy,
one batch moves every open ticket of a customer (or of all customers) onto the context in force now."""

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

LIST_REPIN_CANDIDATES = "sla.list_repin_candidates"
PAGE_SIZE = 200


class RepinBatchInput(BaseModel):
    tenant_id: UUID | None = None  # None: all customers
    actor_user_id: UUID
    requested_at: AwareDatetime
    after_ticket_id: UUID | None = None  # the cursor carried across continue-as-new
    signalled: int = 0
    skipped: int = 0


class RepinBatchResult(BaseModel):
    signalled: int  # tickets asked to re-pin (each records whether its context changed)
    skipped: int  # tickets that finished meanwhile


class RepinCandidates(BaseModel):
    tenant_id: UUID | None = None
    after_ticket_id: UUID | None = None
    limit: int = Field(default=PAGE_SIZE, ge=1, le=1_000)


def repin_batch_workflow_id(tenant_id: UUID | None, requested_at: AwareDatetime) -> str:
    scope = str(tenant_id) if tenant_id else "all"
    return f"sla-repin-{scope}-{requested_at.strftime('%Y%m%dT%H%M%S')}"
