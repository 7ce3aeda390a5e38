"""The MFA part of the Microsoft 365 sync: Graph's userRegistrationDetails report counted (domain/inventory/mfa.py).

A report Graph refuses (403: no Entra ID P1/P2, or no AuditLog.Read.All) or answers with something the hub cannot
count is recorded as the reason the KPI is "k. A."; it never fails the licence sync. Errors worth a retry (429, 5xx,
network) are raised, so the activity's retry policy applies as for the SKUs."""

from connectors.http import VendorRequestError, VendorResponseError
from connectors.msgraph import MfaReportRefused, MsGraphClient
from domain.inventory.mfa import MfaCoverage, MfaFormatError, MfaUnavailable, mfa_coverage
from hub.logging import get_logger

log = get_logger(__name__)


async def read_mfa(graph: MsGraphClient) -> MfaCoverage:
    try:
        return mfa_coverage(await graph.user_registration_details())
    except MfaReportRefused as exc:
        reason = MfaUnavailable.NO_LICENCE if exc.licence_missing else MfaUnavailable.FORBIDDEN
        log.warning("inventory mfa report refused", tenant=graph.tenant, reason=reason.value, error=str(exc))
        return MfaCoverage(unavailable=reason)
    except (MfaFormatError, VendorResponseError, VendorRequestError) as exc:
        log.warning("inventory mfa report unreadable", tenant=graph.tenant, error=str(exc))
        return MfaCoverage(unavailable=MfaUnavailable.UNREADABLE)
