"""The PDF of an invoice or credit note: A4 in the layout of DIN 5008 form B (address field 45 mm from the top, the
information block beside it, the footer with register, tax ids, bank and contact), with every field § 14 Abs. 4 UStG
and § 11 Abs. 1 UStG 1994 (AT) require, and the Swiss QR-bill slip on a last page when the seller is paid to a
Swiss or Liechtenstein IBAN.

The output is deterministic (reportlab's invariant mode, the issue date as creation date): an issued invoice is
stored once and a re-render must give the same bytes.
"""

import hashlib
import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from stdnum import iban as stdnum_iban

from documents.invoice_texts import (
    country_name,
    format_date,
    format_money,
    format_number,
    format_rate,
    texts,
    unit_name,
)
from documents.qr_bill import SLIP_HEIGHT, draw_qr_bill, qr_bill_applies
from domain.billing.document import InvoiceDocument, PostalAddress
from domain.billing.money import ZERO
from domain.billing.tax import TaxClass, VatCategory

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 25 * mm  # DIN 5008 left margin
RIGHT = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - LEFT - RIGHT
FOOTER_TOP = 32 * mm
FIRST_PAGE_BODY_TOP = 98.5 * mm  # form B: the subject line starts below the address field and information block
LATER_PAGE_BODY_TOP = 25 * mm

FONT = "Helvetica"  # a standard font in WinAnsi encoding: covers ä ö ü ß € – and needs no embedded font file
BOLD = "Helvetica-Bold"

# A German public buyer's routing id (Leitweg-ID, KoSIT): coarse address, optional fine address, check digits. Any
# other buyer reference (an order number) is printed as the customer's reference.
_LEITWEG_ID = re.compile(r"^\d{2,12}(-[A-Za-z0-9]{1,30})?-\d{2}$")

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5)
_SMALL = ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9.5)
_TINY = ParagraphStyle("tiny", fontName=FONT, fontSize=6.5, leading=8)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5)
_CELL_RIGHT = ParagraphStyle("cell_right", parent=_CELL, alignment=TA_RIGHT)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName=BOLD)
_HEAD_RIGHT = ParagraphStyle("head_right", parent=_HEAD, alignment=TA_RIGHT)
_TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=14, leading=18)
_SELLER = ParagraphStyle("seller", fontName=BOLD, fontSize=15, leading=18)


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    """A paragraph of plain text: reportlab reads markup, so data (names, descriptions) is escaped."""
    return Paragraph(escape(text), style)


def _lines(*parts: str | None) -> str:
    """Escaped text lines joined with line breaks, empty ones left out."""
    return "<br/>".join(escape(part) for part in parts if part)


def _iban(value: str) -> str:
    return stdnum_iban.format(value)


