"""SOC integrations (one per customer and security platform): create, read, change, rotate the webhook secret, and
each integration's triage overrides of the hub's PSA_SOC_* defaults. A write leaves its audit event and keeps the
integration's poll schedule in step; Temporal being away never fails the write (the schedule reports `pending`)."""

import base64
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client

from api.crud import apply_patch
from api.deps import MspAdmin, MspStaff, Principal, SessionDep, SettingsDep, get_scoped
from api.pagination import Page, PageDep, paginate
from api.routes.soc.schedules import PollSchedule, PollTarget, ScheduleStatus, is_pollable, sync_poll_schedule
from api.routes.soc.webhooks import webhook_url
from api.schemas.common import Body, audit_event, field_error, not_null, text
from domain.soc.alerts import Source
from domain.soc.barracuda import FieldMapping
from domain.soc.signatures import DEFAULT_HEADERS, SECRET_PREFIX, WebhookAuth
from domain.soc.triage import TriageOverride, TriagePolicy, resolve_policy
from hub.config import hub_defaults
from models import SocAlert, SocIncident, SocIntegration, Tenant

router = APIRouter(tags=["soc"])
# The triage-settings routes, registered after the incident routes (see api/routes/soc/__init__.py).
triage_router = APIRouter(tags=["soc"])

PollMinutes = Annotated[int, Field(ge=1, le=1440, description="Poll interval of the schedule in minutes")]
VendorTenantIds = Annotated[
    list[text(100)],
    Field(
        max_length=100,
        description="The vendor's ids of this customer: SentinelOne site ids, RocketCyber account ids, Barracuda XDR "
        "customer ids, generic tenant.id. An alert naming another id is refused and kept in the quarantine; while "
        "the list is empty, only alerts that name no site are taken",
    ),
]
AuthHeader = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
        description="header_secret / hmac_sha256: the header that carries the secret or the HMAC "
        "(default X-Webhook-Secret / X-Signature-SHA256)",
    ),
]
AUTH_DESCRIPTION = (
    "How deliveries are verified: standard_webhooks (default; webhook-id/-timestamp/-signature headers), "
    "header_secret (the secret in a header), bearer (Authorization: Bearer <secret>), hmac_sha256 (hex HMAC of the "
    "raw body in a header)"
)


class IntegrationCreate(Body):
    tenant_id: UUID
    source: Source
    name: text(100)
    field_mapping: FieldMapping | None = Field(default=None, description="Barracuda XDR: where the fields sit")
    credentials_ref: text(100) | None = Field(default=None, description="Name of the API credentials in the config")
    poll_interval_minutes: PollMinutes | None = Field(
        default=None, description="SentinelOne/RocketCyber with credentials_ref: poll interval (default 5)"
    )
    vendor_tenant_ids: VendorTenantIds = Field(default_factory=list)
    webhook_auth: WebhookAuth = Field(default=WebhookAuth.STANDARD_WEBHOOKS, description=AUTH_DESCRIPTION)
    webhook_auth_header: AuthHeader | None = None


class IntegrationUpdate(Body):
    """Omitted fields stay; `credentials_ref: null` stops polling, `field_mapping: null` restores the default."""

    name: text(100) | None = None
    is_active: bool | None = Field(default=None, description="false: webhooks are refused and polling pauses")
    credentials_ref: text(100) | None = None
    field_mapping: FieldMapping | None = None
    poll_interval_minutes: PollMinutes | None = Field(
        default=None, description="Stored with the integration; the poll schedule follows it"
    )
    vendor_tenant_ids: VendorTenantIds | None = Field(default=None, description="Replaces the list")
    webhook_auth: WebhookAuth | None = Field(
        default=None, description=AUTH_DESCRIPTION + ". The secret stays; rotate it for a fresh one of the method"
    )
    webhook_auth_header: AuthHeader | None = Field(default=None, description="null: the method's default header")

    _required = field_validator("name", "is_active", "poll_interval_minutes", "vendor_tenant_ids", "webhook_auth")(
        not_null
    )


