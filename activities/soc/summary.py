"""The `soc.summarize` activity: a German summary of a SOC incident for its ticket.

Asks the configured OpenAI-compatible model (Settings.llm_*) and checks its answer; without configuration, or
on any LLM error, timeout or unusable answer it returns the deterministic template instead and logs a warning
with the reason. It never raises for LLM problems, so the workflow's activity retry never loops on the LLM and
triage waits at most `llm_timeout`. Idempotent: it writes nothing; a retry at most asks the model again.
"""

import time
from collections.abc import Callable

import httpx
from temporalio import activity

from connectors.http import USER_AGENT, scrub
from connectors.llm import LlmClient, LlmError
from domain.contracts.soc import SocActivity, SummaryRequest, SummaryResult
from domain.soc.summary import (
    SUMMARY_MAX_TOKENS,
    SummaryRejected,
    build_messages,
    template_summary,
    validate_summary,
)
from hub.config import Settings
from hub.logging import get_logger

log = get_logger(__name__)


class SocSummaryActivities:
    def __init__(self, settings: Settings, client_factory: Callable[[], httpx.AsyncClient] | None = None):
        self.settings = settings
        self.client_factory = client_factory or (
            lambda: httpx.AsyncClient(timeout=settings.llm_timeout, headers={"User-Agent": USER_AGENT})
        )

    @property
    def configured(self) -> bool:
        return self.settings.llm_configured

    @activity.defn(name=SocActivity.SUMMARIZE)
    async def summarize(self, req: SummaryRequest) -> SummaryResult:
        template = SummaryResult(text=template_summary(req), source="template")
        if not self.configured:
            return template
        ids = {
            "incident": req.incident_key,
            "tenant_id": str(req.tenant_id),
            "model": self.settings.llm_model,
            "workflow_id": activity.info().workflow_id,
        }
        started = time.monotonic()
        try:
            async with self.client_factory() as http:
                llm = LlmClient(
                    self.settings.llm_base_url,
                    self.settings.llm_api_key,
                    self.settings.llm_model,
                    self.settings.llm_timeout,
                    http_client=http,
                )
                answer = await llm.chat(build_messages(req), max_tokens=SUMMARY_MAX_TOKENS)
            text = validate_summary(answer.text)
        except (LlmError, SummaryRejected) as exc:
            reason = exc.reason if isinstance(exc, LlmError) else "invalid_answer"
            return self._fallback(template, ids, started, reason, str(exc))
        except Exception as exc:  # a bug or an unforeseen client error must not hold up the ticket either
            return self._fallback(template, ids, started, "unexpected", f"{type(exc).__name__}: {exc}")
        log.info("soc summary from llm", **ids, elapsed_ms=_elapsed_ms(started), chars=len(text))
        return SummaryResult(text=text, source="llm", model=answer.model)

    def _fallback(self, template: SummaryResult, ids: dict, started: float, reason: str, error: str) -> SummaryResult:
        log.warning(
            "soc summary: llm failed, template used",
            **ids,
            reason=reason,
            error=scrub(error, [self.settings.llm_api_key])[:500],
            elapsed_ms=_elapsed_ms(started),
            attempt=activity.info().attempt,
        )
        return template


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
