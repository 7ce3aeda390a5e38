"""`soc.summarize`: the real `openai` client against respx; every LLM problem ends in the template, never an error."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError
from temporalio import workflow
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

import activities.soc.summary as soc_summary
from activities.soc.summary import SocSummaryActivities
from domain.contracts.soc import SocActivity, SummaryRequest, SummaryResult
from domain.processes import SOC_TASK_QUEUE
from domain.soc.sentinelone import normalize_sentinelone
from domain.soc.summary import MAX_LLM_TIMEOUT_SECONDS, SUMMARIZE_START_TO_CLOSE, template_summary
from domain.tickets import Priority
from hub.config import Settings
from tests.connectors.test_llm import api_error, completion

BASE = "https://llm.example.test/v1"
KEY = "sk-hub-DO-NOT-LEAK-42"
MODEL = "gpt-4o-mini"
TENANT = uuid.UUID("0b6f3c1e-9a52-4d3e-8f00-4c1d2e3f4a5b")
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "soc" / "sentinelone_threat_webhook.json"
ANSWER = (
    "Auf dem Arbeitsplatz ACME-WS-042 hat SentinelOne den Trojaner invoice_2026.exe erkannt und gestoppt. "
    "Die Einstufung ist bösartig, die Priorität P1. Bitte die Bereinigung in der Konsole bestätigen."
)


def settings(**overrides: Any) -> Settings:
    values = {"llm_base_url": BASE, "llm_api_key": KEY, "llm_model": MODEL, "llm_timeout": 5.0}
    return Settings(**{**values, **overrides})


@pytest.fixture
def req() -> SummaryRequest:
    alert = normalize_sentinelone(json.loads(FIXTURE.read_text(encoding="utf-8")), "int-s1")
    return SummaryRequest(
        incident_key="K10001-acme-ws-042-275a021bbfb6-3f9c0a1d2e",
        tenant_id=TENANT,
        priority=Priority.P1,
        alerts=[alert],
        asset_hostname="ACME-WS-042",
        asset_type="workstation",
        asset_tags=["critical"],
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, event: str, **kw: Any) -> None:
        self.events.append(("info", event, kw))

    def warning(self, event: str, **kw: Any) -> None:
        self.events.append(("warning", event, kw))

    def warnings(self) -> list[dict[str, Any]]:
        return [kw for level, _, kw in self.events if level == "warning"]


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(soc_summary, "log", recorder)
    return recorder


@pytest.fixture
def chat() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as router:
        yield router.post(f"{BASE}/chat/completions")


async def summarize(request: SummaryRequest, **overrides: Any) -> SummaryResult:
    return await ActivityEnvironment().run(SocSummaryActivities(settings(**overrides)).summarize, request)


def template(request: SummaryRequest) -> SummaryResult:
    return SummaryResult(text=template_summary(request), source="template", model=None)


async def test_llm_answer_becomes_the_summary(chat, req, logs):
    chat.respond(200, json=completion(f"  {ANSWER}\n", model="gpt-4o-mini-2024-07-18"))
    result = await summarize(req)
    assert result == SummaryResult(text=ANSWER, source="llm", model="gpt-4o-mini-2024-07-18")
    assert chat.call_count == 1
    assert logs.warnings() == []


async def test_request_carries_model_and_german_instructions_but_no_raw_payload(chat, req):
    chat.respond(200, json=completion(ANSWER))
    await summarize(req)
    request = chat.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert body["model"] == MODEL
    system, user = body["messages"]
    assert system["role"] == "system" and "auf Deutsch" in system["content"]
    assert "ACME-WS-042" in user["content"] and "Trojan" in user["content"]
    sent = request.content.decode()
    for leak in ("agentRealtimeInfo", "threatInfo", "jdoe", "10.20.30.42", "Contoso", "K10001", str(TENANT)):
        assert leak not in sent, leak


async def test_http_500_falls_back_to_the_template(chat, req, logs):
    chat.respond(500, json=api_error("The server had an error while processing your request.", "server_error"))
    assert await summarize(req) == template(req)
    assert chat.call_count == 1  # no retry loop on the LLM
    [warning] = logs.warnings()
    assert warning["reason"] == "unavailable" and "HTTP 500" in warning["error"]
    assert warning["incident"] == req.incident_key and warning["tenant_id"] == str(TENANT)


async def test_wrong_key_falls_back_without_logging_the_key(chat, req, logs):
    chat.respond(401, json=api_error(f"Incorrect API key provided: {KEY}.", "invalid_request_error"))
    assert await summarize(req) == template(req)
    [warning] = logs.warnings()
    assert warning["reason"] == "rejected" and KEY not in str(warning)


async def test_timeout_falls_back_within_the_timeout(chat, req, logs):
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200, json=completion(ANSWER))

    chat.side_effect = slow
    started = time.monotonic()
    assert await summarize(req, llm_timeout=0.3) == template(req)
    assert time.monotonic() - started < 2
    assert logs.warnings()[0]["reason"] == "timeout"


async def test_read_timeout_falls_back(chat, req, logs):
    chat.side_effect = httpx.ReadTimeout("timed out")
    assert await summarize(req) == template(req)
    assert logs.warnings()[0]["reason"] == "timeout"


@pytest.mark.parametrize("overrides", [{"llm_base_url": ""}, {"llm_model": ""}, {"llm_base_url": "", "llm_model": ""}])
async def test_not_configured_uses_the_template_without_any_http_call(chat, req, logs, overrides):
    chat.respond(200, json=completion(ANSWER))
    assert await summarize(req, **overrides) == template(req)
    assert not chat.called
    assert logs.warnings() == []  # off by configuration is not a failure


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "bad_response"),
        (None, "bad_response"),
        ("OK", "invalid_answer"),
        ('{"summary": null, "ids": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}', "invalid_answer"),
        (
            "The device ACME-WS-042 was infected with a trojan and should be isolated from the network.",
            "invalid_answer",
        ),
        ("<think>Der Nutzer möchte eine Zusammenfassung, ich überlege noch", "invalid_answer"),
    ],
)
async def test_empty_or_garbage_answer_falls_back(chat, req, logs, content, reason):
    chat.respond(200, json=completion(content))
    assert await summarize(req) == template(req)
    assert logs.warnings()[0]["reason"] == reason


async def test_unexpected_client_error_falls_back(chat, req, logs):
    chat.side_effect = RuntimeError("boom")
    assert await summarize(req) == template(req)
    assert logs.warnings()[0]["reason"] == "unexpected"


def test_llm_settings_are_bounded():
    with pytest.raises(ValidationError):
        settings(llm_timeout=MAX_LLM_TIMEOUT_SECONDS + 1)
    with pytest.raises(ValidationError):
        settings(llm_timeout=0)
    with pytest.raises(ValidationError):
        settings(llm_base_url="ftp://llm.example.test")
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert defaults["llm_base_url"] == "" and defaults["llm_model"] == "" and defaults["llm_timeout"] == 20.0
    # The activity gives up on the LLM before Temporal would time the activity out.
    assert SUMMARIZE_START_TO_CLOSE.total_seconds() > MAX_LLM_TIMEOUT_SECONDS


# --- registered on the SOC task queue of the real worker -----------------------------------------------------


@workflow.defn(sandboxed=False)
class SummarizeProbe:
    @workflow.run
    async def run(self, request: SummaryRequest) -> SummaryResult:
        return await workflow.execute_activity(
            SocActivity.SUMMARIZE,
            request,
            result_type=SummaryResult,
            task_queue=SOC_TASK_QUEUE,
            start_to_close_timeout=SUMMARIZE_START_TO_CLOSE,
        )


async def test_worker_serves_the_activity_on_the_soc_queue(env: WorkflowEnvironment, req):
    queue = f"summary-probe-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[SummarizeProbe]):
        # Nothing to skip here. With auto skipping, the test server kept skipping after this cross-queue activity
        # (observed: the next test's workflow clock was ten years ahead), so it is off for this call.
        with env.auto_time_skipping_disabled():
            result = await env.client.execute_workflow(
                SummarizeProbe.run, req, id=f"probe-{uuid.uuid4()}", task_queue=queue
            )
    # The test worker has no LLM configured: the template, built from the request as it crossed Temporal.
    assert result == template(req)
