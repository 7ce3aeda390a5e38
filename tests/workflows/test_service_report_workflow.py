"""The monthly service report against the time-skipping server and the hub's real worker: one customer's report is
stored once and mailed once to each contact who opted in, however often it runs; it carries its search attributes
and memo; the month's run reports on every customer with its progress; the tick starts the month before's run once;
the schedule is created idempotently; `psa report run` follows a run."""

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.worker import Worker

from activities.service_report.customers import ServiceReportCustomerActivities
from domain.contracts.service_report import (
    ServiceReportInput,
    ServiceReportResult,
    ServiceReportRunInput,
    ServiceReportTickInput,
)
from domain.processes import (
    CUSTOMER_ID,
    PROCESS,
    REPORT_PERIOD,
    REPORTS_TASK_QUEUE,
    SERVICE_REPORT_SCHEDULE_ID,
    service_report_run_workflow_id,
    service_report_workflow_id,
)
from domain.qbr.period import month_before
from hub.temporal.service_report import (
    ensure_service_report_schedule,
    service_report_run_progress,
    start_service_report,
    start_service_report_run,
)
from models import ServiceReportFile, ServiceReportMail
from tests.service_report_setup import seed_report_customer
from worker import workflow_runner
from workflows.service_report.run import ServiceReportRunWorkflow, ServiceReportScheduleTickWorkflow


@pytest.fixture(scope="module")
def seeded(engine):
    return seed_report_customer(engine)


def _input(tenant, month: str = "2026-11") -> ServiceReportInput:  # noqa: ANN001
    return ServiceReportInput(tenant_id=tenant.id, customer_number=tenant.customer_number, customer_name=tenant.name,
                              month=month)  # fmt: skip


def _mails_to(inbox, address: str, month_label: str) -> list:  # noqa: ANN001
    return [m for m in inbox.messages
            if address in str(m["X-Envelope-To"]) and str(m["Subject"]) == f"Servicebericht {month_label}"]  # fmt: skip


async def test_a_report_run_twice_mails_each_opted_in_contact_once(client, engine, seeded, smtp, documents_dir):
    inbox, tenant = smtp[0], seeded.tenant
    workflow_id = await start_service_report(client, _input(tenant))
    assert workflow_id == service_report_workflow_id(tenant.customer_number, "2026-11")
    handle = client.get_workflow_handle(workflow_id, result_type=ServiceReportResult)
    first = await handle.result()
    assert (first.mailed, first.already) == (2, 0)
    assert first.file.filename == f"Servicebericht-{tenant.customer_number}-2026-11.pdf"
    desc = await handle.describe()
    attributes = desc.typed_search_attributes
    assert attributes.get(PROCESS) == "service-report" and attributes.get(REPORT_PERIOD) == ["2026-11"]
    assert attributes.get(CUSTOMER_ID) == tenant.customer_number
    assert await desc.memo_value("summary") == first.summary
    assert first.summary.startswith(f"Service report 2026-11 [{tenant.customer_number}]: 1 tickets")

    assert await start_service_report(client, _input(tenant)) == workflow_id  # ended: runs again
    second = await client.get_workflow_handle(workflow_id, result_type=ServiceReportResult).result()
    assert (second.mailed, second.already) == (0, 2) and second.file == first.file

    for contact in seeded.opted_in:
        mails = _mails_to(inbox, contact.email, "November 2026")
        assert len(mails) == 1, contact.email
        body = inbox.text(mails[0])
        assert f"Guten Tag {contact.first_name} Mustermann" in body and tenant.name in body
        pdf = next(p for p in mails[0].iter_attachments() if p.get_content_type() == "application/pdf")
        text = PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
        assert "Monatlicher Servicebericht November 2026" in text and "SLA-Erfüllung Reaktion\n100 %\n50 %" in text
    assert not _mails_to(inbox, seeded.not_opted_in.email, "November 2026")
    assert not _mails_to(inbox, seeded.other_contact.email, "November 2026")  # another customer's contact
    with Session(engine) as session:
        mailed = session.exec(select(ServiceReportMail).where(ServiceReportMail.tenant_id == tenant.id)).all()
        stored = session.get(ServiceReportFile, (tenant.id, "2026-11"))
    assert sorted(m.email for m in mailed) == sorted(c.email for c in seeded.opted_in)
    assert (documents_dir / stored.path).read_bytes()[:5] == b"%PDF-"


