"""Poll schedules follow their SOC integrations, on the dev server (the time-skipping server has no schedules):
the API creates, updates, pauses and unpauses them; `psa soc sync-schedules` repairs drift from the database.
One dev server for the module: starting it is the slow part."""

import asyncio
import os
import socket
import sysconfig
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from domain.contracts.soc import SocPollInput
from domain.roles import Role
from hub.config import Settings
from models import SocIntegration
from tests.conftest import auth
from tests.factories import make_tenant, make_user

INTEGRATIONS = "/api/v1/soc/integrations"
PSA = str(Path(sysconfig.get_path("scripts")) / "psa")


@pytest.fixture
async def hub(dev_server, engine):  # noqa: ANN001
    """The API against the dev server; no worker polls there, so scheduled runs just wait (harmless)."""
    app = create_app(Settings(), engine=engine, temporal=dev_server.client)
    _, admin = make_user(engine, Role.MSP_ADMIN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        http.headers.update(auth(admin))
        yield http


async def schedule_of(client: Client, schedule_id: str) -> tuple[bool, list[timedelta], uuid.UUID]:
    """(paused, intervals, integration id of the action) as the server has it."""
    desc = await client.get_schedule_handle(schedule_id).describe()
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == "SocPoller"
    (arg,) = await client.data_converter.decode(action.args, [SocPollInput])
    return desc.schedule.state.paused, [i.every for i in desc.schedule.spec.intervals], arg.integration_id


async def test_api_keeps_the_poll_schedule_in_step_with_the_integration(dev_server, hub, engine):
    client = dev_server.client
    tenant = make_tenant(engine)
    r = await hub.post(
        INTEGRATIONS,
        json={
            "tenant_id": str(tenant.id),
            "source": "sentinelone",
            "name": "S1",
            "credentials_ref": "s1-acme",
            "poll_interval_minutes": 7,
        },
    )
    assert r.status_code == 201, r.text
    iid, sid = uuid.UUID(r.json()["id"]), f"soc-poll-sentinelone-{tenant.customer_number}"
    assert r.json()["poll_schedule"] == {"status": "active", "schedule_id": sid, "every_minutes": 7, "detail": None}
    assert await schedule_of(client, sid) == (False, [timedelta(minutes=7)], iid)
    url = f"{INTEGRATIONS}/{iid}"

    async def patch(body: dict) -> dict:
        resp = await hub.patch(url, json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()["poll_schedule"]

    assert (await patch({"is_active": False}))["status"] == "paused"
    desc = await client.get_schedule_handle(sid).describe()
    assert desc.schedule.state.paused and desc.schedule.state.note == "integration deactivated in the hub"
    # Reactivation unpauses with the interval the schedule had.
    assert (await patch({"is_active": True})) == {
        "status": "active",
        "schedule_id": sid,
        "every_minutes": 7,
        "detail": None,
    }
    assert await schedule_of(client, sid) == (False, [timedelta(minutes=7)], iid)
    assert (await patch({"poll_interval_minutes": 3}))["every_minutes"] == 3
    assert await schedule_of(client, sid) == (False, [timedelta(minutes=3)], iid)
    # No credentials: nothing to poll with, the schedule pauses; new ones: it runs again.
    stopped = await patch({"credentials_ref": None})
    assert stopped["status"] == "paused" and "credentials_ref" in stopped["detail"]
    assert (await schedule_of(client, sid))[0] is True
    assert (await patch({"credentials_ref": "s1-acme-neu"}))["status"] == "active"
    assert await schedule_of(client, sid) == (False, [timedelta(minutes=3)], iid)


async def psa(*args: str, database_url: str, temporal_address: str, cwd: Path) -> tuple[int, str, str]:
    env = os.environ | {
        "PSA_DATABASE_URL": database_url,
        "PSA_TEMPORAL_ADDRESS": temporal_address,
        "PSA_LOG_FORMAT": "console",
    }
    proc = await asyncio.create_subprocess_exec(
        PSA, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


def line_of(output: str, integration_id: uuid.UUID | str) -> str:
    (line,) = [x for x in output.splitlines() if x.startswith(str(integration_id))]
    return line


async def test_cli_sync_schedules_repairs_drift_and_is_idempotent(dev_server, hub, engine, database_url, tmp_path):
    client = dev_server.client
    address = client.service_client.config.target_host

    async def create(source: str, credentials_ref: str | None = None) -> tuple[uuid.UUID, str]:
        tenant = make_tenant(engine)
        body = {"tenant_id": str(tenant.id), "source": source, "name": source, "credentials_ref": credentials_ref}
        resp = await hub.post(INTEGRATIONS, json=body)
        assert resp.status_code == 201, resp.text
        return uuid.UUID(resp.json()["id"]), f"soc-poll-{source}-{tenant.customer_number}"

    lost, lost_sid = await create("rocketcyber", "rc-acme")
    missed, missed_sid = await create("sentinelone", "s1-acme")
    webhook_only, _ = await create("barracuda_xdr")
    # Drift: the schedule was lost (e.g. a new Temporal namespace), and a deactivation never reached Temporal.
    assert (await hub.patch(f"{INTEGRATIONS}/{lost}", json={"poll_interval_minutes": 7})).status_code == 200
    await client.get_schedule_handle(lost_sid).delete()
    with Session(engine) as s:
        row = s.get(SocIntegration, missed)
        row.is_active = False
        s.add(row)
        s.commit()
    assert (await schedule_of(client, missed_sid))[0] is False

    code, out, err = await psa(
        "soc", "sync-schedules", database_url=database_url, temporal_address=address, cwd=tmp_path
    )
    assert code == 0, out + err
    assert line_of(out, lost).endswith(f"active | {lost_sid} | every 7 min")  # the stored interval, not 5
    assert f"paused | {missed_sid}" in line_of(out, missed)
    assert line_of(out, webhook_only).endswith(": none")
    assert await schedule_of(client, lost_sid) == (False, [timedelta(minutes=7)], lost)
    assert (await schedule_of(client, missed_sid))[0] is True

    again, out2, err2 = await psa(
        "soc", "sync-schedules", database_url=database_url, temporal_address=address, cwd=tmp_path
    )
    assert again == 0, out2 + err2
    assert [line_of(out2, i) for i in (lost, missed, webhook_only)] == [
        line_of(out, i) for i in (lost, missed, webhook_only)
    ]
    assert await schedule_of(client, lost_sid) == (False, [timedelta(minutes=7)], lost)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    code, out, err = await psa("soc", "sync-schedules", database_url=database_url, temporal_address=dead, cwd=tmp_path)
    assert code == 2 and f"Temporal at {dead} is not reachable" in err


async def test_pausing_a_schedule_that_does_not_exist_is_not_an_error(dev_server, hub, engine):
    """A pollable integration created without credentials never had a schedule; removing nothing is fine."""
    tenant = make_tenant(engine)
    r = await hub.post(INTEGRATIONS, json={"tenant_id": str(tenant.id), "source": "rocketcyber", "name": "RC"})
    assert r.json()["poll_schedule"]["status"] == "none"
    r = await hub.patch(f"{INTEGRATIONS}/{r.json()['id']}", json={"name": "RC neu"})
    assert r.status_code == 200 and r.json()["poll_schedule"]["status"] == "none"
    with pytest.raises(RPCError) as err:
        await dev_server.client.get_schedule_handle(f"soc-poll-rocketcyber-{tenant.customer_number}").describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND
