"""Plain ASGI middleware: request ids and logging, the early refusal of requests without credentials, and the body
limits (size, counted while the body streams in; JSON nesting and number length). Not `@app.middleware("http")`
(Starlette's BaseHTTPMiddleware): that runs every request through an extra task and memory streams, a large share of
the API's CPU per webhook delivery under an alert storm."""

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.json_guard import json_refusal
from hub.logging import get_logger

log = get_logger("api.app")
MAX_BODY_BYTES = 1024 * 1024


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a header (ASGI servers pass names in lower case), as Starlette's `headers.get`."""
    return next((v for k, v in scope["headers"] if k == name), None)


def request_path(scope: Scope) -> str:
    """The path the router matches: without the mount point a reverse proxy passes as root_path."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(f"{root}/") else path


class RequestLog:
    """Binds a request id (the caller's X-Request-ID or a new one) to every log line of the request, returns it as
    X-Request-ID and logs the request with its status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id") or b""
        request_id = given.decode("latin-1")[:64].strip() or uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            log.info(
                "request",
                request_id=request_id,
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )


def _has_credentials(scope: Scope) -> bool:
    """Whether the request carries an API key the way `api.deps.get_principal` reads one: a non-empty X-API-Key,
    or an Authorization header with the Bearer scheme and a token (FastAPI's HTTPBearer)."""
    if _header(scope, b"x-api-key"):
        return True
    scheme, _, token = (_header(scope, b"authorization") or b"").decode("latin-1").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


class RequireCredentials:
    """401 before the body is read for a request under `prefix` that carries no API key at all: the answer
    `api.deps.get_principal` gives, without first taking in the body of someone who may not send one. A key that
    is present, right or wrong, is left to that dependency; `exempt_prefixes` (the signed webhooks) pass."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/v1/", exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app, self.prefix, self.exempt_prefixes = app, prefix, exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _has_credentials(scope):
            path = request_path(scope)
            if path.startswith(self.prefix) and not path.startswith(self.exempt_prefixes):
                response = problems.problem_response(
                    401, "Unauthorized", problems.MISSING_API_KEY, headers={"WWW-Authenticate": "Bearer"}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """Raised by the counting receive. An HTTPException, so FastAPI passes it on from its body parsing (anything
    else it turns into a 400) and the app's handler answers the 413 problem."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would parse the body as JSON: application/json or application/*+json."""
    value = (_header(scope, b"content-type") or b"").decode("latin-1")
    media = value.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hands the buffered body to the app as one message; later calls go to the server (to learn of a disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client went away before sending it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


@dataclass(frozen=True)
class Allowance:
    """A larger body limit for one path (an upload such as the MSP's QBR template) and the refusal's message."""

    max_bytes: int
    detail: str


class BodyLimit:
    """The request body limit for every path but `exempt_prefixes` (the webhooks, which enforce it themselves and
    log refusals): 413 when Content-Length announces more (or is not a number), and, as the announcement may be
    absent or false, when the bytes received pass the limit: reading stops there. JSON bodies are buffered here
    (at most the limit) and checked by `api.json_guard` before the app parses them: 422 with the reason.
    `allowances`: exact paths with a limit of their own (uploads); every other path keeps `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, exempt_prefixes: tuple[str, ...] = (),
                 allowances: Mapping[str, Allowance] | None = None) -> None:  # fmt: skip
        self.app, self.exempt_prefixes = app, exempt_prefixes
        self.default = Allowance(max_bytes, f"request body exceeds {max_bytes} bytes")
        self.allowances = dict(allowances or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = request_path(scope) if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        limit = self.allowances.get(path.rstrip("/"), self.default)
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit.max_bytes):
            await self._refuse(scope, receive, send, limit.detail)
            return
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge(limit.detail)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            app_receive = counting_receive
            if _is_json(scope):
                body = await _read_body(counting_receive)
                if body is None:
                    return  # the client went away: nobody to answer
                if (reason := json_refusal(body)) is not None:
                    await problems.problem_response(422, "Unprocessable Content", reason)(scope, receive, send)
                    return
                app_receive = _replay(body, receive)
            await self.app(scope, app_receive, tracking_send)
        except Exception:
            if not exceeded:
                raise
            # The app did not answer the refusal itself (or could not); once its response has begun, just stop.
            if not started:
                await self._refuse(scope, receive, send, limit.detail)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, detail: str) -> None:
        response = problems.problem_response(413, "Content Too Large", detail)
        await response(scope, receive, send)
