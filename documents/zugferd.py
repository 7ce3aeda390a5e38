"""The hybrid ZUGFeRD 2 / Factur-X invoice: the printed PDF with its EN 16931 CII XML attached as `factur-x.xml`,
marked as PDF/A-3 with the Factur-X XMP extension schema (conformance level EN 16931), so a receiver's software
books the XML, which is the legally binding part, and a person reads the PDF.

The factur-x library attaches the file (AFRelationship "Data"), writes the XMP metadata and checks the XML against
the official Factur-X XSD of its level before embedding it. The base PDF's own PDF/A conformance (embedded fonts,
output intent) is the PDF renderer's concern.
"""

from facturx import generate_from_binary
from lxml import etree

from documents.einvoice_cii import CiiProfile

_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
_GUIDELINE = "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"


def embed_in_pdf(pdf: bytes, xml: bytes) -> bytes:
    """`pdf` with `xml` (documents.einvoice_cii.render_cii(..., CiiProfile.EN16931)) embedded as a Factur-X /
    ZUGFeRD EN 16931 invoice. Raises ValueError for XML of another profile: the library would read an XRechnung
    guideline id as EN 16931 and label the file with a level its XML does not declare."""
    guideline = etree.fromstring(xml).findtext(_GUIDELINE, namespaces=_NS)
    if guideline != CiiProfile.EN16931.value:
        raise ValueError(f"ZUGFeRD EN 16931 embeds EN 16931 profile XML, not guideline {guideline!r}")
    return generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=True)
