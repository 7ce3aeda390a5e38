"""Mail a customer's monthly service report to each of its contacts who opted in (`contacts.service_report_opt_in`),
once per contact and month: a `service_report_mails` row is looked up before and written right after the SMTP server
accepted the message, so a retry or a second run of the month mails only whom it has not mailed yet. A crash between
the two re-sends with the same Message-ID, which receiving systems recognise as the duplicate."""

from email.message import EmailMessage

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.mail import MailError, MailNotConfigured, build_message, message_id_for, send_message, sender_domain
from domain.contracts.service_report import SendReport, SentReport, ServiceReportActivity
from domain.qbr.period import Month
from hub.config import Settings
from hub.db import session_scope
from hub.file_store import FileStore
from hub.logging import get_logger
from models import Contact, ServiceReportFile, ServiceReportMail, Tenant

log = get_logger(__name__)


def report_mail(settings: Settings, tenant: Tenant, contact: Contact, row: ServiceReportFile, pdf: bytes,
                message_id: str) -> EmailMessage:  # fmt: skip
    label = Month.parse(row.month).label()
    body = (
        f"Guten Tag {contact.first_name} {contact.last_name},\n\n"
        f"anbei erhalten Sie den monatlichen Servicebericht für {tenant.name} ({tenant.customer_number}) "
        f"für {label}: SLA-Erfüllung, Tickets, Sicherheit (Vorfälle, MFA), Stunden und Gerätezustand im Vergleich "
        f"zum Vormonat.\n\nMit freundlichen Grüßen\nIhr IT-Service\n\n"
        f"Sie erhalten diese E-Mail, weil Sie den monatlichen Servicebericht abonniert haben.\n"
    )
    msg = build_message(sender=settings.smtp_from, to=[contact.email], subject=f"Servicebericht {label}",
                        body=body, message_id=message_id)  # fmt: skip
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=row.filename)
    return msg


class ServiceReportMailActivities:
    def __init__(self, engine: Engine, settings: Settings, store: FileStore):
        self.engine = engine
        self.settings = settings
        self.store = store

    @activity.defn(name=ServiceReportActivity.SEND)
    def send(self, req: SendReport) -> SentReport:
        with Session(self.engine) as session:
            tenant = session.get(Tenant, req.tenant_id)
            row = session.get(ServiceReportFile, (req.tenant_id, req.month))
            if tenant is None or row is None:
                raise ApplicationError(f"no stored service report of {req.tenant_id} for {req.month}",
                                       type="ReportMissing", non_retryable=True)  # fmt: skip
            contacts = session.exec(
                select(Contact).where(Contact.tenant_id == req.tenant_id, col(Contact.service_report_opt_in))
                .order_by(col(Contact.email))
            ).all()  # fmt: skip
            mailed = set(session.exec(select(ServiceReportMail.contact_id).where(
                ServiceReportMail.tenant_id == req.tenant_id, ServiceReportMail.month == req.month)).all())  # fmt: skip
        due = [c for c in contacts if c.id not in mailed]
        if not due:
            return SentReport(mailed=0, already=len(contacts))
        pdf = self.store.path(row.path).read_bytes()
        domain = sender_domain(self.settings.smtp_from)
        sent = 0
        for contact in due:
            message_id = message_id_for(f"service-report-{req.tenant_id}-{req.month}-{contact.id}", domain)
            try:
                send_message(self.settings, report_mail(self.settings, tenant, contact, row, pdf, message_id))
            except MailNotConfigured:
                log.warning("service report not mailed: PSA_SMTP_HOST is empty", customer=tenant.customer_number)
                return SentReport(mailed=sent, already=len(contacts) - len(due), not_configured=True)
            except MailError as err:  # retried: those mailed so far are recorded and are not mailed again
                raise ApplicationError(str(err), type="MailError") from err
            try:
                with session_scope(self.engine) as session:
                    session.add(ServiceReportMail(tenant_id=req.tenant_id, month=req.month, contact_id=contact.id,
                                                  email=contact.email, message_id=message_id,
                                                  workflow_id=req.workflow_id))  # fmt: skip
            except IntegrityError:
                pass  # a concurrent attempt recorded it meanwhile
            sent += 1
        log.info("service report mailed", customer=tenant.customer_number, month=req.month, contacts=sent)
        return SentReport(mailed=sent, already=len(contacts) - len(due))
