"""`psa qbr run 2026Q4`: start the quarter's QBR run for every customer (or attach to the open one), follow it with
a progress bar until every deck is built, then list the stored decks."""

from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

from domain.contracts.qbr import QbrRunInput, QbrRunProgress
from domain.qbr.quarter import parse_quarter
from hub.cli_follow import BAD_INPUT, follow_period, progress_bar
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.temporal import connect, register_search_attributes
from hub.temporal.qbr import qbr_run_progress, start_qbr_run
from models import QbrFile


async def _follow(settings: Settings, quarter: str, customers: list[str] | None, console: Console) -> QbrRunProgress:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await register_search_attributes(client)
    workflow_id = await start_qbr_run(client, QbrRunInput(quarter=quarter, customer_numbers=customers))
    console.print(f"QBR run [bold]{workflow_id}[/bold]")
    return await progress_bar(console, "building", lambda: qbr_run_progress(client, quarter))


def follow_qbr_run(
    quarter: str, *, customers: list[str] | None, settings: Settings | None = None, console: Console | None = None
) -> int:
    """Exit code 0: every deck built; 1: some failed; 2: Temporal not reachable or a bad quarter."""
    settings = settings or get_settings()
    console = console or Console()
    followed = follow_period(console, quarter, parse_quarter, lambda q: _follow(settings, q, customers, console))
    if followed is None:
        return BAD_INPUT
    quarter, progress = followed
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(QbrFile.customer_number, QbrFile.kind, QbrFile.filename, QbrFile.size)
                .where(QbrFile.quarter == quarter)
                .order_by(col(QbrFile.customer_number), col(QbrFile.kind))
            ).all()
    finally:
        engine.dispose()
    table = Table("customer", "kind", "file", "bytes")
    for number, kind, filename, size in rows:
        if not customers or number in customers:
            table.add_row(number, kind, filename, str(size))
    console.print(table)
    return 1 if progress.failed else 0
