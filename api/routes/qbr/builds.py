"""Start a customer's QBR build for a quarter (or attach to the one running), and the quarterly run for all
customers with its progress (finance and MSP admins); the rebuild of a stored deck (MSP staff, who keep the vCIO
entries)."""

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import func, select

from api.deps import BillingWriter, MspStaff, SessionDep, TemporalDep
from api.problems import Problem, not_found
from api.schemas.qbr import BuildRequest, BuildStarted, RunRequest, RunStatus
from domain.contracts.qbr import QbrInput, QbrRunInput
from domain.processes import qbr_run_workflow_id
from domain.qbr.quarter import parse_quarter
from hub.temporal import qbr as qbr_client
from hub.temporal.errors import WorkflowRejected
from models import QbrFile, Tenant

router = APIRouter(prefix="/qbr", tags=["quarterly business review"])


def quarter_or_422(quarter: str) -> str:
    try:
        return parse_quarter(quarter)
    except ValueError as err:
        raise Problem(422, f"quarter: {err}", errors=[{"field": "quarter", "message": str(err)}]) from None


@router.post("/builds", status_code=202, response_model=BuildStarted, summary="Build a customer's QBR deck")
async def start_build(
    body: BuildRequest, principal: BillingWriter, session: SessionDep, client: TemporalDep, request: Request
):
    tenant = session.get(Tenant, body.tenant_id)
    if tenant is None:
        raise not_found("tenant", body.tenant_id)
    inp = QbrInput(tenant_id=tenant.id, customer_number=tenant.customer_number, customer_name=tenant.name,
                   quarter=body.quarter, requested_by=principal.user_id)  # fmt: skip
    session.rollback()  # nothing to write here: no read transaction held across the start
    workflow_id = await qbr_client.start_qbr(client, inp)
    url = str(request.url_for("list_decks").include_query_params(tenant_id=str(tenant.id), quarter=body.quarter))
    started = BuildStarted(workflow_id=workflow_id, customer_number=inp.customer_number, quarter=inp.quarter,
                           decks_url=url)  # fmt: skip
    return JSONResponse(started.model_dump(), status_code=202, headers={"Location": url})


@router.post("/decks/{tenant_id}/{quarter}/rebuild", status_code=202, response_model=BuildStarted,
             summary="Rebuild a stored QBR deck (e.g. after vCIO entries changed)")  # fmt: skip
async def rebuild_deck(
    tenant_id: UUID, quarter: str, principal: MspStaff, session: SessionDep, client: TemporalDep, request: Request
):
    """Renders the deck again from today's data and replaces its files with the next version; the replacement is
    audited (entity `qbr_deck`, action `rebuilt`). 409 while a build of the deck runs."""
    quarter = quarter_or_422(quarter)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise not_found("tenant", tenant_id)
    stored = session.exec(select(func.max(QbrFile.version)).where(QbrFile.tenant_id == tenant.id,
                                                                  QbrFile.quarter == quarter)).one()  # fmt: skip
    if stored is None:
        raise Problem(404, f"no QBR deck of {tenant.customer_number} for {quarter} to rebuild: build it first")
    inp = QbrInput(tenant_id=tenant.id, customer_number=tenant.customer_number, customer_name=tenant.name,
                   quarter=quarter, requested_by=principal.user_id, version=stored + 1)  # fmt: skip
    session.rollback()
    workflow_id = await qbr_client.start_qbr(client, inp, attach=False)
    url = str(request.url_for("list_decks").include_query_params(tenant_id=str(tenant.id), quarter=quarter))
    started = BuildStarted(workflow_id=workflow_id, customer_number=inp.customer_number, quarter=quarter,
                           decks_url=url)  # fmt: skip
    return JSONResponse(started.model_dump(), status_code=202, headers={"Location": url})


@router.post("/runs", status_code=202, response_model=RunStatus, summary="Start the QBR run of a quarter")
async def start_run(body: RunRequest, principal: BillingWriter, client: TemporalDep, request: Request):
    inp = QbrRunInput(quarter=body.quarter, customer_numbers=body.customer_numbers)
    workflow_id = await qbr_client.start_qbr_run(client, inp)
    url = str(request.url_for("qbr_run_status", quarter=body.quarter))
    status = RunStatus(workflow_id=workflow_id, quarter=body.quarter, temporal_status="running", total=0, done=0,
                       failed=0, finished=False)  # fmt: skip
    return JSONResponse(status.model_dump(), status_code=202, headers={"Location": url})


@router.get("/runs/{quarter}", response_model=RunStatus, summary="Progress of a quarter's run", name="qbr_run_status")
async def run_status(quarter: str, principal: BillingWriter, client: TemporalDep):
    quarter = quarter_or_422(quarter)
    try:
        progress, status = await qbr_client.qbr_run_progress(client, quarter)
    except WorkflowRejected as err:
        raise Problem(404, f"no QBR run for {quarter}") from err
    return RunStatus(workflow_id=qbr_run_workflow_id(quarter), temporal_status=status,
                     **progress.model_dump(exclude={"quarter"}), quarter=quarter)  # fmt: skip
