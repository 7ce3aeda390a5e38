"""The Swiss QR-bill payment part (receipt and payment part, Swiss Implementation Guidelines QR-bill 2.3) of an
invoice whose seller is paid to a Swiss or Liechtenstein IBAN.

The `qrbill` library validates the data and builds the QR code payload ("SPC" ... "EPD"); it renders only SVG, and
converting SVG needs a library the hub does not ship (svglib), so the slip is drawn here with reportlab from the
same `QRBill` object: one source of the payload, vector output in the invoice PDF.
"""

import re
from decimal import Decimal

from qrbill import QRBill
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from stdnum import iban as stdnum_iban

from documents.invoice_texts import texts
from domain.billing.document import InvoiceDocument, PostalAddress

QR_BILL_COUNTRIES = frozenset({"CH", "LI"})
QR_BILL_CURRENCIES = frozenset({"CHF", "EUR"})

SLIP_HEIGHT = 105 * mm
RECEIPT_WIDTH = 62 * mm
PAYMENT_WIDTH = 148 * mm
MARGIN = 5 * mm
QR_SIZE = 46 * mm
CROSS_SIZE = 7 * mm

FONT = "Helvetica"
BOLD = "Helvetica-Bold"

# A street's trailing house number ("Bahnhofstrasse 1", "Marktgasse 10a"): the structured address wants it apart.
_HOUSE_NUMBER = re.compile(r"^(?P<street>.*\S)\s+(?P<number>\d+[ ]?[a-zA-Z]?(?:[-/]\d+[a-zA-Z]?)?)$")


def qr_bill_applies(doc: InvoiceDocument) -> bool:
    """Whether the invoice carries a QR-bill slip: an invoice (a credit note is paid by the seller, not to it) with an
    amount to pay, to a CH/LI IBAN, in CHF or EUR (the only currencies of the QR-bill)."""
    return (
        not doc.is_credit_note
        and doc.amount_due > 0
        and doc.seller.iban.replace(" ", "")[:2].upper() in QR_BILL_COUNTRIES
        and doc.currency in QR_BILL_CURRENCIES
    )


def _address(address: PostalAddress) -> dict[str, str]:
    match = _HOUSE_NUMBER.match(address.street.strip())
    street, number = (match["street"], match["number"]) if match else (address.street, "")
    return {
        "name": address.name,
        "street": street,
        "house_num": number,
        "pcode": address.postal_code,
        "city": address.city,
        "country": address.country,
    }


def qr_bill(doc: InvoiceDocument) -> QRBill:
    """The validated QR-bill of `doc`; raises ValueError (from qrbill) on data a bank would refuse."""
    if not qr_bill_applies(doc):
        raise ValueError(f"{doc.number}: no QR-bill (seller IBAN {doc.seller.iban[:2]}, {doc.currency})")
    return QRBill(
        account=doc.seller.iban,
        creditor=_address(doc.seller.address),
        debtor=_address(doc.buyer.address),
        amount=str(doc.amount_due),
        currency=doc.currency,
        # A normal IBAN takes no QRR reference and the invoice number is no SCOR reference: the number goes in the
        # unstructured message, which the payer's bank passes on to the seller.
        additional_information=f"{texts(doc.language)['invoice']} {doc.number}",
        language="en" if doc.language == "en" else "de",
    )


def qr_payload(doc: InvoiceDocument) -> str:
    """The text the Swiss QR code encodes (Swiss Payments Code, lines separated by CR LF)."""
    return qr_bill(doc).qr_data()


def format_slip_amount(amount: Decimal) -> str:
    """The QR-bill's amount format (SIG 3.5.3): decimal point, a space between thousands: "1 234.56"."""
    return f"{amount:,.2f}".replace(",", " ")


class _Column:
    """Writes headed sections top down in one column of the slip."""

    def __init__(self, canvas: Canvas, x: float, top: float, width: float, head_size: float, value_size: float):
        self.canvas, self.x, self.y, self.width = canvas, x, top, width
        self.head_size, self.value_size = head_size, value_size
        self.first = True

    def section(self, heading: str, lines: list[str]) -> None:
        # One empty value line between sections; the line pitch follows the value font (SIG: 9 pt / 11 pt).
        pitch = self.value_size * 1.1
        if not self.first:
            self.y -= pitch * 0.8
        self.first = False
        self.y -= self.head_size
        self.canvas.setFont(BOLD, self.head_size)
        self.canvas.drawString(self.x, self.y, heading)
        self.canvas.setFont(FONT, self.value_size)
        for line in lines:
            for part in simpleSplit(line, FONT, self.value_size, self.width):
                self.y -= pitch
                self.canvas.drawString(self.x, self.y, part)


def _address_lines(address: dict[str, str]) -> list[str]:
    street = " ".join(part for part in (address["street"], address["house_num"]) if part)
    return [address["name"], street, f"{address['country']}-{address['pcode']} {address['city']}"]


