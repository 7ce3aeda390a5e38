"""RACI matrix of a co-managed customer: service areas (mapped from ticket categories) × parties (the MSP, the
customer's IT, named external parties) with Responsible / Accountable / Consulted / Informed.

Pure logic: what makes a matrix valid, and where a new ticket of a category goes (the Responsible party's queue)
and who hears of it (the Consulted and Informed parties). The API stores the matrix; the ticket opening applies
the routing through the ticket workflow."""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from domain.escalation import Recipient

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RaciLetter(StrEnum):
    RESPONSIBLE = "R"
    ACCOUNTABLE = "A"
    CONSULTED = "C"
    INFORMED = "I"


class PartyKind(StrEnum):
    MSP = "msp"
    CUSTOMER_IT = "customer_it"
    EXTERNAL = "external"  # e.g. the vendor of a line-of-business application


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RaciParty(_Strict):
    name: Label
    kind: PartyKind
    queue: str | None = Field(default=None, max_length=64, description="Where tickets go it is Responsible for")
    email: EmailStr | None = Field(default=None, description="Notified when Consulted/Informed; else its queue")


class RaciArea(_Strict):
    name: Label = Field(description="e.g. Netzwerk, Microsoft 365, Endgeräte, Backup, Security, Fachanwendungen")
    categories: list[Label] = Field(default_factory=list, max_length=50, description="Ticket categories of the area")
    cells: dict[str, RaciLetter] = Field(default_factory=dict, description="Party name → R, A, C or I")


class RaciMatrix(_Strict):
    parties: list[RaciParty] = Field(min_length=1, max_length=30)
    areas: list[RaciArea] = Field(max_length=100)


class RaciRow(BaseModel):
    """One area of a matrix as a report shows it: the names of its parties per letter."""

    area: str
    responsible: list[str] = []
    accountable: list[str] = []
    consulted: list[str] = []
    informed: list[str] = []


_ROW_FIELDS = {RaciLetter.RESPONSIBLE: "responsible", RaciLetter.ACCOUNTABLE: "accountable",
               RaciLetter.CONSULTED: "consulted", RaciLetter.INFORMED: "informed"}  # fmt: skip


def raci_rows(matrix: RaciMatrix) -> list[RaciRow]:
    """The matrix area by area, in its order, with the parties of each letter sorted by name."""
    return [
        RaciRow(area=area.name, **{field: sorted(p for p, x in area.cells.items() if x == letter)
                                   for letter, field in _ROW_FIELDS.items()})  # fmt: skip
        for area in matrix.areas
    ]


class MatrixError(BaseModel):
    field: str
    message: str


def _duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({n for n in names if n.casefold() in seen or seen.add(n.casefold())})


def matrix_errors(matrix: RaciMatrix) -> list[MatrixError]:
    """Everything wrong with the matrix (empty: valid): unique party and area names, every cell a known party,
    exactly one Accountable and at least one Responsible per area, each category in one area only."""
    errors: list[MatrixError] = []
    for name in _duplicates([p.name for p in matrix.parties]):
        errors.append(MatrixError(field="parties", message=f"party {name!r} is named twice"))
    for name in _duplicates([a.name for a in matrix.areas]):
        errors.append(MatrixError(field="areas", message=f"area {name!r} is named twice"))
    parties = {p.name for p in matrix.parties}
    area_of: dict[str, str] = {}
    for i, area in enumerate(matrix.areas):
        where = f"areas[{i}]"
        for party in sorted(set(area.cells) - parties):
            errors.append(MatrixError(field=f"{where}.cells", message=f"{area.name}: no party named {party!r}"))
        letters = {letter: sorted(p for p, x in area.cells.items() if x == letter) for letter in RaciLetter}
        accountable = letters[RaciLetter.ACCOUNTABLE]
        if len(accountable) != 1:
            found = f"{len(accountable)} ({', '.join(accountable)})" if accountable else "none"
            message = f"{area.name}: exactly one party must be Accountable (A), found {found}"
            errors.append(MatrixError(field=f"{where}.cells", message=message))
        if not letters[RaciLetter.RESPONSIBLE]:
            message = f"{area.name}: at least one party must be Responsible (R), found none"
            errors.append(MatrixError(field=f"{where}.cells", message=message))
        for category in area.categories:
            other = area_of.setdefault(category.casefold(), area.name)
            if other != area.name:
                message = f"category {category!r} belongs to {other!r} already; a category routes to one area"
                errors.append(MatrixError(field=f"{where}.categories", message=message))
    return errors


class RaciNotice(BaseModel):
    """One Consulted or Informed party told of a new ticket of its area."""

    area: str
    party: str
    letter: RaciLetter
    to: list[Recipient] = Field(default_factory=list, description="Resolved when the ticket opens")


class RaciRouting(BaseModel):
    """What the matrix decides for a new ticket: its queue (None: the matrix names none) and who hears of it."""

    area: str
    responsible: list[str]
    queue: str | None = None
    responsible_kind: PartyKind | None = None  # of the party whose queue takes the ticket
    # The customer's IT is Responsible and sees the ticket: it holds it from the start (the MSP's clocks pause).
    customer_it_holds: bool = False
    notices: list[RaciNotice] = Field(default_factory=list)


def find_area(matrix: RaciMatrix, category: str | None) -> RaciArea | None:
    if not category:
        return None
    key = category.strip().casefold()
    return next((a for a in matrix.areas if any(c.casefold() == key for c in a.categories)), None)


def route(matrix: RaciMatrix, category: str | None) -> RaciRouting | None:
    """The routing of a new ticket of `category`; None when no area lists the category. The queue is that of the
    first Responsible party (in the matrix's party order) that has one."""
    area = find_area(matrix, category)
    if area is None:
        return None
    ordered = [p for p in matrix.parties if p.name in area.cells]
    responsible = [p for p in ordered if area.cells[p.name] == RaciLetter.RESPONSIBLE]
    target = next((p for p in responsible if p.queue), None)
    notices = [
        RaciNotice(area=area.name, party=p.name, letter=area.cells[p.name])
        for p in ordered
        if area.cells[p.name] in (RaciLetter.CONSULTED, RaciLetter.INFORMED)
    ]
    return RaciRouting(
        area=area.name,
        responsible=[p.name for p in responsible],
        queue=target.queue if target else None,
        responsible_kind=target.kind if target else None,
        notices=notices,
    )


LETTER_DE = {
    RaciLetter.RESPONSIBLE: "durchführungsverantwortlich (R)",
    RaciLetter.ACCOUNTABLE: "gesamtverantwortlich (A)",
    RaciLetter.CONSULTED: "zu konsultieren (C)",
    RaciLetter.INFORMED: "zu informieren (I)",
}
