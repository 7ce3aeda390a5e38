"""`psa report run 2026-11`: start the month's service report run for every customer (or attach to the open one),
follow it with a progress bar until every report is built and mailed, then list the stored reports."""

from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

from domain.contracts.service_report import ServiceReportRunInput, ServiceReportRunProgress
from domain.qbr.period import parse_month
from hub.cli_follow import BAD_INPUT, follow_period, progress_bar
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.temporal import connect, register_search_attributes
from hub.temporal.service_report import service_report_run_progress, start_service_report_run
from models import ServiceReportFile


async def _follow(
    settings: Settings, month: str, customers: list[str] | None, console: Console
) -> ServiceReportRunProgress:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await register_search_attributes(client)
    workflow_id = await start_service_report_run(client, ServiceReportRunInput(month=month, customer_numbers=customers))
    console.print(f"Service report run [bold]{workflow_id}[/bold]")
    return await progress_bar(console, "reporting", lambda: service_report_run_progress(client, month))


def follow_report_run(
    month: str, *, customers: list[str] | None, settings: Settings | None = None, console: Console | None = None
) -> int:
    """Exit code 0: every report built; 1: some failed; 2: Temporal not reachable or a bad month."""
    settings = settings or get_settings()
    console = console or Console()
    followed = follow_period(console, month, parse_month, lambda m: _follow(settings, m, customers, console))
    if followed is None:
        return BAD_INPUT
    month, progress = followed
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            query = (
                select(ServiceReportFile.customer_number, ServiceReportFile.filename, ServiceReportFile.size)
                .where(ServiceReportFile.month == month)
                .order_by(col(ServiceReportFile.customer_number))
            )
            if customers:
                query = query.where(col(ServiceReportFile.customer_number).in_(customers))
            rows = session.exec(query).all()
    finally:
        engine.dispose()
    table = Table("customer", "file", "bytes")
    for number, filename, size in rows:
        table.add_row(number, filename, str(size))
    console.print(table)
    return 1 if progress.failed else 0