def _swiss_cross(canvas: Canvas, centre_x: float, centre_y: float) -> None:
    """The Swiss cross over the QR code's centre: a black square with a white cross, in a white border."""
    unit = CROSS_SIZE / 20  # drawn on a 20 x 20 grid, the proportions of the SIX artwork
    left, bottom = centre_x - CROSS_SIZE / 2, centre_y - CROSS_SIZE / 2
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(left, bottom, CROSS_SIZE, CROSS_SIZE, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.rect(left + 1.4 * unit, bottom + 1.4 * unit, 17.2 * unit, 17.2 * unit, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(left + 8.35 * unit, bottom + 4.5 * unit, 3.3 * unit, 11 * unit, stroke=0, fill=1)
    canvas.rect(left + 4.5 * unit, bottom + 8.35 * unit, 11 * unit, 3.3 * unit, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)


def _qr_code(canvas: Canvas, payload: str, left: float, bottom: float) -> None:
    # Error correction M and no quiet zone drawn (the slip's white space is the quiet zone), as SIG 5.1 wants.
    widget = QrCodeWidget(payload, barLevel="M", barBorder=0, barWidth=QR_SIZE, barHeight=QR_SIZE)
    drawing = Drawing(QR_SIZE, QR_SIZE)
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, left, bottom)
    _swiss_cross(canvas, left + QR_SIZE / 2, bottom + QR_SIZE / 2)


def draw_qr_bill(canvas: Canvas, doc: InvoiceDocument) -> None:
    """Draws the slip (210 x 105 mm) at the bottom of the canvas's current A4 page."""
    bill = qr_bill(doc)
    canvas.saveState()
    account = stdnum_iban.format(bill.account)
    creditor = _address_lines(_address(doc.seller.address))
    debtor = _address_lines(_address(doc.buyer.address))
    amount = format_slip_amount(Decimal(bill.amount))

    # Separation lines: dashed, with the note above (the slip is printed on plain paper, no perforation).
    canvas.setLineWidth(0.5)
    canvas.setDash(2, 2)
    canvas.line(0, SLIP_HEIGHT, RECEIPT_WIDTH + PAYMENT_WIDTH, SLIP_HEIGHT)
    canvas.line(RECEIPT_WIDTH, 0, RECEIPT_WIDTH, SLIP_HEIGHT)
    canvas.setDash()
    canvas.setFont(FONT, 7)
    canvas.drawCentredString(
        (RECEIPT_WIDTH + PAYMENT_WIDTH) / 2, SLIP_HEIGHT + 1.5 * mm, bill.label("Separate before paying in")
    )

    # Receipt: title, information, amount, acceptance point (SIG 3.5.1).
    canvas.setFont(BOLD, 11)
    canvas.drawString(MARGIN, SLIP_HEIGHT - MARGIN - 11, bill.label("Receipt"))
    receipt = _Column(canvas, MARGIN, SLIP_HEIGHT - 12 * mm, RECEIPT_WIDTH - 2 * MARGIN, 6, 8)
    receipt.section(bill.label("Account / Payable to"), [account, *creditor])
    receipt.section(bill.label("Payable by"), debtor)
    _amount_section(canvas, bill, amount, MARGIN, 6, 8, 12 * mm)
    canvas.setFont(BOLD, 6)
    canvas.drawRightString(RECEIPT_WIDTH - MARGIN, SLIP_HEIGHT - 82 * mm - 6, bill.label("Acceptance point"))

    # Payment part: title, QR code, amount on the left; information on the right (SIG 3.5.2).
    left = RECEIPT_WIDTH + MARGIN
    canvas.setFont(BOLD, 11)
    canvas.drawString(left, SLIP_HEIGHT - MARGIN - 11, bill.label("Payment part"))
    _qr_code(canvas, bill.qr_data(), left, SLIP_HEIGHT - 17 * mm - QR_SIZE)
    _amount_section(canvas, bill, amount, left, 8, 10, 14 * mm)
    info_left = left + QR_SIZE + MARGIN
    info = _Column(canvas, info_left, SLIP_HEIGHT - MARGIN, RECEIPT_WIDTH + PAYMENT_WIDTH - MARGIN - info_left, 8, 10)
    info.section(bill.label("Account / Payable to"), [account, *creditor])
    info.section(bill.label("Additional information"), [bill.additional_information])
    info.section(bill.label("Payable by"), debtor)
    canvas.restoreState()


def _amount_section(
    canvas: Canvas, bill: QRBill, amount: str, left: float, head_size: float, value_size: float, amount_offset: float
) -> None:
    top = SLIP_HEIGHT - 68 * mm
    canvas.setFont(BOLD, head_size)
    canvas.drawString(left, top - head_size, bill.label("Currency"))
    canvas.drawString(left + amount_offset, top - head_size, bill.label("Amount"))
    canvas.setFont(FONT, value_size)
    canvas.drawString(left, top - head_size - value_size * 1.3, bill.currency)
    canvas.drawString(left + amount_offset, top - head_size - value_size * 1.3, amount)
