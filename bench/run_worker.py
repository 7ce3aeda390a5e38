"""The hub's worker (`worker.main()`, configured by PSA_* variables), with the SDK's Prometheus metrics exposed on
BENCH_METRICS_ADDRESS, and, with BENCH_PROFILE=<file>, a sampling profile of its Python threads written there at exit
(every 10 ms, per thread that is not idle: its kind, the innermost project function and the innermost module; a thread
blocked in C, e.g. in SQLite, counts as busy)."""

import atexit
import os
import sys
import threading
import time
from collections import Counter

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDLE = {("threading.py", "wait"), ("selectors.py", "select"), ("thread.py", "_worker"), ("queue.py", "get"),
        ("threading.py", "_wait_for_tstate_lock"), ("socket.py", "readinto"), ("ssl.py", "read")}


def _where(frame) -> tuple[str, str] | None:  # noqa: ANN001
    """(innermost project function, innermost module) of a busy thread; None if it waits."""
    code = frame.f_code
    if (os.path.basename(code.co_filename), code.co_name) in IDLE:
        return None
    module = code.co_filename.split("site-packages/")[-1].split("/lib/python3")[-1]
    project = "(no project frame)"
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(ROOT) and "site-packages" not in name and "/bench/" not in name:
            project = f"{os.path.relpath(name, ROOT)}:{frame.f_code.co_name}"
            break
        frame = frame.f_back
    return project, module


def _kind(name: str) -> str:
    return "activity threads" if name.startswith("ThreadPoolExecutor") else name.rstrip("0123456789_")


def profile(path: str, interval: float = 0.01) -> None:
    functions: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    samples = [0]

    def sample() -> None:
        me = threading.get_ident()
        while True:
            time.sleep(interval)
            samples[0] += 1
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident != me and (where := _where(frame)) is not None:
                    functions[where[0]] += 1
                    modules[where[1]] += 1
                    kinds[_kind(names.get(ident, "?"))] += 1

    def report() -> None:
        busy = sum(modules.values()) or 1
        with open(path, "w") as out:
            out.write(f"{samples[0]} samples, {busy} busy thread samples\n\nthread kind:\n")
            out.writelines(f"{100 * n / busy:5.1f} %  {name}\n" for name, n in kinds.most_common(8))
            out.write("\ninnermost project function:\n")
            out.writelines(f"{100 * n / busy:5.1f} %  {name}\n" for name, n in functions.most_common(15))
            out.write("\ninnermost module:\n")
            out.writelines(f"{100 * n / busy:5.1f} %  {name}\n" for name, n in modules.most_common(15))

    threading.Thread(target=sample, daemon=True).start()
    atexit.register(report)


def gc_timing() -> None:
    """Log the time spent in the cyclic garbage collector, per generation, every 10 s (BENCH_GC=1)."""
    import gc
    import sys

    spent = [0.0, 0.0, 0.0]
    counts = [0, 0, 0]
    started: list[float] = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.process_time()
        else:
            spent[info["generation"]] += time.process_time() - started[0]
            counts[info["generation"]] += 1

    gc.callbacks.append(callback)

    def report() -> None:
        while True:
            time.sleep(10)
            print(f"gc: collections {counts}, cpu s {[round(s, 3) for s in spent]}", file=sys.stderr, flush=True)

    threading.Thread(target=report, daemon=True).start()


if __name__ == "__main__":
    if os.environ.get("BENCH_GC"):
        gc_timing()
    if address := os.environ.get("BENCH_METRICS_ADDRESS"):
        Runtime.set_default(Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address))))
    if path := os.environ.get("BENCH_PROFILE"):
        profile(path)
    import worker

    worker.main()
