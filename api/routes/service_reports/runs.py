"""Start a customer's service report for a month (or attach to the one running), and the month's run for all
customers with its progress (finance and MSP admins). A report already mailed is not mailed again."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import BillingWriter, SessionDep, TemporalDep
from api.problems import Problem, not_found
from api.schemas.service_reports import ReportRequest, ReportRunRequest, ReportRunStatus, ReportStarted
from domain.contracts.service_report import ServiceReportInput, ServiceReportRunInput
from domain.processes import service_report_run_workflow_id
from domain.qbr.period import parse_month
from hub.temporal import service_report as report_client
from hub.temporal.errors import WorkflowRejected
from models import Tenant

router = APIRouter(prefix="/service-reports", tags=["monthly service report"])


def month_or_422(month: str) -> str:
    try:
        return parse_month(month)
    except ValueError as err:
        raise Problem(422, f"month: {err}", errors=[{"field": "month", "message": str(err)}]) from None


@router.post("/builds", status_code=202, response_model=ReportStarted, summary="Build and mail a customer's report")
async def start_report(
    body: ReportRequest, principal: BillingWriter, session: SessionDep, client: TemporalDep, request: Request
):
    tenant = session.get(Tenant, body.tenant_id)
    if tenant is None:
        raise not_found("tenant", body.tenant_id)
    inp = ServiceReportInput(tenant_id=tenant.id, customer_number=tenant.customer_number, customer_name=tenant.name,
                             month=body.month, requested_by=principal.user_id)  # fmt: skip
    session.rollback()  # nothing to write here: no read transaction held across the start
    workflow_id = await report_client.start_service_report(client, inp)
    url = str(request.url_for("list_service_reports").include_query_params(tenant_id=str(tenant.id), month=inp.month))
    started = ReportStarted(workflow_id=workflow_id, customer_number=inp.customer_number, month=inp.month,
                            reports_url=url)  # fmt: skip
    return JSONResponse(started.model_dump(), status_code=202, headers={"Location": url})


@router.post("/runs", status_code=202, response_model=ReportRunStatus, summary="Start a month's service report run")
async def start_run(body: ReportRunRequest, principal: BillingWriter, client: TemporalDep, request: Request):
    inp = ServiceReportRunInput(month=body.month, customer_numbers=body.customer_numbers)
    workflow_id = await report_client.start_service_report_run(client, inp)
    url = str(request.url_for("service_report_run_status", month=inp.month))
    status = ReportRunStatus(workflow_id=workflow_id, month=inp.month, temporal_status="running", total=0, done=0,
                             failed=0, finished=False)  # fmt: skip
    return JSONResponse(status.model_dump(), status_code=202, headers={"Location": url})


@router.get("/runs/{month}", response_model=ReportRunStatus, summary="Progress of a month's service report run",
            name="service_report_run_status")  # fmt: skip
async def run_status(month: str, principal: BillingWriter, client: TemporalDep):
    month = month_or_422(month)
    try:
        progress, status = await report_client.service_report_run_progress(client, month)
    except WorkflowRejected as err:
        raise Problem(404, f"no service report run for {month}") from err
    return ReportRunStatus(workflow_id=service_report_run_workflow_id(month), temporal_status=status,
                           **progress.model_dump(exclude={"month"}), month=month)  # fmt: skip
