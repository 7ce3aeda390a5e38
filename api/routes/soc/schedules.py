"""Poll schedules follow their SOC integrations: one place decides what the Temporal schedule of an integration
should be and makes it so; the API calls it after create/PATCH, `psa soc sync-schedules` for all of them.

Desired state, from the database row:

* a pollable integration (SentinelOne or RocketCyber, with ``credentials_ref``) that is active: schedule
  created or updated, unpaused;
* the same, deactivated: schedule paused (not deleted: reactivation unpauses it with its interval);
* a pollable source without ``credentials_ref`` (removed by PATCH): a schedule left from before is paused;
* webhook-only sources (Barracuda XDR, generic): no schedule, Temporal is not asked.

Temporal being unreachable never fails the caller: the integration is saved, the result says ``pending``
and `psa soc sync-schedules` repairs it later. A server without schedule support (the time-skipping test
server answers UNIMPLEMENTED) is reported as ``unsupported`` and logged, never taken for success.
"""

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.processes import poll_workflow_id
from domain.soc.polling import POLLABLE_SOURCES
from hub.logging import get_logger
from hub.temporal.soc import ensure_poll_schedule, pause_poll_schedule
from models import SocIntegration, Tenant

log = get_logger(__name__)
# Per RPC, and for one whole sync: an API request must not hang on an unreachable Temporal.
RPC_TIMEOUT = timedelta(seconds=5)
SYNC_TIMEOUT = 15.0
_POLLABLE = {s.value for s in POLLABLE_SOURCES}


class ScheduleStatus(StrEnum):
    ACTIVE = "active"  # polls at every_minutes
    PAUSED = "paused"  # integration deactivated or no longer pollable: no ticks
    NONE = "none"  # webhook-only integration: no schedule
    PENDING = "pending"  # Temporal unreachable or failed: run `psa soc sync-schedules`
    UNSUPPORTED = "unsupported"  # the Temporal server has no schedules (test server)


class PollSchedule(BaseModel):
    status: ScheduleStatus
    schedule_id: str | None = None
    every_minutes: int | None = Field(default=None, description="Poll interval, read back from the schedule")
    detail: str | None = None


@dataclass(frozen=True)
class PollTarget:
    """What the schedule of one integration depends on (no table objects cross into Temporal code)."""

    integration_id: UUID
    source: str
    customer_number: str
    credentials_ref: str | None
    is_active: bool
    every_minutes: int | None = None  # the integration's poll interval; None: the schedule's default

    @classmethod
    def of(cls, row: SocIntegration, tenant: Tenant) -> "PollTarget":
        return cls(
            row.id, row.source, tenant.customer_number, row.credentials_ref, row.is_active, row.poll_interval_minutes
        )

    @property
    def pollable(self) -> bool:
        return self.source in _POLLABLE and bool(self.credentials_ref)

    @property
    def schedule_id(self) -> str:
        return poll_workflow_id(self.source, self.customer_number)


def is_pollable(source: str, credentials_ref: str | None) -> bool:
    return source in _POLLABLE and bool(credentials_ref)


async def sync_poll_schedule(client: Client | None, target: PollTarget, every: timedelta | None = None) -> PollSchedule:
    """Make the integration's schedule match `target`: its stored interval, else `every`, else the schedule's current
    interval (a new schedule: the default)."""
    if target.every_minutes:
        every = timedelta(minutes=target.every_minutes)
    if target.source not in _POLLABLE:
        return PollSchedule(status=ScheduleStatus.NONE)  # never had a schedule: nothing to ask Temporal
    ids = {"integration_id": str(target.integration_id), "schedule_id": target.schedule_id}
    if client is None:
        log.warning("soc poll schedule pending: temporal not connected", **ids)
        return _pending(target, "the workflow engine (Temporal) is not connected")
    try:
        return await asyncio.wait_for(_apply(client, target, every), SYNC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.UNIMPLEMENTED:
            log.warning("soc poll schedule unsupported by this temporal server", error=err.message, **ids)
            return PollSchedule(
                status=ScheduleStatus.UNSUPPORTED,
                schedule_id=target.schedule_id,
                detail=f"the Temporal server does not support schedules: {err.message}",
            )
        log.warning("soc poll schedule pending: temporal error", status=err.status.name, error=err.message, **ids)
        return _pending(target, f"Temporal answered {err.status.name}: {err.message}")
    except TimeoutError:
        log.warning("soc poll schedule pending: temporal timed out", **ids)
        return _pending(target, f"the workflow engine (Temporal) did not answer within {SYNC_TIMEOUT:.0f} s")
    except RuntimeError as err:  # what the SDK raises when it cannot (re)connect
        log.warning("soc poll schedule pending: temporal unreachable", error=str(err), **ids)
        return _pending(target, "the workflow engine (Temporal) is not reachable")


def _pending(target: PollTarget, why: str) -> PollSchedule:
    return PollSchedule(
        status=ScheduleStatus.PENDING,
        schedule_id=target.schedule_id if target.pollable else None,
        detail=f"{why}; the poll schedule is fixed by `psa soc sync-schedules`",
    )


async def _apply(client: Client, target: PollTarget, every: timedelta | None) -> PollSchedule:
    if not target.pollable:
        note = "no polling: the integration has no credentials_ref"
        paused = await pause_poll_schedule(
            client, target.source, target.customer_number, note=note, rpc_timeout=RPC_TIMEOUT
        )
        if not paused:
            return PollSchedule(status=ScheduleStatus.NONE)
        log.info("soc poll schedule paused: integration not pollable", schedule_id=target.schedule_id)
        return PollSchedule(status=ScheduleStatus.PAUSED, schedule_id=target.schedule_id, detail=note)
    note = None if target.is_active else "integration deactivated in the hub"
    sid = await ensure_poll_schedule(
        client,
        target.integration_id,
        every,
        source=target.source,
        customer_number=target.customer_number,
        paused=not target.is_active,
        note=note,
        rpc_timeout=RPC_TIMEOUT,
    )
    desc = await client.get_schedule_handle(sid).describe(rpc_timeout=RPC_TIMEOUT)
    intervals = desc.schedule.spec.intervals
    status = ScheduleStatus.PAUSED if desc.schedule.state.paused else ScheduleStatus.ACTIVE
    log.info("soc poll schedule synced", schedule_id=sid, status=status.value)
    return PollSchedule(
        status=status,
        schedule_id=sid,
        every_minutes=int(intervals[0].every.total_seconds() // 60) if intervals else None,
        detail=note,
    )


async def sync_all(engine: Engine, client: Client) -> list[tuple[PollTarget, PollSchedule]]:
    """Every integration's schedule from the database (idempotent): after a restore or a missed API call."""
    return [(t, await sync_poll_schedule(client, t)) for t in poll_targets(engine)]


def poll_targets(engine: Engine) -> list[PollTarget]:
    """Every SOC integration as what its schedule depends on (also read by `psa check`)."""
    with Session(engine) as s:
        rows = s.exec(
            select(SocIntegration, Tenant)
            .join(Tenant, Tenant.id == SocIntegration.tenant_id)
            .order_by(SocIntegration.created_at, SocIntegration.id)
        ).all()
        return [PollTarget.of(row, tenant) for row, tenant in rows]
