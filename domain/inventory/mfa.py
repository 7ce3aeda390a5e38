"""MFA registration of a Microsoft 365 tenant's users, as counts: from Graph's userRegistrationDetails report (Microsoft
Graph v1.0 reference, resource type userRegistrationDetails: `userType` is `member` or `guest`, `isMfaRegistered` a
boolean). Pure: no I/O.

Counted over members only: guests sign in with their home tenant's MFA, which this report does not show."""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

MEMBER = "member"


class MfaFormatError(ValueError):
    """A userRegistrationDetails object the hub cannot count."""


class MfaUnavailable(StrEnum):
    """Why a tenant's MFA coverage was not measured (the KPI is "k. A." with this reason)."""

    NO_LICENCE = "no_licence"  # 403: the tenant has no Microsoft Entra ID P1/P2
    FORBIDDEN = "forbidden"  # 403: the app lacks AuditLog.Read.All or its admin consent
    UNREADABLE = "unreadable"  # the report's answer could not be counted


class MfaCoverage(BaseModel):
    """Members (userType member) and those of them registered for MFA; or, when not measured, why not."""

    members: int = 0
    registered: int = 0
    unavailable: MfaUnavailable | None = None

    @property
    def without_mfa(self) -> int:
        return self.members - self.registered


def mfa_coverage(users: list[Any]) -> MfaCoverage:
    """The counts over every userRegistrationDetails of the report (all pages)."""
    counts = MfaCoverage()
    for raw in users:
        if not isinstance(raw, dict):
            raise MfaFormatError("a userRegistrationDetails is not an object")
        user_type = raw.get("userType")
        if not isinstance(user_type, str):
            raise MfaFormatError(f"user {raw.get('id')!r}: userType is missing")
        if user_type.lower() != MEMBER:  # guest (or a value Graph adds later): not the customer's own account
            continue
        registered = raw.get("isMfaRegistered")
        if not isinstance(registered, bool):
            raise MfaFormatError(f"user {raw.get('id')!r}: isMfaRegistered is not a boolean: {registered!r}")
        counts.members += 1
        counts.registered += registered
    return counts