def _masked_iban(value: str) -> str:
    """The customer's IBAN on a pre-notification: country, check digits and the last four digits are enough for them to
    recognise the account; the full number need not travel in an e-mailed PDF."""
    compact = stdnum_iban.compact(value)
    masked = compact[:4] + "X" * (len(compact) - 8) + compact[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def _period(start: date, end: date) -> str:
    return f"{format_date(start)}–{format_date(end)}"


def _address_lines(address: PostalAddress, sender_country: str, language: str) -> list[str]:
    lines = [address.name, address.street, f"{address.postal_code} {address.city}"]
    if address.country != sender_country:
        lines.append(country_name(address.country, language))
    return lines


class _Renderer:
    def __init__(self, doc: InvoiceDocument):
        self.doc = doc
        self.t = texts(doc.language, doc.seller.address.country)
        self.with_qr_bill = qr_bill_applies(doc)

    def money(self, value: Decimal) -> str:
        return format_money(value, self.doc.currency)

    # --- page furniture (drawn on the canvas at fixed positions) ---------------------------------------------------

    def first_page(self, canvas: Canvas, _template: BaseDocTemplate) -> None:
        self.letterhead(canvas)
        self.address_field(canvas)
        self.information_block(canvas)
        self.later_page(canvas, _template)

    def later_page(self, canvas: Canvas, _template: BaseDocTemplate) -> None:
        self.footer(canvas)
        canvas.setFont(FONT, 7.5)
        canvas.drawRightString(
            PAGE_WIDTH - RIGHT, FOOTER_TOP + 2 * mm, self.t["page"].format(page=canvas.getPageNumber())
        )

    def qr_bill_page(self, canvas: Canvas, _template: BaseDocTemplate) -> None:
        # No footer here: the slip takes the bottom 105 mm and must stand alone (SIG 3.4).
        draw_qr_bill(canvas, self.doc)

    def letterhead(self, canvas: Canvas) -> None:
        seller = self.doc.seller.address
        # An SVG logo (seller.logo_svg) is not drawn: reportlab reads raster images only, and an SVG converter
        # (svglib) is not among the hub's dependencies. The seller's name stands in as the letterhead.
        head = Paragraph(escape(seller.name), _SELLER)
        _, height = head.wrap(CONTENT_WIDTH, 20 * mm)
        head.drawOn(canvas, LEFT, PAGE_HEIGHT - 15 * mm - height)
        canvas.setFont(FONT, 8)
        canvas.drawString(
            LEFT, PAGE_HEIGHT - 15 * mm - height - 4 * mm, f"{seller.street} · {seller.postal_code} {seller.city}"
        )

    def address_field(self, canvas: Canvas) -> None:
        seller = self.doc.seller.address
        # The return line at the bottom of the 17.7 mm additional zone (45-62.7 mm), the recipient below it.
        canvas.setFont(FONT, 7)
        canvas.drawString(
            LEFT, PAGE_HEIGHT - 60 * mm, f"{seller.name} · {seller.street} · {seller.postal_code} {seller.city}"
        )
        lines = _address_lines(self.doc.buyer.address, seller.country, self.doc.language)
        recipient = Paragraph(_lines(*lines), ParagraphStyle("address", parent=_BODY, fontSize=10, leading=13))
        _, height = recipient.wrap(85 * mm, 27.3 * mm)
        recipient.drawOn(canvas, LEFT, PAGE_HEIGHT - 63.5 * mm - height)

    def information_block(self, canvas: Canvas) -> None:
        doc, t = self.doc, self.t
        rows = [
            (t["credit_number"] if doc.is_credit_note else t["number"], doc.number),
            (t["issue_date"], format_date(doc.issue_date)),
            (t["customer_number"], doc.buyer.customer_number),
            (t["period"], _period(doc.period_start, doc.period_end)),
        ]
        reference = doc.buyer.buyer_reference
        if reference:
            rows.append((t["leitweg_id"] if _LEITWEG_ID.match(reference) else t["buyer_reference"], reference))
        if doc.buyer.vat_id:
            rows.append((t["your_vat_id"], doc.buyer.vat_id))
        if doc.seller.vat_id:
            rows.append((t["seller_vat_id"], doc.seller.vat_id))
        if doc.seller.tax_number:
            rows.append((t["seller_tax_number"], doc.seller.tax_number))
        if doc.seller.contact_name:
            rows.append((t["contact"], doc.seller.contact_name))
        table = Table([[_p(label, _SMALL), _p(value, _SMALL)] for label, value in rows], colWidths=(36 * mm, 39 * mm))
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
                ]
            )
        )
        _, height = table.wrap(75 * mm, 45 * mm)
        table.drawOn(canvas, 125 * mm, PAGE_HEIGHT - 50 * mm - height)

    def footer(self, canvas: Canvas) -> None:
        seller, t = self.doc.seller, self.t
        address = seller.address
        columns = [
            _lines(address.name, address.street, f"{address.postal_code} {address.city}", seller.register_entry),
            _lines(
                f"{t['seller_vat_id']} {seller.vat_id}" if seller.vat_id else None,
                f"{t['seller_tax_number']} {seller.tax_number}" if seller.tax_number else None,
            ),
            _lines(t["bank"], seller.bank_name, f"IBAN {_iban(seller.iban)}", f"BIC {seller.bic}"),
            _lines(
                seller.contact_name,
                f"{t['phone']} {seller.contact_phone}" if seller.contact_phone else None,
                f"{t['email']} {seller.contact_email}" if seller.contact_email else None,
            ),
        ]
        table = Table(
            [[Paragraph(column, _TINY) for column in columns]], colWidths=(46 * mm, 34 * mm, 45 * mm, 40 * mm)
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("LINEABOVE", (0, 0), (-1, 0), 0.4, colors.grey),
                ]
            )
        )
        _, height = table.wrap(CONTENT_WIDTH, FOOTER_TOP)
        table.drawOn(canvas, LEFT, FOOTER_TOP - height)

    # --- the flowing body ------------------------------------------------------------------------------------------

    def body(self) -> list:
        doc, t = self.doc, self.t
        title = t["credit_note"] if doc.is_credit_note else t["invoice"]
        story: list = [Paragraph(f"{escape(title)} {escape(doc.number)}", _TITLE)]
        if doc.is_credit_note and doc.preceding is not None:
            corrects = t["corrects"].format(number=doc.preceding.number, date=format_date(doc.preceding.issue_date))
            story.append(_p(corrects))
        story += [
            Spacer(0, 4 * mm),
            _p(t["greeting_credit"] if doc.is_credit_note else t["greeting"]),
            Spacer(0, 3 * mm),
            self.line_table(),
            Spacer(0, 3 * mm),
            # The VAT breakdown and the legal notes that explain it are read together: never split over a page.
            KeepTogether([self.totals_table(), Spacer(0, 5 * mm), *(_p(note) for note in self.tax_notes())]),
        ]
        for note in doc.notes:
            story.append(_p(note))
        story += [Spacer(0, 3 * mm), _p(self.payment_text())]
        return story

    def line_table(self) -> Table:
        doc, t = self.doc, self.t
        rows: list[list] = [
            [
                Paragraph(escape(t[key]), _HEAD_RIGHT if right else _HEAD)
                for key, right in (
                    ("pos", False),
                    ("description", False),
                    ("quantity", True),
                    ("unit", False),
                    ("unit_price", True),
                    ("net", True),
                    ("vat", True),
                )
            ]
        ]
        for position, line in enumerate(doc.lines, start=1):
            rows.append(
                [
                    _p(str(position), _CELL),
                    _p(line.description, _CELL),
                    _p(format_number(line.quantity), _CELL_RIGHT),
                    _p(unit_name(line.unit, doc.language), _CELL),
                    _p(self.money_precise(line.unit_price), _CELL_RIGHT),
                    _p(self.money(line.net_amount), _CELL_RIGHT),
                    _p(format_rate(self.line_rate(position - 1)), _CELL_RIGHT),
                ]
            )
        table = Table(rows, colWidths=(10 * mm, 59 * mm, 14 * mm, 15 * mm, 24 * mm, 27 * mm, 16 * mm), repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                    ("LEFTPADDING", (0, 0), (0, -1), 0),
                    ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ]
            )
        )
        return table

    def line_rate(self, index: int) -> Decimal:
        """The VAT rate printed on a line: that of the VAT group its tax class fell into. The totals group by (category,
        rate), and a buyer has one tax case per tax class: one group means one rate for all lines; two groups are the
        domestic standard and reduced rates, the standard one the higher. The class's net sum must match its group."""
        line = self.doc.lines[index]
        groups = sorted(self.doc.totals.groups, key=lambda group: group.rate, reverse=True)
        if len(groups) == 1:
            return groups[0].rate
        group = groups[0] if line.tax_class == TaxClass.STANDARD else groups[-1]
        class_net = sum((other.net_amount for other in self.doc.lines if other.tax_class == line.tax_class), ZERO)
        if len(groups) != 2 or class_net != group.taxable_amount:
            raise ValueError(f"{self.doc.number}: the VAT rate of line {index + 1} does not follow from the totals")
        return group.rate

    def money_precise(self, value: Decimal) -> str:
        """A unit price keeps its own decimals (0,125 € per unit stays exact), at least two."""
        symbol = "€" if self.doc.currency == "EUR" else self.doc.currency
        return f"{format_number(value, 2)} {symbol}"

    def totals_table(self) -> Table:
        doc, t = self.doc, self.t
        totals = doc.totals
        rows = [[t["net_total"], self.money(totals.tax_exclusive)]]
        for group in totals.groups:
            rate = format_rate(group.rate)
            rows.append([t["net_at_rate"].format(rate=rate), self.money(group.taxable_amount)])
            rows.append([t["tax_at_rate"].format(rate=rate), self.money(group.tax_amount)])
        cells = [[_p(label, _CELL), _p(amount, _CELL_RIGHT)] for label, amount in rows]
        total_label = t["credit_total"] if doc.is_credit_note else t["gross_total"]
        cells.append([_p(total_label, _HEAD), _p(self.money(totals.tax_inclusive), _HEAD_RIGHT)])
        table = Table(cells, colWidths=(60 * mm, 32 * mm), hAlign="RIGHT")
        table.setStyle(
            TableStyle(
                [
                    ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
                    ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ]
            )
        )
        return table

    def tax_notes(self) -> list[str]:
        """The legal notes of the VAT groups without tax (reverse charge, not subject, exempt), with the buyer's VAT
        id where the customer owes the tax (§ 14a Abs. 1 UStG, § 11 Abs. 1a UStG 1994)."""
        doc, t = self.doc, self.t
        notes: list[str] = []
        for group in doc.totals.groups:
            if group.category == VatCategory.STANDARD:
                continue
            note = group.note_en if doc.language == "en" else group.note_de
            if note and note not in notes:
                notes.append(note)
            if group.category == VatCategory.REVERSE_CHARGE and doc.buyer.vat_id:
                vat_line = t["buyer_vat_id"].format(vat_id=doc.buyer.vat_id)
                if vat_line not in notes:
                    notes.append(vat_line)
        return notes

    def payment_text(self) -> str:
        doc, t = self.doc, self.t
        amount, due = self.money(doc.amount_due), format_date(doc.due_date)
        debit = doc.direct_debit
        if doc.is_credit_note:
            if debit is not None:
                return t["pay_credit_direct_debit"].format(amount=amount, due=due, iban=_masked_iban(debit.debtor_iban))
            return t["pay_credit_transfer"].format(amount=amount, due=due)
        if debit is not None:
            return t["pay_direct_debit"].format(
                amount=amount,
                due=due,
                iban=_masked_iban(debit.debtor_iban),
                mandate=debit.mandate_id,
                creditor_id=doc.seller.creditor_id or "",
            )
        text = t["pay_transfer"].format(
            due=due, iban=_iban(doc.seller.iban), bic=doc.seller.bic, reference=doc.payment_reference
        )
        return f"{text} {t['pay_qr_bill']}" if self.with_qr_bill else text

    def qr_bill_story(self) -> list:
        return [
            NextPageTemplate("qr_bill"),
            PageBreak(),
            _p(self.t["qr_bill_page"].format(number=self.doc.number), _TITLE),
        ]


