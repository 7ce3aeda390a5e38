"""SEPA direct debit collections: finance creates the month's pain.008 file for the bank, once per invoice.

Creating a collection records the invoices it collects and stores the file; an invoice already in a collection is
left out of every later one (a second upload would debit the customer twice), as is an invoice credited since it
was issued (it would be collected in full). A mandate's first collection goes out as FRST, every later one as RCUR,
whatever the issued invoice stated, and the customer's profile moves on to RCUR. Finance and MSP admins only."""

import dataclasses
import hashlib
import uuid
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.deps import BillingWriter, SessionDep
from api.problems import Problem
from api.routes.billing.exports import exportable
from api.routes.billing.runs import month_or_422
from api.schemas.common import audit_event, field_error
from api.schemas.sepa import SepaCollectionCreate, SepaCollectionItemPublic, SepaCollectionPublic
from documents.sepa import render_pain008
from domain.billing.document import InvoiceDocument, SequenceType
from domain.billing.recurring import BillingMonth
from domain.billing.stored import document_from_dict
from domain.contracts.billing import DraftStatus, InvoiceKind
from models import CustomerBillingProfile, Invoice, MandateSequence, SepaCollection, SepaCollectionItem
from models.base import utcnow

router = APIRouter(prefix="/billing/sepa-collections", tags=["billing exports"])
MEDIA_TYPE = "application/xml"


def _credited(session: Session, numbers: list[str]) -> dict[str, str]:
    """Invoice number -> the numbers of its issued credit notes, for the invoices among `numbers` that have one."""
    originals = dict(session.exec(select(Invoice.id, Invoice.number).where(col(Invoice.number).in_(numbers))).all())
    notes = session.exec(
        select(Invoice.credit_of_id, Invoice.number)
        .where(col(Invoice.credit_of_id).in_(originals), Invoice.status == DraftStatus.ISSUED)
        .order_by(Invoice.number)
    ).all()
    credited: dict[str, list[str]] = {}
    for original_id, number in notes:
        credited.setdefault(originals[original_id], []).append(number)
    return {invoice: ", ".join(found) for invoice, found in credited.items()}


def _to_collect(session: Session, month: BillingMonth) -> tuple[list[tuple[Invoice, InvoiceDocument]], list[str]]:
    """The month's issued invoices paid by mandate that no collection holds yet, and the others named with why."""
    rows = session.exec(
        select(Invoice)
        .where(Invoice.status == DraftStatus.ISSUED, Invoice.kind == InvoiceKind.INVOICE)
        .where(Invoice.issue_date >= month.first, Invoice.issue_date <= month.last)
        .order_by(Invoice.number)
    ).all()
    pairs = [(row, document_from_dict(row.document)) for row in rows]
    pairs = [(row, doc) for row, doc in pairs if doc.direct_debit is not None]
    done = dict(
        session.exec(
            select(SepaCollectionItem.invoice_id, SepaCollection.message_id)
            .join(SepaCollection, col(SepaCollection.id) == col(SepaCollectionItem.collection_id))
            .where(col(SepaCollectionItem.invoice_id).in_([row.id for row, _ in pairs]))
        ).all()
    )
    left_out = [f"{row.number} (collected in {done[row.id]})" for row, _ in pairs if row.id in done]
    pairs = [(row, doc) for row, doc in pairs if row.id not in done]
    kept, refused = exportable([doc for _, doc in pairs])
    left_out += refused
    credited = _credited(session, [doc.number for doc in kept])
    left_out += [f"{number} (credited by {notes})" for number, notes in credited.items()]
    numbers = {doc.number for doc in kept} - set(credited)
    return [(row, doc) for row, doc in pairs if doc.number in numbers], left_out


def _sequenced(session: Session, docs: list[InvoiceDocument]) -> list[InvoiceDocument]:
    """The documents with the sequence type of this collection: RCUR for a mandate collected before, and for all but
    the first transaction of a mandate in this file (RCUR may open a series since the EPC rulebook of November 2016,
    so a second FRST of one mandate is never needed)."""
    mandates = {doc.direct_debit.mandate_id for doc in docs if doc.direct_debit}
    used = set(
        session.exec(
            select(SepaCollectionItem.mandate_id).where(col(SepaCollectionItem.mandate_id).in_(mandates)).distinct()
        ).all()
    )
    out = []
    for doc in docs:
        debit = doc.direct_debit
        if debit is not None and debit.mandate_id in used and debit.sequence != SequenceType.RECURRING:
            doc = dataclasses.replace(doc, direct_debit=dataclasses.replace(debit, sequence=SequenceType.RECURRING))
        if debit is not None:
            used.add(debit.mandate_id)
        out.append(doc)
    return out


