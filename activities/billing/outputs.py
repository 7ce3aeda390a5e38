"""After the number: the rendered files of an issued invoice (written once, from the frozen document), the mail to
the customer's billing address with them, and the reminder to finance about a draft that waits."""

import hashlib
from email.message import EmailMessage

from sqlalchemy import Engine, exists
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.mail import MailError, MailNotConfigured, build_message, message_id_for, send_message, sender_domain
from documents.invoice_files import render_files
from domain.billing.document import InvoiceDocument
from domain.billing.stored import document_from_dict
from domain.contracts.billing import BillingActivity, DraftRef, DraftStatus, Reminder
from hub.config import Settings
from hub.db import session_scope
from hub.logging import get_logger
from hub.render_pool import RenderPool
from models import Invoice, InvoiceFile, SellerProfile
from models.base import utcnow

log = get_logger(__name__)
# An issued document and its files as (filename, media type, content), as render wrote them.
Rendered = tuple[InvoiceDocument, list[tuple[str, str, bytes]]]


def _issued(session: Session, draft_id) -> Invoice:  # noqa: ANN001
    row = session.get(Invoice, draft_id)
    if row is None or row.status != DraftStatus.ISSUED:
        raise ApplicationError(f"invoice {draft_id} is not issued", type="WrongState", non_retryable=True)
    return row


def _has_pdf(session: Session, invoice_id) -> bool:  # noqa: ANN001
    return session.exec(
        select(InvoiceFile.kind).where(InvoiceFile.invoice_id == invoice_id, InvoiceFile.kind == "pdf")
    ).first() is not None


