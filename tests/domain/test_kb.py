"""Knowledge base rules: who reads and writes which articles, search words, the order of suggestions."""

import uuid

import pytest

from domain.kb import (
    Candidate,
    article_write_refusal,
    rank_suggestions,
    readable_article_visibilities,
    search_terms,
    suggestion_terms,
)
from domain.roles import Role
from domain.tickets import Visibility as V


def test_readers():
    assert readable_article_visibilities(Role.FINANCE, False) == set(V)
    assert readable_article_visibilities(Role.CUSTOMER_IT, True) == {V.PUBLIC, V.CO_MANAGED}
    assert readable_article_visibilities(Role.CUSTOMER_IT, False) == {V.PUBLIC}
    assert readable_article_visibilities(Role.CUSTOMER_USER, True) == {V.PUBLIC}


@pytest.mark.parametrize(
    ("role", "co", "own", "glob", "vis", "refused"),
    [
        (Role.MSP_TECH, False, False, True, V.INTERNAL, None),
        (Role.CUSTOMER_IT, True, True, False, V.CO_MANAGED, None),
        (Role.CUSTOMER_IT, True, True, False, V.PUBLIC, None),
        (Role.CUSTOMER_IT, True, True, False, V.INTERNAL, "MSP-internal"),
        (Role.CUSTOMER_IT, True, False, True, V.PUBLIC, "own customer"),
        (Role.CUSTOMER_IT, False, True, False, V.PUBLIC, "co-management"),
        (Role.CUSTOMER_USER, True, True, False, V.PUBLIC, "may not"),
        (Role.FINANCE, False, False, True, V.PUBLIC, "may not"),
    ],
)
def test_writers(role, co, own, glob, vis, refused):
    why = article_write_refusal(role, tenant_co_managed=co, own_tenant=own, is_global=glob, visibility=vis)
    assert why is None if refused is None else refused in why


def test_search_terms_are_words_only():
    assert search_terms('Größe "OR" NEAR(x) drucker* Größe -- ;') == ["grösse", "or", "near", "x", "drucker"]
    assert search_terms("?! --") == []
    assert suggestion_terms("Hallo, der Drucker im 2. OG", "geht nicht, bitte 50.4 prüfen") == ["drucker", "prüfen"]


def test_category_lifts_an_article_over_more_words_but_words_alone_still_count():
    a, b, c, d = (uuid.UUID(int=i) for i in range(1, 5))
    ranked = rank_suggestions(
        [
            Candidate(a, "Viele Wörter", 4.0, False),
            Candidate(b, "Kategorie und Wörter", 3.0, True),
            Candidate(c, "Nur Kategorie", 0.0, True),
            Candidate(d, "Wenige Wörter", 1.0, False),
        ],
        limit=3,
    )
    assert [(cand.title, score) for cand, score in ranked] == [
        ("Kategorie und Wörter", 1.75),
        ("Nur Kategorie", 1.0),
        ("Viele Wörter", 1.0),
    ]
    assert rank_suggestions([], 5) == []
