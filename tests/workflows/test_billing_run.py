"""The monthly billing run end to end through the API, the real workflows (time-skipping server) and the database:
drafts wait for finance, a bad customer's draft carries its problem without stopping the others, approval issues
gapless numbers, the PDF is stored and mailed, a second run of the month creates nothing, credit notes get their own
series. Each test bills its own month and customers, with a number series of its own."""

import asyncio
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from domain.contracts.billing import RunProgress
from domain.processes import billing_workflow_id
from domain.roles import Role
from hub.db import session_scope
from hub.temporal.billing import run_progress
from models import AuditEvent, ContractLine, Invoice, InvoiceNumberCounter, TimeEntry
from tests.billing_setup import billing_customer, new_series, set_seller
from tests.conftest import auth
from tests.factories import make_user

BERLIN = ZoneInfo("Europe/Berlin")


async def composed(client, month: str, total: int) -> RunProgress:  # noqa: ANN001
    for _ in range(300):
        try:
            progress, _ = await run_progress(client, month)
        except Exception:  # noqa: BLE001 - the run may not be visible yet
            progress = None
        if progress and progress.total == total and progress.drafted + progress.issued + progress.failed \
                + progress.rejected + progress.nothing >= total:  # fmt: skip
            return progress
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {month} did not compose its {total} drafts: {progress}")


def invoices_of(engine, customers) -> dict[str, Invoice]:  # noqa: ANN001
    numbers = [c.tenant.customer_number for c in customers]
    with Session(engine) as s:
        rows = s.exec(select(Invoice).where(Invoice.customer_number.in_(numbers))).all()  # type: ignore[union-attr]
    return {r.customer_number: r for r in rows if r.kind == "invoice"}


