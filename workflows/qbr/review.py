"""One customer's quarterly business review `qbr-<customer>-<YYYY>-Q<n>`: load the facts of the quarter and of the
quarter before (two activities, in parallel), compute the KPIs here (pure domain code: replays give the same), ask
for the executive summary (the LLM's if one is configured and its numbers check out, else the rules'), then
render and store the deck (PowerPoint and PDF) once. Search attributes Process, CustomerId and ReportPeriod come with
the start; the memo `summary` says what the deck shows."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.contracts.qbr import LoadFacts, QbrActivity, QbrInput, QbrResult, StoreDeck, StoredFile
from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import KpiSet, compute_kpis
from domain.qbr.measure import NotAvailable
from domain.qbr.quarter import Quarter
from domain.qbr.summary import ExecutiveSummary
from domain.soc.summary import SUMMARIZE_START_TO_CLOSE
from workflows.policies import DB_RETRY, DB_TIMEOUT

RENDER_TIMEOUT = timedelta(minutes=5)
RENDER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1),
                           maximum_attempts=10)  # fmt: skip


def deck_summary(kpis: KpiSet) -> str:
    def show(key: str) -> str:
        kpi = kpis.kpi(key)
        return kpi.current.value if isinstance(kpi.current, NotAvailable) else f"{kpi.current}{kpi.unit}"

    return (f"QBR {kpis.quarter} [{kpis.customer_number}]: {show('tickets_opened')} tickets, "
            f"SLA response {show('sla_response')}, resolution {show('sla_resolution')}")  # fmt: skip


@workflow.defn(name="QuarterlyBusinessReview")
class QbrWorkflow:
    @workflow.run
    async def run(self, inp: QbrInput) -> QbrResult:
        quarter = Quarter.parse(inp.quarter)
        current, previous = await asyncio.gather(
            self._load(LoadFacts(tenant_id=inp.tenant_id, quarter=str(quarter), with_snapshot=True)),
            self._load(LoadFacts(tenant_id=inp.tenant_id, quarter=str(quarter.previous()))),
        )
        kpis = compute_kpis(current, previous, inp.customer_number, inp.customer_name)
        summary: ExecutiveSummary = await workflow.execute_activity(
            QbrActivity.SUMMARIZE,
            kpis,
            result_type=ExecutiveSummary,
            start_to_close_timeout=SUMMARIZE_START_TO_CLOSE,  # above the LLM timeout: the activity falls back first
            retry_policy=DB_RETRY,
        )
        files: list[StoredFile] = await workflow.execute_activity(
            QbrActivity.STORE_DECK,
            StoreDeck(
                tenant_id=inp.tenant_id,
                workflow_id=workflow.info().workflow_id,
                kpis=kpis,
                summary=summary,
                version=inp.version,
                requested_by=inp.requested_by,
            ),  # fmt: skip
            result_type=list[StoredFile],
            start_to_close_timeout=RENDER_TIMEOUT,
            retry_policy=RENDER_RETRY,
        )
        memo = deck_summary(kpis)
        workflow.upsert_memo({"summary": memo, "executive_summary": summary.source})
        return QbrResult(customer_number=inp.customer_number, quarter=str(quarter), files=files, summary=memo,
                         executive_summary=summary.source)  # fmt: skip

    async def _load(self, req: LoadFacts) -> QbrFacts:
        return await workflow.execute_activity(
            QbrActivity.LOAD_FACTS,
            req,
            result_type=QbrFacts,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
