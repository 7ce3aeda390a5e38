"""LLM connector: the real `openai` client against respx, answers shaped like the Chat Completions API."""

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from connectors.llm import (
    LlmClient,
    LlmNotConfigured,
    LlmRequestError,
    LlmResponseError,
    LlmTimeout,
    LlmUnavailable,
)

BASE = "http://llm.test:11434/v1"
KEY = "sk-llm-DO-NOT-LEAK-0123456789"
MODEL = "llama3.1:8b"
MESSAGES = [{"role": "system", "content": "Antworte auf Deutsch."}, {"role": "user", "content": "Hallo"}]


def completion(content: str | None, *, model: str = MODEL, finish_reason: str = "stop") -> dict[str, Any]:
    """A Chat Completions response body as the API documents it (`object: chat.completion`)."""
    return {
        "id": "chatcmpl-AbC123xyz",
        "object": "chat.completion",
        "created": 1763626543,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": 412,
            "completion_tokens": 96,
            "total_tokens": 508,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_ollama",
    }


def api_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def chat(router: respx.MockRouter) -> respx.Route:
    return router.post(f"{BASE}/chat/completions")


async def ask(timeout: float = 5.0, **kwargs: Any):
    async with LlmClient(kwargs.pop("base_url", BASE), kwargs.pop("api_key", KEY), MODEL, timeout) as llm:
        return await llm.chat(MESSAGES, max_tokens=300, **kwargs)


async def test_answer_text_and_model_from_the_response(chat):
    chat.respond(200, json=completion("Eine Zusammenfassung.", model="llama3.1:8b-instruct-q4_K_M"))
    answer = await ask()
    assert answer.text == "Eine Zusammenfassung."
    assert answer.model == "llama3.1:8b-instruct-q4_K_M"
    assert answer.finish_reason == "stop"
    request = chat.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert body["model"] == MODEL and body["messages"] == MESSAGES
    assert body["max_tokens"] == 300 and body["temperature"] == 0.2
    assert not body.get("stream")


async def test_base_url_with_trailing_slash(router):
    route = router.post("https://api.example.test/openai/v1/chat/completions").respond(200, json=completion("Ja."))
    answer = await ask(base_url="https://api.example.test/openai/v1/")
    assert answer.text == "Ja." and route.call_count == 1


async def test_empty_key_for_local_servers_never_uses_the_environment(chat, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-must-not-be-sent")
    chat.respond(200, json=completion("Ja."))
    await ask(api_key="")
    assert "sk-from-env" not in chat.calls.last.request.headers["Authorization"]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_and_rate_limits_are_unavailable_and_not_retried(chat, status):
    chat.respond(status, json=api_error("The server had an error while processing your request.", "server_error"))
    with pytest.raises(LlmUnavailable, match=f"HTTP {status}") as err:
        await ask()
    assert chat.call_count == 1  # max_retries=0: our caller decides
    assert err.value.reason == "unavailable"


async def test_wrong_key_is_rejected_without_leaking_the_key(chat):
    chat.respond(401, json=api_error(f"Incorrect API key provided: {KEY}.", "invalid_request_error", "invalid_api_key"))
    with pytest.raises(LlmRequestError, match="HTTP 401") as err:
        await ask()
    assert KEY not in str(err.value) and "***" in str(err.value)


async def test_unknown_model_is_rejected(chat):
    chat.respond(404, json=api_error(f"model '{MODEL}' not found", "not_found_error"))
    with pytest.raises(LlmRequestError, match="not found"):
        await ask()


async def test_read_timeout_is_a_timeout(chat):
    chat.side_effect = httpx.ReadTimeout("timed out")
    with pytest.raises(LlmTimeout) as err:
        await ask()
    assert err.value.reason == "timeout" and chat.call_count == 1


async def test_slow_server_is_cut_off_at_the_deadline(chat):
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200, json=completion("zu spät"))

    chat.side_effect = slow
    started = time.monotonic()
    with pytest.raises(LlmTimeout, match="within 0.3 s"):
        await ask(timeout=0.3)
    assert time.monotonic() - started < 2


async def test_unreachable_server_is_unavailable(chat):
    chat.side_effect = httpx.ConnectError("Connection refused")
    with pytest.raises(LlmUnavailable, match="not reachable"):
        await ask()


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={**completion("x"), "choices": []}),
        httpx.Response(200, json=completion(None)),
        httpx.Response(200, json=completion("   ")),
        httpx.Response(200, json=completion("Der Vorfall betrifft", finish_reason="length")),
        httpx.Response(200, text="<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}),
        httpx.Response(200, text="{not json", headers={"Content-Type": "application/json"}),
    ],
    ids=["no-choices", "null-content", "blank", "cut-off", "html", "broken-json"],
)
async def test_unusable_answers_are_response_errors(chat, response):
    chat.mock(return_value=response)
    with pytest.raises(LlmResponseError):
        await ask()


@pytest.mark.parametrize("base_url, model", [("", MODEL), ("  ", MODEL), (BASE, ""), (BASE, " ")])
def test_missing_url_or_model_is_not_configured(base_url, model):
    with pytest.raises(LlmNotConfigured):
        LlmClient(base_url, KEY, model, 5.0)
