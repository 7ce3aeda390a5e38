"""One customer's monthly service report `service-report-<customer>-<YYYY-MM>`: load the facts of the month and of
the month before (the QBR's activity, in parallel), compute the KPIs and the report's content here (pure domain code:
replays give the same), store the PDF once, then mail it to the contacts who opted in, once per contact. A second
run of the month finds the PDF and the recorded mails and sends nothing twice. Search attributes Process, CustomerId
and ReportPeriod come with the start; the memo `summary` says what the report shows."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.contracts.qbr import LoadFacts, QbrActivity
from domain.contracts.service_report import (
    SendReport,
    SentReport,
    ServiceReportActivity,
    ServiceReportInput,
    ServiceReportResult,
    StoredReport,
    StoreReport,
)
from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import compute_kpis
from domain.qbr.period import Month
from domain.service_report.content import report_summary, service_report
from workflows.policies import DB_RETRY, DB_TIMEOUT

RENDER_TIMEOUT = timedelta(minutes=5)
RENDER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1),
                           maximum_attempts=10)  # fmt: skip
# The SMTP server may be down for a while: retried for about a day, each attempt mails only whom it has not mailed.
MAIL_TIMEOUT = timedelta(minutes=5)
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=30), maximum_interval=timedelta(hours=1),
                         maximum_attempts=30)  # fmt: skip


@workflow.defn(name="MonthlyServiceReport")
class ServiceReportWorkflow:
    @workflow.run
    async def run(self, inp: ServiceReportInput) -> ServiceReportResult:
        month = Month.parse(inp.month)
        current, previous = await asyncio.gather(
            self._load(LoadFacts(tenant_id=inp.tenant_id, quarter=str(month), with_snapshot=True)),
            self._load(LoadFacts(tenant_id=inp.tenant_id, quarter=str(month.previous()))),
        )
        report = service_report(compute_kpis(current, previous, inp.customer_number, inp.customer_name))
        workflow_id = workflow.info().workflow_id
        stored: StoredReport = await workflow.execute_activity(
            ServiceReportActivity.STORE,
            StoreReport(tenant_id=inp.tenant_id, workflow_id=workflow_id, report=report),
            result_type=StoredReport,
            start_to_close_timeout=RENDER_TIMEOUT,
            retry_policy=RENDER_RETRY,
        )
        sent: SentReport = await workflow.execute_activity(
            ServiceReportActivity.SEND,
            SendReport(tenant_id=inp.tenant_id, month=str(month), workflow_id=workflow_id),
            result_type=SentReport,
            start_to_close_timeout=MAIL_TIMEOUT,
            retry_policy=MAIL_RETRY,
        )
        memo = f"{report_summary(report)}; mailed {sent.mailed}, before {sent.already}"
        workflow.upsert_memo({"summary": memo})
        return ServiceReportResult(customer_number=inp.customer_number, month=str(month), file=stored,
                                   mailed=sent.mailed, already=sent.already, summary=memo)  # fmt: skip

    async def _load(self, req: LoadFacts) -> QbrFacts:
        return await workflow.execute_activity(
            QbrActivity.LOAD_FACTS,
            req,
            result_type=QbrFacts,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
