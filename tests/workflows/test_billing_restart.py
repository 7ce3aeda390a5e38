"""The billing run survives a killed worker: a real `temporal server start-dev` and a real worker process, SIGKILLed
while the run is half done and started again. The run ends with exactly one issued invoice per customer, gapless
numbers, every time entry billed once and one stored PDF per invoice. The mail is at-least-once: a kill between the
SMTP conversation and the commit of `sent_at` mails that invoice again on the retry (same Message-ID), and only then.

The time-skipping server cannot show this: there the worker lives in the test's process and is never killed."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecutionStatus

from domain.contracts.billing import BillingRunInput, DraftStatus, RunProgress
from domain.processes import billing_workflow_id
from hub.temporal import connect, register_search_attributes
from hub.temporal.billing import start_run
from models import Invoice, InvoiceFile, InvoiceNumberCounter, TimeEntry
from tests.billing_setup import Customer, billing_customer, new_series, set_seller
from tests.conftest import SmtpInbox, binary
from tests.test_dev_command import free_port

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
MONTH = "2031-09"
CUSTOMERS = 40
# The kill comes with the 5th mail: at most 4 invoices are done then and the run holds at most 8 more in progress
# (MAX_COMPOSING), so more than half of the customers have not even been composed.
HOLD_MAIL = 5
RESULT_TIMEOUT = 120


class HoldingInbox(SmtpInbox):
    """Keeps the `hold`-th invoice mail it receives and answers it only once released: the worker that sent it is
    then killed inside the send activity, after the customer got the mail and before `sent_at` was recorded."""

    def __init__(self, hold: int) -> None:
        super().__init__()
        self.hold = hold
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_number = ""

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook name
        reply = await super().handle_DATA(server, session, envelope)  # one event loop: no other mail in between
        if len(self.messages) == self.hold:
            self.held_number = str(self.messages[-1]["Subject"]).split()[-1]
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return reply


@pytest.fixture
def holding_smtp() -> Iterator[tuple[HoldingInbox, int]]:
    inbox = HoldingInbox(hold=HOLD_MAIL)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release.set()
        controller.stop()


class Proc:
    """A child process in its own process group (killed with all it started), its output in a file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=open(log, "w"),  # noqa: SIM115
                                      stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(30)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
async def dev_server(tmp_path: Path):
    """`temporal server start-dev` on free ports with its own database file; yields (address, client)."""
    port = free_port()
    server = Proc([binary("temporal"), "server", "start-dev", "--db-filename", str(tmp_path / "temporal.db"),
                   "--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(free_port()), "--headless",
                   "--log-level", "warn"], tmp_path / "temporal.log")  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        client = None
        deadline = time.monotonic() + 60
        while client is None:
            try:
                client = await connect(address, "default")
            except Exception:  # noqa: BLE001 - not listening yet
                if server.popen.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the dev server did not answer:\n{server.tail()}")
                await asyncio.sleep(0.2)
        await register_search_attributes(client)
        yield address, client
    finally:
        server.kill()


def start_worker(tmp_path: Path, name: str, database_url: str, address: str, smtp_port: int) -> Proc:
    env = os.environ | {
        "PSA_DATA_DIR": str(tmp_path),
        "PSA_DATABASE_URL": database_url,
        "PSA_TEMPORAL_ADDRESS": address,
        "PSA_SMTP_HOST": "127.0.0.1",
        "PSA_SMTP_PORT": str(smtp_port),
        "PSA_SMTP_STARTTLS": "false",
        "PSA_NOTIFY_TIMEOUT": "60",  # the held mail waits for the kill, not for a socket timeout
        "PSA_LOG_FORMAT": "json",
    }
    return Proc([sys.executable, "worker.py"], tmp_path / f"{name}.log", env)


def issued_count(engine: Engine, numbers: list[str]) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Invoice).where(
            col(Invoice.customer_number).in_(numbers), Invoice.status == DraftStatus.ISSUED)).one()  # fmt: skip


def mails_by_number(inbox: SmtpInbox, prefix: str) -> Counter[str]:
    """Invoice mails of this series per invoice number (subject "Rechnung <number>")."""
    subjects = [str(m["Subject"]) for m in list(inbox.messages)]
    return Counter(s.split()[-1] for s in subjects if s.split()[-1].startswith(f"{prefix}-"))


def make_customers(engine: Engine) -> list[Customer]:
    customers = []
    for i in range(CUSTOMERS):
        day = 1 + i % 28
        entries = (  # two tickets' worth of remote work: rounding and rates do real work in composing
            (datetime(2031, 9, day, 9, 0, tzinfo=BERLIN), 35 + i, "remote"),
            (datetime(2031, 9, day, 14, 30, tzinfo=BERLIN), 95, "remote"),
        )
        customers.append(billing_customer(engine, start=date(2031, 9, 1), seats=3 + i % 5, auto_approve=True,
                                          entries=entries))  # fmt: skip
    return customers


