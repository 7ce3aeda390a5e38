"""RFC 9457 problem details for every error, so clients always get a message saying what is wrong."""

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.logging import get_logger
from hub.temporal.errors import RETRY_AFTER_SECONDS, WorkflowRejected, WorkflowUnavailable

log = get_logger(__name__)
MEDIA_TYPE = "application/problem+json"
# The 401 for a request without any key, from the middleware (before the body) and from the principal dependency.
MISSING_API_KEY = "missing API key: send it in the X-API-Key header"


class Problem(Exception):
    def __init__(self, status: int, detail: str, title: str | None = None, **extra: Any):
        super().__init__(detail)
        self.status, self.detail, self.title, self.extra = status, detail, title, extra


def not_found(entity: str, ident: object) -> Problem:
    return Problem(404, f"{entity} {ident} not found", "Not Found")


def problem_response(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


# Request validation errors point at the offending field by its full path in the submitted JSON, e.g.
# ``spec.hours.0.0`` or ``document.levels.1.name``.
# Domain validators that check several fields at once say which one is wrong: "levels.1.name: duplicate ...".
_FIELD_PREFIX = re.compile(r"^Value error, ([A-Za-z_]\w*(?:\.\w+)*): (.+)$", re.DOTALL)
_UNKNOWN = object()


def _walk(loc: list[Any], body: Any) -> list[Any]:
    """The error location as a path through the submitted JSON: drop the union tags pydantic inserts
    (``percent_used`` in ``levels.0.trigger.percent_used.percent``, ``RoleRecipient`` in recipients) and its
    ``[key]`` marker (``targets.P9.[key]`` -> ``targets.P9``)."""
    path: list[Any] = []
    node = body
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part == "[key]":
            continue  # pydantic's marker for a bad dict key: the path already ends at that key
        if node is _UNKNOWN:
            path.append(part)
        elif isinstance(node, dict) and str(part) in node:
            path.append(part)
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and not (last and isinstance(node, dict)):
            continue  # a tag of a union member, not a key of the input
        else:
            path.append(part)  # a missing field or a normalised key (weekday "mon" -> 0): the input ends here
            node = _UNKNOWN
    return path


def _parse_error(errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """FastAPI's error for a body the JSON parser refused: type ``json_invalid`` at ``("body", <offset>)``."""
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid" and len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
            return error
    return None


def _invalid_json(error: dict[str, Any], body: Any) -> Problem:
    """What the parser found wrong and where: line and column in the text it parsed (as json.JSONDecodeError
    counts them), else the character offset."""
    what = str((error.get("ctx") or {}).get("error") or "malformed")
    pos = error["loc"][1]
    if isinstance(body, str):
        line, column = body.count("\n", 0, pos) + 1, pos - body.rfind("\n", 0, pos)
        where = f"line {line}, column {column}"
    else:
        where = f"character {pos}"
    message = f"the body is not valid JSON: {what} at {where}"
    return Problem(422, message, errors=[{"field": "body", "message": message}])


def validation_problem(errors: list[dict[str, Any]], body: Any) -> Problem:
    """A 422 problem whose ``errors`` carry the full location of each pydantic error; ``detail`` names the first."""
    if (parse_error := _parse_error(errors)) is not None:
        return _invalid_json(parse_error, body)
    out = []
    for error in errors:
        loc = list(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        match = _FIELD_PREFIX.match(message) if error.get("type") == "value_error" else None
        if match:
            loc += [int(p) if p.isdigit() else p for p in match.group(1).split(".")]
            message = f"Value error, {match.group(2)}"
        if loc and loc[0] == "body":
            loc = _walk(loc[1:], body)
        field = ".".join(str(p) for p in loc) or "body"
        out.append({"field": field, "message": message})
    first = out[0] if out else {"field": "body", "message": "invalid request"}
    return Problem(422, f"{first['field']}: {first['message']}", errors=out)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title or _TITLES.get(exc.status, "Error"), exc.detail, **exc.extra)

    # The one mapping of a workflow's answer to HTTP, for every route that updates, starts or signals a workflow.
    @app.exception_handler(WorkflowRejected)
    async def _rejected(_: Request, exc: WorkflowRejected) -> JSONResponse:
        return problem_response(409, "Conflict", str(exc))

    @app.exception_handler(WorkflowUnavailable)
    async def _unavailable(_: Request, exc: WorkflowUnavailable) -> JSONResponse:
        return problem_response(
            503,
            "Service Unavailable",
            f"{exc}; the request may still take effect: check, then try again",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        resp = problem_response(exc.status_code, _TITLES.get(exc.status_code, "Error"), detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problem = validation_problem(list(exc.errors()), exc.body)
        return problem_response(422, "Unprocessable Content", problem.detail, **problem.extra)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # The transaction was rolled back; tell the client which kind of conflict it was, not the SQL.
        log.info("integrity error", error=str(exc.orig))
        return problem_response(409, "Conflict", "the request conflicts with existing data (duplicate or in use)")

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        log.info("data error", error=str(exc.orig))
        return problem_response(
            422,
            "Unprocessable Content",
            "a value is not acceptable to the database (invalid characters or out of range)",
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(500, "Internal Server Error", "an unexpected error occurred; it has been logged")