class BillingOutputActivities:
    def __init__(self, engine: Engine, settings: Settings, render_pool: RenderPool | None = None):
        self.engine = engine
        self.settings = settings
        self.render_pool = render_pool or RenderPool(0)  # without a pool: in the activity's thread

    @activity.defn(name=BillingActivity.DELIVER)
    def deliver(self, req: DraftRef) -> None:
        """Render the files once, then mail them once: a retry after a mail failure finds the files written and
        renders nothing again; one activity instead of two saves a round trip through the server per invoice."""
        self.send(req, self.render(req))

    def render(self, req: DraftRef) -> Rendered | None:
        """The document and its files when rendered and written now; None when they were written before."""
        # Rendered outside session_scope: on SQLite it holds the worker's one write lock, and every other activity
        # would wait for the PDF (the issued document is frozen, so reading it without the lock is safe).
        with Session(self.engine) as session:  # one statement, only the columns it needs (not the whole row)
            has_pdf = exists().where(InvoiceFile.invoice_id == Invoice.id, InvoiceFile.kind == "pdf")
            found = session.execute(
                select(Invoice.status, Invoice.document, has_pdf).where(Invoice.id == req.draft_id)
            ).one_or_none()
        if found is None or found[0] != DraftStatus.ISSUED:
            raise ApplicationError(f"invoice {req.draft_id} is not issued", type="WrongState", non_retryable=True)
        _status, document, written = found
        if written:
            return None  # written once: an issued invoice's files never change
        doc, invoice_format = document_from_dict(document), document.get("invoice_format", "pdf")
        files = self.render_pool.run(render_files, doc, invoice_format)  # beside the worker: its lock stays free
        with session_scope(self.engine) as session:
            if _has_pdf(session, req.draft_id):
                return None  # a concurrent attempt wrote them meanwhile
            for kind, filename, media_type, content in files:
                session.add(InvoiceFile(invoice_id=req.draft_id, kind=kind, filename=filename, media_type=media_type,
                                        content=content, sha256=hashlib.sha256(content).hexdigest()))  # fmt: skip
        return doc, [(filename, media_type, content) for _kind, filename, media_type, content in files]

    def send(self, req: DraftRef, rendered: Rendered | None = None) -> None:
        """Mail the files: those just rendered (`rendered`, the very bytes that were stored) or else the stored."""
        if not self.settings.smtp_host.strip():  # nothing is read or built for a mail that cannot go out
            number = rendered[0].number if rendered is not None else None
            log.warning("invoice not mailed: PSA_SMTP_HOST is empty", number=number, draft_id=str(req.draft_id))
            return  # the invoice stays downloadable; mailing is not what makes it valid
        with Session(self.engine) as session:  # a read: no write lock held while the files are loaded
            if rendered is not None:  # issued, or nothing would have been rendered: only whether it went out
                sent_at = session.exec(select(Invoice.sent_at).where(Invoice.id == req.draft_id)).one()
                if sent_at is not None:
                    return
                doc, files = rendered
            else:
                row = _issued(session, req.draft_id)
                if row.sent_at is not None:
                    return
                doc = document_from_dict(row.document)
                stored = session.exec(select(InvoiceFile).where(InvoiceFile.invoice_id == row.id)).all()
                files = [(f.filename, f.media_type, f.content) for f in stored]
        msg = invoice_mail(self.settings, doc, files)
        try:
            send_message(self.settings, msg)
        except MailNotConfigured:
            log.warning("invoice not mailed: PSA_SMTP_HOST is empty", number=doc.number)
            return  # the invoice stays downloadable; mailing is not what makes it valid
        except MailError as err:
            raise ApplicationError(str(err), type="MailError") from err  # retried: the server may come back
        with session_scope(self.engine) as session:
            row = session.get(Invoice, req.draft_id)
            row.sent_at = utcnow()
            session.add(row)
        log.info("invoice mailed", number=doc.number, to=doc.buyer.email)

    @activity.defn(name=BillingActivity.REMIND)
    def remind(self, req: Reminder) -> None:
        with session_scope(self.engine) as session:
            row = session.get(Invoice, req.draft_id)
            seller = session.get(SellerProfile, 1)
            if row is None or row.status not in (DraftStatus.DRAFT, DraftStatus.FAILED):
                return
            to = seller.contact_email if seller else None
            subject = f"Rechnungsentwurf {row.customer_number} {row.period} wartet seit {req.waiting_days} Tagen"
            body = (
                f"Der Rechnungsentwurf für {row.customer_number} ({row.period}, {row.gross_total} {row.currency}) "
                f"ist {row.status.value} und wartet seit {req.waiting_days} Tagen auf Freigabe.\n"
                + "".join(f"- {p}\n" for p in row.problems)
            )
        log.warning("invoice draft waiting", draft_id=str(req.draft_id), days=req.waiting_days)
        if not to:
            return
        key = f"invoice-reminder-{req.draft_id}-{req.waiting_days}"
        msg = build_message(sender=self.settings.smtp_from, to=[to], subject=subject, body=body,
                            message_id=message_id_for(key, sender_domain(self.settings.smtp_from)))  # fmt: skip
        try:
            send_message(self.settings, msg)
        except MailNotConfigured:
            return
        except MailError as err:
            raise ApplicationError(str(err), type="MailError") from err


def invoice_mail(settings: Settings, doc: InvoiceDocument, files: list[tuple[str, str, bytes]]) -> EmailMessage:
    """The mail to the buyer with `files` (filename, media type, content) attached."""
    credit = doc.is_credit_note
    if doc.language == "en":
        title = "Credit note" if credit else "Invoice"
        body = (
            f"Dear Sir or Madam,\n\nplease find attached our {title.lower()} {doc.number}.\n\n"
            f"{doc.seller.address.name}\n"
        )
    else:
        title = "Gutschrift" if credit else "Rechnung"
        body = (
            f"Guten Tag,\n\nanbei erhalten Sie unsere {title} {doc.number}.\n\n"
            f"Mit freundlichen Grüßen\n{doc.seller.address.name}\n"
        )
    msg = build_message(
        sender=settings.smtp_from,
        to=[doc.buyer.email],
        subject=f"{title} {doc.number}",
        body=body,
        message_id=message_id_for(f"invoice-{doc.number}", sender_domain(settings.smtp_from)),
    )
    for filename, media_type, content in files:
        maintype, subtype = media_type.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg
