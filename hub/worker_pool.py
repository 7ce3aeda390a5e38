"""`psa worker --processes N`: N worker processes on one machine, each its own Temporal worker polling every task
queue (one Python process uses one core: the SDK's event loop and the activities share its interpreter lock). A
supervisor restarts a child that died, with `psa dev`'s backoff, and stops them all on SIGTERM or Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.config import Settings
from hub.dev import _spawn, _stop, exit_text, restart_delay
from hub.logging import get_logger

log = get_logger(__name__)


def child_env(settings: Settings, index: int) -> dict[str, str]:
    """Child `index`'s environment: each serves its own metrics port (the configured one plus its index)."""
    env = dict(os.environ)
    if settings.worker_metrics_address:
        host, port = settings.worker_metrics_address.rsplit(":", 1)
        env["PSA_WORKER_METRICS_ADDRESS"] = f"{host}:{int(port) + index}"
    return env


@dataclass
class _Child:
    index: int
    proc: subprocess.Popen
    started: float = field(default_factory=time.monotonic)
    delay: float | None = None
    restart_at: float | None = None


def supervise(start: Callable[[int], subprocess.Popen], processes: int, stop: Callable[[], bool]) -> list[_Child]:
    """Start `processes` children and restart each one that exits until `stop()`; returns them (still running)."""
    children = [_Child(i, start(i)) for i in range(processes)]
    try:
        while not stop():
            now = time.monotonic()
            for child in children:
                if child.restart_at is None and child.proc.poll() is not None:
                    child.delay = restart_delay(child.delay, now - child.started)
                    child.restart_at = now + child.delay
                    log.warning(
                        f"worker {child.index} exited with code {exit_text(child.proc.returncode)}; "
                        f"restarting in {child.delay:g} s"
                    )
                elif child.restart_at is not None and now >= child.restart_at:
                    child.proc, child.started, child.restart_at = start(child.index), now, None
                    log.info(f"worker {child.index} restarted", pid=child.proc.pid)
            time.sleep(0.2)
    except BaseException:
        _stop_all(children)
        raise
    return children


def _stop_all(children: list[_Child]) -> None:
    for child in children:  # SIGTERM: each worker drains its tasks (graceful shutdown) and exits
        if child.proc.poll() is None:
            os.killpg(child.proc.pid, signal.SIGTERM)
    for child in children:
        _stop(child.proc, signal.SIGTERM, 25)


def run_pool(settings: Settings, processes: int, command: list[str] | None = None) -> int:
    """Run `processes` workers (`command`, by default `psa worker`) until SIGTERM or Ctrl-C; exit code 0."""
    command = command or [sys.executable, "-m", "hub.cli", "worker"]
    stop_requested = False

    def on_signal(*_: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children = supervise(lambda i: _spawn(command, env=child_env(settings, i)), processes, lambda: stop_requested)
    log.info("stopping workers", processes=processes)
    _stop_all(children)
    log.info("workers stopped")
    return 0
