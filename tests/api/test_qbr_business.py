"""The MSP's business KPIs through the API, by hand over invoices of 2031-Q1 and 2031-Q2 (quarters no other test
writes in): msp_admin and finance read them (JSON and the internal PDF), MSP technicians and tenant users are
refused (403)."""

import io
import uuid
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from domain.contracts.billing import DraftStatus, InvoiceKind
from domain.roles import Role
from hub.db import session_scope
from models import Invoice
from tests.conftest import auth
from tests.factories import make_user
from tests.qbr_setup import seed_two_quarters

URL = "/api/v1/qbr/business"


def _invoice(tenant, issued: date, net: str, kind=InvoiceKind.INVOICE, status=DraftStatus.ISSUED) -> Invoice:  # noqa: ANN001
    return Invoice(tenant_id=tenant.id, customer_number=tenant.customer_number, kind=kind, period=f"{issued:%Y-%m}",
                   workflow_id=f"test-{uuid.uuid4()}", status=status, net_total=Decimal(net),
                   issue_date=issued)  # fmt: skip


@pytest.fixture(scope="module")
def world(engine):
    seeded = seed_two_quarters(engine)
    a, b = seeded.tenant, seeded.other
    with session_scope(engine) as session:
        session.add_all([
            _invoice(a, date(2031, 1, 5), "1000.00"),  # Q1
            _invoice(a, date(2031, 4, 1), "1500.00"),
            _invoice(b, date(2031, 6, 30), "900.00"),
            _invoice(b, date(2031, 6, 10), "400.00", InvoiceKind.CREDIT_NOTE),
            _invoice(a, date(2031, 7, 1), "777.00"),  # Q3
            _invoice(a, date(2031, 5, 1), "5000.00", status=DraftStatus.DRAFT),
        ])  # fmt: skip
    keys = {role: make_user(engine, role, seeded.tenant if role == Role.CUSTOMER_IT else None)[1]
            for role in (Role.MSP_ADMIN, Role.FINANCE, Role.MSP_TECH, Role.CUSTOMER_IT)}  # fmt: skip
    return keys


async def test_business_kpis_by_hand(api, world):
    keys = world
    r = await api.get(f"{URL}/2031Q2", headers=auth(keys[Role.FINANCE]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["quarter"], body["previous_quarter"]) == ("2031-Q2", "2031-Q1")
    by = {k["key"]: (k["current"], k["previous"]) for k in body["kpis"]}
    assert by["revenue"] == ("2000.00", "1000.00")  # 1500 + 900 - 400 (the draft and July do not count); 1000
    assert by["customers_billed"] == ("2", "1")
    assert by["revenue_per_customer"] == ("1000.00", "1000.00")
    assert by["revenue_growth"] == ("100.0", "k. A.")  # 100 x (2000 - 1000) / 1000
    assert by["billed_hours"] == ("0.00", "0.00")  # no time entry in 2031
    assert (await api.get(f"{URL}/2031-Q2", headers=auth(keys[Role.MSP_ADMIN]))).status_code == 200
    pdf = await api.get(f"{URL}/2031-Q2/pdf", headers=auth(keys[Role.MSP_ADMIN]))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Geschäftskennzahlen Q2 2031" in text and "2.000,00 €" in text and "100 %" in text


async def test_only_the_msps_management_reads_them(api, world):
    keys = world
    for role in (Role.MSP_TECH, Role.CUSTOMER_IT):
        r = await api.get(f"{URL}/2031-Q2", headers=auth(keys[role]))
        assert r.status_code == 403 and "2000.00" not in r.text
        assert (await api.get(f"{URL}/2031-Q2/pdf", headers=auth(keys[role]))).status_code == 403
    bad = await api.get(f"{URL}/2031-Q7", headers=auth(keys[Role.FINANCE]))
    assert bad.status_code == 422 and "quarter" in bad.text
