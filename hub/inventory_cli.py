"""`psa inventory sync K10001`: sync one customer's inventory now (or attach to its sync still running), wait for it
and show each source's outcome."""

import asyncio

from rich.console import Console
from rich.table import Table
from sqlmodel import Session, select

from domain.contracts.inventory import InventorySyncInput, InventorySyncResult
from hub.cli_follow import BAD_INPUT
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.temporal import connect, register_search_attributes
from hub.temporal.errors import WorkflowRejected, WorkflowUnavailable
from hub.temporal.inventory import start_inventory_sync
from models import Tenant


async def _sync(settings: Settings, inp: InventorySyncInput) -> InventorySyncResult:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await register_search_attributes(client)
    workflow_id = await start_inventory_sync(client, inp)
    return await client.get_workflow_handle(workflow_id, result_type=InventorySyncResult).result()


def sync_customer(customer_number: str, *, settings: Settings | None = None, console: Console | None = None) -> int:
    """Exit code 0: every source synced; 1: a source failed (its error shown); 2: unknown customer or Temporal
    not reachable."""
    settings = settings or get_settings()
    console = console or Console()
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            tenant = session.exec(select(Tenant).where(Tenant.customer_number == customer_number)).first()
    finally:
        engine.dispose()
    if tenant is None:
        console.print(f"[red]Kein Kunde mit der Kundennummer {customer_number}[/red]")
        return BAD_INPUT
    try:
        result = asyncio.run(_sync(settings, InventorySyncInput(tenant_id=tenant.id, customer_number=customer_number)))
    except (WorkflowRejected, WorkflowUnavailable) as err:
        console.print(f"[red]{err}[/red]")
        return BAD_INPUT
    if not result.sources:
        console.print(f"{customer_number}: keine aktive Inventarquelle konfiguriert")
        return 0
    table = Table("source", "kind", "result", "created", "updated", "gone", "skipped")
    for s in result.sources:
        counts = [str(getattr(s.synced, f)) if s.synced else "" for f in ("created", "updated", "gone", "skipped")]
        table.add_row(s.name, s.kind.value, "ok" if s.ok else f"[red]{s.error}[/red]", *counts)
    console.print(table)
    console.print(f"Snapshot: {result.snapshot_day or 'keiner (RMM nicht gelesen)'}")
    return 1 if result.failed else 0
