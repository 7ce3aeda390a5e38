"""N-able N-central REST API: the devices of a customer's organisation units.

Where each piece comes from (public documentation, checked for this client):
* Authentication: "Set up N-central REST API access" (documentation.n-able.com/N-central/userguide/Content/REST_APIs/
  set-up-n-central-rest-api-access.htm): an API-only user's JWT ("User-API token") is exchanged at
  `POST {server}/api/auth/authenticate`, sent as `Authorization: Bearer <JWT>`, for an access and a refresh token
  (the example expires after 3600 s); every other call sends `Authorization: Bearer <access token>`.
* The endpoint list: "List of N-central REST APIs" (documentation.n-able.com/N-central/.../list-of-n-central-rest-apis
  .htm): the Authentication API (authenticate, "Auth Refresh", validation), the Devices API ("Get Device list",
  "Get Device by ID": device class, customer and site name), organisation units, service monitoring status.
* The answer shapes, as the public clients read them (Ruderali/npycentral, eagle00789/PS-NCentral-RESTAPI on
  GitHub): the token answer `{"tokens": {"access": {"token", "expirySeconds"}, "refresh": {"token", ...}}}`;
  `POST /api/auth/refresh` answers the same shape; lists answer `{"data": [...], "pageNumber", "pageSize",
  "totalItems", ...}` and page with the query parameters `pageNumber` (from 1) and `pageSize`; a device carries
  `deviceId` (a number), `longName`, `deviceClass`, `deviceClassLabel`, `supportedOs`, `supportedOsLabel`,
  `osId`, `customerId`, `customerName`, `siteId`, `orgUnitId`, `lastApplianceCheckinTime` (ISO-8601, UTC);
  `GET /api/devices/{deviceId}/service-monitor-status` answers `data` with `moduleName`, `stateStatus` (Normal,
  Warning, Failed, ...), `lastScanTime` per monitoring task.

Not verified (no public page states it; the client is written so that these do not matter or fail clearly):
* the body of `POST /api/auth/refresh`: the PowerShell module posts the bare refresh token, npycentral posts JSON
  `{"refresh_token": ...}`; this client posts the bare token and, when the refresh is refused, authenticates once
  more with the JWT before giving up;
* whether `/api/org-units/{orgUnitId}/devices` includes the devices of a customer's sites (the hub lists the org
  units it is given: a customer's id, or each of its site ids);
* `totalPages`/`itemCount` in a list answer, and whether the server caps `pageSize`: paging stops once `totalItems`
  devices were read (or, without `totalItems`, at a short page), and always at an empty page;
* the values of `deviceClass` (a free label such as "Workstations - Windows"; domain/inventory/ncentral.py
  matches words) and whether a device has an online flag: none is documented in the list, so the hub reads none;
* patch and antivirus state: the API has no field for either. Service monitoring gives per-task states, but which
  task is the patch or antivirus monitor depends on the MSP's service templates (module names are not documented
  as fixed values), so the hub does not read them: patch and antivirus stay unknown ("k. A." in the QBR);
* the rate limit: a 429 is honoured with its Retry-After (60 s without one); N-central documents no limit values.

Errors: 401 on a call refreshes the access token once and repeats the call; a second 401, or a refused JWT, is a
`VendorAuthError` (check the token and the API user). 403 is a `VendorAuthError` too: at N-central it is the API
user's role or access groups (not a firewall as at Datto), which no retry heals. 429 is `VendorRateLimited`.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.http import (
    USER_AGENT,
    HttpClientOwner,
    VendorAuthError,
    VendorError,
    VendorRateLimited,
    VendorResponseError,
    describe,
    request_json,
)

VENDOR = "N-central"
PAGE_SIZE = 200
MAX_PAGES = 500  # 100,000 devices: a server whose pages never reach totalItems ends here
RATE_LIMIT_WAIT = 60.0  # seconds after a 429 without Retry-After
AUTH_HINT = " (check the N-central user-API token (JWT) and the API user's role and access to the customer)"


def _plain(exc: VendorError) -> str:
    """The message without connectors.http's generic hint (this connector gives its own)."""
    return str(exc).removesuffix(" (check the API token and its permissions)")


def _tokens(body: Any, where: str) -> tuple[str, str | None]:
    tokens = body.get("tokens") if isinstance(body, dict) else None
    access = tokens.get("access") if isinstance(tokens, dict) else None
    refresh = tokens.get("refresh") if isinstance(tokens, dict) else None
    token = access.get("token") if isinstance(access, dict) else None
    if not isinstance(token, str) or not token:
        raise VendorResponseError(f"{where}: the answer has no tokens.access.token")
    refresh_token = refresh.get("token") if isinstance(refresh, dict) else None
    return token, refresh_token if isinstance(refresh_token, str) and refresh_token else None


