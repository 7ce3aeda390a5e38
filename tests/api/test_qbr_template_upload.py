"""The MSP's PowerPoint template may be larger than the API's 1 MiB body limit (real templates with pictures are
2-10 MB): up to PSA_QBR_TEMPLATE_MAX_BYTES on that route only, 413 with the reason beyond it, whether the size is
announced (Content-Length) or only counted while the body streams in. An uploaded large template is the base of
the next deck."""

import io
import random

import httpx
import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Cm
from sqlmodel import Session

from activities.qbr.branding import deck_branding
from api.app import create_app
from api.middleware import MAX_BODY_BYTES
from documents.qbr_pptx import render_qbr_pptx
from domain.qbr.kpis import compute_kpis
from domain.roles import Role
from hub.config import Settings
from hub.db import session_scope
from models import SellerProfile
from tests.api.test_request_limits import CHUNK, call, chunks
from tests.billing_setup import set_seller
from tests.conftest import auth
from tests.domain.qbr.facts import previous
from tests.domain.qbr.lifecycle_facts import with_lifecycle
from tests.factories import make_user

TEMPLATE, LOGO = "/api/v1/billing/seller/qbr-template", "/api/v1/billing/seller/logo-image"
LIMIT = 2 * 1024 * 1024
TOO_LARGE = f"the template exceeds the upload limit of 2 MiB ({LIMIT} bytes, PSA_QBR_TEMPLATE_MAX_BYTES)"
LAYOUT = "Acme Nur Titel"


def _template(picture_side: int) -> bytes:
    """A 4:3 template with a renamed 'Title Only' layout and a sample slide holding a noise picture (which no
    compression shrinks) of picture_side² pixels: about 3 × picture_side² bytes."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Cm(25.4), Cm(19.05)
    prs.slide_layouts[5]._element.cSld.set("name", LAYOUT)
    noise = random.Random(picture_side).randbytes(picture_side * picture_side * 3)
    picture = io.BytesIO()
    Image.frombytes("RGB", (picture_side, picture_side), noise).save(picture, format="PNG", compress_level=1)
    prs.slides.add_slide(prs.slide_layouts[6]).shapes.add_picture(picture, 0, 0)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def large():
    data = _template(720)
    assert MAX_BODY_BYTES < len(data) < LIMIT
    return data


@pytest.fixture(scope="module")
def too_large():
    data = _template(900)
    assert len(data) > LIMIT
    return data


@pytest.fixture
def app(engine):
    return create_app(Settings(qbr_template_max_bytes=LIMIT), engine=engine, temporal=None)


@pytest.fixture
async def http(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client:
        yield client


@pytest.fixture
def admin(engine):
    set_seller(engine, "QT")
    yield auth(make_user(engine, Role.MSP_ADMIN)[1])
    with session_scope(engine) as s:
        s.get(SellerProfile, 1).qbr_template = None


def test_the_default_limit_is_twenty_mib():
    assert Settings().qbr_template_max_bytes == 20 * 1024 * 1024


async def test_a_template_over_one_mib_is_stored_and_is_the_base_of_the_deck(http, engine, admin, large):
    r = await http.put(TEMPLATE, content=large, headers=admin)
    assert r.status_code == 200, r.text
    with Session(engine) as session:
        branding = deck_branding(session)
    assert branding.template == large
    kpis = compute_kpis(with_lifecycle(), previous(), "K10001", "Muster GmbH")
    deck = Presentation(io.BytesIO(render_qbr_pptx(kpis, branding=branding)))
    assert (deck.slide_width, deck.slide_height) == (Cm(25.4), Cm(19.05))
    licences = next(s for s in deck.slides if s.shapes.title.text == "Lizenzen")
    assert licences.slide_layout.name == LAYOUT


async def test_a_template_over_the_limit_is_413_and_the_stored_one_stays(http, engine, admin, large, too_large):
    assert (await http.put(TEMPLATE, content=large, headers=admin)).status_code == 200
    r = await http.put(TEMPLATE, content=too_large, headers=admin)
    assert r.status_code == 413, r.text
    assert r.json()["detail"].startswith(TOO_LARGE)
    with Session(engine) as session:
        assert session.get(SellerProfile, 1).qbr_template == large


async def test_a_streamed_template_is_counted_and_stopped_at_the_limit(app, admin):
    exchange = await call(app, "PUT", TEMPLATE, {k.lower(): v for k, v in admin.items()}, chunks(4 * LIMIT))
    assert exchange.status == 413 and TOO_LARGE.encode() in exchange.body
    assert exchange.pulled <= LIMIT + CHUNK


async def test_other_routes_keep_the_one_mib_limit(http, admin, large):
    r = await http.put(LOGO, content=large, headers=admin | {"content-type": "image/png"})
    assert r.status_code == 413 and r.json()["detail"] == f"request body exceeds {MAX_BODY_BYTES} bytes"
