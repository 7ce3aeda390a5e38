"""Knowledge base: who reads and writes which articles, the words a search is made of, and the order of the
articles suggested for a ticket. Articles share the three visibilities of ticket comments (`Visibility`)."""

import re
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.roles import Role
from domain.tickets import Visibility, readable_visibilities


class ArticleLanguage(StrEnum):
    """The language an article is stemmed in on PostgreSQL (german / english text search configuration)."""

    DE = "de"
    EN = "en"


KB_WRITER_ROLES = frozenset({Role.MSP_ADMIN, Role.MSP_TECH, Role.CUSTOMER_IT})


def readable_article_visibilities(role: Role, tenant_co_managed: bool) -> frozenset[Visibility]:
    """MSP roles read every article; customer IT of a co-managed customer reads shared (co_managed) and public
    ones, everyone else on the customer's side public ones only (the same rule as a ticket's comments)."""
    return readable_visibilities(role, role == Role.CUSTOMER_IT and tenant_co_managed)


def article_write_refusal(
    role: Role, *, tenant_co_managed: bool, own_tenant: bool, is_global: bool, visibility: Visibility
) -> str | None:
    """Why `role` may not write an article with this scope and visibility; None if it may.

    Customer IT of a co-managed customer documents its own environment (its line-of-business applications, local
    specifics) for the MSP's technicians who take its tickets: it writes articles of its own tenant that it and the
    MSP read (co_managed) or its users read (public), never MSP-wide ones and never MSP-internal ones."""
    if role in (Role.MSP_ADMIN, Role.MSP_TECH):
        return None
    if role != Role.CUSTOMER_IT:
        return f"role {role.value} may not write knowledge base articles"
    if not tenant_co_managed:
        return "customer IT writes articles only while co-management is enabled for its customer"
    if is_global or not own_tenant:
        return "customer IT writes articles of its own customer only, not MSP-wide ones"
    if visibility == Visibility.INTERNAL:
        return "customer IT cannot write MSP-internal articles; use co_managed or public"
    return None


_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16

# Words that say nothing about a ticket's subject; left out of suggestions (a search keeps every word it is given).
STOP_WORDS = frozenset(
    """
    aber alle als also am an auch auf aus bei bin bis bitte da dann das dass dem den der des die dies diese dieser
    doch du ein eine einem einen einer eines er es für geht gibt habe haben hat hallo ich ihr im in ist ja jetzt
    kann kein keine man mehr mein meine mit nach nicht noch nur oder schon sehr sich sie sind so um und uns von vor
    war was wie wir wird wo zu zum zur seit mehr mal danke gruss grüsse
    a about after all an and are as at be but by can do does for from have hello hi how i if in is it its my no not
    of on or our please so than that the this to was we what when with you your
    """.split()
)


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased, in order, each once (at most MAX_TERMS). Only letters, digits and `_`
    survive, so no backend ever sees query syntax from a user; an `ß` is searched as `ss` (Swiss spelling)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower().replace("ß", "ss")):
        seen.setdefault(word)
    return list(seen)[:MAX_TERMS]


def suggestion_terms(title: str, description: str) -> list[str]:
    """The words of a ticket that may name its subject: no stop words, no one- or two-letter words, no numbers."""
    words = _WORD.findall(f"{title} {description}".lower().replace("ß", "ss"))
    kept = [w for w in dict.fromkeys(words) if len(w) > 2 and not w.isdigit() and w not in STOP_WORDS]
    return kept[:MAX_TERMS]


@dataclass(frozen=True)
class Candidate:
    """An article found for a ticket: its text score from the search (0 if found by category only)."""

    article_id: UUID
    title: str
    text_score: float
    same_category: bool


CATEGORY_WEIGHT = 1.0


def rank_suggestions(candidates: list[Candidate], limit: int) -> list[tuple[Candidate, float]]:
    """Suggestions best first: the text score relative to the best one found (0..1) plus CATEGORY_WEIGHT for an
    article of the ticket's category, so a matching category lifts an article over one with a few more matching
    words, while words alone still find articles of other categories. Ties go by title, then id (stable)."""
    best = max((c.text_score for c in candidates), default=0.0)
    scored = [
        (c, (c.text_score / best if best > 0 else 0.0) + (CATEGORY_WEIGHT if c.same_category else 0.0))
        for c in candidates
    ]
    scored.sort(key=lambda cs: (-cs[1], cs[0].title.lower(), str(cs[0].article_id)))
    return [(c, round(score, 4)) for c, score in scored[:limit]]
