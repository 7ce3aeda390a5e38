"""The service report's mail activity on both databases with a real SMTP server: a server that refuses one contact
fails the attempt (retried by Temporal) after the others were mailed and recorded; the retry mails only the one
left. Without an SMTP server nothing is mailed or recorded (a later run mails it); a report not stored is an error no
retry heals."""

import socket
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError

from activities.service_report.files import ServiceReportFileActivities
from activities.service_report.mail import ServiceReportMailActivities
from domain.contracts.service_report import SendReport, StoreReport
from domain.qbr.facts import QbrFacts
from domain.qbr.kpis import compute_kpis
from domain.service_report.content import service_report
from hub.config import Settings
from hub.file_store import FileStore
from models import ServiceReportMail
from tests.conftest import SmtpInbox
from tests.factories import make_contact, make_tenant


class RefusingInbox(SmtpInbox):
    """Refuses RCPT TO for the addresses in `refused` (a mailbox that does not exist, say)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if address in self.refused:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture(scope="module")
def server():
    inbox = RefusingInbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, notify_timeout=5)
    controller.stop()


def _stored(engine, documents_dir: Path):  # noqa: ANN001, ANN202
    tenant = make_tenant(engine)
    contacts = [make_contact(engine, tenant, first_name=n, service_report_opt_in=True) for n in ("Anna", "Bernd")]
    now, before = (QbrFacts(quarter=m, time_zone="Europe/Berlin") for m in ("2026-11", "2026-10"))
    report = service_report(compute_kpis(now, before, tenant.customer_number, tenant.name))
    ServiceReportFileActivities(engine, FileStore(documents_dir)).store_report(
        StoreReport(tenant_id=tenant.id, workflow_id="wf", report=report))  # fmt: skip
    return tenant, contacts


def _recorded(engine, tenant) -> list[str]:  # noqa: ANN001
    with Session(engine) as session:
        rows = session.exec(select(ServiceReportMail.email).where(ServiceReportMail.tenant_id == tenant.id)).all()
    return sorted(rows)


def test_a_refused_contact_fails_the_attempt_and_the_retry_mails_only_it(engine, documents_dir, server):
    inbox, settings = server
    tenant, (anna, bernd) = _stored(engine, documents_dir)
    mail = ServiceReportMailActivities(engine, settings, FileStore(documents_dir))
    req = SendReport(tenant_id=tenant.id, month="2026-11", workflow_id="wf")
    first, second = sorted((anna, bernd), key=lambda c: c.email)  # mailed in address order
    inbox.refused = {second.email}
    with pytest.raises(ApplicationError) as failed:
        mail.send(req)
    assert not failed.value.non_retryable and "refused" in str(failed.value)
    assert _recorded(engine, tenant) == [first.email]
    inbox.refused = set()
    result = mail.send(req)
    assert (result.mailed, result.already) == (1, 1)
    assert _recorded(engine, tenant) == sorted([anna.email, bernd.email])
    delivered = [m["X-Envelope-To"] for m in inbox.messages if str(m["Subject"]) == "Servicebericht November 2026"]
    assert sorted(a for a in delivered if a in (anna.email, bernd.email)) == sorted([anna.email, bernd.email])


def test_without_smtp_nothing_is_mailed_or_recorded(engine, documents_dir):
    tenant, _ = _stored(engine, documents_dir)
    mail = ServiceReportMailActivities(engine, Settings(smtp_host=""), FileStore(documents_dir))
    result = mail.send(SendReport(tenant_id=tenant.id, month="2026-11", workflow_id="wf"))
    assert result.not_configured and result.mailed == 0 and _recorded(engine, tenant) == []


def test_a_report_not_stored_is_not_retried(engine, documents_dir, server):
    mail = ServiceReportMailActivities(engine, server[1], FileStore(documents_dir))
    with pytest.raises(ApplicationError) as failed:
        mail.send(SendReport(tenant_id=uuid.uuid4(), month="2026-11", workflow_id="wf"))
    assert failed.value.non_retryable and failed.value.type == "ReportMissing"