async def test_run_waits_for_finance_then_issues_gapless_and_mails(api, client, engine, smtp):
    month = "2031-03"
    prefix = new_series()
    set_seller(engine, prefix)
    a = billing_customer(engine, start=date(2031, 3, 17), mandate=True,
                         entries=((datetime(2031, 3, 5, 9, 0, tzinfo=BERLIN), 50, "remote"),))  # fmt: skip
    b = billing_customer(engine, start=date(2031, 3, 1), seats=5, seat_price="100.00")
    c = billing_customer(engine, start=date(2031, 3, 1))
    with session_scope(engine) as s:  # the API refuses this; data from an import may still carry it
        line = s.get(ContractLine, c.lines[0].id)
        line.quantity = Decimal(-2)
        s.add(line)
    _, finance = make_user(engine, Role.FINANCE)
    numbers = [x.tenant.customer_number for x in (a, b, c)]

    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": numbers},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202, r.text
    assert r.json()["workflow_id"] == billing_workflow_id(month)
    progress = await composed(client, month, 3)
    assert (progress.drafted, progress.failed) == (2, 1)

    rows = invoices_of(engine, (a, b, c))
    assert {k: v.status for k, v in rows.items()} == {numbers[0]: "draft", numbers[1]: "draft", numbers[2]: "failed"}
    assert any("negative" in p.lower() for p in rows[numbers[2]].problems), rows[numbers[2]].problems
    # a: 23 x 14.90 x 15/31 (17.-31.3.) = 165.8225 -> 165.82; 50 min -> 60 min x 110 = 110.00; 275.82 net,
    # 19 % = 52.4058 -> 52.41, 328.23 gross
    draft_a = rows[numbers[0]]
    assert (draft_a.net_total, draft_a.tax_total, draft_a.gross_total) == (
        Decimal("275.82"), Decimal("52.41"), Decimal("328.23"))  # fmt: skip

    # finance: one line of b adjusted (5 -> 4 devices), a and b approved, c rejected
    b_id = rows[numbers[1]].id
    r = await api.patch(f"/api/v1/invoices/{b_id}/lines/0", json={"quantity": "4", "reason": "Gerät zurückgegeben"},
                        headers=auth(finance))  # fmt: skip
    assert r.status_code == 200, r.text
    assert Decimal(r.json()["net_total"]) == Decimal("400.00")
    for customer in (a, b):
        r = await api.post(f"/api/v1/invoices/{rows[customer.tenant.customer_number].id}/approve",
                           headers=auth(finance))  # fmt: skip
        assert r.status_code == 200, r.text
    r = await api.post(f"/api/v1/invoices/{rows[numbers[2]].id}/approve", headers=auth(finance))
    assert r.status_code == 409 and "failed" in r.json()["detail"]
    r = await api.post(f"/api/v1/invoices/{rows[numbers[2]].id}/reject", json={"reason": "Vertrag wird korrigiert"},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 200, r.text

    result = await client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress).result()
    assert (result.issued, result.rejected, result.finished) == (2, 1, True)
    rows = invoices_of(engine, (a, b, c))
    year = rows[numbers[0]].issue_date.year
    assert {rows[n].number for n in numbers[:2]} == {f"{prefix}-{year}-00001", f"{prefix}-{year}-00002"}
    assert rows[numbers[0]].gross_total == Decimal("328.23") and rows[numbers[1]].gross_total == Decimal("476.00")

    # stored PDF, mailed with it to the billing address
    r = await api.get(f"/api/v1/invoices/{rows[numbers[0]].id}/pdf", headers=auth(finance))
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"
    inbox, _ = smtp
    [mail] = [m for m in inbox.messages if rows[numbers[0]].number in str(m["Subject"])]
    assert mail["To"] == f"rechnung-{numbers[0].lower()}@kunde.example"
    assert [p.get_filename() for p in mail.iter_attachments()] == [f"{rows[numbers[0]].number}.pdf"]
    with Session(engine) as s:
        assert s.get(TimeEntry, a.entries[0].id).invoice_id == rows[numbers[0]].id

    # the customer sees its own issued invoice only
    _, customer_key = make_user(engine, Role.CUSTOMER_USER, a.tenant)
    r = await api.get("/api/v1/invoices", headers=auth(customer_key))
    assert [i["number"] for i in r.json()["items"]] == [rows[numbers[0]].number]
    r = await api.get(f"/api/v1/invoices/{rows[numbers[1]].id}", headers=auth(customer_key))
    assert r.status_code == 404

    # the same month again: nothing new, the same numbers, the counter untouched
    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": numbers[:2]},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202
    again = await client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress).result()
    assert again.issued == 2
    assert {n: rows[n].number for n in numbers[:2]} == {n: r.number for n, r in invoices_of(engine, (a, b)).items()}
    with Session(engine) as s:
        assert s.get(InvoiceNumberCounter, (prefix, year)).last_value == 2
    assert len([m for m in inbox.messages if rows[numbers[0]].number in str(m["Subject"])]) == 1

    # a credit note for the workstation line: its own series, once per line
    body = {"line_indexes": [0], "reason": "Leistung nicht erbracht"}
    r = await api.post(f"/api/v1/invoices/{rows[numbers[0]].id}/credit-notes", json=body, headers=auth(finance))
    assert r.status_code == 202, r.text
    await client.get_workflow_handle(r.json()["workflow_id"]).result()
    r = await api.get(r.headers["location"], headers=auth(finance))
    note = r.json()
    # 165.82 + 19 % (31.5058 -> 31.51) = 197.33
    assert (note["kind"], note["status"], note["number"], note["gross_total"]) == (
        "credit_note", "issued", f"{prefix}G-{year}-00001", "197.33")  # fmt: skip
    assert note["credit_of_id"] == str(rows[numbers[0]].id)
    r = await api.post(f"/api/v1/invoices/{rows[numbers[0]].id}/credit-notes",
                       json={"line_indexes": [0], "reason": "noch einmal"}, headers=auth(finance))  # fmt: skip
    assert r.status_code == 409 and "already credited" in r.json()["detail"]


