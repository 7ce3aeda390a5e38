"""Inventory sources of a customer (its Datto RMM sites or N-central organisation units, its Microsoft 365 tenant):
created and changed by MSP admins, read by MSP staff; a sync of one customer now; the daily health snapshots and the
licences (customers read their own).

Credentials never pass through the API: `credentials_ref` names them in the hub's configuration
(`PSA_INVENTORY_CREDENTIALS__<REF>__...`, activities/inventory/credentials.py), as for SOC integrations. So nothing
secret is stored in the database or can be returned."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, HttpUrl, field_validator, model_validator
from sqlmodel import Session, col, select

from api.crud import apply_patch
from api.deps import CurrentUser, MspAdmin, MspStaff, Principal, SessionDep, TemporalDep, get_scoped
from api.pagination import Page, PageDep, paginate
from api.problems import Problem, not_found
from api.schemas.common import Body, audit_event, field_error, not_null, text
from domain.contracts.inventory import RMM_KINDS, InventorySourceKind, InventorySyncInput
from domain.inventory.health import HealthCounts
from domain.inventory.sources import DATTO_PLATFORMS as PLATFORMS
from domain.inventory.sources import datto_platform_url as platform_url
from hub.temporal.inventory import start_inventory_sync
from models import HealthSnapshot, InventorySource, Licence, Tenant

router = APIRouter(prefix="/inventory", tags=["inventory"])

SiteUid = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")]
CredentialsRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Name of the credentials in the configuration: PSA_INVENTORY_CREDENTIALS__<REF>__API_KEY and "
        "__API_SECRET (Datto RMM), __API_TOKEN (N-central: the API user's JWT) or __CLIENT_ID and __CLIENT_SECRET "
        "(Microsoft 365)",
    ),
]
M365Tenant = Annotated[
    str,
    Field(
        min_length=3,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$",
        description="The customer's Microsoft Entra tenant: its id (GUID) or a domain such as contoso.onmicrosoft.com",
    ),
]


class DattoSettings(BaseModel):
    platform: str | None = Field(default=None, description=f"Datto RMM platform: {', '.join(PLATFORMS)}")
    base_url: HttpUrl | None = Field(default=None, description="Instead of platform: the API's base URL (https)")
    site_uids: list[SiteUid] = Field(min_length=1, max_length=50, description="The customer's site uids")

    @model_validator(mode="after")
    def _one_base(self) -> "DattoSettings":
        if (self.platform is None) == (self.base_url is None):
            raise ValueError("give either platform or base_url")
        if self.platform is not None and self.platform not in PLATFORMS:
            raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}")
        if self.base_url is not None and self.base_url.scheme != "https":
            raise ValueError("base_url must be https")
        return self

    def stored(self) -> dict[str, Any]:
        base = platform_url(self.platform) if self.platform else str(self.base_url).rstrip("/")
        return {"base_url": base, "site_uids": list(dict.fromkeys(self.site_uids))}


class NcentralSettings(BaseModel):
    server_url: HttpUrl = Field(description="The N-central server (https), e.g. https://ncentral.example.com")
    org_unit_ids: list[Annotated[int, Field(ge=1)]] = Field(
        min_length=1, max_length=50, description="The customer's organisation unit ids: its customer id or site ids"
    )

    @field_validator("server_url")
    @classmethod
    def _https(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            raise ValueError("server_url must be https")
        if value.query or value.fragment or value.username or value.password:
            raise ValueError("server_url is the server's address only (no user, query or fragment)")
        return value

    def stored(self) -> dict[str, Any]:
        return {"server_url": str(self.server_url).rstrip("/"), "org_unit_ids": list(dict.fromkeys(self.org_unit_ids))}


class M365Settings(BaseModel):
    tenant: M365Tenant

    def stored(self) -> dict[str, Any]:
        return {"tenant": self.tenant}


def _stored(kind: InventorySourceKind, body: "SourceCreate | SourceUpdate") -> dict[str, Any]:
    """The settings of the source's kind; any other kind's settings in the same body are an error."""
    given = {k: getattr(body, k.value) for k in InventorySourceKind if getattr(body, k.value) is not None}
    others = sorted(k.value for k in given if k != kind)
    if kind not in given or others:
        extra = f" (and no {', '.join(others)})" if others else ""
        raise field_error(kind.value, f"a {kind.value} source needs {kind.value} settings{extra}")
    return given[kind].stored()


class SourceCreate(Body):
    tenant_id: UUID
    kind: InventorySourceKind
    name: text(100)
    credentials_ref: CredentialsRef
    datto_rmm: DattoSettings | None = None
    ncentral: NcentralSettings | None = None
    m365: M365Settings | None = None
    is_active: bool = True


class SourceUpdate(Body):
    """Omitted fields stay; the settings of the source's kind are replaced whole."""

    name: text(100) | None = None
    credentials_ref: CredentialsRef | None = None
    datto_rmm: DattoSettings | None = None
    ncentral: NcentralSettings | None = None
    m365: M365Settings | None = None
    is_active: bool | None = Field(default=None, description="false: the daily sync leaves the source out")

    _required = field_validator("name", "credentials_ref", "is_active")(not_null)


