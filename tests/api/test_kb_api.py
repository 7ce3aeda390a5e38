"""Knowledge base articles: who writes what (MSP staff everything, customer IT shared articles of its own
co-managed customer), versions (old ones readable by their own visibility), 4xx for bad input, links between
tickets and articles both ways and scoped, and suggestions for a ticket by category and words."""

import pytest

from tests.api import assert_problem, audit_events
from tests.api.co_managed_support import people
from tests.api.kb_support import KB, word, write
from tests.factories import make_tenant

TICKETS = "/api/v1/tickets"


@pytest.fixture
def w(engine):
    tenants = {"a": make_tenant(engine, co_managed=True), "b": make_tenant(engine, co_managed=True)}
    return people(engine, tenants, "admin tech a_it a_user b_it")


async def test_versions_keep_who_and_when_and_old_ones_by_their_own_visibility(api, engine, w):
    a = str(w["a"].id)
    art = await write(api, w["tech_h"], title="VPN", body="# Intern\nPasswort im Tresor", tenant_id=a, tags=["VPN"])
    assert (art["version"], art["visibility"], art["tags"]) == (1, "internal", ["vpn"])
    path = f"{KB}/articles/{art['id']}"
    resp = await api.patch(
        path, json={"body": "# Anleitung\nClient starten", "visibility": "public"}, headers=w["tech_h"]
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["version"], resp.json()["body"]) == (2, "# Anleitung\nClient starten")
    # A change on an old version is refused; an empty change saves no version.
    resp = await api.patch(path, json={"title": "VPN neu", "expected_version": 1}, headers=w["tech_h"])
    assert_problem(resp, 409, "version 2")
    assert (await api.patch(path, json={"title": "VPN"}, headers=w["tech_h"])).json()["version"] == 2

    versions = (await api.get(f"{path}/versions", headers=w["tech_h"])).json()["items"]
    assert [(v["version"], v["visibility"], v["edited_by_user_id"]) for v in versions] == [
        (2, "public", str(w["tech"].id)),
        (1, "internal", str(w["tech"].id)),
    ]
    # The customer reads the article now, but not the internal first version (the password note).
    assert (await api.get(path, headers=w["a_user_h"])).json()["body"].startswith("# Anleitung")
    assert [v["version"] for v in (await api.get(f"{path}/versions", headers=w["a_user_h"])).json()["items"]] == [2]
    assert (await api.get(f"{path}/versions/1", headers=w["a_user_h"])).status_code == 404
    assert (await api.get(f"{path}/versions/1", headers=w["tech_h"])).json()["body"].startswith("# Intern")
    # Another customer's IT does not see it at all.
    assert (await api.get(path, headers=w["b_it_h"])).status_code == 404

    assert (await api.delete(path, headers=w["a_it_h"])).status_code == 403
    assert (await api.delete(path, headers=w["tech_h"])).status_code == 204
    assert (await api.get(path, headers=w["tech_h"])).status_code == 404
    assert [(e.entity, e.action) for e in audit_events(engine, art["id"])] == [("kb_article", "deleted")]


async def test_customer_it_writes_shared_articles_of_its_own_customer_only(api, engine, w):
    a, b = str(w["a"].id), str(w["b"].id)
    own = await write(api, w["a_it_h"], title="ERP-Neustart", body="Dienst neu starten", visibility="co_managed")
    assert own["tenant_id"] == a  # its own customer without naming it
    for body, status, fragment in [
        ({"visibility": "internal"}, 403, "MSP-internal"),
        ({"tenant_id": b, "visibility": "public"}, 404, "tenant"),
    ]:
        resp = await api.post(f"{KB}/articles", json={"title": "x", "body": "y"} | body, headers=w["a_it_h"])
        assert_problem(resp, status, fragment)
    # The MSP reads and edits it; customer IT edits it and cannot hide it from itself.
    path = f"{KB}/articles/{own['id']}"
    assert (await api.patch(path, json={"tags": ["erp"]}, headers=w["tech_h"])).json()["version"] == 2
    assert_problem(await api.patch(path, json={"visibility": "internal"}, headers=w["a_it_h"]), 403, "MSP-internal")
    # MSP-wide articles are the MSP's.
    shared = await write(api, w["tech_h"], title="M365 MFA", body="…", visibility="co_managed")
    resp = await api.patch(f"{KB}/articles/{shared['id']}", json={"title": "neu"}, headers=w["a_it_h"])
    assert_problem(resp, 403, "own customer")
    # Customer users never write; customer IT without co-management neither.
    resp = await api.post(f"{KB}/articles", json={"title": "x", "body": "y"}, headers=w["a_user_h"])
    assert_problem(resp, 403, "customer_user")
    c = make_tenant(engine)
    them = people(engine, {"c": c}, "c_it")
    resp = await api.post(
        f"{KB}/articles", json={"title": "x", "body": "y", "visibility": "public"}, headers=them["c_it_h"]
    )
    assert_problem(resp, 403, "co-management")


