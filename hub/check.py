"""`psa check`: is this installation ready to run? One line per item (configuration, database, migrations, Temporal,
namespace, search attributes, schedules), each failure with what to do about it. Read-only: it changes nothing."""

import asyncio
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from sqlalchemy import Engine, make_url, text
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.soc.polling import ENV_PREFIX as CREDENTIALS_ENV_PREFIX
from api.routes.soc.schedules import poll_targets
from domain.processes import (
    BILLING_SCHEDULE_ID,
    INVENTORY_SCHEDULE_ID,
    QBR_SCHEDULE_ID,
    SEARCH_ATTRIBUTES,
    SERVICE_REPORT_SCHEDULE_ID,
    TICKET_START_SWEEP_SCHEDULE_ID,
)
from hub.config import Settings
from hub.db import alembic_config, make_engine
from hub.temporal import connect

RPC_TIMEOUT = timedelta(seconds=5)
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Item:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # what to do when it failed

    def line(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        return f"{status} {self.name}: {self.detail}" + (f" -> {self.fix}" if self.fix and not self.ok else "")


def not_settings(names: Iterable[str]) -> list[str]:
    """The PSA_* names among `names` that the hub reads nowhere (a typo is silently ignored by the settings): neither a
    field of `Settings` nor a SOC integration's credentials (read by the poll activity)."""
    return sorted(
        name
        for name in names
        if name.startswith("PSA_")
        and name.removeprefix("PSA_").lower() not in Settings.model_fields
        and not name.startswith(CREDENTIALS_ENV_PREFIX)
    )


def load_settings(env_file: Path = Path(".env")) -> tuple[Settings | None, Item]:
    """The settings as every `psa` command reads them, and where they came from."""
    variables = sorted(k for k in os.environ if k.startswith("PSA_"))
    source = f"{len(variables)} PSA_* environment variable(s)"
    unknown = not_settings(variables)
    source += f" and {env_file.resolve()}" if env_file.is_file() else f" (no {env_file} in {Path.cwd()})"
    try:
        settings = Settings()
    except ValidationError as err:
        problems = "; ".join(f"PSA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in err.errors())
        return None, Item("configuration", False, f"from {source}: {problems}", "correct these settings")
    url = make_url(settings.effective_database_url).render_as_string(hide_password=True)
    temporal = f"Temporal {settings.temporal_address} namespace {settings.temporal_namespace}"
    detail = f"from {source}; database {url}, {temporal}"
    if unknown:
        detail += f"; ignored, no such setting: {', '.join(unknown)}"
    return settings, Item("configuration", True, detail)


def check(settings: Settings) -> list[Item]:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        # Opening it would create an empty file: a check changes nothing.
        missing = Item("database reachable", False, f"{url.database} does not exist", "run `psa db upgrade`")
        return [missing, *asyncio.run(_temporal(settings, None))]
    engine = make_engine(settings.effective_database_url)
    try:
        items = list(_database(engine, settings.effective_database_url))
        database_ok = all(i.ok for i in items)
        items += asyncio.run(_temporal(settings, engine if database_ok else None))
    finally:
        engine.dispose()
    return items


def _database(engine: Engine, url: str) -> Iterator[Item]:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its "Context impl ..." lines are noise here
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as err:  # noqa: BLE001 - any failure to connect is reported, not raised
        yield Item("database reachable", False, _error(err), "check PSA_DATABASE_URL and that the database server runs")
        return
    yield Item("database reachable", True, engine.dialect.name)
    scripts = ScriptDirectory.from_config(alembic_config(url))
    heads = set(scripts.get_heads())
    unknown = sorted(rev for rev in current if rev not in {s.revision for s in scripts.walk_revisions()})
    if current == heads:
        yield Item("database migrated", True, f"at head {', '.join(sorted(heads))}")
    elif unknown:
        detail = f"at {', '.join(unknown)}, which this version of the hub does not know (its head: {', '.join(heads)})"
        yield Item("database migrated", False, detail, "run the hub version that migrated it, or a newer one")
    else:
        at = f"at {', '.join(sorted(current))}" if current else "no migration applied"
        yield Item("database migrated", False, f"{at}, head is {', '.join(sorted(heads))}", "run `psa db upgrade`")


async def _temporal(settings: Settings, engine: Engine | None) -> list[Item]:
    try:
        client = await asyncio.wait_for(
            connect(settings.temporal_address, settings.temporal_namespace), CONNECT_TIMEOUT
        )
    except Exception as err:  # noqa: BLE001
        fix = "start Temporal (`systemctl start psa-temporal`, `docker compose up -d`) or fix PSA_TEMPORAL_ADDRESS"
        return [Item("Temporal reachable", False, f"{settings.temporal_address}: {_error(err)}", fix)]
    items = [Item("Temporal reachable", True, settings.temporal_address)]
    namespace = await _namespace(client)
    items.append(namespace)
    if not namespace.ok:
        return items
    items.append(await _search_attributes(client))
    # A pause someone set on the billing schedule is kept by `psa temporal setup`: shown, not failed.
    items.append(await _schedule(client, BILLING_SCHEDULE_ID, "monthly billing run", "run `psa temporal setup`"))
    items.append(await _schedule(client, QBR_SCHEDULE_ID, "quarterly QBR run", "run `psa temporal setup`"))
    items.append(await _schedule(client, INVENTORY_SCHEDULE_ID, "daily inventory sync", "run `psa temporal setup`"))
    items.append(await _schedule(client, SERVICE_REPORT_SCHEDULE_ID, "monthly service reports",
                                 "run `psa temporal setup`"))  # fmt: skip
    items.append(await _schedule(client, TICKET_START_SWEEP_SCHEDULE_ID, "ticket start sweep",
                                 "run `psa temporal setup` (or start a worker)"))  # fmt: skip
    if engine is None:
        items.append(Item("SOC poll schedules", False, "not checked: the database is not ready (see above)"))
    else:
        for target in await asyncio.to_thread(poll_targets, engine):
            if target.pollable:
                what = f"SOC poll of {target.customer_number} ({target.source})"
                fix = "run `psa soc sync-schedules`"
                items.append(await _schedule(client, target.schedule_id, what, fix, paused=not target.is_active))
    return items


async def _namespace(client: Client) -> Item:
    name = f"namespace {client.namespace}"
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=client.namespace), timeout=RPC_TIMEOUT
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            fix = f"create it: `temporal operator namespace create --namespace {client.namespace}`"
            return Item(name, False, "does not exist", fix)
        return Item(name, False, _error(err), "see the Temporal server's log")
    return Item(name, True, "present")


async def _search_attributes(client: Client) -> Item:
    try:
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace), timeout=RPC_TIMEOUT
        )
    except RPCError as err:
        return Item("search attributes", False, _error(err), "see the Temporal server's log")
    missing = [k.name for k in SEARCH_ATTRIBUTES if k.name not in response.custom_attributes]
    if missing:
        return Item("search attributes", False, f"missing: {', '.join(missing)}", "run `psa temporal setup`")
    return Item("search attributes", True, f"all {len(SEARCH_ATTRIBUTES)} present")


async def _schedule(client: Client, schedule_id: str, what: str, fix: str, paused: bool | None = None) -> Item:
    """The schedule exists and, when `paused` is given, is paused or running as it should be."""
    name = f"schedule {schedule_id}"
    try:
        description = await client.get_schedule_handle(schedule_id).describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return Item(name, False, f"missing ({what})", fix)
        return Item(name, False, _error(err), "see the Temporal server's log")
    state = description.schedule.state
    shown = f"{what}, {'paused' if state.paused else 'active'}" + (f" ({state.note})" if state.note else "")
    if paused is not None and state.paused != paused:
        return Item(name, False, f"{shown}, should be {'paused' if paused else 'active'}", fix)
    return Item(name, True, shown)


def _error(err: BaseException) -> str:
    message = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
    return f"{type(err).__name__}: {message}" if message else type(err).__name__
