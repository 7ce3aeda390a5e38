"""Knowledge base routes under /kb: articles and their versions, search, links to tickets and suggestions."""

from fastapi import APIRouter

from api.routes.kb import articles, links, search

router = APIRouter(tags=["knowledge base"])
for _module in (search, articles, links):
    router.include_router(_module.router, prefix="/kb")