class IntegrationPublic(BaseModel):
    id: UUID
    tenant_id: UUID
    source: str
    name: str
    webhook_url: str = Field(description="Where the platform delivers to; absolute when PSA_PUBLIC_BASE_URL is set")
    webhook_auth: WebhookAuth
    webhook_auth_header: str | None = Field(description="The header the method reads (null: not header-based)")
    vendor_tenant_ids: list[str] = Field(description="The vendor sites/accounts mapped to this customer")
    field_mapping: dict[str, Any] | None
    credentials_ref: str | None
    poll_interval_minutes: int | None = Field(description="Minutes between polls; null: the default (5)")
    is_active: bool
    previous_secret_accepted: bool = Field(description="A rotation is in its grace period: the old secret works")
    created_at: datetime


class IntegrationSaved(IntegrationPublic):
    poll_schedule: PollSchedule


class IntegrationCreated(IntegrationSaved):
    webhook_secret: str = Field(
        description="Shown once: configure it at the sender as the webhook_auth method says (standard_webhooks: the "
        "signing secret; header_secret / bearer: the header's value; hmac_sha256: the HMAC key)"
    )


class SecretRotated(IntegrationPublic):
    webhook_secret: str = Field(
        description="Shown once: the new secret, in the form of the integration's webhook_auth method; the old one "
        "works until revoked"
    )


class TriageSettingsPublic(BaseModel):
    integration_id: UUID
    override: TriageOverride = TriageOverride()
    effective: TriagePolicy
    # An incident pins its policy with its first alert (its workflow must replay the same decisions).
    applies_to: Literal["new_incidents"] = Field(
        default="new_incidents", description="The policy applies to incidents that start after a change"
    )
    open_incidents_unchanged: int = Field(
        description="Open incidents of this integration that keep the policy they started with (auto-resolve too)"
    )


def _auth_header(method: WebhookAuth, configured: str | None) -> str | None:
    """The header the method reads: the configured one where the method names one, else its fixed header."""
    if method in DEFAULT_HEADERS:
        return configured or DEFAULT_HEADERS[method]
    return "Authorization" if method == WebhookAuth.BEARER else None


def _public(row: SocIntegration, base_url: str, cls=IntegrationPublic, **extra) -> IntegrationPublic:  # noqa: ANN001
    method = WebhookAuth(row.webhook_auth)
    return cls(
        id=row.id,
        tenant_id=row.tenant_id,
        source=row.source,
        name=row.name,
        is_active=row.is_active,
        webhook_url=webhook_url(row, base_url),
        webhook_auth=method,
        webhook_auth_header=_auth_header(method, row.webhook_auth_header),
        vendor_tenant_ids=row.vendor_tenant_ids or [],
        field_mapping=row.field_mapping,
        credentials_ref=row.credentials_ref,
        poll_interval_minutes=row.poll_interval_minutes,
        previous_secret_accepted=row.previous_webhook_secret is not None,
        created_at=row.created_at,
        **extra,
    )


def _new_secret(method: WebhookAuth) -> str:
    """Standard Webhooks: `whsec_` and standard, padded base64 of 32 random bytes, as the specification describes
    (a plain base64 decoder reads it; the reference libraries too). Other methods: a URL-safe token, used as is."""
    if method == WebhookAuth.STANDARD_WEBHOOKS:
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(32)


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _integration(session: Session, integration_id: UUID, principal: Principal) -> SocIntegration:
    return get_scoped(session, SocIntegration, integration_id, principal, "integration")


def _check_poll_interval(minutes: int | None, source: str, credentials_ref: str | None) -> None:
    if minutes is not None and not is_pollable(source, credentials_ref):
        raise field_error(
            "poll_interval_minutes", "only SentinelOne and RocketCyber integrations with a credentials_ref are polled"
        )


async def _sync_schedule(session: Session, row: SocIntegration, temporal: Client | None) -> PollSchedule:
    """After the commit: a failed schedule call must not undo the saved integration (it reports `pending`)."""
    return await sync_poll_schedule(temporal, PollTarget.of(row, session.get(Tenant, row.tenant_id)))


