"""The pain.008 file checked again, independently of sepaxml's own check, against the XSD in sepaxml's package, and
read back with lxml."""

import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from lxml import etree

from documents.sepa import render_pain008
from domain.billing.document import SequenceType
from tests.billing_documents import austrian_invoice, credit_note, german_invoice, public_sector_invoice

COLLECTION = date(2026, 11, 16)
CREATED = datetime(2026, 11, 2, 9, 30)
MESSAGE_ID = "PSA-DD-2026-11-16-001"


def xsd(schema: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / f"{schema}.xsd"))


def parsed(data: bytes, schema: str = "pain.008.001.02") -> tuple[etree._Element, dict[str, str]]:
    xsd(schema).validate(data.decode())
    return etree.fromstring(data), {"p": f"urn:iso:std:iso:20022:tech:xsd:{schema}"}


def recurring_invoice():  # noqa: ANN201
    doc = german_invoice()
    mandate = dataclasses.replace(doc.direct_debit, sequence=SequenceType.RECURRING, mandate_id="MNDT-K10009-1")
    return dataclasses.replace(doc, number="RE-2026-000130", direct_debit=mandate)


def test_one_first_collection_validates_and_carries_the_invoice():
    root, ns = parsed(render_pain008([german_invoice()], COLLECTION, MESSAGE_ID, CREATED))
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=ns) == MESSAGE_ID
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CreDtTm", namespaces=ns) == "2026-11-02T09:30:00"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "545.98"
    blocks = root.findall("p:CstmrDrctDbtInitn/p:PmtInf", ns)
    assert len(blocks) == 1
    block = blocks[0]
    assert block.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=ns) == "DE98ZZZ09999999999"
    assert block.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns) == "DE89370400440532013000"
    assert block.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=ns) == "COBADEFFXXX"
    assert block.findtext("p:PmtTpInf/p:SeqTp", namespaces=ns) == "FRST"
    assert block.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=ns) == "CORE"
    assert block.findtext("p:ReqdColltnDt", namespaces=ns) == "2026-11-16"
    transactions = block.findall("p:DrctDbtTxInf", ns)
    assert len(transactions) == 1
    tx = transactions[0]
    amount = tx.find("p:InstdAmt", ns)
    assert (amount.text, amount.get("Ccy")) == ("545.98", "EUR")
    assert tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=ns) == "MNDT-K10001-1"
    assert tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", namespaces=ns) == "2026-01-15"
    assert tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns) == "RE-2026-000123"
    assert tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == "DE02120300000000202051"
    assert tx.findtext("p:Dbtr/p:Nm", namespaces=ns) == "Backerei Huber KG"  # clean=True: SEPA character set
    assert tx.findtext("p:RmtInf/p:Ustrd", namespaces=ns) == "Rechnung RE-2026-000123"


def test_recurring_collection_lands_in_its_own_block():
    root, ns = parsed(render_pain008([german_invoice(), recurring_invoice()], COLLECTION, MESSAGE_ID, CREATED))
    blocks = {
        block.findtext("p:PmtTpInf/p:SeqTp", namespaces=ns): block
        for block in root.findall("p:CstmrDrctDbtInitn/p:PmtInf", ns)
    }
    assert set(blocks) == {"FRST", "RCUR"}
    ids = {seq: [e.text for e in b.findall("p:DrctDbtTxInf/p:PmtId/p:EndToEndId", ns)] for seq, b in blocks.items()}
    assert ids == {"FRST": ["RE-2026-000123"], "RCUR": ["RE-2026-000130"]}
    payment_ids = [b.findtext("p:PmtInfId", namespaces=ns) for b in blocks.values()]
    assert sorted(payment_ids) == [f"{MESSAGE_ID}-001", f"{MESSAGE_ID}-002"]
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "1091.96"


def test_same_input_gives_the_same_file():
    docs = [german_invoice(), recurring_invoice()]
    assert render_pain008(docs, COLLECTION, MESSAGE_ID, CREATED) == render_pain008(
        docs, COLLECTION, MESSAGE_ID, CREATED
    )


def test_the_2019_version_validates_too():
    data = render_pain008([german_invoice()], COLLECTION, MESSAGE_ID, CREATED, schema="pain.008.001.08")
    root, ns = parsed(data, "pain.008.001.08")
    block = root.find("p:CstmrDrctDbtInitn/p:PmtInf", ns)
    assert block.findtext("p:CdtrAgt/p:FinInstnId/p:BICFI", namespaces=ns) == "COBADEFFXXX"
    assert block.findtext("p:DrctDbtTxInf/p:InstdAmt", namespaces=ns) == "545.98"


def test_invoice_without_mandate_is_refused():
    with pytest.raises(ValueError, match="RE-2026-000127: no SEPA mandate"):
        render_pain008([german_invoice(), public_sector_invoice()], COLLECTION, MESSAGE_ID, CREATED)


def test_credit_note_is_refused():
    note = dataclasses.replace(credit_note(), direct_debit=german_invoice().direct_debit)
    with pytest.raises(ValueError, match="GS-2026-000004 is a credit note"):
        render_pain008([note], COLLECTION, MESSAGE_ID, CREATED)


def test_seller_without_creditor_id_is_refused():
    doc = german_invoice()
    doc = dataclasses.replace(doc, seller=dataclasses.replace(doc.seller, creditor_id=None))
    with pytest.raises(ValueError, match="no SEPA creditor id"):
        render_pain008([doc], COLLECTION, MESSAGE_ID, CREATED)
    austrian = dataclasses.replace(austrian_invoice(), direct_debit=german_invoice().direct_debit)
    with pytest.raises(ValueError, match="RE-2026-000124: the seller has no SEPA creditor id"):
        render_pain008([austrian], COLLECTION, MESSAGE_ID, CREATED)


def test_other_input_errors():
    with pytest.raises(ValueError, match="after the file's creation date"):
        render_pain008([german_invoice()], date(2026, 11, 2), MESSAGE_ID, CREATED)
    with pytest.raises(ValueError, match="message id"):
        render_pain008([german_invoice()], COLLECTION, "Nachricht Nr. 1 für November 2026 (Lastschriften)", CREATED)
    with pytest.raises(ValueError, match="no documents"):
        render_pain008([], COLLECTION, MESSAGE_ID, CREATED)
