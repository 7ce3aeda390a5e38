"""The MSP's branding of its QBR decks, kept with the seller profile: brand and accent colour, a raster logo (PNG or
JPEG, uploaded as the request body) and optionally its own PowerPoint template (.pptx) as the deck's base
presentation. MSP staff read it; admins and finance set it, as the rest of the seller profile. Each change leaves an
audit event (naming the change, not the bytes)."""

import hashlib
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pptx import Presentation
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from api.deps import BillingWriter, MspReader, Principal, SessionDep
from api.middleware import Allowance
from api.problems import Problem
from api.routes.billing.seller import seller_profile
from api.schemas.common import Body, audit_event
from documents.qbr_branding import image_kind, is_colour
from documents.qbr_pptx import find_layouts
from hub.config import Settings
from models import SellerProfile
from models.base import utcnow

router = APIRouter(prefix="/billing/seller", tags=["billing"])
TEMPLATE_PATH = f"/api/v1{router.prefix}/qbr-template"
NO_SELLER = "no seller profile yet; an admin or finance creates it with PUT /api/v1/billing/seller"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


class BrandingIn(Body):
    brand_colour: str | None = Field(default=None, description="#RRGGBB: titles, table headers, first chart series")
    accent_colour: str | None = Field(default=None, description="#RRGGBB: the second chart series")

    @field_validator("brand_colour", "accent_colour")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not is_colour(value):
            raise ValueError("must be a colour as #RRGGBB, e.g. #1F4E79")
        return value.upper() if value else None


class BrandingPublic(BaseModel):
    brand_colour: str | None
    accent_colour: str | None
    logo_image: str | None  # "png", "jpeg" or None
    logo_sha256: str | None
    qbr_template_sha256: str | None


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _seller(session: Session) -> SellerProfile:
    row = seller_profile(session)
    if row is None:
        raise Problem(404, NO_SELLER)
    return row


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data else None


def _public(row: SellerProfile) -> BrandingPublic:
    return BrandingPublic(brand_colour=row.brand_colour, accent_colour=row.accent_colour,
                          logo_image=image_kind(row.logo_image) if row.logo_image else None,
                          logo_sha256=_sha(row.logo_image), qbr_template_sha256=_sha(row.qbr_template))  # fmt: skip


def _changed(session: Session, principal: Principal, row: SellerProfile, data: dict) -> BrandingPublic:
    row.updated_at = utcnow()
    session.add(audit_event(principal, None, "seller_profile", row.id, "branding_updated", data))
    session.flush()
    return _public(row)


@router.get("/branding", response_model=BrandingPublic, summary="The MSP's QBR branding (MSP staff)")
def get_branding(principal: MspReader, session: SessionDep):
    return _public(_seller(session))


@router.put("/branding", response_model=BrandingPublic, summary="Set the QBR colours (admins, finance)")
def put_branding(body: BrandingIn, principal: BillingWriter, session: SessionDep):
    row = _seller(session)
    changes = {k: [getattr(row, k), v] for k, v in body.model_dump().items() if getattr(row, k) != v}
    row.brand_colour, row.accent_colour = body.brand_colour, body.accent_colour
    return _changed(session, principal, row, changes) if changes else _public(row)


def _binary_body(*media_types: str) -> dict:
    """The OpenAPI request body of an upload read raw (FastAPI cannot see it in the signature)."""
    schema = {"type": "string", "format": "binary"}
    return {"requestBody": {"required": True, "content": {m: {"schema": schema} for m in media_types}}}


@router.put("/logo-image", response_model=BrandingPublic, openapi_extra=_binary_body("image/png", "image/jpeg"),
            summary="Upload the logo for QBR decks: the request body is a PNG or JPEG (admins, finance)")  # fmt: skip
def put_logo(data: RawBody, principal: BillingWriter, session: SessionDep):
    if image_kind(data) is None:
        raise Problem(415, "the logo must be a PNG or JPEG image, sent as the request body")
    row = _seller(session)
    row.logo_image = data
    return _changed(session, principal, row, {"logo_image": _sha(data)})


@router.get("/logo-image", summary="The QBR logo (MSP staff)", response_class=Response)
def get_logo(principal: MspReader, session: SessionDep) -> Response:
    row = _seller(session)
    if not row.logo_image:
        raise Problem(404, "no logo image uploaded")
    return Response(row.logo_image, media_type=f"image/{image_kind(row.logo_image)}")


@router.delete("/logo-image", status_code=204, response_class=Response, summary="Remove the QBR logo")
def delete_logo(principal: BillingWriter, session: SessionDep) -> Response:
    row = _seller(session)
    if row.logo_image:
        row.logo_image = None
        _changed(session, principal, row, {"logo_image": None})
    return Response(status_code=204)


def template_allowance(settings: Settings) -> Allowance:
    """The template upload's own body limit (PSA_QBR_TEMPLATE_MAX_BYTES), enforced by api.middleware.BodyLimit."""
    limit = settings.qbr_template_max_bytes
    return Allowance(limit, f"the template exceeds the upload limit of {limit / 1024 / 1024:.4g} MiB ({limit} bytes, "
                            "PSA_QBR_TEMPLATE_MAX_BYTES); make its pictures smaller or raise the limit")  # fmt: skip


def _check_template(data: bytes) -> None:
    try:
        prs = Presentation(io.BytesIO(data))
    except Exception as err:  # noqa: BLE001 - whatever python-pptx cannot open is not a usable template
        raise Problem(422, f"template: not a PowerPoint .pptx file ({type(err).__name__})") from None
    try:
        find_layouts(prs)
    except ValueError as err:
        raise Problem(422, f"template: {err}") from None


# Documented as octet-stream: any content type is read, and API clients (and schemathesis) serialise that one.
@router.put("/qbr-template", response_model=BrandingPublic, openapi_extra=_binary_body("application/octet-stream"),
            summary="Upload the MSP's PowerPoint template (.pptx as the request body) for QBR decks",
            description="At most PSA_QBR_TEMPLATE_MAX_BYTES (20 MiB by default), unlike the 1 MiB of every other "
                        "request body; a larger one is refused with 413.")  # fmt: skip
def put_template(data: RawBody, principal: BillingWriter, session: SessionDep):
    if not data.startswith(b"PK\x03\x04"):
        raise Problem(415, f"the template must be a .pptx file ({PPTX}), sent as the request body")
    _check_template(data)
    row = _seller(session)
    row.qbr_template = data
    return _changed(session, principal, row, {"qbr_template": _sha(data)})


@router.delete("/qbr-template", status_code=204, response_class=Response, summary="Use the hub's own deck design")
def delete_template(principal: BillingWriter, session: SessionDep) -> Response:
    row = _seller(session)
    if row.qbr_template:
        row.qbr_template = None
        _changed(session, principal, row, {"qbr_template": None})
    return Response(status_code=204)