def _public(session: Session, row: SepaCollection, left_out: list[str] | None = None) -> SepaCollectionPublic:
    items = session.exec(
        select(SepaCollectionItem, Invoice.number)
        .join(Invoice, col(Invoice.id) == col(SepaCollectionItem.invoice_id))
        .where(SepaCollectionItem.collection_id == row.id)
        .order_by(Invoice.number)
    ).all()
    return SepaCollectionPublic(
        **row.model_dump(exclude={"content"}),
        items=[
            SepaCollectionItemPublic(
                invoice_number=number, mandate_id=item.mandate_id, sequence=item.sequence, amount=item.amount
            )
            for item, number in items
        ],  # fmt: skip
        left_out=left_out or [],
    )


@router.post("", status_code=201, response_model=SepaCollectionPublic,
             summary="Collect a month's invoices paid by mandate: the pain.008 file, once per invoice")  # fmt: skip
def create_collection(body: SepaCollectionCreate, principal: BillingWriter, session: SessionDep):
    month = BillingMonth.parse(month_or_422(body.month))
    created = datetime.now().astimezone()
    if body.collection_date <= created.date():
        raise field_error("collection_date", f"{body.collection_date} must lie after today ({created.date()})")
    pairs, left_out = _to_collect(session, month)
    if not pairs:
        others = f" (left out: {', '.join(left_out)})" if left_out else ""
        raise Problem(404, f"no invoice issued in {month} is left to collect by SEPA direct debit{others}")
    message_id = f"MSPHUB-{month}-{uuid.uuid4().hex[:12].upper()}"
    docs = _sequenced(session, [doc for _, doc in pairs])
    try:
        content = render_pain008(docs, body.collection_date, message_id, created)
    except ValueError as err:
        raise Problem(422, str(err)) from None
    row = SepaCollection(message_id=message_id, month=str(month), collection_date=body.collection_date,
                         transactions=len(docs), total=sum(d.amount_due for d in docs),
                         filename=f"SEPA_Lastschriften_{month}_{message_id[-12:]}.xml", content=content,
                         sha256=hashlib.sha256(content).hexdigest(), created_by_user_id=principal.user_id)  # fmt: skip
    session.add(row)
    session.flush()
    first_mandates = set()
    for (invoice, _), doc in zip(pairs, docs, strict=True):
        debit = doc.direct_debit
        session.add(SepaCollectionItem(invoice_id=invoice.id, collection_id=row.id, mandate_id=debit.mandate_id,
                                       sequence=debit.sequence.value, amount=doc.amount_due))  # fmt: skip
        if debit.sequence == SequenceType.FIRST:
            first_mandates.add(debit.mandate_id)
    for profile in session.exec(
        select(CustomerBillingProfile).where(col(CustomerBillingProfile.sepa_mandate_id).in_(first_mandates))
    ):
        if profile.sepa_sequence == MandateSequence.FIRST:  # the mandate has been used: later debits are RCUR
            profile.sepa_sequence = MandateSequence.RECURRING
            profile.updated_at = utcnow()
            session.add(profile)
            change = {"sepa_sequence": {"old": "first", "new": "recurring", "by": message_id}}
            session.add(audit_event(principal, profile.tenant_id, "billing_profile", profile.id, "updated", change))
    session.add(audit_event(principal, None, "sepa_collection", row.id, "created",
                            {"message_id": message_id, "transactions": row.transactions, "total": str(row.total),
                             "left_out": left_out}))  # fmt: skip
    try:
        session.commit()
    except IntegrityError:  # another collection took one of these invoices between our read and this commit
        session.rollback()
        raise Problem(409, "another collection of these invoices was created meanwhile; create this again") from None
    return _public(session, row, left_out)


@router.get("", response_model=list[SepaCollectionPublic], summary="The collections created for a month")
def list_collections(
    month: Annotated[str, Query(description="YYYY-MM: the month the invoices were issued in")],
    principal: BillingWriter,
    session: SessionDep,
):
    billing_month = BillingMonth.parse(month_or_422(month))
    rows = session.exec(
        select(SepaCollection).where(SepaCollection.month == str(billing_month)).order_by(SepaCollection.created_at)
    ).all()
    return [_public(session, row) for row in rows]


@router.get("/{collection_id}/file", summary="The pain.008 file of a collection, as it was created",
            responses={200: {"content": {MEDIA_TYPE: {}}}})  # fmt: skip
def collection_file(collection_id: UUID, principal: BillingWriter, session: SessionDep):
    row = session.get(SepaCollection, collection_id)
    if row is None:
        raise Problem(404, f"no SEPA collection {collection_id}")
    session.add(audit_event(principal, None, "sepa_collection", row.id, "downloaded",
                            {"message_id": row.message_id, "sha256": row.sha256}))  # fmt: skip
    session.commit()
    return Response(row.content, media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{row.filename}"'})  # fmt: skip
