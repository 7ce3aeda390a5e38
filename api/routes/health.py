"""Liveness and readiness: the database and Temporal must both answer, and the SOC inbox must be moving (alerts
accepted but not handed to their incidents must not wait or keep failing past the PSA_SOC_INBOX_HEALTH_* limits)."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import Session

from api.routes.soc.inbox import InboxBacklog, backlog
from hub.config import Settings

router = APIRouter(tags=["health"])


def _check_db(engine) -> tuple[str, InboxBacklog | None]:  # noqa: ANN001
    """The database, and the SOC inbox's backlog (alerts accepted but not yet with their incidents)."""
    try:
        with Session(engine) as s:
            s.exec(text("SELECT 1"))
        return "ok", backlog(engine)
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


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def inbox_reasons(inbox: InboxBacklog, settings: Settings) -> list[str]:
    """Why the inbox is not moving, if it is not: its oldest alert, or an alert whose hand-over fails, has waited
    too long."""
    reasons = []
    oldest_limit = settings.soc_inbox_health_oldest_minutes * 60
    if inbox.oldest_age_seconds > oldest_limit:
        reasons.append(
            f"soc inbox: the oldest of {inbox.pending} alerts has waited {_minutes(inbox.oldest_age_seconds)} for "
            f"its incident (limit {_minutes(oldest_limit)})"
        )
    failing_limit = settings.soc_inbox_health_failing_minutes * 60
    if inbox.failing and inbox.failing_age_seconds > failing_limit:
        reasons.append(
            f"soc inbox: {inbox.failing} alerts whose hand-over failed, the oldest waiting "
            f"{_minutes(inbox.failing_age_seconds)} (limit {_minutes(failing_limit)}); see the API log"
        )
    return reasons


@router.get(
    "/healthz",
    summary="Database and Temporal reachability, SOC inbox progress",
    description="`soc_inbox`: webhook alerts stored but not yet handed to their incidents (`pending`, the oldest's "
    "age), those whose hand-over failed (`failing`, the oldest's age) and those set aside in the quarantine "
    "(`quarantined`, GET /api/v1/soc/quarantine). 503 `degraded` when the database or Temporal does not answer, or "
    "the inbox's oldest or failing alert has waited past its limit; `reasons` says which.",
)
async def healthz(request: Request) -> JSONResponse:
    db, inbox = await asyncio.to_thread(_check_db, request.app.state.engine)
    temporal = await _check_temporal(request.app.state.temporal)
    reasons = [f"{name}: {state}" for name, state in (("database", db), ("temporal", temporal)) if state != "ok"]
    if inbox is not None:
        reasons += inbox_reasons(inbox, request.app.state.settings)
    return JSONResponse(
        {
            "status": "degraded" if reasons else "ok",
            "database": db,
            "temporal": temporal,
            "soc_inbox": inbox.model_dump(mode="json") if inbox is not None else None,
            "reasons": reasons,
        },
        status_code=503 if reasons else 200,
    )
