"""The `psa` command line."""

import asyncio
import os
import sys

import typer

from hub.config import get_settings
from hub.logging import configure_logging
from hub.users_cli import keys_app, users_app

app = typer.Typer(help="MSP Automation Hub", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database commands", no_args_is_help=True)
temporal_app = typer.Typer(help="Temporal commands", no_args_is_help=True)
soc_app = typer.Typer(help="SOC integration commands", no_args_is_help=True)
billing_app = typer.Typer(help="Billing commands", no_args_is_help=True)
qbr_app = typer.Typer(help="Quarterly business review commands", no_args_is_help=True)
inventory_app = typer.Typer(help="Inventory sync commands (Datto RMM or N-central, Microsoft 365)",
                            no_args_is_help=True)  # fmt: skip
report_app = typer.Typer(help="Monthly service report commands", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(temporal_app, name="temporal")
app.add_typer(soc_app, name="soc")
app.add_typer(billing_app, name="billing")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(qbr_app, name="qbr")
app.add_typer(inventory_app, name="inventory")
app.add_typer(report_app, name="report")


def _setup():  # noqa: ANN202
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


@app.command()
def dev() -> None:
    """Run everything for development: Temporal dev server, migrations, demo data, worker and API."""
    from hub.dev import run_dev

    raise typer.Exit(run_dev(_setup()))


@app.command()
def worker(
    processes: int = typer.Option(
        1, "--processes", min=1, max=64, help="worker processes on this machine, restarted when one dies"
    ),
) -> None:
    """Run the Temporal worker for all task queues (with --processes N: N of them under a supervisor)."""
    if processes > 1:
        from hub.worker_pool import run_pool

        raise typer.Exit(run_pool(_setup(), processes))
    from worker import run_worker

    asyncio.run(run_worker(_setup()))
    _exit_now(0)  # a stopped worker otherwise aborted at exit now and then (SIGABRT: a failed unit, compose code 134)


@app.command()
def api() -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    from api.app import create_app

    settings = _setup()
    uvicorn.run(
        create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None, proxy_headers=True
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply database migrations."""
    from hub.db import upgrade

    settings = _setup()
    upgrade(settings.effective_database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def seed() -> None:
    """Seed demo data (idempotent); prints where the demo API keys are."""
    from hub.db import make_engine
    from hub.seed import CREDENTIALS_FILE, seed_demo

    settings = _setup()
    keys = seed_demo(make_engine(settings.effective_database_url), settings.data_dir)
    typer.echo(f"demo data ready; {len(keys)} demo API keys in {settings.data_dir / CREDENTIALS_FILE}")


@app.command()
def check() -> None:
    """Check the installation: configuration, database reachable and migrated, Temporal, namespace, search attributes
    and schedules; one line each, and what to do about a failure.

    Exit code 0: all fine; 1: something failed (listed)."""
    from hub.check import check as run_checks
    from hub.check import load_settings

    settings, loaded = load_settings()
    items = [loaded]
    if settings is not None:
        configure_logging(settings.log_level, settings.log_format)
        items += run_checks(settings)
    for item in items:
        typer.echo(item.line())
    failed = [item for item in items if not item.ok]
    typer.echo(f"{len(items) - len(failed)} ok, {len(failed)} failed")
    _exit_now(1 if failed else 0)


@temporal_app.command("setup")
def temporal_setup() -> None:
    """Register the hub's search attributes and create the monthly billing, quarterly QBR, daily inventory, monthly
    service report and ticket start sweep schedules (idempotent)."""
    from hub.temporal import connect, register_search_attributes
    from hub.temporal.schedules import ensure_hub_schedules

    settings = _setup()

    async def run() -> tuple[list[str], list[tuple[str, str]]]:
        client = await connect(settings.temporal_address, settings.temporal_namespace)
        return await register_search_attributes(client), await ensure_hub_schedules(client)

    added, schedules = asyncio.run(run())
    typer.echo(f"search attributes added: {', '.join(added) or 'none (all present)'}")
    for schedule_id, what in schedules:
        typer.echo(f"schedule {schedule_id}: {what}")
    _exit_now(0)


@soc_app.command("sync-schedules")
def soc_sync_schedules() -> None:
    """Create, update or pause the poll schedule of every SOC integration from the database (idempotent).

    Exit code 0: all in step; 1: some could not be synced (listed); 2: Temporal not reachable."""
    from api.routes.soc.schedules import ScheduleStatus, sync_all
    from hub.db import make_engine
    from hub.temporal import connect, register_search_attributes

    settings = _setup()
    engine = make_engine(settings.effective_database_url)

    async def run():  # noqa: ANN202
        try:
            client = await connect(settings.temporal_address, settings.temporal_namespace)
        except RuntimeError as err:
            typer.echo(f"Temporal at {settings.temporal_address} is not reachable: {err}", err=True)
            return None
        await register_search_attributes(client)  # schedules carry them; a restored namespace may lack them
        return await sync_all(engine, client)

    try:
        results = asyncio.run(run())
    finally:
        engine.dispose()
    if results is None:
        _exit_now(2)
    failed = [s for _, s in results if s.status in (ScheduleStatus.PENDING, ScheduleStatus.UNSUPPORTED)]
    for target, schedule in results:
        parts = [f"{target.integration_id} {target.source} [{target.customer_number}]: {schedule.status.value}"]
        if schedule.schedule_id:
            parts.append(schedule.schedule_id)
        if schedule.every_minutes:
            parts.append(f"every {schedule.every_minutes} min")
        if schedule.detail:
            parts.append(schedule.detail)
        typer.echo(" | ".join(parts))
    typer.echo(f"{len(results)} integration(s), {len(failed)} not synced")
    _exit_now(1 if failed else 0)


@billing_app.command("run")
def billing_run(
    month: str = typer.Argument(..., help="The month billed, YYYY-MM (e.g. 2026-11)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compose and show the drafts; never approve or issue"),
    customer: list[str] = typer.Option(None, "--customer", help="Only this customer number (repeatable)"),
) -> None:
    """Start (or follow) the billing run of a month and show its progress until every draft is composed.

    Exit code 0: all composed; 1: some drafts have problems (listed); 2: Temporal not reachable or bad input."""
    from hub.billing_cli import follow_run

    _setup()
    _exit_now(follow_run(month, dry_run=dry_run, customers=customer or None))


@qbr_app.command("run")
def qbr_run(
    quarter: str = typer.Argument(..., help="The quarter reported, YYYY-Qn or YYYYQn (e.g. 2026Q4)"),
    customer: list[str] = typer.Option(None, "--customer", help="Only this customer number (repeatable)"),
) -> None:
    """Build the QBR decks of a quarter for every customer (or attach to the run) and show the progress.

    Exit code 0: every deck built; 1: some failed; 2: Temporal not reachable or bad input."""
    from hub.qbr_cli import follow_qbr_run

    _setup()
    _exit_now(follow_qbr_run(quarter, customers=customer or None))


@inventory_app.command("sync")
def inventory_sync(customer: str = typer.Argument(..., help="The customer number, e.g. K10001")) -> None:
    """Sync one customer's devices (Datto RMM or N-central) and licences (Microsoft 365) now; show each outcome.

    Exit code 0: every source synced; 1: a source failed; 2: unknown customer or Temporal not reachable."""
    from hub.inventory_cli import sync_customer

    _setup()
    _exit_now(sync_customer(customer))
@report_app.command("run")
def report_run(
    month: str = typer.Argument(..., help="The month reported, YYYY-MM (e.g. 2026-11)"),
    customer: list[str] = typer.Option(None, "--customer", help="Only this customer number (repeatable)"),
) -> None:
    """Build and mail the monthly service reports of a month for every customer (or attach to the run) and show the
    progress. A second run of a month mails nobody twice.

    Exit code 0: every report built; 1: some failed; 2: Temporal not reachable or bad input."""
    from hub.service_report_cli import follow_report_run

    _setup()
    _exit_now(follow_report_run(month, customers=customer or None))


def _exit_now(code: int) -> None:
    """Exit without interpreter teardown: the Temporal client's Rust threads can outlive the event loop and
    abort the finalising interpreter (SIGABRT, "PyGILState_Release", temporalio/sdk-python#300), which would
    turn a finished command into exit code -6. Everything is written and flushed before."""
    import logging

    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    app()
