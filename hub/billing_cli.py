"""`psa billing run`: start the month's run (or attach to the open one) and follow it with a progress bar until
every customer's draft is composed, then list the drafts with their totals and problems."""

import asyncio

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlmodel import Session, select

from domain.contracts.billing import BillingRunInput, InvoiceKind, RunProgress, parse_month
from hub.cli_follow import BAD_INPUT, follow_period
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.temporal import connect, register_search_attributes
from hub.temporal.billing import run_progress, start_run
from models import Invoice

POLL_SECONDS = 1.0


def _composed(p: RunProgress) -> int:
    return p.drafted + p.issued + p.failed + p.rejected + p.nothing


async def _follow(
    settings: Settings, month: str, dry_run: bool, customers: list[str] | None, console: Console
) -> RunProgress:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await register_search_attributes(client)
    inp = BillingRunInput(month=month, dry_run=dry_run, customer_numbers=customers,
                          reminder_days=settings.billing_reminder_days)  # fmt: skip
    workflow_id = await start_run(client, inp)
    console.print(f"billing run [bold]{workflow_id}[/bold]{' (dry run)' if dry_run else ''}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("composing", total=None)
        while True:
            progress, status = await run_progress(client, month)
            bar.update(task, total=progress.total or None, completed=_composed(progress),
                       description=f"composing ({progress.label()})")  # fmt: skip
            if status != "running" or (progress.total and _composed(progress) >= progress.total):
                return progress
            await asyncio.sleep(POLL_SECONDS)


def follow_run(
    month: str, *, dry_run: bool, customers: list[str] | None, settings: Settings | None = None,
    console: Console | None = None,
) -> int:  # fmt: skip
    settings = settings or get_settings()
    console = console or Console()
    followed = follow_period(console, month, parse_month, lambda m: _follow(settings, m, dry_run, customers, console))
    if followed is None:
        return BAD_INPUT
    month, progress = followed
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(Invoice)
                .where(Invoice.period == month, Invoice.kind == InvoiceKind.INVOICE)
                .order_by(Invoice.customer_number)
            ).all()
    finally:
        engine.dispose()
    table = Table("customer", "status", "number", "net", "tax", "gross", "problems")
    for row in rows:
        if customers and row.customer_number not in customers:
            continue
        table.add_row(row.customer_number, row.status.value, row.number or "", str(row.net_total),
                      str(row.tax_total), f"{row.gross_total} {row.currency}", "; ".join(row.problems))  # fmt: skip
    console.print(table)
    console.print(progress.label())
    return 1 if progress.failed else 0
