"""Rendering beside the worker: a small pool of processes that run pure functions (a document in, bytes out), so the
worker's interpreter lock is not held for a PDF while its workflows and other activities wait (`PSA_RENDER_PROCESSES`;
bench/BILLING.md: rendering was ~30 % of a billing worker's CPU).

The processes are started with `spawn`, never `fork`: the Temporal SDK runs Rust threads, and a forked copy of a
process with threads may hold their locks forever. They start at the first render (a worker that never renders
starts none), end with the worker (`shutdown`), and end by themselves when the worker is killed (they watch it)."""

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from hub.logging import get_logger

log = get_logger(__name__)


def _watch_parent(parent: int) -> None:
    """In a pool process: exit once the worker that started it is gone (SIGKILL leaves no time to stop the pool)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _start(parent: int, preload: tuple[str, ...]) -> None:
    _watch_parent(parent)
    for module in preload:  # imported once at start, not in the first render's time
        __import__(module)


class RenderPool:
    """`run(fn, *args)`: `fn(*args)` in one of `processes` pool processes (0: in the calling thread). `fn`, its
    arguments and its result cross the process boundary by pickle: module-level functions and plain data only."""

    def __init__(self, processes: int, preload: tuple[str, ...] = ()):
        self.processes = processes
        self.preload = preload
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the render pool is shut down")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=get_context("spawn"),
                    initializer=_start,
                    initargs=(os.getpid(), self.preload),
                )
                log.info("render pool started", processes=self.processes)
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Blocks the calling thread (an activity's) until the result is back; the interpreter lock is free
        meanwhile. A pool whose process died (killed, out of memory) is replaced, and the call is tried once more."""
        if self.processes <= 0:
            return fn(*args)
        for attempt in (1, 2):
            pool = self._pool()
            try:
                return pool.submit(fn, *args).result()
            except BrokenProcessPool:
                self._discard(pool)
                log.warning("render pool broken; replaced", attempt=attempt)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