def _optional_temporal(request: Request) -> Client | None:
    return request.app.state.temporal


# Writes that only follow up with Temporal must not fail when it is away (unlike TemporalDep's 503).
OptionalTemporal = Annotated[Client | None, Depends(_optional_temporal)]


@router.post(
    "/soc/integrations",
    status_code=201,
    response_model=IntegrationCreated,
    summary="Connect a security platform for a customer (MSP admins); returns the webhook secret once",
    description="SentinelOne and RocketCyber with a credentials_ref also get a poll schedule; if Temporal is not "
    "reachable the integration is saved anyway and poll_schedule.status says pending (`psa soc sync-schedules`).",
)
async def create_integration(
    body: IntegrationCreate, principal: MspAdmin, session: SessionDep, temporal: OptionalTemporal, settings: SettingsDep
):
    if session.get(Tenant, body.tenant_id) is None:
        raise field_error("tenant_id", f"no tenant {body.tenant_id}")
    _check_poll_interval(body.poll_interval_minutes, body.source.value, body.credentials_ref)
    secret = _new_secret(body.webhook_auth)
    row = SocIntegration(
        tenant_id=body.tenant_id,
        source=body.source.value,
        name=body.name,
        webhook_secret=secret,
        field_mapping=body.field_mapping.model_dump() if body.field_mapping else None,
        credentials_ref=body.credentials_ref,
        poll_interval_minutes=body.poll_interval_minutes,
        vendor_tenant_ids=_unique(body.vendor_tenant_ids),
        webhook_auth=body.webhook_auth.value,
        webhook_auth_header=body.webhook_auth_header,
    )
    session.add(row)
    session.flush()
    session.add(
        audit_event(
            principal,
            row.tenant_id,
            "soc_integration",
            row.id,
            "created",
            {
                "source": row.source,
                "name": row.name,
                "webhook_auth": row.webhook_auth,
                "vendor_tenant_ids": row.vendor_tenant_ids,
            },
        )
    )
    session.commit()
    if is_pollable(row.source, row.credentials_ref):
        schedule = await _sync_schedule(session, row, temporal)
    else:  # webhook only: a new integration has no schedule to create or pause
        schedule = PollSchedule(status=ScheduleStatus.NONE)
    return _public(row, settings.public_base_url, IntegrationCreated, webhook_secret=secret, poll_schedule=schedule)


@router.get("/soc/integrations", response_model=Page[IntegrationPublic], summary="Integrations (MSP staff)")
def list_integrations(
    principal: MspStaff, session: SessionDep, page: PageDep, settings: SettingsDep, tenant_id: UUID | None = None
):
    query = select(SocIntegration).order_by(SocIntegration.created_at, SocIntegration.id)
    if tenant_id:
        query = query.where(SocIntegration.tenant_id == tenant_id)
    return paginate(session, query, page, lambda row: _public(row, settings.public_base_url))


@router.get("/soc/integrations/{integration_id}", response_model=IntegrationPublic)
def get_integration(integration_id: UUID, principal: MspStaff, session: SessionDep, settings: SettingsDep):
    return _public(_integration(session, integration_id, principal), settings.public_base_url)


@router.patch(
    "/soc/integrations/{integration_id}",
    response_model=IntegrationSaved,
    summary="Change an integration (MSP admins); the poll schedule follows (paused while inactive)",
)
async def update_integration(
    integration_id: UUID,
    body: IntegrationUpdate,
    principal: MspAdmin,
    session: SessionDep,
    temporal: OptionalTemporal,
    settings: SettingsDep,
):
    row = _integration(session, integration_id, principal)
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"field_mapping"})
    if "vendor_tenant_ids" in changes:
        changes["vendor_tenant_ids"] = _unique(changes["vendor_tenant_ids"])
    if "field_mapping" in body.model_fields_set:  # stored whole, defaults included, exactly as on create
        changes["field_mapping"] = body.field_mapping.model_dump() if body.field_mapping else None
    _check_poll_interval(body.poll_interval_minutes, row.source, changes.get("credentials_ref", row.credentials_ref))
    apply_patch(session, principal, row.tenant_id, "soc_integration", row, changes)
    session.commit()
    schedule = await _sync_schedule(session, row, temporal)
    return _public(row, settings.public_base_url, IntegrationSaved, poll_schedule=schedule)


