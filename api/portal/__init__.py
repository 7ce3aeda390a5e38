"""The web portal for customer IT, customer users and external technicians: server-rendered pages (Jinja2) under
/portal, one router, so the permission tests can enumerate its pages from `router.routes`."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from api.portal import auth, pages

PREFIX = "/portal"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
router.include_router(auth.router)
router.include_router(pages.router)


def page_routes() -> list[tuple[str, str]]:
    """Every page and form of the portal as (method, path), e.g. for a permission matrix over all routes."""
    return [
        (method, PREFIX + route.path)
        for sub in (auth.router, pages.router)
        for route in sub.routes
        for method in sorted(route.methods)
    ]

STATIC = StaticFiles(directory=Path(__file__).parent / "static")
