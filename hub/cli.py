"""The `psa` command line."""

import asyncio

import typer

from hub.config import get_settings
from hub.logging import configure_logging

app = typer.Typer(help="MSP Automation Hub", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database commands", no_args_is_help=True)
temporal_app = typer.Typer(help="Temporal commands", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(temporal_app, name="temporal")


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
def worker() -> None:
    """Run the Temporal worker for all task queues."""
    from worker import run_worker

    asyncio.run(run_worker(_setup()))


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


@temporal_app.command("setup")
def temporal_setup() -> None:
    """Register the hub's search attributes on the configured namespace (idempotent)."""
    from hub.temporal import connect, register_search_attributes

    settings = _setup()

    async def run() -> list[str]:
        return await register_search_attributes(await connect(settings.temporal_address, settings.temporal_namespace))

    added = asyncio.run(run())
    typer.echo(f"search attributes added: {', '.join(added) or 'none (all present)'}")


if __name__ == "__main__":
    app()
