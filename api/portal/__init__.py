"""The web portal for customer IT, customer users and external technicians: server-rendered pages (Jinja2) under
/portal, one router, so the permission tests can enumerate its pages from `router.routes`."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from api.portal import auth, pages

router = APIRouter(prefix="/portal", include_in_schema=False)
router.include_router(auth.router)
router.include_router(pages.router)

STATIC = StaticFiles(directory=Path(__file__).parent / "static")
