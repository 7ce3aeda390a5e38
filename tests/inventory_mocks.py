"""Datto RMM, N-able N-central and Microsoft Graph as respx routes answering with the spec-shaped payloads in
tests/fixtures/inventory/ (used by the connector, activity, workflow tests and the history recorder)."""

import json
from pathlib import Path
from typing import Any

import httpx
import respx

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"
DATTO = "https://merlot-api.centrastage.net"
SITE = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
DEVICES_URL = f"{DATTO}/api/v2/site/{SITE}/devices"
M365_TENANT = "contoso.onmicrosoft.com"
TOKEN_URL = f"https://login.microsoftonline.com/{M365_TENANT}/oauth2/v2.0/token"
SKUS_URL = "https://graph.microsoft.com/v1.0/subscribedSkus"
MFA_URL = "https://graph.microsoft.com/v1.0/reports/authenticationMethods/userRegistrationDetails"
# The two pages of graph_user_registration_details_page*.json by hand: 5 members (4 registered for MFA), 2 guests.
MFA_MEMBERS, MFA_REGISTERED = 5, 4
DATTO_UIDS = ("0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
              "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e")  # fmt: skip


NCENTRAL = "https://ncentral.muster-it.example"
ORG_UNIT = 1234
NCENTRAL_DEVICES_URL = f"{NCENTRAL}/api/org-units/{ORG_UNIT}/devices"
NCENTRAL_JWT = "eyJhbGciOiJIUzUxMiJ9.ncentral-user-api-token-DO-NOT-LEAK"
NCENTRAL_UIDS = ("ncentral:1187654321", "ncentral:1187654322", "ncentral:1187654323")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def datto_pages(router: respx.MockRouter, base: str = DATTO, site: str = SITE) -> None:
    """Token, then page 0 pointing to page 1 (its nextPageUrl), page 1 the last."""
    router.post(f"{base}/auth/oauth/token").mock(return_value=httpx.Response(200, json=fixture("datto_token.json")))
    devices = f"{base}/api/v2/site/{site}/devices"
    router.get(devices, params={"page": "0"}).mock(
        return_value=httpx.Response(200, json=fixture("datto_site_devices_page1.json"))
    )
    router.get(devices, params={"page": "1"}).mock(
        return_value=httpx.Response(200, json=fixture("datto_site_devices_page2.json"))
    )


def ncentral_pages(router: respx.MockRouter, base: str = NCENTRAL, org_unit: int = ORG_UNIT) -> respx.Route:
    """The JWT exchange, then the org unit's devices by pageNumber (page 1: two devices, page 2: the third; each
    says totalItems 3). Returns the devices route."""
    router.post(f"{base}/api/auth/authenticate").mock(
        return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json"))
    )

    def page(request: httpx.Request) -> httpx.Response:
        number = request.url.params.get("pageNumber")
        if number in ("1", "2"):
            return httpx.Response(200, json=fixture(f"ncentral_org_unit_devices_page{number}.json"))
        return httpx.Response(200, json={"data": [], "pageNumber": int(number or 0), "totalItems": 3})

    return router.get(f"{base}/api/org-units/{org_unit}/devices").mock(side_effect=page)


def graph_skus(router: respx.MockRouter, tenant: str = M365_TENANT) -> None:
    router.post(f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token").mock(
        return_value=httpx.Response(200, json=fixture("graph_token.json"))
    )
    router.get(SKUS_URL).mock(return_value=httpx.Response(200, json=fixture("graph_subscribed_skus.json")))
    graph_mfa(router)


def graph_mfa(router: respx.MockRouter) -> respx.Route:
    """The MFA report in two pages: the first's @odata.nextLink (a $skiptoken) leads to the second."""

    def page(request: httpx.Request) -> httpx.Response:
        n = 2 if "$skiptoken" in request.url.params else 1
        return httpx.Response(200, json=fixture(f"graph_user_registration_details_page{n}.json"))

    return router.get(MFA_URL).mock(side_effect=page)


def credentials(monkeypatch, ref: str = "msp") -> dict[str, str]:  # noqa: ANN001
    slug = ref.upper().replace("-", "_")
    values = {
        f"PSA_INVENTORY_CREDENTIALS__{slug}__API_KEY": "datto-key-DO-NOT-LEAK",
        f"PSA_INVENTORY_CREDENTIALS__{slug}__API_SECRET": "datto-secret-DO-NOT-LEAK",
        f"PSA_INVENTORY_CREDENTIALS__{slug}__CLIENT_ID": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
        f"PSA_INVENTORY_CREDENTIALS__{slug}__CLIENT_SECRET": "graph-secret-DO-NOT-LEAK",
        f"PSA_INVENTORY_CREDENTIALS__{slug}__API_TOKEN": NCENTRAL_JWT,
    }
    for name, value in values.items():
        if monkeypatch is not None:
            monkeypatch.setenv(name, value)
    return values
