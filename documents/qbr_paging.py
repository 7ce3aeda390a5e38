"""Long tables of the QBR documents split over several slides or pages: a fixed number of rows each, the follow-up
slides titled "… (Fortsetzung)" / "… (continued)". Fixed rather than measured: python-pptx cannot measure text, and
the deck and the PDF then break at the same rows."""

from collections.abc import Sequence
from dataclasses import dataclass

from documents.qbr_texts import labels, licences_table, sections
from domain.qbr.kpis import KpiSet

LICENCE_ROWS_PER_PAGE = 12  # body rows (products, the total) below the header: 13 rows of 0.9 cm fit a slide


def continued(title: str, language: str = "de") -> str:
    return f"{title} ({labels(language)['continued']})"


@dataclass(frozen=True)
class TablePage:
    title: str
    rows: list[Sequence[str]]


def paged(title: str, rows: Sequence[Sequence[str]], per_page: int, language: str = "de") -> list[TablePage]:
    """`rows` in pages of at most `per_page`, in order; every page after the first titled as a continuation. One
    page for no rows (the table still has its header)."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    chunks = [list(rows[i : i + per_page]) for i in range(0, len(rows), per_page)] or [[]]
    follow_up = continued(title, language)
    return [TablePage(title if n == 0 else follow_up, chunk) for n, chunk in enumerate(chunks)]


def licence_pages(kpis: KpiSet, language: str = "de",
                  per_page: int = LICENCE_ROWS_PER_PAGE) -> tuple[Sequence[str], list[TablePage]]:  # fmt: skip
    """The licence table's header and its pages; the total row ends the last page."""
    header, rows = licences_table(kpis, language)
    return header, paged(sections(language)["licences"], rows, per_page, language)