async def test_bad_input_is_a_4xx_with_the_field(api, w):
    for body, field in [
        ({"title": "", "body": "x"}, "title"),
        ({"title": "x", "body": ""}, "body"),
        ({"title": "x", "body": "y", "visibility": "secret"}, "visibility"),
        ({"title": "x", "body": "y", "language": "fr"}, "language"),
        ({"title": "x", "body": "y", "tags": ["a" * 65]}, "tags"),
        ({"title": "x", "body": "y", "tenant_id": "00000000-0000-0000-0000-000000000001"}, "tenant_id"),
        ({"title": "x", "body": "y", "author": "me"}, "author"),
    ]:
        resp = await api.post(f"{KB}/articles", json=body, headers=w["tech_h"])
        assert resp.status_code == 422, (body, resp.text)
        assert field in resp.text
    art = await write(api, w["tech_h"])
    resp = await api.patch(f"{KB}/articles/{art['id']}", json={"title": None}, headers=w["tech_h"])
    assert resp.status_code == 422 and "title" in resp.text
    assert (await api.get(f"{KB}/search", params={"q": "x", "limit": 0}, headers=w["tech_h"])).status_code == 422


async def test_tags_categories_and_filters(api, w):
    a = str(w["a"].id)
    cat = word()
    await write(api, w["tech_h"], title="Eins", tenant_id=a, visibility="public", category=cat, tags=["Drucker"])
    await write(api, w["tech_h"], title="Zwei", tenant_id=a, visibility="internal", category=cat, tags=["netz"])
    listed = (await api.get(f"{KB}/articles", params={"category": cat}, headers=w["a_user_h"])).json()
    assert [x["title"] for x in listed["items"]] == ["Eins"]
    listed = (await api.get(f"{KB}/articles", params={"tag": "DRUCKER", "tenant_id": a}, headers=w["tech_h"])).json()
    assert [x["title"] for x in listed["items"]] == ["Eins"]
    counts = {c["category"]: c["articles"] for c in (await api.get(f"{KB}/categories", headers=w["a_user_h"])).json()}
    assert counts[cat] == 1
    counts = {c["category"]: c["articles"] for c in (await api.get(f"{KB}/categories", headers=w["tech_h"])).json()}
    assert counts[cat] == 2