class SourcePublic(BaseModel):
    id: UUID
    tenant_id: UUID
    kind: InventorySourceKind
    name: str
    settings: dict[str, Any] = Field(description="datto_rmm: base_url, site_uids; ncentral: server_url, org_unit_ids; "
                                     "m365: tenant")  # fmt: skip
    credentials_ref: str
    is_active: bool
    last_sync_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = Field(description="The last sync's error (null after a success)")
    last_result: dict[str, Any] | None = Field(description="What the last successful sync changed")
    created_at: datetime


class SyncRequest(Body):
    tenant_id: UUID


class SyncStarted(BaseModel):
    workflow_id: str
    customer_number: str


class LicencePublic(BaseModel):
    id: UUID
    tenant_id: UUID
    vendor: str
    product: str
    sku: str | None
    quantity: int = Field(description="Licences purchased (Microsoft 365: prepaidUnits.enabled)")
    assigned: int = Field(description="Licences assigned (Microsoft 365: consumedUnits)")
    capability_status: str | None = Field(description="Microsoft 365: Enabled, Warning, Suspended, Deleted, ...")
    synced_at: datetime | None = Field(description="When the inventory sync last saw it; null: entered otherwise")


class SnapshotPublic(BaseModel):
    tenant_id: UUID
    day: date
    taken_at: datetime
    counts: HealthCounts


def _public(row: InventorySource) -> SourcePublic:
    return SourcePublic.model_validate(row, from_attributes=True)


def _source(session: Session, source_id: UUID, principal: Principal) -> InventorySource:
    return get_scoped(session, InventorySource, source_id, principal, "inventory source")


def _check_unique(session: Session, tenant_id: UUID, kind: InventorySourceKind) -> None:
    """One source per kind, and one RMM (each RMM marks the devices it does not list as gone: two would fight)."""
    kinds = sorted(k.value for k in RMM_KINDS) if kind in RMM_KINDS else [kind.value]
    clash = session.exec(
        select(InventorySource.id, InventorySource.kind)
        .where(InventorySource.tenant_id == tenant_id, col(InventorySource.kind).in_(kinds))
    ).first()  # fmt: skip
    if clash is not None:
        if clash.kind == kind.value:
            raise Problem(409, f"the tenant already has a {kind.value} source ({clash.id}): change that one")
        raise Problem(409, f"the tenant already has an RMM source ({clash.kind}, {clash.id}): one RMM per customer; "
                           "deactivate and delete that one first")  # fmt: skip


@router.post("/sources", status_code=201, response_model=SourcePublic,
             summary="Connect a customer's Datto RMM sites, N-central organisation units or Microsoft 365 tenant "
                     "(MSP admins)")  # fmt: skip
def create_source(body: SourceCreate, principal: MspAdmin, session: SessionDep):
    if session.get(Tenant, body.tenant_id) is None:
        raise field_error("tenant_id", f"no tenant {body.tenant_id}")
    settings = _stored(body.kind, body)
    _check_unique(session, body.tenant_id, body.kind)
    row = InventorySource(tenant_id=body.tenant_id, kind=body.kind.value, name=body.name, settings=settings,
                          credentials_ref=body.credentials_ref, is_active=body.is_active)  # fmt: skip
    session.add(row)
    session.flush()
    data = {"kind": row.kind, "name": row.name, "settings": settings, "credentials_ref": row.credentials_ref}
    session.add(audit_event(principal, row.tenant_id, "inventory_source", row.id, "created", data))
    session.flush()
    return _public(row)


