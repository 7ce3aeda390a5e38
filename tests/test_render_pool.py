"""hub/render_pool.py: invoice files rendered in a spawned process are the very bytes rendered in the worker; 0
processes render in the calling thread; a broken pool is replaced; the pool's processes end with `shutdown` and
when the worker that started them is killed."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from documents.invoice_files import render_files
from hub.render_pool import RenderPool
from tests.billing_documents import german_invoice, public_sector_invoice

ROOT = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z" if sys.platform == "linux" else True


def _exit_now() -> None:
    os._exit(1)  # a pool process dying in the middle of a call (out of memory, killed)


def test_no_processes_render_in_the_calling_thread() -> None:
    pool = RenderPool(0)
    assert pool.run(os.getpid) == os.getpid()
    pool.shutdown()


def test_files_from_the_pool_are_the_bytes_rendered_in_process() -> None:
    pool = RenderPool(1, preload=("documents.invoice_files",))
    try:
        assert pool.run(os.getpid) != os.getpid()
        for doc, invoice_format in ((german_invoice(), "pdf"), (public_sector_invoice(), "xrechnung")):
            assert pool.run(render_files, doc, invoice_format) == render_files(doc, invoice_format)
        # ZUGFeRD: the factur-x library stamps the PDF's CreationDate with the clock, so only its XML is compared
        pooled, here = pool.run(render_files, german_invoice(), "zugferd"), render_files(german_invoice(), "zugferd")
        assert [f[:3] for f in pooled] == [f[:3] for f in here] and pooled[1] == here[1]
    finally:
        pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.run(os.getpid)


def test_a_broken_pool_is_replaced() -> None:
    pool = RenderPool(1)
    try:
        first = pool.run(os.getpid)
        with pytest.raises(Exception):  # noqa: B017, PT011 - BrokenProcessPool, twice: the call is tried once more
            pool.run(_exit_now)
        second = pool.run(os.getpid)
        assert second != first and not _alive(first)
    finally:
        pool.shutdown()
    assert not _alive(second)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and /proc")
def test_pool_processes_end_when_the_worker_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import os, sys, time
        from hub.render_pool import RenderPool
        pool = RenderPool(1)
        print("pid", pool.run(os.getpid), flush=True)
        time.sleep(600)
    """)
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env=os.environ | {"PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        child = next(int(line.split()[1]) for line in worker.stdout if line.startswith("pid "))
        assert _alive(child)
        worker.send_signal(signal.SIGKILL)  # no time to shut the pool down
        worker.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the render process outlived its worker"
    finally:
        worker.kill()