class NcentralClient(HttpClientOwner):
    def __init__(
        self,
        server_url: str,
        jwt: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
    ):
        if not jwt:
            raise ValueError("N-central user-API token is empty")
        self.base_url = server_url.rstrip("/").removesuffix("/api")
        self._jwt = jwt
        self._access: str | None = None
        self._refresh: str | None = None
        self._issued: list[str] = []
        self._timeout = timeout
        self.page_size = page_size
        self._init_http(client, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"NcentralClient({self.base_url!r})"

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self._jwt, *self._issued)  # every token this client held: an error may quote a replaced one

    def _headers(self, bearer: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {bearer}", "Accept": "application/json", "User-Agent": USER_AGENT}

    async def _post_tokens(self, path: str, bearer: str | None, content: str | None) -> str:
        url = f"{self.base_url}{path}"
        headers = self._headers(bearer) if bearer else {"Accept": "application/json", "User-Agent": USER_AGENT}
        if content is not None:
            headers["Content-Type"] = "text/plain"
        try:
            body = await request_json(self._http, "POST", url, vendor=VENDOR, timeout=self._timeout,
                                      secrets=self._secrets, headers=headers, content=content)  # fmt: skip
        except VendorRateLimited as exc:
            raise VendorRateLimited(str(exc), exc.retry_after or RATE_LIMIT_WAIT) from exc
        self._access, self._refresh = _tokens(body, describe(VENDOR, "POST", url))
        self._issued += [t for t in (self._access, self._refresh) if t]
        return self._access

    async def authenticate(self) -> str:
        """The access token: the JWT exchanged once per client."""
        if self._access is not None:
            return self._access
        try:
            return await self._post_tokens("/api/auth/authenticate", self._jwt, None)
        except VendorAuthError as exc:
            raise VendorAuthError(_plain(exc) + AUTH_HINT, status_code=exc.status_code) from exc

    async def _renew(self) -> str:
        """After a 401: the refresh token once; when it is refused (or there is none), the JWT once more."""
        if self._refresh is not None:
            try:
                return await self._post_tokens("/api/auth/refresh", None, self._refresh)
            except (VendorAuthError, VendorResponseError):
                pass
            except VendorError as exc:
                if exc.status_code not in (400, 404):  # a transient error is worth the activity's retry
                    raise
        self._access = None
        return await self.authenticate()

    async def _send(self, url: str, params: dict[str, Any], token: str) -> Any:
        try:
            return await request_json(self._http, "GET", url, vendor=VENDOR, timeout=self._timeout,
                                      secrets=self._secrets, headers=self._headers(token), params=params)  # fmt: skip
        except VendorRateLimited as exc:
            raise VendorRateLimited(str(exc), exc.retry_after or RATE_LIMIT_WAIT) from exc

    async def _get(self, url: str, params: dict[str, Any]) -> Any:
        token = await self.authenticate()  # a refused JWT fails here, once
        try:
            return await self._send(url, params, token)
        except VendorAuthError as exc:
            if exc.status_code != 401:  # 403: the API user's role or access groups
                raise VendorAuthError(_plain(exc) + AUTH_HINT, status_code=exc.status_code) from exc
        token = await self._renew()  # the access token expired (1 h in the documented example): once
        try:
            return await self._send(url, params, token)
        except VendorAuthError as exc:
            message = _plain(exc) + (" after a fresh access token" if exc.status_code == 401 else "")
            raise VendorAuthError(message + AUTH_HINT, status_code=exc.status_code) from exc

    async def org_unit_device_pages(self, org_unit_id: int) -> AsyncIterator[list[dict[str, Any]]]:
        """The raw `data` of each page of an organisation unit's devices (`pageNumber` from 1)."""
        url = f"{self.base_url}/api/org-units/{int(org_unit_id)}/devices"
        where = describe(VENDOR, "GET", url)
        seen = 0
        for number in range(1, MAX_PAGES + 1):
            body = await self._get(url, {"pageNumber": number, "pageSize": self.page_size})
            devices = body.get("data") if isinstance(body, dict) else None
            if not isinstance(devices, list):
                raise VendorResponseError(f"{where}: the answer has no 'data' list")
            if not devices:
                return
            yield devices
            seen += len(devices)
            total = body.get("totalItems")
            if isinstance(total, int) and not isinstance(total, bool):
                if seen >= total:  # a server may answer fewer than pageSize per page: the total decides
                    return
            elif len(devices) < self.page_size:
                return
        raise VendorResponseError(f"{where}: more than {MAX_PAGES} pages of {self.page_size} devices")

    async def org_unit_devices(self, org_unit_id: int) -> list[dict[str, Any]]:
        return [device async for page in self.org_unit_device_pages(org_unit_id) for device in page]
