"""The files of an issued invoice in the customer's format, in one call: what the billing worker renders (in its
render pool, hub/render_pool.py, so this module imports the renderers and nothing of the database or Temporal)."""

from documents.einvoice_cii import CiiProfile, render_cii
from documents.invoice_pdf import render_invoice_pdf
from documents.zugferd import embed_in_pdf
from domain.billing.document import InvoiceDocument

PDF, XML = "application/pdf", "application/xml"


def render_files(doc: InvoiceDocument, invoice_format: str) -> list[tuple[str, str, str, bytes]]:
    """(kind, filename, media type, content) of an issued document in the customer's format (`pdf`, `xrechnung`,
    `zugferd`): the PDF always (ZUGFeRD: with the EN 16931 XML inside), the CII XML for XRechnung and ZUGFeRD."""
    pdf = render_invoice_pdf(doc)
    files = []
    if invoice_format == "xrechnung":
        files.append(("xml", f"{doc.number}.xml", XML, render_cii(doc, CiiProfile.XRECHNUNG)))
    elif invoice_format == "zugferd":
        xml = render_cii(doc, CiiProfile.EN16931)
        pdf = embed_in_pdf(pdf, xml)
        files.append(("xml", f"{doc.number}.xml", XML, xml))
    files.insert(0, ("pdf", f"{doc.number}.pdf", PDF, pdf))
    return files
