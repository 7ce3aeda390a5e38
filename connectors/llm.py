"""OpenAI-compatible Chat Completions client (OpenAI, vLLM, Ollama, ...) through the official `openai` package.

One call, one request: the client never retries (`max_retries=0`); the caller decides what a failure means
(the SOC summary falls back to its template). `timeout` is a hard deadline for the whole call, not only
httpx's per-read timeout, so a server that drips tokens slowly cannot hold the caller longer either.

openai 3.x sends through `httpx2` unless it is given an `httpx` client; we always hand it one, so the call goes
through the same HTTP stack as every other connector (and respx sees it in tests).

Errors are typed (`LlmError` subclasses, `reason` is a short word for logs); messages name the endpoint without
credentials or query and never contain the API key.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import openai
from openai.types.chat import ChatCompletion

from connectors.http import USER_AGENT, HttpClientOwner, describe, scrub

_ERROR_BODY_CHARS = 200
# Local servers (vLLM, Ollama) ignore the key but the openai client insists on one.
_NO_KEY = "unused"


class LlmError(Exception):
    reason = "error"


class LlmNotConfigured(LlmError):
    reason = "not_configured"


class LlmTimeout(LlmError):
    reason = "timeout"


class LlmUnavailable(LlmError):
    """Network errors, 5xx and 429."""

    reason = "unavailable"


class LlmRequestError(LlmError):
    """Any other 4xx: wrong key, unknown model, a request the server refuses."""

    reason = "rejected"


class LlmResponseError(LlmError):
    """A 2xx answer without usable text (no choices, no content, cut off at the token limit, not JSON)."""

    reason = "bad_response"


@dataclass(frozen=True)
class ChatAnswer:
    text: str
    model: str  # as the server reports it (e.g. Ollama's resolved tag), else the requested one
    finish_reason: str | None


class LlmClient(HttpClientOwner):
    """`async with LlmClient(url, key, model, timeout) as llm: answer = await llm.chat(messages)`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        *,
        http_client: httpx.AsyncClient | None = None,
    ):
        if not base_url.strip() or not model.strip():
            raise LlmNotConfigured("the LLM needs a base URL and a model name")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.model = model.strip()
        self.timeout = timeout
        self._where = describe("LLM", "POST", base_url.rstrip("/") + "/chat/completions")
        self._secrets = (api_key,) if api_key else ()
        self._init_http(http_client, timeout=timeout, headers={"User-Agent": USER_AGENT})
        self._openai = openai.AsyncOpenAI(
            base_url=base_url.strip(),
            api_key=api_key or _NO_KEY,
            timeout=timeout,
            max_retries=0,
            http_client=self._http,
        )

    async def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float = 0.2) -> ChatAnswer:
        """The assistant's text for `messages`, or a typed `LlmError`."""
        try:
            # max_tokens rather than max_completion_tokens: local servers (vLLM, Ollama) understand it.
            response: Any = await asyncio.wait_for(
                self._openai.chat.completions.create(
                    model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature
                ),
                self.timeout,
            )
        except (TimeoutError, openai.APITimeoutError) as exc:
            raise LlmTimeout(f"{self._where} did not answer within {self.timeout:g} s") from exc
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            message = f"{self._where} is not reachable: {type(cause).__name__}: {cause}"
            raise LlmUnavailable(scrub(message, self._secrets)) from exc
        except (openai.OpenAIError, ValueError, TypeError) as exc:  # e.g. a 200 whose body is not JSON
            message = f"{self._where} answered with an unreadable body: {type(exc).__name__}: {exc}"
            raise LlmResponseError(scrub(message, self._secrets)[:500]) from exc
        return self._answer(response)

    def _status_error(self, exc: openai.APIStatusError) -> LlmError:
        body = scrub(" ".join(exc.response.text.split()), self._secrets)[:_ERROR_BODY_CHARS]
        message = f"{self._where} answered HTTP {exc.status_code}" + (f": {body}" if body else "")
        if exc.status_code in (408, 429) or exc.status_code >= 500:
            return LlmUnavailable(message)
        return LlmRequestError(message)

    def _answer(self, response: Any) -> ChatAnswer:
        if not isinstance(response, ChatCompletion) or not response.choices:
            raise LlmResponseError(f"{self._where} answered without choices")
        choice = response.choices[0]
        text = choice.message.content if choice.message is not None else None
        if not isinstance(text, str) or not text.strip():
            refusal = getattr(choice.message, "refusal", None)
            raise LlmResponseError(f"{self._where} answered without text" + (" (refusal)" if refusal else ""))
        if choice.finish_reason == "length":
            # Cut off mid-sentence: not fit for a ticket.
            raise LlmResponseError(f"{self._where} hit the token limit before finishing its answer")
        return ChatAnswer(text=text, model=response.model or self.model, finish_reason=choice.finish_reason)
