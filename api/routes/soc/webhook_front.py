"""The webhook's lean way in: ahead of the whole FastAPI stack (`api.app.HubApp` calls it first), it serves
POST /api/v1/webhooks/<source>/<id> with `webhooks.deliver` and passes every other request on. Under an alert storm
most requests are deliveries, and an unchanged redelivery's own work is small: the stack around it (FastAPI's
telemetry check, error and body-limit wrappers, the hub's middlewares, routing, dependency solving) was most of its
CPU. It does for the webhook what those do for it: the request id (the caller's X-Request-ID or a new one, bound to
the log lines and returned), one log line per delivery (with its outcome, by `deliver`), errors answered by the
app's own exception handlers (problem+json). The body limit is `deliver`'s, as on the route; a delivery is signed,
not keyed, so the key check does not apply. A request with a query string goes on to the app, which refuses it as
on every route (`api.deps.reject_unknown_query`); the route there (also the webhook's OpenAPI entry) calls the same
`deliver`."""

import uuid

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.middleware import request_path
from api.routes.soc.webhooks import deliver

PREFIX = "/api/v1/webhooks/"


async def _stream(receive: Receive):  # noqa: ANN202 - an async generator of the body's chunks
    """The body's chunks as the server passes them (Starlette's `Request.stream`, without the request object)."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away: the body ends here, as Starlette's stream raises for the route
        if body := message.get("body", b""):
            yield body
        if not message.get("more_body", False):
            return


class WebhookFront:
    """`app`: where other requests go; `hub`: the FastAPI app whose state and exception handlers serve."""

    def __init__(self, app: ASGIApp, hub: FastAPI) -> None:
        self.app, self.hub = app, hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
            await self.app(scope, receive, send)
            return
        path = request_path(scope)
        source, _, integration_id = path[len(PREFIX) :].partition("/") if path.startswith(PREFIX) else ("", "", "")
        if not source or not integration_id or "/" in integration_id:
            await self.app(scope, receive, send)  # not the webhook's path: the app's 404
            return
        scope["app"] = self.hub
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id", "")[:64].strip() or uuid.uuid4().hex
        client = scope.get("client")
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            remote = client[0] if client else None
            stream = _stream(receive)
            answer = await deliver(
                self.hub.state, source, integration_id, headers, stream, remote, request_id=request_id
            )
            response: Response = JSONResponse(answer.body, status_code=answer.status)
        except Exception as err:  # noqa: BLE001 - answered as the app answers it: a problem, or a logged 500
            response = await _handled(self.hub, scope, err)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response.headers["x-request-id"] = request_id
        await response(scope, receive, send)


async def _handled(hub: FastAPI, scope: Scope, err: Exception) -> Response:
    """The app's exception handler for the error (by its class, the nearest first), as Starlette picks it."""
    handlers = hub.exception_handlers
    for cls in type(err).__mro__:
        if cls in handlers:
            return await handlers[cls](Request(scope), err)
    raise err
