"""The `qbr.summarize` activity: the optional LLM executive summary of a QBR deck.

Asks the configured OpenAI-compatible model (Settings.llm_*, the same client as the SOC summary) with the KPI set
only, and keeps the answer only if every number in it is one of the KPIs' (domain/qbr/summary.py). Without an LLM,
on any LLM error or a rejected answer it returns the rule-based summary and logs why; it never raises for LLM
problems, so the workflow's retry never loops on the model. Idempotent: it writes nothing."""

import time
from collections.abc import Callable

import httpx
from temporalio import activity

from connectors.http import USER_AGENT, scrub
from connectors.llm import LlmClient, LlmError
from domain.contracts.qbr import QbrActivity
from domain.qbr.kpis import KpiSet
from domain.qbr.recommendations import executive_summary
from domain.qbr.summary import SUMMARY_MAX_TOKENS, ExecutiveSummary, build_messages, check_summary
from hub.config import Settings
from hub.logging import get_logger

log = get_logger(__name__)


class QbrSummaryActivities:
    def __init__(self, settings: Settings, client_factory: Callable[[], httpx.AsyncClient] | None = None):
        self.settings = settings
        self.client_factory = client_factory or (
            lambda: httpx.AsyncClient(timeout=settings.llm_timeout, headers={"User-Agent": USER_AGENT})
        )

    @activity.defn(name=QbrActivity.SUMMARIZE)
    async def summarize(self, kpis: KpiSet) -> ExecutiveSummary:
        rules = ExecutiveSummary(lines=executive_summary(kpis, kpis.language), source="rules")
        if not self.settings.llm_configured:
            return rules
        started = time.monotonic()
        s = self.settings
        try:
            async with self.client_factory() as http:
                llm = LlmClient(s.llm_base_url, s.llm_api_key, s.llm_model, s.llm_timeout, http_client=http)
                answer = await llm.chat(build_messages(kpis), max_tokens=SUMMARY_MAX_TOKENS)
            lines = check_summary(answer.text, kpis)
        except Exception as exc:  # LlmError, SummaryRejected or a bug: nothing the model does may hold up the deck
            reason = exc.reason if isinstance(exc, LlmError) else type(exc).__name__
            log.warning("qbr summary: llm not used, rule-based summary instead", customer=kpis.customer_number,
                        quarter=kpis.quarter, reason=reason, error=scrub(str(exc), [s.llm_api_key])[:500],
                        elapsed_ms=round((time.monotonic() - started) * 1000))  # fmt: skip
            return rules
        return ExecutiveSummary(lines=lines, source="llm", model=answer.model)