async def test_auto_approved_contract_is_issued_without_finance_and_dry_run_issues_nothing(api, client, engine):
    month = "2031-04"
    prefix = new_series()
    set_seller(engine, prefix)
    auto = billing_customer(engine, start=date(2031, 4, 1), seats=2, seat_price="50.00", auto_approve=True)
    _, finance = make_user(engine, Role.FINANCE)
    number = auto.tenant.customer_number

    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": [number], "dry_run": True},
                       headers=auth(finance))  # fmt: skip
    dry = await client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress).result()
    assert (dry.dry_run, dry.drafted, dry.issued) == (True, 1, 0)
    assert invoices_of(engine, (auto,))[number].number is None

    r = await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": [number]},
                       headers=auth(finance))  # fmt: skip
    assert r.status_code == 202
    done = await client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress).result()
    assert done.issued == 1
    row = invoices_of(engine, (auto,))[number]
    # numbered in the fiscal year of the issue date (the server's today), not of the month billed
    assert (row.number, row.gross_total) == (f"{prefix}-{row.issue_date.year}-00001", Decimal("119.00"))  # + 19 %
    # approved by contract in the composing transaction (not in the dry run): recorded once, by nobody
    with Session(engine) as s:
        approvals = s.exec(select(AuditEvent).where(AuditEvent.entity_id == str(row.id),
                                                    AuditEvent.action == "approved")).all()  # fmt: skip
    assert [(a.actor_user_id, a.data) for a in approvals] == [(None, {"reason": "approved by contract"})]
    assert row.approved_at is not None and row.approved_by_user_id is None


async def test_run_refuses_bad_input_and_unknown_roles(api, engine):
    _, finance = make_user(engine, Role.FINANCE)
    _, tech = make_user(engine, Role.MSP_TECH)
    r = await api.post("/api/v1/billing/runs", json={"month": "2031-13"}, headers=auth(finance))
    assert r.status_code == 422 and "month" in r.text
    r = await api.post("/api/v1/billing/runs", json={"month": "2031-05"}, headers=auth(tech))
    assert r.status_code == 403
    r = await api.get("/api/v1/billing/runs/2031-07", headers=auth(finance))
    assert r.status_code == 404


async def test_psa_billing_run_follows_a_dry_run_and_lists_the_drafts(client, engine):
    """`psa billing run 2031-08 --dry-run --customer K…`: its own Temporal connection (another thread, as the CLI is
    another process), the progress until every draft is composed, then the table of drafts."""
    import io

    from rich.console import Console

    from hub.billing_cli import follow_run
    from hub.config import Settings

    set_seller(engine, new_series())
    good = billing_customer(engine, start=date(2031, 8, 1), seats=3, seat_price="20.00")
    database_url = engine.url.render_as_string(hide_password=False)
    settings = Settings(temporal_address=client.service_client.config.target_host, database_url=database_url)
    out = io.StringIO()
    code = await asyncio.to_thread(follow_run, "2031-08", dry_run=True, customers=[good.tenant.customer_number],
                                   settings=settings, console=Console(file=out, width=200))  # fmt: skip
    text = out.getvalue()
    assert code == 0, text
    assert "billing-2031-08 (dry run)" in text and good.tenant.customer_number in text
    assert "60.00" in text and "71.40 EUR" in text  # 3 x 20.00 net, + 19 %
    assert follow_run("2031-99", dry_run=True, customers=None, settings=settings, console=Console(file=out)) == 2


