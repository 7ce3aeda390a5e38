"""SEPA direct debit file (pain.008, SEPA Core) of invoices paid by direct debit, for the seller's bank.

Built with sepaxml and checked against the XSD it bundles (`export(validate=True)`). The default schema is
pain.008.001.02, the 2009 ISO version that sepaxml documents and German banks have taken for years
(DFÜ-Abkommen Anlage 3). sepaxml also bundles pain.008.001.08, the 2019 version the German banks added in November
2023; it can be chosen with `schema=` when the seller's bank asks for it. Whether and when banks stop taking .02 is
not settled in the sources this was written from: check with the bank before switching the default.

One transaction per invoice: the amount due in cents, the mandate (id, date of signature, FRST or RCUR), the debtor
(the buyer's name and the mandate's IBAN; no BIC, "NOTPROVIDED", as SEPA allows since 2016), "Rechnung <number>"
as remittance text and the invoice number as end-to-end id, so the bank statement finds the invoice. Transactions
are grouped into one payment information block per sequence type and collection date (sepaxml's batch mode).
The instrument is CORE: the mandate data knows no B2B mandates.

sepaxml draws a random message id, payment information ids and the current time; this module overwrites them with
the caller's message id and time so the same input gives the same file.
"""

import re
from collections.abc import Sequence
from datetime import date, datetime

from sepaxml import SepaDD

from domain.billing.document import InvoiceDocument, Seller
from domain.billing.money import money

SCHEMAS = ("pain.008.001.02", "pain.008.001.08")
# SEPA's reference characters (EPC): a message id of up to 35 of them.
_SEPA_ID = re.compile(r"^[A-Za-z0-9+?/:().,' -]{1,35}$")


class _DirectDebitFile(SepaDD):
    def __init__(self, config: dict, schema: str, message_id: str, created_at: datetime) -> None:
        super().__init__(config, schema=schema, clean=True)
        self._message_id = message_id
        header = self._xml.find("CstmrDrctDbtInitn/GrpHdr")
        header.find("MsgId").text = message_id
        header.find("CreDtTm").text = created_at.replace(microsecond=0).isoformat()

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        # Unique within the file and at most 35 characters: the message id is unique per file already.
        for number, node in enumerate(self._xml.iter("PmtInfId"), start=1):
            node.text = f"{self._message_id[:31]}-{number:03d}"


def _creditor(docs: Sequence[InvoiceDocument]) -> Seller:
    seller = docs[0].seller
    for doc in docs:
        if doc.seller.creditor_id is None:
            raise ValueError(f"{doc.number}: the seller has no SEPA creditor id (Gläubiger-ID) for direct debits")
        if (doc.seller.creditor_id, doc.seller.iban) != (seller.creditor_id, seller.iban):
            raise ValueError(f"{doc.number}: another creditor or account; one pain.008 file per creditor account")
    return seller


def render_pain008(
    docs: Sequence[InvoiceDocument],
    collection_date: date,
    message_id: str,
    created_at: datetime,
    schema: str = "pain.008.001.02",
) -> bytes:
    """The pain.008 file collecting the amount due of every document in `docs` on `collection_date`."""
    if not docs:
        raise ValueError("no documents to collect")
    if schema not in SCHEMAS:
        raise ValueError(f"schema {schema!r}: supported are {', '.join(SCHEMAS)}")
    if not _SEPA_ID.match(message_id):
        raise ValueError(f"message id {message_id!r}: 1-35 SEPA characters (letters, digits, + ? / : ( ) . , ' -)")
    if collection_date <= created_at.date():
        raise ValueError(f"collection date {collection_date} must lie after the file's creation date")
    for doc in docs:
        if doc.is_credit_note:
            raise ValueError(f"{doc.number} is a credit note: a credit cannot be collected by direct debit")
        if doc.direct_debit is None:
            raise ValueError(f"{doc.number}: no SEPA mandate (the invoice is paid by transfer)")
        if doc.currency != "EUR":
            raise ValueError(f"{doc.number}: SEPA direct debits are in EUR, not {doc.currency}")
        if doc.amount_due <= 0 or doc.amount_due != money(doc.amount_due):
            raise ValueError(f"{doc.number}: amount due {doc.amount_due} is not a positive amount in cents")
        if not _SEPA_ID.match(doc.number):
            raise ValueError(f"{doc.number!r} cannot be the end-to-end id (1-35 SEPA characters)")
    seller = _creditor(docs)
    config = {
        "name": seller.address.name,
        "IBAN": seller.iban,
        "BIC": seller.bic,
        "batch": True,
        "creditor_id": seller.creditor_id,
        "currency": "EUR",
        "instrument": "CORE",
    }
    sepa = _DirectDebitFile(config, schema, message_id, created_at)
    for doc in docs:
        mandate = doc.direct_debit
        assert mandate is not None  # checked above; narrows the type
        sepa.add_payment(
            {
                "name": doc.buyer.address.name,
                "IBAN": mandate.debtor_iban,
                "amount": int(doc.amount_due * 100),
                "type": mandate.sequence.value,
                "collection_date": collection_date,
                "mandate_id": mandate.mandate_id,
                "mandate_date": mandate.mandate_signed_on,
                "description": f"Rechnung {doc.number}",
                "endtoend_id": doc.number,
            }
        )
    return sepa.export(validate=True)
