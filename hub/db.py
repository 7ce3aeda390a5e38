"""Database engine, sessions and migrations (SQLite by default, PostgreSQL via psycopg 3)."""

import asyncio
import importlib.util
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlmodel import Session, create_engine

T = TypeVar("T")
# Shipped as a package, so a plain `pip install .` (Docker, LXC) finds its migrations too.
MIGRATIONS_DIR = Path(importlib.util.find_spec("migrations").origin).parent
# SQLite has one writer at a time. Writers of one process queue on this lock (handed over at once) instead of
# on SQLite's busy handler, which sleeps in growing steps and, with many worker threads, wastes most of the time.
SQLITE_WRITE_WAIT_S = 30.0
SQLITE_POOL_SIZE = 40  # AnyIO's default thread limit in the API; the worker runs 32 activity threads
_sqlite_write_locks: "weakref.WeakKeyDictionary[Engine, threading.RLock]" = weakref.WeakKeyDictionary()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as the threads that use it at once (the API's thread pool, the worker's activity threads):
        # a new SQLite connection costs ~1.5 ms (open, pragmas, schema parse) against ~0.01 ms for a pooled query,
        # and the default pool (5, overflow closed on return) reconnected for most checkouts under load.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            # WAL lets the API read while the worker writes; FKs are off by default in SQLite.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        _sqlite_write_locks[engine] = threading.RLock()
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: no half-written records."""
    lock = _sqlite_write_locks.get(engine)
    with _held(lock) if lock is not None else nullcontext(), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A Core connection in a transaction (committed on success, rolled back on error), taking this process's turn
    at SQLite's writer lock like `session_scope`: for hot paths where the ORM's unit of work costs more than the
    statements (a ticket's opening)."""
    lock = _sqlite_write_locks.get(engine)
    with _held(lock) if lock is not None else nullcontext(), engine.begin() as conn:
        yield conn


@contextmanager
def _held(lock: threading.RLock) -> Iterator[None]:
    if not lock.acquire(timeout=SQLITE_WRITE_WAIT_S):
        raise TimeoutError(f"the SQLite database stayed locked by other writers for {SQLITE_WRITE_WAIT_S:g} s")
    try:
        yield
    finally:
        lock.release()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


class GroupCommit:
    """Small write jobs of concurrent requests, committed together: one transaction (and one turn at SQLite's single
    writer lock) per batch instead of one per request. Under an alert storm the webhook's commits otherwise queue
    one by one behind the worker's writes. A job gets the batch's session and must only add or
    read; if the batch fails, each job is retried in its own transaction, so a failure stays with its request."""

    def __init__(self, engine: Callable[[], Engine], max_batch: int = 64) -> None:
        self._engine, self._max_batch = engine, max_batch
        self._jobs: list[tuple[Callable[[Session], Any], asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    @property
    def idle(self) -> bool:
        """No batch waiting or committing: a job now would commit alone (a request may then commit in a thread it
        already runs in, one hop fewer)."""
        return not self._jobs and (self._task is None or self._task.done())

    async def run(self, job: Callable[[Session], T]) -> T:
        future = asyncio.get_running_loop().create_future()
        self._jobs.append((job, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._commit_batches())
        return await future

    async def _commit_batches(self) -> None:
        while self._jobs:
            batch, self._jobs = self._jobs[: self._max_batch], self._jobs[self._max_batch :]
            try:
                outcomes = await asyncio.to_thread(self._commit, self._engine(), [job for job, _ in batch])
            except BaseException as err:  # noqa: BLE001 - every waiting request must hear of it
                outcomes = [(False, err)] * len(batch)
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(value) if ok else future.set_exception(value)

    @staticmethod
    def _commit(engine: Engine, jobs: list[Callable[[Session], Any]]) -> list[tuple[bool, Any]]:
        try:
            with session_scope(engine) as session:
                return [(True, job(session)) for job in jobs]
        except Exception:  # noqa: BLE001 - find the job that failed; the others commit on their own
            if len(jobs) == 1:
                raise
        outcomes: list[tuple[bool, Any]] = []
        for job in jobs:
            try:
                with session_scope(engine) as session:
                    outcomes.append((True, job(session)))
            except Exception as err:  # noqa: BLE001
                outcomes.append((False, err))
        return outcomes
