"""Templates, and the portal's route class: a refusal from the shared API code (`Problem`) becomes an HTML page
with the same status, a missing session the login page, a forged form post a 403 page."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from api.portal import texts
from api.portal.session import CsrfRefused, LoginRequired
from api.problems import Problem

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals.update(texts=texts)
templates.env.filters.update(local_time=texts.local_time)


def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def error_page(request: Request, status: int, message: str, caller: Any = None) -> Response:
    return page(request, "error.html", status=status, status_code=status, message=message, caller=caller)


class PortalRoute(APIRoute):
    def get_route_handler(self):  # noqa: ANN201
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return RedirectResponse("/portal/login", status_code=303)
            except CsrfRefused:
                return error_page(request, 403, texts.CSRF_REFUSED)
            except Problem as problem:
                return error_page(request, problem.status, texts.problem_message(problem.status, problem.detail))
            except RequestValidationError as err:
                fields = ", ".join(str(e["loc"][-1]) for e in err.errors())
                return error_page(request, 422, f"Eingabe ungültig: {fields}")

        return portal_handler
