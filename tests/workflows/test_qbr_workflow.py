"""The QBR workflows against the time-skipping server and the hub's real worker: one customer's build stores the
deck once however often it runs, carries its search attributes and memo; the quarterly run builds every customer's;
the tick does nothing on a day that is not a quarter's first working day; the schedule is created idempotently."""

import asyncio
import io
from zoneinfo import ZoneInfo

import pytest
from pptx import Presentation
from sqlmodel import Session, select
from temporalio.client import ScheduleActionStartWorkflow

from domain.contracts.qbr import QbrInput, QbrResult, QbrRunInput, QbrTickInput
from domain.processes import (
    CUSTOMER_ID,
    PROCESS,
    QBR_SCHEDULE_ID,
    REPORT_PERIOD,
    REPORTS_TASK_QUEUE,
    qbr_run_workflow_id,
    qbr_workflow_id,
)
from hub.temporal.qbr import ensure_qbr_schedule, qbr_run_progress, start_qbr, start_qbr_run
from models import QbrFile
from tests.qbr_setup import seed_two_quarters
from workflows.qbr.run import QbrScheduleTickWorkflow


@pytest.fixture(scope="module")
def seeded(engine):
    return seed_two_quarters(engine)


def _input(tenant) -> QbrInput:  # noqa: ANN001
    return QbrInput(tenant_id=tenant.id, customer_number=tenant.customer_number, customer_name=tenant.name,
                    quarter="2026Q4")  # fmt: skip


async def test_build_stores_the_deck_once_with_search_attributes(client, engine, seeded, documents_dir):
    tenant = seeded.tenant
    workflow_id = await start_qbr(client, _input(tenant))
    assert workflow_id == qbr_workflow_id(tenant.customer_number, "2026-Q4")
    handle = client.get_workflow_handle(workflow_id, result_type=QbrResult)
    result = await handle.result()
    assert {f.kind for f in result.files} == {"pptx", "pdf"}
    assert result.executive_summary == "rules"  # no LLM configured for the worker
    assert result.summary == f"QBR 2026-Q4 [{tenant.customer_number}]: 3 tickets, SLA response 66.7%, resolution 50.0%"
    desc = await handle.describe()
    attributes = desc.typed_search_attributes
    assert attributes.get(PROCESS) == "qbr" and attributes.get(REPORT_PERIOD) == ["2026-Q4"]
    assert attributes.get(CUSTOMER_ID) == tenant.customer_number
    assert await desc.memo_value("summary") == result.summary

    assert await start_qbr(client, _input(tenant)) == workflow_id  # ended: runs again, finds its files
    assert (await client.get_workflow_handle(workflow_id, result_type=QbrResult).result()).files == result.files
    with Session(engine) as session:
        rows = session.exec(select(QbrFile).where(QbrFile.tenant_id == tenant.id)).all()
    assert len(rows) == 2
    assert all(r.content is None for r in rows)  # the files are in the file store, the rows point to them
    deck = Presentation(documents_dir / next(r.path for r in rows if r.kind == "pptx"))
    assert deck.slides[0].shapes.title.text == "Quarterly Business Review Q4 2026"


async def test_quarterly_run_builds_every_customer(client, engine, seeded):
    numbers = [seeded.tenant.customer_number, seeded.other.customer_number]
    workflow_id = await start_qbr_run(client, QbrRunInput(quarter="2026-Q4", customer_numbers=numbers))
    assert workflow_id == qbr_run_workflow_id("2026-Q4")
    handle = client.get_workflow_handle(workflow_id)
    await handle.result()
    assert await (await handle.describe()).memo_value("summary") == "QBR run 2026-Q4: 2/2 done, 0 failed"
    progress, status = await qbr_run_progress(client, "2026-Q4")
    assert (progress.total, progress.done, progress.failed, progress.finished, status) == (2, 2, 0, True, "completed")
    with Session(engine) as session:
        other = session.exec(select(QbrFile.kind).where(QbrFile.tenant_id == seeded.other.id)).all()
    assert sorted(other) == ["pdf", "pptx"]


async def test_tick_waits_for_the_first_working_day(client):
    # The time-skipping server's clock is today's: a December day is no quarter's first working day.
    result = await client.execute_workflow(
        QbrScheduleTickWorkflow.run, QbrTickInput(), id="qbr-tick-test", task_queue=REPORTS_TASK_QUEUE
    )
    assert result.endswith("is not the first working day of its quarter")


async def test_schedule_is_created_once(dev_server):
    client = dev_server.client
    assert await ensure_qbr_schedule(client) == QBR_SCHEDULE_ID
    assert await ensure_qbr_schedule(client) == QBR_SCHEDULE_ID
    handle = client.get_schedule_handle(QBR_SCHEDULE_ID)
    desc = await handle.describe()
    assert isinstance(desc.schedule.action, ScheduleActionStartWorkflow)
    assert desc.schedule.action.workflow == "QbrScheduleTick"
    berlin = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in desc.info.next_action_times]
    assert berlin and all(t.month in (1, 4, 7, 10) and t.day <= 7 and t.hour == 6 for t in berlin), berlin
    await handle.pause(note="Pause")
    await ensure_qbr_schedule(client)
    assert (await handle.describe()).schedule.state.paused


async def test_psa_qbr_run_follows_the_run_and_lists_the_decks(client, engine, seeded):
    """`psa qbr run 2026Q1 --customer K…`: its own Temporal connection (another thread, as the CLI is another process),
    the progress until every deck is built, then the table of stored decks."""

    from rich.console import Console

    from hub.config import Settings
    from hub.qbr_cli import follow_qbr_run

    settings = Settings(temporal_address=client.service_client.config.target_host,
                        database_url=engine.url.render_as_string(hide_password=False))  # fmt: skip
    out = io.StringIO()
    number = seeded.tenant.customer_number
    code = await asyncio.to_thread(follow_qbr_run, "2026Q1", customers=[number], settings=settings,
                                   console=Console(file=out, width=200))  # fmt: skip
    text = out.getvalue()
    assert code == 0, text
    assert "qbr-run-2026-Q1" in text and f"QBR-{number}-2026-Q1.pptx" in text and f"QBR-{number}-2026-Q1.pdf" in text
    assert follow_qbr_run("2026-Q5", customers=None, settings=settings, console=Console(file=out)) == 2