async def test_a_draft_gone_stale_is_composed_again_instead_of_billing_twice(api, client, engine):
    """A time entry of a waiting draft gets billed elsewhere (here: marked by hand as billed by another invoice);
    the approval's issue notices, the draft is composed again without it and waits for finance once more."""
    import uuid as _uuid

    from domain.contracts.billing import DraftStatus, InvoiceKind

    month = "2031-09"
    set_seller(engine, new_series())
    c = billing_customer(engine, start=date(2031, 9, 1), seats=1, seat_price="100.00",
                         entries=((datetime(2031, 9, 2, 10, 0, tzinfo=BERLIN), 60, "remote"),))  # fmt: skip
    _, finance = make_user(engine, Role.FINANCE)
    number = c.tenant.customer_number
    await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": [number]}, headers=auth(finance))
    await composed(client, month, 1)
    draft = invoices_of(engine, (c,))[number]
    assert draft.gross_total == Decimal("249.90")  # (100.00 + 110.00) x 1.19
    with session_scope(engine) as s:
        other = Invoice(id=_uuid.uuid4(), tenant_id=c.tenant.id, customer_number=number, kind=InvoiceKind.INVOICE,
                        period="2031-08", workflow_id="by-hand", status=DraftStatus.ISSUED)  # fmt: skip
        s.add(other)
        s.flush()
        s.get(TimeEntry, c.entries[0].id).invoice_id = other.id
    r = await api.post(f"/api/v1/invoices/{draft.id}/approve", headers=auth(finance))
    assert r.status_code == 200, r.text
    for _ in range(100):
        with Session(engine) as s:
            row = s.get(Invoice, draft.id)
        if row.status == "draft" and row.gross_total == Decimal("119.00"):
            break
        await asyncio.sleep(0.1)
    assert (row.status, row.number, row.gross_total) == ("draft", None, Decimal("119.00")), row  # the hour is gone
    r = await api.post(f"/api/v1/invoices/{draft.id}/approve", headers=auth(finance))
    assert r.status_code == 200, r.text
    done = await client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress).result()
    with Session(engine) as s:
        row = s.get(Invoice, draft.id)
    assert done.issued == 1 and (row.status, row.gross_total) == ("issued", Decimal("119.00"))


async def test_a_waiting_draft_reminds_finance_every_few_days(api, env, client, engine, smtp):
    from datetime import timedelta

    from hub.temporal.billing import invoice_state

    month = "2031-10"
    set_seller(engine, new_series())
    c = billing_customer(engine, start=date(2031, 10, 1), seats=1, seat_price="10.00")
    _, finance = make_user(engine, Role.FINANCE)
    number = c.tenant.customer_number
    await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": [number]}, headers=auth(finance))
    await composed(client, month, 1)
    draft = invoices_of(engine, (c,))[number]
    await env.sleep(timedelta(days=3, hours=1))  # PSA_BILLING_REMINDER_DAYS: 3
    state = await invoice_state(client, draft.workflow_id)
    assert state.reminders_sent == 1 and state.draft.status == "draft"
    inbox, _ = smtp
    [mail] = inbox.about(f"Rechnungsentwurf {number} {month} wartet seit 3 Tagen")
    assert mail["To"] == "rechnung@muster-it.example"
    r = await api.post(f"/api/v1/invoices/{draft.id}/reject", json={"reason": "Kunde gekündigt"}, headers=auth(finance))
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["reason"] == "Kunde gekündigt"


async def test_approve_all_drafts_of_a_month_at_once(api, client, engine):
    month = "2031-11"
    prefix = new_series()
    set_seller(engine, prefix)
    customers = [billing_customer(engine, start=date(2031, 11, 1), seats=n + 1, seat_price="10.00") for n in range(3)]
    _, finance = make_user(engine, Role.FINANCE)
    numbers = [c.tenant.customer_number for c in customers]
    await api.post("/api/v1/billing/runs", json={"month": month, "customer_numbers": numbers}, headers=auth(finance))
    await composed(client, month, 3)
    r = await api.post(f"/api/v1/billing/runs/{month}/approve", headers=auth(finance))
    assert r.status_code == 200, r.text
    # every waiting draft of the month is approved, also other customers' (this database is shared by the tests)
    assert set(numbers) <= set(r.json()["approved"]) and r.json()["refused"] == []
    done = await client.get_workflow_handle(billing_workflow_id(month), result_type=RunProgress).result()
    assert done.issued == 3
    rows = invoices_of(engine, customers)
    assert sorted(rows[n].number[-5:] for n in numbers) == ["00001", "00002", "00003"]
    r = await api.get(f"/api/v1/billing/runs/{month}", headers=auth(finance))
    assert (r.json()["issued"], r.json()["finished"], r.json()["temporal_status"]) == (3, True, "completed")
