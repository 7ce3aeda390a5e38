"""The portal end to end in headless Chromium: log in with a key and with a password, a wrong password refused, a
new ticket (with its SLA in words) and a reply visible afterwards, a forged form post refused, co-managed notes read
by customer IT only, the knowledge base scoped to the caller's tenant, and for every portal role another tenant's
ticket is a 404 page when opened by its URL."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page
from sqlmodel import Session, select

from domain.roles import Role
from models import AuditEvent, Ticket
from tests.api.co_managed_support import people
from tests.factories import make_sla, make_tenant, make_user

PASSWORD = "richtig-langes-Passwort-1"
# 24x7, so the time-skipping server's clock (any weekday, any hour) leaves the response clock running.
SLA = {"name": "Portal", "targets": {"P3": {"response_minutes": 240, "resolution_minutes": 960, "calendar": "24x7"}}}


@pytest.fixture(scope="session")
async def w(portal, engine):  # noqa: ANN001
    """Two customers with co-management, their people, a shared queue of customer a, and one ticket each."""
    a, b = make_tenant(engine, co_managed=True), make_tenant(engine, co_managed=True)
    make_sla(engine, a, SLA)
    w = people(engine, {"a": a, "b": b}, "admin tech a_user a_it b_user")
    expires = datetime.now(UTC) + timedelta(days=30)
    w["a_ext"], w["a_ext_key"] = make_user(engine, Role.EXTERNAL_TECH, a, access_expires_at=expires)
    async with httpx.AsyncClient(base_url=portal) as api:
        admin = w["admin_h"]
        name = f"erp-{uuid.uuid4().hex[:8]}"
        queue = await api.post(
            "/api/v1/queues", json={"name": name, "display_name": "ERP", "tenant_id": str(a.id)}, headers=admin
        )
        assert queue.status_code == 201, queue.text
        member = await api.put(f"/api/v1/queues/{queue.json()['id']}/members/{w['a_ext'].id}", headers=admin)
        assert member.status_code in (200, 201, 204), member.text
        for key, tenant, queue_name in (("a_ticket", a, name), ("b_ticket", b, None)):
            body = {"title": f"Drucker {key}", "tenant_id": str(tenant.id), "queue": queue_name, "co_managed": True}
            resp = await api.post("/api/v1/tickets", json=body, headers=w["tech_h"])
            assert resp.status_code == 201, resp.text
            w[key] = resp.json()
        resp = await api.put(f"/api/v1/users/{w['a_user'].id}/password", json={"password": PASSWORD}, headers=admin)
        assert resp.status_code == 204, resp.text
    return w


@pytest.fixture
async def page(browser: Browser, portal: str):  # noqa: ANN201
    context = await browser.new_context(base_url=portal, locale="de-DE")
    tab = await context.new_page()
    yield tab
    await context.close()


async def login_with_key(page: Page, key: str) -> None:
    await page.goto("/portal/login")
    await page.locator("#login-key input[name=api_key]").fill(key)
    await page.locator("#login-key button").click()
    await page.wait_for_url("**/portal/tickets")


async def test_password_login_refuses_a_wrong_password_and_logs_out(page: Page, w):  # noqa: ANN001
    await page.goto("/portal/tickets")
    await page.wait_for_url("**/portal/login")  # no session: the login page
    form = page.locator("#login-password")
    await form.locator("input[name=email]").fill(w["a_user"].email)
    await form.locator("input[name=password]").fill("falsches-Passwort-123")
    await form.locator("button").click()
    await page.get_by_role("alert").wait_for()
    assert "Anmeldung fehlgeschlagen" in await page.get_by_role("alert").inner_text()
    assert page.url.endswith("/portal/login")

    await form.locator("input[name=email]").fill(w["a_user"].email.upper())
    await form.locator("input[name=password]").fill(PASSWORD)
    await form.locator("button").click()
    await page.wait_for_url("**/portal/tickets")
    assert await page.get_by_role("heading", name="Meine Tickets").is_visible()
    cookie = next(c for c in await page.context.cookies() if c["name"] == "psa_portal")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/portal"

    await page.get_by_role("button", name="Abmelden").click()
    await page.wait_for_url("**/portal/login")
    await page.goto("/portal/tickets")
    await page.wait_for_url("**/portal/login")


async def test_key_login_new_ticket_and_reply_visible(page: Page, w, engine):  # noqa: ANN001
    await login_with_key(page, w["a_user_key"])
    await page.goto("/portal/tickets/new")
    title = f"VPN geht nicht {uuid.uuid4().hex[:6]}"
    await page.locator("input[name=title]").fill(title)
    await page.locator("textarea[name=description]").fill("Seit heute früh keine Verbindung.")
    await page.get_by_role("button", name="Ticket anlegen").click()
    await page.wait_for_url("**/portal/tickets/*-*")
    assert title in await page.get_by_role("heading", level=1).inner_text()
    assert re.fullmatch(
        r"Reaktion fällig in \d+ Std\.( \d+ Min\.)?", (await page.locator("#sla div").first.inner_text())
    )

    await page.locator("#reply textarea[name=body]").fill("Neustart hat nicht geholfen.")
    await page.locator("#reply button").click()
    await page.locator(".comment .body", has_text="Neustart hat nicht geholfen.").wait_for()

    await page.goto("/portal/tickets")
    assert await page.get_by_role("link", name=title).is_visible()
    with Session(engine) as s:
        ticket = s.exec(select(Ticket).where(Ticket.title == title)).one()
        assert ticket.tenant_id == w["a"].id and ticket.requester_user_id == w["a_user"].id


async def test_forged_form_post_is_refused(page: Page, w, engine):  # noqa: ANN001
    await login_with_key(page, w["a_user_key"])
    title = f"Gefälscht {uuid.uuid4().hex[:6]}"
    for token in ("", "not-the-token"):  # the session cookie is sent along; the token is missing or wrong
        form = {"title": title, "form_id": str(uuid.uuid4()), "csrf": token}
        resp = await page.request.post("/portal/tickets/new", form=form, max_redirects=0)
        assert resp.status == 403
        assert "Formular ist abgelaufen" in await resp.text()
    resp = await page.request.post(f"/portal/tickets/{w['a_ticket']['id']}/reply", form={"body": "x"}, max_redirects=0)
    assert resp.status == 403
    with Session(engine) as s:
        assert s.exec(select(Ticket).where(Ticket.title == title)).first() is None
    # Login forms too: a post without the token shown with the form logs nobody in.
    resp = await page.request.post("/portal/login", form={"api_key": w["a_it_key"]}, max_redirects=0)
    assert resp.status == 403


@pytest.mark.parametrize("who", ["a_user", "a_it", "a_ext"])
async def test_other_tenants_ticket_is_not_found_by_url(page: Page, w, who, engine):  # noqa: ANN001
    await login_with_key(page, w[f"{who}_key"])
    resp = await page.goto(f"/portal/tickets/{w['b_ticket']['id']}")
    assert resp.status == 404
    assert "Nicht gefunden" in await page.get_by_role("alert").inner_text()
    assert w["b_ticket"]["title"] not in await page.content()
    if who != "a_user":  # customer IT (co-managed) and the queue's external technician open their own ticket
        resp = await page.goto(f"/portal/tickets/{w['a_ticket']['id']}")
        assert resp.status == 200
        assert w["a_ticket"]["title"] in await page.get_by_role("heading", level=1).inner_text()
    if who == "a_ext":  # every access of an external technician is audited, through the portal too
        with Session(engine) as s:
            paths = s.exec(select(AuditEvent.data).where(AuditEvent.actor_user_id == w["a_ext"].id)).all()
        assert any(d.get("via") == "portal" and w["b_ticket"]["id"] in d["path"] for d in paths)


async def test_co_managed_note_reaches_customer_it_not_the_external_technician(browser: Browser, page: Page, w):  # noqa: ANN001
    note = f"Nur für die IT {uuid.uuid4().hex[:6]}"
    await login_with_key(page, w["a_it_key"])
    await page.goto(f"/portal/tickets/{w['a_ticket']['id']}")
    await page.locator("#reply textarea[name=body]").fill(note)
    await page.locator("#reply select[name=visibility]").select_option("co_managed")
    await page.locator("#reply button").click()
    await page.locator(".comment.co_managed .body", has_text=note).wait_for()

    other = await browser.new_context(base_url=page.url.split("/portal")[0])
    tab = await other.new_page()
    await login_with_key(tab, w["a_ext_key"])
    await tab.goto(f"/portal/tickets/{w['a_ticket']['id']}")
    assert note not in await tab.content()  # public replies only for the vendor, as in the API
    assert await tab.locator("#reply select[name=visibility]").count() == 0
    resp = await tab.goto("/portal/kb")
    assert resp.status == 403  # no tenant-wide data for external technicians
    await other.close()


async def test_knowledge_base_search_and_article_of_own_tenant_only(page: Page, w, portal):  # noqa: ANN001
    word = "w" + uuid.uuid4().hex[:10]
    ids = {}
    async with httpx.AsyncClient(base_url=portal) as api:
        for key, tenant in (("own", w["a"]), ("other", w["b"])):
            body = {"title": f"Drucker einrichten {key}", "body": f"Schritt 1: {word}", "visibility": "public"}
            resp = await api.post("/api/v1/kb/articles", json=body | {"tenant_id": str(tenant.id)}, headers=w["tech_h"])
            assert resp.status_code == 201, resp.text
            ids[key] = resp.json()["id"]
    await login_with_key(page, w["a_user_key"])
    await page.goto("/portal/kb")
    await page.get_by_role("searchbox").fill(word)  # htmx searches as you type: no click on "Suchen"
    await page.get_by_role("link", name="Drucker einrichten own").click()
    await page.wait_for_url(f"**/portal/kb/{ids['own']}")
    assert word in await page.locator(".article").inner_text()
    assert (await page.goto(f"/portal/kb?q={word}")) and "Drucker einrichten other" not in await page.content()
    resp = await page.goto(f"/portal/kb/{ids['other']}")
    assert resp.status == 404
