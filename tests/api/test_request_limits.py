"""Request limits before the routes: the body size counted while it streams in (no Content-Length needed), a request
without an API key refused before its body is read, JSON too deep or with too long numbers refused with the reason,
and a malformed JSON body answered with what is wrong and where. ASGI-level calls count the bytes the app pulled."""

import asyncio
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.app import create_app
from api.middleware import MAX_BODY_BYTES, BodyLimit
from domain.roles import Role
from hub.config import Settings
from tests.factories import make_user

CHUNK = 64 * 1024
WEBHOOKS = ("/api/v1/webhooks/",)
TOO_LARGE = f"request body exceeds {MAX_BODY_BYTES} bytes"
MISSING_KEY = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "missing API key: send it in the X-API-Key header",
}


def chunks(total: int, size: int = CHUNK) -> Iterator[bytes]:
    """A body of `total` bytes in pieces of `size`, made only as the app pulls them."""
    for start in range(0, total, size):
        yield b" " * min(size, total - start)


@dataclass
class Exchange:
    """One request driven through an ASGI app: what it pulled from `receive` and what it sent."""

    pulled: int = 0
    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return {k.decode(): v.decode() for k, v in start["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


async def call(app: ASGIApp, method: str, path: str, headers: dict[str, str], body: Iterable[bytes]) -> Exchange:
    """The request as a server passes it on with chunked transfer encoding: no Content-Length, the body in pieces."""
    exchange, pieces = Exchange(), iter(body)
    piece = next(pieces, b"")
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("hub.test", 80),
    }

    async def receive() -> Message:
        nonlocal piece
        if piece is None:
            await asyncio.Event().wait()  # the body is over: a server answers the next call at disconnect only
        current, piece = piece, next(pieces, None)
        exchange.pulled += len(current)
        return {"type": "http.request", "body": current, "more_body": piece is not None}

    async def send(message: Message) -> None:
        exchange.messages.append(message)

    await app(scope, receive, send)
    return exchange


def assert_refused(exchange: Exchange, status: int, detail: str) -> None:
    assert exchange.status == status, exchange.body
    assert exchange.headers["content-type"] == "application/problem+json"
    assert json.loads(exchange.body)["detail"] == detail


@pytest.fixture
def app(engine):
    return create_app(Settings(), engine=engine, temporal=None)


@pytest.fixture
def admin_key(engine) -> str:
    return make_user(engine, Role.MSP_ADMIN)[1]


# --- body size ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
async def test_a_chunked_body_past_the_limit_gets_413_after_at_most_one_chunk_more(app, admin_key, content_type):
    # JSON is buffered by the middleware; other bodies are read by the route through the counting receive.
    headers = {"x-api-key": admin_key, "content-type": content_type}
    exchange = await call(app, "POST", "/api/v1/sla-definitions", headers, chunks(16 * MAX_BODY_BYTES))
    assert_refused(exchange, 413, TOO_LARGE)
    assert exchange.pulled <= MAX_BODY_BYTES + CHUNK
    # At the limit the body reaches the route, which answers that blanks are no SLA definition.
    exchange = await call(app, "POST", "/api/v1/sla-definitions", headers, chunks(MAX_BODY_BYTES))
    assert (exchange.pulled, exchange.status) == (MAX_BODY_BYTES, 422)


async def test_an_app_whose_response_has_begun_is_just_stopped():
    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.body", "body": b"read it all"})

    exchange = await call(BodyLimit(streaming, max_bytes=100), "POST", "/upload", {}, chunks(1000, size=30))
    assert [m["type"] for m in exchange.messages] == ["http.response.start"]
    assert exchange.pulled <= 100 + 30


async def test_exempt_paths_are_left_to_their_route():
    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message["body"], message["more_body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})

    limited = BodyLimit(echo, max_bytes=100, exempt_prefixes=WEBHOOKS)
    deep = [b"[" * 500, b"]" * 500]
    headers = {"content-type": "application/json"}
    exempt = await call(limited, "POST", "/api/v1/webhooks/generic/k1", headers, deep)
    assert (exempt.status, exempt.body) == (200, b"1000")
    assert_refused(await call(limited, "POST", "/api/v1/tickets", headers, deep), 413, "request body exceeds 100 bytes")


# --- credentials before the body ---------------------------------------------------------------------------------


async def test_without_a_key_401_before_the_body_is_read_any_key_goes_to_the_route(app, admin_key):
    body = json.dumps({"title": "x" * 100}).encode()
    for headers in ({}, {"authorization": "Basic dXNlcjpwdw=="}, {"authorization": "Bearer  "}, {"x-api-key": ""}):
        exchange = await call(app, "POST", "/api/v1/tickets", headers | {"content-type": "application/json"}, [body])
        assert (exchange.status, exchange.pulled) == (401, 0), headers
        assert exchange.headers["www-authenticate"] == "Bearer"
        assert json.loads(exchange.body) == MISSING_KEY
    # A key, right or wrong, is the dependency's to judge.
    for headers in ({"authorization": "Bearer psa_wrong"}, {"x-api-key": "psa_wrong"}):
        assert_refused(await call(app, "GET", "/api/v1/tenants", headers, [b""]), 401, "invalid or revoked API key")
    for headers in ({"authorization": f"bearer {admin_key}"}, {"x-api-key": admin_key}):
        assert (await call(app, "GET", "/api/v1/tenants", headers, [b""])).status == 200

    # The middleware's premise: every /api/v1 operation but the webhooks asks for the key (in its OpenAPI entry).
    spec = await call(app, "GET", "/openapi.json", {}, [b""])
    assert spec.status == 200
    for path, operations in json.loads(spec.body)["paths"].items():
        for method, operation in operations.items():
            keyed = bool(operation.get("security"))
            assert keyed == (path.startswith("/api/v1/") and not path.startswith(WEBHOOKS)), (method, path)
    assert (await call(app, "GET", "/docs", {}, [b""])).status == 200
    assert "database" in json.loads((await call(app, "GET", "/healthz", {}, [b""])).body)
    webhook = await call(app, "POST", "/api/v1/webhooks/nosuch/k1", {"content-type": "application/json"}, [b"{}"])
    assert webhook.status == 404 and json.loads(webhook.body)["detail"].startswith("unknown source 'nosuch'")


# --- JSON shape --------------------------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """An SLA definition body whose document is `depth` - 1 lists deep: `depth` levels with the outer object."""
    return b'{"name": "deep", "document": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


async def test_json_too_deep_or_with_too_long_numbers_gets_422_with_the_reason(app, admin_key):
    headers = {"x-api-key": admin_key, "content-type": "application/json; charset=utf-8"}
    digits = b'{"name": "big", "document": {"warning_percent": 1' + b"0" * 100 + b"}}"
    for body, reason in (
        (nested(65), "the body is nested deeper than 64 levels"),
        (nested(100_000), "the body is nested deeper than 64 levels"),
        (digits, "a number in the body has more than 100 digits"),
    ):
        assert_refused(await call(app, "POST", "/api/v1/sla-definitions", headers, [body]), 422, reason)
    # At the limits the body goes on to the route's validation.
    for body, detail in (
        (nested(64), "document: Input should be a valid dictionary"),
        (digits.replace(b"0", b"", 1), "document.name: Field required"),
    ):
        exchange = await call(app, "POST", "/api/v1/sla-definitions", headers, [body])
        assert exchange.status == 422 and json.loads(exchange.body)["detail"].startswith(detail), exchange.body


async def test_malformed_json_says_what_is_wrong_and_where(app, admin_key):
    headers = {"x-api-key": admin_key, "content-type": "application/json"}
    exchange = await call(app, "POST", "/api/v1/sla-definitions", headers, [b'{"name": "x",\n "document" 1}'])
    detail = "the body is not valid JSON: Expecting ':' delimiter at line 2, column 13"
    assert_refused(exchange, 422, detail)
    assert json.loads(exchange.body)["errors"] == [{"field": "body", "message": detail}]
