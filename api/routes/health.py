"""Liveness and readiness: the database and Temporal must both answer."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import Session

router = APIRouter(tags=["health"])


def _check_db(engine) -> str:  # noqa: ANN001
    try:
        with Session(engine) as s:
            s.exec(text("SELECT 1"))
        return "ok"
    except Exception as err:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(err).__name__}"


async def _check_temporal(client) -> str:  # noqa: ANN001
    if client is None:
        return "error: not connected"
    try:
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        return "ok"
    except Exception as err:  # noqa: BLE001
        return f"error: {type(err).__name__}"


@router.get("/healthz", summary="Database and Temporal reachability")
async def healthz(request: Request) -> JSONResponse:
    db = await asyncio.to_thread(_check_db, request.app.state.engine)
    temporal = await _check_temporal(request.app.state.temporal)
    ok = db == "ok" and temporal == "ok"
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "database": db, "temporal": temporal}, status_code=200 if ok else 503
    )
