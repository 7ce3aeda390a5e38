"""Request and response bodies of the asset routes."""

import ipaddress
import re
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from api.schemas.common import Body, ShortText, not_null, text
from models import AssetType

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DNS_CHARACTERS = re.compile(r"^[A-Za-z0-9.-]+$")
# No operating system allows these in a computer name (Windows refuses all, macOS the colon); control characters
# and U+2028/2029 would break every list the name appears in; a lone surrogate no database driver can encode.
_NOT_IN_COMPUTER_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]')
MAX_TAGS = 20
AGENT_UUID = re.compile(r"^[0-9A-Za-z-]{8,100}$")


def check_hostname(value: str) -> str:
    """A host name as the device reports it. One made of letters, digits, hyphens and dots is a DNS host name
    (RFC 1123 labels of 1-63 characters without a hyphen at either end), lower-cased; any other is a computer name
    as operating systems show it ("arvchristos MacBook Pro", "Jane’s iMac", "PC_01"), kept as given without the
    blanks around it. Up to 253 characters either way."""
    stripped = value.strip()
    if _DNS_CHARACTERS.match(stripped):
        name = stripped.lower().removesuffix(".")
        if not name or len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
            raise ValueError(
                f"{value!r} is not a valid host name (letters, digits, hyphens and dots, "
                "labels of 1-63 characters that do not start or end with a hyphen)"
            )
        return name
    if not stripped or len(stripped) > 253:
        raise ValueError(f"{value!r} is not a valid host name: 1 to 253 characters")
    if bad := _NOT_IN_COMPUTER_NAMES.search(stripped):
        raise ValueError(f"{value!r} is not a valid host name: no computer name contains {bad.group()!r}")
    return stripped


def check_agent_uuid(value: str) -> str:
    """The EDR agent's UUID (SentinelOne agentUuid), lower-cased: alerts name it in either case."""
    if not AGENT_UUID.match(value):
        raise ValueError(f"{value!r} is not an agent UUID (8-100 letters, digits and hyphens)")
    return value.lower()


def check_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


def unique_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Hostname = Annotated[str, StringConstraints(max_length=300), AfterValidator(check_hostname)]
AgentUuid = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(check_agent_uuid)]
AgentId = text(100)
IpAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=45), AfterValidator(check_ip)]
Tag = text(32)
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(unique_tags)]


class AssetBase(BaseModel):
    site_id: UUID | None = None
    hostname: str = Field(max_length=253)
    asset_type: AssetType
    os: str | None = Field(default=None, max_length=100)
    serial: str | None = Field(default=None, max_length=100)
    agent_uuid: str | None = Field(default=None, max_length=100)
    agent_id: str | None = Field(default=None, max_length=100)
    ip_address: str | None = Field(default=None, max_length=45)
    warranty_end: date | None = None
    tags: list[str] = Field(default_factory=list)


_HOSTNAME_DOC = 'As the device reports it: DNS name (srv-dc01.kunde.local) or computer name ("Jane MacBook Pro")'
_AGENT_UUID_DOC = "The EDR agent's UUID on this device (SentinelOne agentUuid): SOC alerts find the device by it first"
_AGENT_ID_DOC = "The EDR vendor's agent id (SentinelOne agentId)"
_IP_DOC = "The device's IP address: the last resort of SOC alerts' device lookup"


class AssetCreate(AssetBase, Body):
    tenant_id: UUID | None = Field(default=None, description="Required for MSP users; customers create for their own")
    hostname: Hostname = Field(description=_HOSTNAME_DOC)
    os: ShortText | None = None
    serial: ShortText | None = None
    agent_uuid: AgentUuid | None = Field(default=None, description=_AGENT_UUID_DOC)
    agent_id: AgentId | None = Field(default=None, description=_AGENT_ID_DOC)
    ip_address: IpAddress | None = Field(default=None, description=_IP_DOC)
    tags: Tags = Field(default_factory=list, description=f"Up to {MAX_TAGS} short labels")


class AssetUpdate(Body):
    site_id: UUID | None = None
    hostname: Hostname | None = None
    asset_type: AssetType | None = None
    os: ShortText | None = None
    serial: ShortText | None = None
    agent_uuid: AgentUuid | None = Field(default=None, description=_AGENT_UUID_DOC)
    agent_id: AgentId | None = Field(default=None, description=_AGENT_ID_DOC)
    ip_address: IpAddress | None = Field(default=None, description=_IP_DOC)
    warranty_end: date | None = None
    tags: Tags | None = None

    _required = field_validator("hostname", "asset_type", "tags")(not_null)


class AssetPublic(AssetBase):
    id: UUID
    tenant_id: UUID
    created_at: datetime
    # Read-only, from the inventory sync (Datto RMM or N-central): null for assets the RMM does not know, and for
    # what the RMM does not report (N-central: online, antivirus, patch, reboot).
    rmm_uid: str | None = None
    rmm_synced_at: datetime | None = None
    rmm_gone_at: datetime | None = Field(default=None, description="Since then the RMM no longer lists the device")
    online: bool | None = None
    last_seen: datetime | None = None
    antivirus_product: str | None = None
    antivirus_status: str | None = None
    patch_status: str | None = None
    reboot_required: bool | None = None