@router.get("/sources", response_model=Page[SourcePublic], summary="Inventory sources (MSP staff)")
def list_sources(principal: MspStaff, session: SessionDep, page: PageDep, tenant_id: UUID | None = None):
    query = select(InventorySource).order_by(col(InventorySource.created_at), col(InventorySource.id))
    if tenant_id is not None:
        query = query.where(InventorySource.tenant_id == tenant_id)
    return paginate(session, query, page, _public)


@router.get("/sources/{source_id}", response_model=SourcePublic, summary="One inventory source (MSP staff)")
def get_source(source_id: UUID, principal: MspStaff, session: SessionDep):
    return _public(_source(session, source_id, principal))


@router.patch("/sources/{source_id}", response_model=SourcePublic, summary="Change an inventory source (MSP admins)")
def update_source(source_id: UUID, body: SourceUpdate, principal: MspAdmin, session: SessionDep):
    row = _source(session, source_id, principal)
    sent = body.model_fields_set
    changes: dict[str, Any] = {name: getattr(body, name) for name in ("name", "credentials_ref", "is_active")
                               if name in sent}  # fmt: skip
    if sent & {k.value for k in InventorySourceKind}:
        changes["settings"] = _stored(InventorySourceKind(row.kind), body)
    apply_patch(session, principal, row.tenant_id, "inventory_source", row, changes)
    return _public(row)


@router.delete("/sources/{source_id}", status_code=204, response_class=Response,
               summary="Remove an inventory source (MSP admins); synced assets and licences stay")  # fmt: skip
def delete_source(source_id: UUID, principal: MspAdmin, session: SessionDep) -> Response:
    row = _source(session, source_id, principal)
    session.add(audit_event(principal, row.tenant_id, "inventory_source", row.id, "deleted",
                            {"kind": row.kind, "name": row.name}))  # fmt: skip
    session.delete(row)
    session.flush()
    return Response(status_code=204)


@router.post("/syncs", status_code=202, response_model=SyncStarted,
             summary="Sync one customer's inventory now (MSP staff); attaches to its sync still running")  # fmt: skip
async def start_sync(body: SyncRequest, principal: MspStaff, session: SessionDep, client: TemporalDep):
    tenant = session.get(Tenant, body.tenant_id)
    if tenant is None:
        raise not_found("tenant", body.tenant_id)
    number = tenant.customer_number
    session.rollback()  # nothing to write here: no read transaction held across the start
    inp = InventorySyncInput(tenant_id=body.tenant_id, customer_number=number)
    workflow_id = await start_inventory_sync(client, inp)
    return SyncStarted(workflow_id=workflow_id, customer_number=number)


@router.get("/health", response_model=Page[SnapshotPublic],
            summary="Daily device health snapshots, newest first (customers: their own)")  # fmt: skip
def list_snapshots(
    principal: CurrentUser,
    session: SessionDep,
    page: PageDep,
    tenant_id: UUID | None = None,
    since: Annotated[date | None, Query(description="From this day on")] = None,
):
    query = select(HealthSnapshot).order_by(col(HealthSnapshot.day).desc(), col(HealthSnapshot.tenant_id))
    if not principal.is_msp:
        query = query.where(HealthSnapshot.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(HealthSnapshot.tenant_id == tenant_id)
    if since is not None:
        query = query.where(col(HealthSnapshot.day) >= since)
    return paginate(session, query, page, lambda row: SnapshotPublic.model_validate(row, from_attributes=True))


@router.get("/licences", response_model=Page[LicencePublic],
            summary="Software licences with purchased and assigned counts (customers: their own)")  # fmt: skip
def list_licences(principal: CurrentUser, session: SessionDep, page: PageDep, tenant_id: UUID | None = None):
    query = select(Licence).order_by(col(Licence.tenant_id), col(Licence.vendor), col(Licence.sku), col(Licence.id))
    if not principal.is_msp:
        query = query.where(Licence.tenant_id == principal.tenant_id)
    if tenant_id is not None:
        query = query.where(Licence.tenant_id == tenant_id)
    return paginate(session, query, page, lambda row: LicencePublic.model_validate(row, from_attributes=True))
