"""Credentials of an inventory source, from configuration: never from a request or the database (as for SOC
integrations, activities/soc/polling.py). `InventorySource.credentials_ref` names them; the activity reads
(``<REF>``: the ref upper-cased, every run of other characters than A-Z and 0-9 replaced by ``_``):

* Datto RMM: ``PSA_INVENTORY_CREDENTIALS__<REF>__API_KEY`` and ``..._API_SECRET`` (Setup > Global Settings >
  API in Datto RMM, per API user: one pair usually serves every customer of the MSP's account);
* N-able N-central: ``PSA_INVENTORY_CREDENTIALS__<REF>__API_TOKEN``, the user-API token (JWT) of an API-only user
  (N-able's "Set up N-central REST API access": create the API-only user, generate its JWT), whose role may read
  devices and whose access groups cover the customers;
* Microsoft 365: ``PSA_INVENTORY_CREDENTIALS__<REF>__CLIENT_ID`` and ``..._CLIENT_SECRET`` of an app registration
  with the application permission LicenseAssignment.Read.All, consented in the customer's tenant (a multi-tenant
  app of the MSP serves every customer; the tenant itself is the source's setting).

Missing values fail the sync of that source at once (non-retryable): a retry cannot help until someone sets them."""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from temporalio.exceptions import ApplicationError

from domain.contracts.inventory import InventorySourceKind

ENV_PREFIX = "PSA_INVENTORY_CREDENTIALS__"
KEYS = {
    InventorySourceKind.DATTO_RMM: ("API_KEY", "API_SECRET"),
    InventorySourceKind.NCENTRAL: ("API_TOKEN",),
    InventorySourceKind.M365: ("CLIENT_ID", "CLIENT_SECRET"),
}


@dataclass(frozen=True)
class SourceCredentials:
    user: str  # Datto API key / Entra client id; empty for N-central (a token alone)
    secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"SourceCredentials(user={self.user!r})"


def env_name(ref: str, key: str) -> str:
    slug = re.sub(r"[^A-Z0-9]+", "_", ref.upper()).strip("_")
    return f"{ENV_PREFIX}{slug}__{key}"


def resolve_credentials(
    ref: str, kind: InventorySourceKind, environ: Mapping[str, str] | None = None
) -> SourceCredentials:
    env = os.environ if environ is None else environ
    names = [env_name(ref, key) for key in KEYS[kind]]
    values = [(env.get(name) or "").strip() for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise ApplicationError(
            f"credentials {ref!r} for {kind.value} are not configured: set {', '.join(missing)}",
            type="MissingCredentials",
            non_retryable=True,
        )
    return SourceCredentials(values[0], values[1]) if len(values) == 2 else SourceCredentials("", values[0])


def credential_hint(ref: str, kind: InventorySourceKind) -> str:
    return "check " + " and ".join(env_name(ref, key) for key in KEYS[kind])