def _canvas_maker(issue_date: date) -> Callable[..., Canvas]:
    """A canvas whose PDF dates (CreationDate, ModDate) are the issue date and whose file ID is seeded with it: the
    same invoice gives the same bytes on any machine."""
    stamp = f"D:{issue_date:%Y%m%d}000000+00'00'"

    def make(*args, **kwargs) -> Canvas:  # noqa: ANN002, ANN003
        canvas = Canvas(*args, **kwargs)
        canvas.setDateFormatter(lambda *_: stamp)
        # reportlab seeds the file ID's digest with its timestamp, which SOURCE_DATE_EPOCH in the environment changes
        # even in invariant mode; nothing has been added to the digest yet, so it is replaced by one seeded with the
        # issue date (the ID then still covers the whole content).
        signature = hashlib.md5(b"a reportlab document", usedforsecurity=False)
        signature.update(stamp.encode())
        canvas._doc.signature = signature
        return canvas

    return make


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice or credit note as an A4 PDF (with the QR-bill slip on a last page where it applies)."""
    renderer = _Renderer(doc)
    title = renderer.t["credit_note"] if doc.is_credit_note else renderer.t["invoice"]
    buffer = io.BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=A4,
        invariant=1,
        title=f"{title} {doc.number}",
        author=doc.seller.address.name,
        subject=f"{title} {doc.number}",
        creator="msp-hub",
        lang="en" if doc.language == "en" else "de",
        leftMargin=LEFT,
        rightMargin=RIGHT,
    )
    body_bottom = FOOTER_TOP + 8 * mm
    first = Frame(
        LEFT,
        body_bottom,
        CONTENT_WIDTH,
        PAGE_HEIGHT - FIRST_PAGE_BODY_TOP - body_bottom,
        id="first",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    later = Frame(
        LEFT,
        body_bottom,
        CONTENT_WIDTH,
        PAGE_HEIGHT - LATER_PAGE_BODY_TOP - body_bottom,
        id="later",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    slip_top = SLIP_HEIGHT + 10 * mm  # room for the "separate before paying in" note above the slip
    qr_frame = Frame(
        LEFT,
        slip_top,
        CONTENT_WIDTH,
        PAGE_HEIGHT - LATER_PAGE_BODY_TOP - slip_top,
        id="qr_bill",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    template.addPageTemplates(
        [
            PageTemplate("first", [first], onPage=renderer.first_page, autoNextPageTemplate="later"),
            PageTemplate("later", [later], onPage=renderer.later_page),
            PageTemplate("qr_bill", [qr_frame], onPage=renderer.qr_bill_page),
        ]
    )
    story = renderer.body()
    if renderer.with_qr_bill:
        story += renderer.qr_bill_story()
    template.build(story, canvasmaker=_canvas_maker(doc.issue_date))
    return buffer.getvalue()
