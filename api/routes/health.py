"""Liveness and readiness: the database and Temporal must both answer."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import Session

from api.routes.soc.inbox import backlog

router = APIRouter(tags=["health"])


def _check_db(engine) -> tuple[str, dict | None]:  # noqa: ANN001
    """The database, and the SOC inbox's backlog (alerts accepted but not yet with their incidents)."""
    try:
        with Session(engine) as s:
            s.exec(text("SELECT 1"))
        return "ok", backlog(engine).model_dump(mode="json")
    except Exception as err:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(err).__name__}", None


async def _check_temporal(client) -> str:  # noqa: ANN001
    if client is None:
        return "error: not connected"
    try:
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        return "ok"
    except Exception as err:  # noqa: BLE001
        return f"error: {type(err).__name__}"


@router.get(
    "/healthz",
    summary="Database and Temporal reachability",
    description="`soc_inbox`: webhook alerts stored but not yet handed to their incidents; a growing `pending` or "
    "an old `oldest_received_at` means hand-overs are failing (see `failing` and the API log).",
)
async def healthz(request: Request) -> JSONResponse:
    db, inbox = await asyncio.to_thread(_check_db, request.app.state.engine)
    temporal = await _check_temporal(request.app.state.temporal)
    ok = db == "ok" and temporal == "ok"
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "database": db, "temporal": temporal, "soc_inbox": inbox},
        status_code=200 if ok else 503,
    )
