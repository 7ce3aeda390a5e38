"""Microsoft Graph: a customer tenant's subscribed SKUs (Microsoft 365 licences) and its users' MFA registration.

Token: client credentials at `POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` (form
`client_id`, `client_secret`, `scope=https://graph.microsoft.com/.default`, `grant_type=client_credentials`); the
app needs the application permission LicenseAssignment.Read.All (or Organization.Read.All). SKUs:
`GET https://graph.microsoft.com/v1.0/subscribedSkus`, a `value` list; Graph documents no paging for it, an
`@odata.nextLink` is followed anyway (Graph's convention), only on the Graph host.

MFA: `GET https://graph.microsoft.com/v1.0/reports/authenticationMethods/userRegistrationDetails` (Microsoft Graph
v1.0 reference, "List userRegistrationDetails"): a `value` list of userRegistrationDetails (`id`, `userType` member or
guest, `isAdmin`, `isMfaRegistered`, `isMfaCapable`, ...), paged by `@odata.nextLink`; only `$filter` and `$orderBy`
are supported (no `$select`). It needs the application permission AuditLog.Read.All and a Microsoft Entra ID P1/P2
licence in the tenant: without the licence Graph answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`,
without the permission 403 `Authorization_RequestDenied`; both are `MfaReportRefused`.

A refused token (400 `invalid_client`/`unauthorized_client`, 401) and 401/403 of Graph are `VendorAuthError`s; 429
and 5xx are retryable (connectors/http.py). SKUs and users come back raw.
"""

from typing import Any
from urllib.parse import quote

import httpx

from connectors.http import (
    USER_AGENT,
    HttpClientOwner,
    VendorAuthError,
    VendorRequestError,
    VendorResponseError,
    describe,
    request_json,
)

VENDOR = "Microsoft Graph"
LOGIN_URL = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com"
SCOPE = "https://graph.microsoft.com/.default"
SKU_FIELDS = "skuId,skuPartNumber,capabilityStatus,consumedUnits,prepaidUnits"
MAX_PAGES = 50
MFA_REPORT = "/v1.0/reports/authenticationMethods/userRegistrationDetails"
MAX_USER_PAGES = 500  # a bound against a paging loop, far above the pages of the tenants an MSP looks after
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


class MfaReportRefused(VendorAuthError):
    """Graph refused the MFA registration report (403): `licence_missing` when the tenant has no Entra ID P1/P2,
    else the app lacks AuditLog.Read.All (or its admin consent)."""

    def __init__(self, message: str, *, licence_missing: bool):
        super().__init__(message, status_code=403)
        self.licence_missing = licence_missing


class MsGraphClient(HttpClientOwner):
    def __init__(
        self,
        tenant: str,
        client_id: str,
        client_secret: str,
        *,
        login_url: str = LOGIN_URL,
        graph_url: str = GRAPH_URL,
        client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ):
        if not tenant or not client_id or not client_secret:
            raise ValueError("Microsoft 365 tenant, client id or client secret is empty")
        self.tenant, self.client_id = tenant, client_id
        self._secret = client_secret
        self.login_url, self.graph_url = login_url.rstrip("/"), graph_url.rstrip("/")
        self._token: str | None = None
        self._timeout = timeout
        self._init_http(client, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"MsGraphClient(tenant={self.tenant!r}, client_id={self.client_id!r})"

    @property
    def _secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._secret, self._token) if s)

    async def token(self) -> str:
        if self._token is not None:
            return self._token
        url = f"{self.login_url}/{quote(self.tenant, safe='')}/oauth2/v2.0/token"
        form = {"client_id": self.client_id, "client_secret": self._secret, "scope": SCOPE,
                "grant_type": "client_credentials"}  # fmt: skip
        try:
            body = await request_json(self._http, "POST", url, vendor=VENDOR, timeout=self._timeout,
                                      secrets=self._secrets, data=form,
                                      headers={"Accept": "application/json", "User-Agent": USER_AGENT})  # fmt: skip
        except VendorRequestError as exc:
            if exc.status_code == 400:  # invalid_client, unauthorized_client, an unknown tenant
                raise VendorAuthError(str(exc), status_code=400) from exc
            raise
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorResponseError(f"{describe(VENDOR, 'POST', url)}: the answer has no access_token")
        self._token = token
        return token

    async def subscribed_skus(self) -> list[dict[str, Any]]:
        return await self._collect(f"{self.graph_url}/v1.0/subscribedSkus?$select={SKU_FIELDS}", "SKUs", MAX_PAGES)

    async def user_registration_details(self) -> list[dict[str, Any]]:
        """Every user's MFA registration state (members and guests), all pages; `MfaReportRefused` on a 403."""
        try:
            return await self._collect(f"{self.graph_url}{MFA_REPORT}", "users", MAX_USER_PAGES)
        except VendorAuthError as exc:
            if exc.status_code != 403:
                raise
            raise MfaReportRefused(str(exc), licence_missing=NON_PREMIUM in str(exc)) from exc

    async def _collect(self, url: str | None, what: str, max_pages: int) -> list[dict[str, Any]]:
        """The `value` items of every page, following `@odata.nextLink` on the Graph host only."""
        items: list[dict[str, Any]] = []
        for _ in range(max_pages):
            if url is None:
                return items
            headers = {"Authorization": f"Bearer {await self.token()}", "Accept": "application/json",
                       "User-Agent": USER_AGENT}  # fmt: skip
            body = await request_json(self._http, "GET", url, vendor=VENDOR, timeout=self._timeout,
                                      secrets=self._secrets, headers=headers)  # fmt: skip
            where = describe(VENDOR, "GET", url)
            value = body.get("value") if isinstance(body, dict) else None
            if not isinstance(value, list):
                raise VendorResponseError(f"{where}: the answer has no 'value' list")
            items += value
            following = body.get("@odata.nextLink")
            if following is not None and (
                not isinstance(following, str) or httpx.URL(following).host != httpx.URL(self.graph_url).host
            ):
                raise VendorResponseError(f"{where}: @odata.nextLink {following!r} is not on {self.graph_url}")
            url = following
        raise VendorResponseError(f"{describe(VENDOR, 'GET', self.graph_url)}: more than {max_pages} pages of {what}")