async def test_killed_worker_restarts_to_one_gapless_invoice_per_customer(
    dev_server: tuple[str, Client],
    database_url: str,
    engine: Engine,
    holding_smtp: tuple[HoldingInbox, int],
    tmp_path: Path,
):
    address, client = dev_server
    inbox, smtp_port = holding_smtp
    prefix = new_series()
    set_seller(engine, prefix)
    customers = make_customers(engine)
    numbers = [c.tenant.customer_number for c in customers]

    workers = [start_worker(tmp_path, "worker-1", database_url, address, smtp_port)]
    try:
        started = time.monotonic()
        await start_run(client, BillingRunInput(month=MONTH, customer_numbers=numbers))
        handle = client.get_workflow_handle(billing_workflow_id(MONTH), result_type=RunProgress)
        while not inbox.held.is_set():  # the worker now waits inside a send activity for the server's answer
            if workers[0].popen.poll() is not None or time.monotonic() - started > 90:
                pytest.fail(f"mail {HOLD_MAIL} of the run did not arrive:\n{workers[0].tail()}")
            await asyncio.sleep(0.01)
        workers[0].kill()
        killed_at = time.monotonic() - started
        inbox.release.set()
        issued_at_kill = issued_count(engine, numbers)
        assert HOLD_MAIL <= issued_at_kill < CUSTOMERS, issued_at_kill  # the kill hit the run in the middle
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        with Session(engine) as s:  # what the dead worker left: mails recorded as sent, and mails merely delivered
            recorded_sent = set(s.exec(select(Invoice.number).where(
                col(Invoice.customer_number).in_(numbers), col(Invoice.sent_at).is_not(None))))  # fmt: skip
        delivered_at_kill = mails_by_number(inbox, prefix)
        assert inbox.held_number in delivered_at_kill and inbox.held_number not in recorded_sent

        restarted = time.monotonic()
        workers.append(start_worker(tmp_path, "worker-2", database_url, address, smtp_port))
        try:
            result = await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
        except TimeoutError:
            pytest.fail(f"the run did not finish {RESULT_TIMEOUT} s after the restart:\n{workers[1].tail()}")
        finished = time.monotonic()
    finally:
        for w in workers:
            w.kill()
    print(f"killed after {killed_at:.1f} s with {issued_at_kill} of {CUSTOMERS} issued; "
          f"finished {finished - restarted:.1f} s after the restart")  # fmt: skip

    assert (result.total, result.issued, result.failed, result.finished) == (CUSTOMERS, CUSTOMERS, 0, True)
    with Session(engine) as s:
        rows = s.exec(select(Invoice).where(col(Invoice.customer_number).in_(numbers))).all()
        files = s.exec(select(InvoiceFile).where(col(InvoiceFile.invoice_id).in_([r.id for r in rows]))).all()
        entries = s.exec(select(TimeEntry).where(col(TimeEntry.tenant_id).in_([c.tenant.id for c in customers]))).all()
        year = rows[0].issue_date.year
        counter = s.get(InvoiceNumberCounter, (prefix, year))

    # exactly one issued invoice per customer, numbered 1..N without a gap, the counter at N
    assert sorted(r.customer_number for r in rows) == sorted(numbers)
    assert {(r.kind, r.status) for r in rows} == {("invoice", DraftStatus.ISSUED)}
    assert sorted(r.number for r in rows) == [f"{prefix}-{year}-{n:05d}" for n in range(1, CUSTOMERS + 1)]
    assert counter.last_value == CUSTOMERS
    # every time entry billed by its own customer's invoice
    invoice_of = {r.tenant_id: r.id for r in rows}
    assert len(entries) == 2 * CUSTOMERS
    assert all(e.invoice_id == invoice_of[e.tenant_id] for e in entries)
    # one stored PDF per invoice
    number_of = {r.id: r.number for r in rows}
    assert sorted((f.invoice_id, f.kind) for f in files) == sorted((r.id, "pdf") for r in rows)
    assert all(f.content.startswith(b"%PDF") and f.filename == f"{number_of[f.invoice_id]}.pdf" for f in files)
    # every invoice mailed to its customer; a second time only where the dead worker had delivered the mail without
    # recording it (at-least-once), which the held mail certainly was
    assert all(r.sent_at is not None for r in rows)
    mailed = mails_by_number(inbox, prefix)
    assert set(mailed) == {r.number for r in rows}
    repeated = {n for n, count in mailed.items() if count > 1}
    assert mailed[inbox.held_number] == 2
    assert all(mailed[n] == 2 for n in repeated), mailed
    assert repeated <= set(delivered_at_kill) - recorded_sent, (repeated, recorded_sent, delivered_at_kill)
    to = {str(m["Subject"]).split()[-1]: m["To"] for m in list(inbox.messages)}
    assert all(to[r.number] == f"rechnung-{r.customer_number.lower()}@kunde.example" for r in rows)