async def open_ticket(api, headers, **body) -> dict:
    resp = await api.post(TICKETS, json={"title": "Drucker druckt nicht"} | body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_links_both_ways_scoped_and_suggestions(api, engine, w):
    a, b = str(w["a"].id), str(w["b"].id)
    key = word()
    ticket = await open_ticket(
        api, w["a_user_h"], description=f"Der Drucker {key} im 2. OG zeigt Fehler 50.4", category="Endgeräte"
    )
    tid = ticket["id"]
    words = await write(
        api, w["tech_h"], title=f"Fehler 50.4 am {key}", body="Fixiereinheit prüfen", tenant_id=a, visibility="public"
    )
    category = await write(
        api,
        w["tech_h"],
        title="Endgeräte: Übersicht",
        body="Liste",
        tenant_id=a,
        visibility="public",
        category="Endgeräte",
    )
    internal = await write(
        api, w["tech_h"], title=f"{key} intern", body="Tonerpreise", tenant_id=a, visibility="internal"
    )
    foreign = await write(api, w["tech_h"], title=f"{key} bei B", body="Drucker", tenant_id=b, visibility="public")

    async def suggested(headers):
        resp = await api.get(f"{KB}/tickets/{tid}/suggestions", params={"limit": 10}, headers=headers)
        assert resp.status_code == 200, resp.text
        return [s["article"]["id"] for s in resp.json()]

    tech = await suggested(w["tech_h"])
    assert {words["id"], category["id"], internal["id"]} <= set(tech)
    assert foreign["id"] not in tech  # the MSP reads B's article, but it never fits A's ticket
    user = await suggested(w["a_user_h"])
    assert internal["id"] not in user and {words["id"], category["id"]} <= set(user)

    # Customer IT sees the (co-managed) ticket and links; the user may not; B's IT finds neither.
    link = f"{KB}/articles/{words['id']}/tickets/{tid}"
    assert (await api.put(link, headers=w["a_user_h"])).status_code == 403
    assert (await api.put(link, headers=w["b_it_h"])).status_code == 404
    assert (await api.put(link, headers=w["a_it_h"])).status_code == 201
    assert (await api.put(link, headers=w["tech_h"])).status_code == 200  # linked already
    assert (await api.put(f"{KB}/articles/{internal['id']}/tickets/{tid}", headers=w["tech_h"])).status_code == 201
    resp = await api.put(f"{KB}/articles/{foreign['id']}/tickets/{tid}", headers=w["tech_h"])
    assert_problem(resp, 422, "another customer")

    async def ids(path, headers, key="id"):
        resp = await api.get(path, headers=headers)
        assert resp.status_code == 200, resp.text
        return [x[key] for x in resp.json()]

    assert await ids(f"{KB}/tickets/{tid}/articles", w["tech_h"]) == [words["id"], internal["id"]]
    assert await ids(f"{KB}/tickets/{tid}/articles", w["a_user_h"]) == [words["id"]]
    assert (await api.get(f"{KB}/tickets/{tid}/articles", headers=w["b_it_h"])).status_code == 404
    assert await ids(f"{KB}/articles/{words['id']}/tickets", w["a_user_h"], "ticket_id") == [tid]
    # B's IT reads a public MSP-wide article, but not A's ticket linked to it.
    msp_wide = await write(api, w["tech_h"], title=f"{key} allgemein", visibility="public")
    assert (await api.put(f"{KB}/articles/{msp_wide['id']}/tickets/{tid}", headers=w["tech_h"])).status_code == 201
    assert await ids(f"{KB}/articles/{msp_wide['id']}/tickets", w["b_it_h"], "ticket_id") == []
    assert await ids(f"{KB}/articles/{msp_wide['id']}/tickets", w["a_it_h"], "ticket_id") == [tid]
    # Linked articles are no longer suggested.
    assert words["id"] not in await suggested(w["tech_h"])

    assert (await api.delete(link, headers=w["a_it_h"])).status_code == 204
    assert_problem(await api.delete(link, headers=w["a_it_h"]), 404, "link")
    assert await ids(f"{KB}/tickets/{tid}/articles", w["a_user_h"]) == [msp_wide["id"]]


async def test_every_kb_route_hides_another_customers_article_and_ticket(api, w):
    """Tenant A's public article and A's ticket, asked for by B's IT and by A's own user on an internal article:
    404 where the caller may call the route at all, 403 (by role) where it may not."""
    a = str(w["a"].id)
    public = await write(api, w["tech_h"], title="A öffentlich", tenant_id=a, visibility="public")
    internal = await write(api, w["tech_h"], title="A intern", tenant_id=a, visibility="internal")
    tid = (await open_ticket(api, w["a_user_h"]))["id"]

    def routes(aid):
        art = f"{KB}/articles/{aid}"
        return [
            ("GET", art, None),
            ("PATCH", art, {"title": "übernommen"}),
            ("DELETE", art, None),
            ("GET", f"{art}/versions", None),
            ("GET", f"{art}/versions/1", None),
            ("GET", f"{art}/tickets", None),
            ("PUT", f"{art}/tickets/{tid}", None),
            ("DELETE", f"{art}/tickets/{tid}", None),
            ("GET", f"{KB}/tickets/{tid}/articles", None),
            ("GET", f"{KB}/tickets/{tid}/suggestions", None),
        ]

    b_it = [404, 404, 403, 404, 404, 404, 404, 404, 404, 404]
    a_user_internal = [404, 403, 403, 404, 404, 404, 403, 403, 200, 200]
    for who, aid, expected in [("b_it", public["id"], b_it), ("a_user", internal["id"], a_user_internal)]:
        got = []
        for method, path, body in routes(aid):
            resp = await api.request(method, path, json=body, headers=w[who + "_h"])
            got.append(resp.status_code)
        assert got == expected, who
    # The ticket's own routes answered 200 to its user, but without the internal article.
    resp = await api.get(f"{KB}/tickets/{tid}/suggestions", params={"limit": 20}, headers=w["a_user_h"])
    assert internal["id"] not in {s["article"]["id"] for s in resp.json()}
