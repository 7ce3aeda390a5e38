"""Which customer an alert belongs to: the vendor site or account it names must be one of its integration's.

An MSP's SentinelOne account holds all its customers as sites, a RocketCyber provider key sees every customer
account, a Barracuda XDR or SOAR sender may forward any customer's alarms: the integration a delivery arrives at
does not prove whose data it carries. Each integration lists the vendor's ids of its customer
(`SocIntegration.vendor_tenant_ids`); an alert that names another id, or any id while the list is empty, is refused
for that integration, never filed under its customer. An alert that names no vendor tenant at all (a sender with
one customer per integration, e.g. a generic tool without tenants) is taken when the list is empty, refused when
the integration expects ids. Pure: used by the webhook and, later, by the poller.
"""

from collections.abc import Iterable

from domain.soc.alerts import NormalizedAlert

# The words people know per source, for the refusal's message.
_WHAT = {
    "sentinelone": "SentinelOne site",
    "rocketcyber": "RocketCyber account",
    "barracuda_xdr": "Barracuda XDR customer",
    "generic": "tenant",
}


def allowed_ids(configured: Iterable[str] | None) -> frozenset[str]:
    """The configured ids, stripped, empty ones dropped."""
    return frozenset(x.strip() for x in configured or () if x and x.strip())


def site_refusal(alert: NormalizedAlert, allowed: frozenset[str]) -> str | None:
    """None when the alert may be filed under the integration's customer, else why not (for people)."""
    what = _WHAT.get(alert.source.value, "vendor tenant")
    site = alert.vendor_tenant_id
    if site is None:
        if not allowed:
            return None
        return f"the alert names no {what}; this integration takes only {', '.join(sorted(allowed))}"
    name = f" ({alert.vendor_tenant_name})" if alert.vendor_tenant_name else ""
    if site in allowed:
        return None
    if not allowed:
        # Every integration created before the site mapping existed is in this state after an upgrade: say what to do.
        return (
            f"{what} {site}{name} is not mapped to this integration's customer: the integration lists no "
            f"vendor_tenant_ids yet (integrations created before the site mapping have none). If the {what} is this "
            f"customer's, add it with PATCH /api/v1/soc/integrations/{alert.integration_id} "
            f'{{"vendor_tenant_ids": ["{site}"]}} and release the quarantined alerts '
            "(POST /api/v1/soc/quarantine/{id}/release); until then its alerts are kept in the quarantine"
        )
    return (
        f"{what} {site}{name} is not mapped to this integration's customer (mapped: {', '.join(sorted(allowed))}); "
        "it may be another customer's"
    )