async def test_the_months_run_reports_on_every_customer(client, engine, seeded, smtp):
    numbers = [seeded.tenant.customer_number, seeded.other.customer_number]
    inp = ServiceReportRunInput(month="2026-10", customer_numbers=numbers)
    workflow_id = await start_service_report_run(client, inp)
    assert workflow_id == service_report_run_workflow_id("2026-10")
    handle = client.get_workflow_handle(workflow_id)
    await handle.result()
    desc = await handle.describe()
    assert await desc.memo_value("summary") == "Service report run 2026-10: 2/2 done, 0 failed"
    assert desc.typed_search_attributes.get(REPORT_PERIOD) == ["2026-10"]
    progress, status = await service_report_run_progress(client, "2026-10")
    assert (progress.total, progress.done, progress.failed, progress.finished, status) == (2, 2, 0, True, "completed")
    with Session(engine) as session:
        months = session.exec(select(ServiceReportFile.month).where(ServiceReportFile.tenant_id == seeded.other.id))
        assert list(months) == ["2026-10"]
    assert len(_mails_to(smtp[0], seeded.other_contact.email, "Oktober 2026")) == 1


async def test_the_tick_starts_the_month_befores_run_once(dev_server, engine):
    """On the dev server: the time-skipping server stops skipping time for good once a workflow has started a child
    it abandons (every later test's sleep would time out)."""
    client = dev_server.client
    month = str(month_before(datetime.now(UTC), "Europe/Berlin"))
    tick = ServiceReportTickInput(customer_numbers=[])  # a run for nobody: the schedule's covers every customer
    with ThreadPoolExecutor(2) as executor:
        async with Worker(client, task_queue=REPORTS_TASK_QUEUE, workflow_runner=workflow_runner(),
                          workflows=[ServiceReportScheduleTickWorkflow, ServiceReportRunWorkflow],
                          activities=[ServiceReportCustomerActivities(engine).list_customers],
                          activity_executor=executor):  # fmt: skip
            ticks = [await client.execute_workflow(ServiceReportScheduleTickWorkflow.run, tick, id=f"tick-test-{n}",
                                                   task_queue=REPORTS_TASK_QUEUE) for n in (1, 2)]  # fmt: skip
            assert ticks == [f"service-report-run-{month} started", f"service-report-run-{month} was already started"]
            progress = await client.get_workflow_handle(service_report_run_workflow_id(month)).result()
    assert (progress["total"], progress["finished"]) == (0, True)


async def test_schedule_is_created_once(dev_server):
    client = dev_server.client
    assert await ensure_service_report_schedule(client) == SERVICE_REPORT_SCHEDULE_ID
    assert await ensure_service_report_schedule(client) == SERVICE_REPORT_SCHEDULE_ID
    handle = client.get_schedule_handle(SERVICE_REPORT_SCHEDULE_ID)
    desc = await handle.describe()
    assert isinstance(desc.schedule.action, ScheduleActionStartWorkflow)
    assert desc.schedule.action.workflow == "ServiceReportScheduleTick"
    berlin = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in desc.info.next_action_times]
    assert berlin and all((t.day, t.hour, t.minute) == (2, 6, 0) for t in berlin), berlin
    await handle.pause(note="Pause")
    await ensure_service_report_schedule(client)
    assert (await handle.describe()).schedule.state.paused


async def test_psa_report_run_follows_the_run_and_lists_the_reports(client, engine, seeded):
    """`psa report run 2026-09 --customer K…`: its own Temporal connection (another thread, as the CLI is another
    process), the progress until every report is built, then the table of stored reports."""
    from rich.console import Console

    from hub.config import Settings
    from hub.service_report_cli import follow_report_run

    settings = Settings(temporal_address=client.service_client.config.target_host,
                        database_url=engine.url.render_as_string(hide_password=False))  # fmt: skip
    out = io.StringIO()
    number = seeded.tenant.customer_number
    code = await asyncio.to_thread(follow_report_run, "2026-09", customers=[number], settings=settings,
                                   console=Console(file=out, width=200))  # fmt: skip
    text = out.getvalue()
    assert code == 0, text
    assert "service-report-run-2026-09" in text and f"Servicebericht-{number}-2026-09.pdf" in text
    assert follow_report_run("2026-13", customers=None, settings=settings, console=Console(file=out)) == 2
