"""`psa check` on a real Temporal dev server and a real database (SQLite and PostgreSQL): an installation taken step
by step from nothing to ready, every missing piece named with what to do, exit code 1 until all is there."""

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session

from api.routes.soc.schedules import sync_all
from hub.check import check, load_settings
from hub.config import Settings
from hub.db import alembic_config, make_engine, upgrade
from hub.temporal import connect, register_search_attributes
from hub.temporal.billing import ensure_billing_schedule
from hub.temporal.inventory import ensure_inventory_schedule
from hub.temporal.qbr import ensure_qbr_schedule
from hub.temporal.service_report import ensure_service_report_schedule
from hub.temporal.tickets import ensure_start_sweep_schedule
from models import SocIntegration
from tests.conftest import empty_database
from tests.deploy.files import tool
from tests.factories import make_soc_integration, make_tenant


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path):
    with empty_database(request.param, tmp_path) as url:
        yield request.param, url


def psa_check(env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    """The real command, as an admin runs it."""
    result = subprocess.run([tool("psa"), "check"], env=os.environ | env, cwd=cwd, capture_output=True, text=True)
    return result.returncode, result.stdout.splitlines()


def lines(items) -> dict[str, str]:  # noqa: ANN001
    return {item.name: item.line() for item in items}


async def test_psa_check_names_what_is_missing_until_the_installation_is_ready(
    fresh_database, bare_dev_server, tmp_path
):
    kind, url = fresh_database
    address = bare_dev_server.client.service_client.config.target_host
    namespace = f"psa-check-{kind}"
    env = {"PSA_DATABASE_URL": url, "PSA_TEMPORAL_ADDRESS": address, "PSA_TEMPORAL_NAMESPACE": namespace,
           "PSA_DATA_DIR": str(tmp_path / "data")}  # fmt: skip

    # Nothing prepared: no schema, no search attributes, no schedule.
    code, out = await asyncio.to_thread(psa_check, env, tmp_path)
    assert code == 1, out
    assert out[0].startswith("ok   configuration: from ") and f"Temporal {address} namespace {namespace}" in out[0]
    if kind == "sqlite":
        assert "FAIL database reachable: " in out[1] and "does not exist -> run `psa db upgrade`" in out[1]
    else:
        assert out[1:3] == ["ok   database reachable: postgresql", out[2]]
        assert out[2].startswith("FAIL database migrated: no migration applied, head is ")
        assert out[2].endswith("-> run `psa db upgrade`")
    assert f"ok   Temporal reachable: {address}" in out
    assert f"ok   namespace {namespace}: present" in out
    missing = [line for line in out if line.startswith("FAIL search attributes: missing: CustomerId")]
    assert missing and missing[0].endswith("-> run `psa temporal setup`")
    assert "FAIL schedule billing-monthly: missing (monthly billing run) -> run `psa temporal setup`" in out
    assert "FAIL schedule qbr-quarterly: missing (quarterly QBR run) -> run `psa temporal setup`" in out
    assert "FAIL schedule inventory-daily: missing (daily inventory sync) -> run `psa temporal setup`" in out
    missing_reports = "FAIL schedule service-report-monthly: missing (monthly service reports)"
    assert f"{missing_reports} -> run `psa temporal setup`" in out
    sweep = "FAIL schedule ticket-start-sweep: missing (ticket start sweep)"
    assert f"{sweep} -> run `psa temporal setup` (or start a worker)" in out
    assert "FAIL SOC poll schedules: not checked: the database is not ready (see above)" in out
    assert out[-1].endswith("failed") and not out[-1].startswith("0 ok")

    # Migrated, with a SentinelOne integration that polls: its schedule is missing too.
    upgrade(url)
    engine = make_engine(url)
    try:
        tenant = make_tenant(engine)
        integration = make_soc_integration(engine, tenant, credentials_ref="s1-main")
        settings = Settings(_env_file=None, **{k.removeprefix("PSA_").lower(): v for k, v in env.items()})
        found = lines(await asyncio.to_thread(check, settings))
        assert found["database migrated"].startswith("ok   database migrated: at head ")
        poll = f"schedule soc-poll-sentinelone-{tenant.customer_number}"
        what = f"SOC poll of {tenant.customer_number} (sentinelone)"
        assert found[poll] == f"FAIL {poll}: missing ({what}) -> run `psa soc sync-schedules`"

        # What the README's setup steps do: `psa temporal setup`, `psa soc sync-schedules`.
        client = await connect(address, namespace)
        await register_search_attributes(client)
        await ensure_billing_schedule(client)
        await ensure_qbr_schedule(client)
        await ensure_inventory_schedule(client)
        await ensure_service_report_schedule(client)
        await ensure_start_sweep_schedule(client)
        await sync_all(engine, client)
        code, out = await asyncio.to_thread(psa_check, env, tmp_path)
        assert code == 0, out
        assert [line.split(":")[0] for line in out[:-1]] == [
            "ok   configuration", "ok   database reachable", "ok   database migrated", "ok   Temporal reachable",
            f"ok   namespace {namespace}", "ok   search attributes", "ok   schedule billing-monthly",
            "ok   schedule qbr-quarterly", "ok   schedule inventory-daily", "ok   schedule service-report-monthly",
            "ok   schedule ticket-start-sweep", f"ok   {poll}",
        ]  # fmt: skip
        assert out[-1] == "12 ok, 0 failed"

        # A database migrated by a newer hub: this one does not know its revision.
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_a_newer_hub'"))
        found = lines(await asyncio.to_thread(check, settings))
        assert found["database migrated"].startswith(
            "FAIL database migrated: at 9999_from_a_newer_hub, which this version of the hub does not know"
        )
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})

        # Deactivated in the database only: the schedule should now be paused.
        with Session(engine) as s:
            row = s.get(SocIntegration, integration.id)
            row.is_active = False
            s.add(row)
            s.commit()
        found = lines(await asyncio.to_thread(check, settings))
        assert found[poll].startswith(f"FAIL {poll}: SOC poll of")
        assert found[poll].endswith("active, should be paused -> run `psa soc sync-schedules`")
    finally:
        engine.dispose()


def test_a_setting_the_hub_refuses_is_named(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PSA_API_PORT=not-a-port\n")
    monkeypatch.setenv("PSA_LOG_FORMAT", "yaml")
    settings, item = load_settings()
    assert settings is None and not item.ok
    assert f"and {tmp_path / '.env'}" in item.detail
    assert "PSA_LOG_FORMAT: String should match pattern" in item.detail and "PSA_API_PORT: " in item.detail


def test_a_misspelt_setting_is_named(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("PSA_")]:  # e.g. PSA_TEST_POSTGRES_URL of the test run
        monkeypatch.delenv(name)
    monkeypatch.setenv("PSA_TEMPORAL_ADRESS", "temporal:7233")
    monkeypatch.setenv("PSA_SOC_CREDENTIALS__S1__TOKEN", "x")
    settings, item = load_settings()
    assert item.ok and settings.temporal_address == "localhost:7233"
    assert item.detail.endswith("; ignored, no such setting: PSA_TEMPORAL_ADRESS")