@router.post(
    "/soc/integrations/{integration_id}/rotate-secret",
    response_model=SecretRotated,
    summary="New webhook secret (MSP admins), shown once; the old one is accepted until the grace period ends",
    description="Deliveries signed with the new or the current secret verify until "
    "`DELETE .../previous-secret`; a second rotation replaces the previous secret.",
)
def rotate_secret(integration_id: UUID, principal: MspAdmin, session: SessionDep, settings: SettingsDep):
    row = _integration(session, integration_id, principal)
    replaced = row.previous_webhook_secret is not None
    secret = _new_secret(WebhookAuth(row.webhook_auth))
    row.previous_webhook_secret, row.webhook_secret = row.webhook_secret, secret
    session.add(row)
    session.add(
        audit_event(
            principal, row.tenant_id, "soc_integration", row.id, "secret_rotated", {"replaced_previous": replaced}
        )
    )
    return _public(row, settings.public_base_url, SecretRotated, webhook_secret=secret)


@router.delete(
    "/soc/integrations/{integration_id}/previous-secret",
    status_code=204,
    summary="End the rotation's grace period (MSP admins): the previous secret is refused from now on",
)
def revoke_previous_secret(integration_id: UUID, principal: MspAdmin, session: SessionDep) -> Response:
    row = _integration(session, integration_id, principal)
    if row.previous_webhook_secret is not None:  # idempotent: a second call changes and records nothing
        row.previous_webhook_secret = None
        session.add(row)
        session.add(audit_event(principal, row.tenant_id, "soc_integration", row.id, "previous_secret_revoked", {}))
    return Response(status_code=204)


def _settings_of(session: Session, row: SocIntegration, defaults: TriagePolicy) -> TriageSettingsPublic:
    override = TriageOverride.model_validate(row.triage_settings or {})
    of_integration = select(SocAlert.incident_key).where(SocAlert.integration_id == row.id)
    still_open = session.exec(
        select(func.count())
        .select_from(SocIncident)
        .where(SocIncident.status == "open", col(SocIncident.key).in_(of_integration))
    ).one()
    return TriageSettingsPublic(
        integration_id=row.id,
        override=override,
        effective=resolve_policy(defaults, override),
        open_incidents_unchanged=still_open,
    )


@triage_router.get(
    "/soc/integrations/{integration_id}/triage-settings",
    response_model=TriageSettingsPublic,
    summary="Triage settings of an integration: its overrides and the policy in force (MSP staff)",
)
def get_triage_settings(integration_id: UUID, principal: MspStaff, session: SessionDep, settings: SettingsDep):
    return _settings_of(session, _integration(session, integration_id, principal), hub_defaults(settings))


@triage_router.patch(
    "/soc/integrations/{integration_id}/triage-settings",
    response_model=TriageSettingsPublic,
    summary="Change an integration's triage overrides (MSP admins); null removes an override",
    description="Applies to incidents that start afterwards; a running incident keeps the policy it started with "
    "(the answer's `open_incidents_unchanged` counts them).",
)
def patch_triage_settings(
    integration_id: UUID, body: TriageOverride, principal: MspAdmin, session: SessionDep, settings: SettingsDep
):
    row = _integration(session, integration_id, principal)
    merged: dict[str, Any] = dict(row.triage_settings or {})
    merged.update(body.model_dump(mode="json", exclude_unset=True))
    merged = {k: v for k, v in merged.items() if v is not None}
    TriageOverride.model_validate(merged)  # each part was valid; so is the whole
    row.triage_settings = merged or None
    session.add(row)
    session.add(
        audit_event(principal, row.tenant_id, "soc_integration", row.id, "triage_settings_changed", {"set": merged})
    )
    return _settings_of(session, row, hub_defaults(settings))
