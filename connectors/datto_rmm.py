"""Datto RMM API v2: the devices of a site.

Token: `POST {base}/auth/oauth/token` with HTTP Basic `public-client:public` and the form
`grant_type=password&username=<API key>&password=<API secret>`; the answer's `access_token` is then sent as
`Authorization: Bearer <token>`. The base URL is regional, `https://{platform}-api.centrastage.net` (platforms in
`domain.inventory.sources`). Devices: `GET {base}/api/v2/site/{siteUid}/devices?max=250&page=0`, answered as
`{"pageDetails": {..., "nextPageUrl": ...}, "devices": [...]}`; the next page is `nextPageUrl` followed verbatim
until it is null (only on the same host as the base URL: the token is never sent elsewhere).

Errors: 429 is Datto's rate limit, and a 403 is usually its WAF/DDoS protection rather than a permission (a token
that is not accepted gives 401): both are retryable (`VendorRateLimited`, 60 s and 5 min unless Retry-After says
otherwise). A refused token request (400 `invalid_grant`, 401) is a `VendorAuthError`. Devices come back raw.
"""

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from connectors.http import (
    USER_AGENT,
    HttpClientOwner,
    VendorAuthError,
    VendorRateLimited,
    VendorRequestError,
    VendorResponseError,
    describe,
    request_json,
)

VENDOR = "Datto RMM"
PAGE_SIZE = 250
MAX_PAGES = 400  # 100,000 devices: a loop in nextPageUrl ends here instead of running forever
RATE_LIMIT_WAIT = 60.0  # seconds after a 429 without Retry-After
WAF_WAIT = 300.0  # after a 403 of the WAF


class DattoRmmClient(HttpClientOwner):
    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ):
        if not api_key or not api_secret:
            raise ValueError("Datto RMM API key or secret is empty")
        self.base_url = base_url.rstrip("/").removesuffix("/api")
        self._key, self._secret = api_key, api_secret
        self._token: str | None = None
        self._timeout = timeout
        self._init_http(client, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"DattoRmmClient({self.base_url!r})"

    @property
    def _secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._key, self._secret, self._token) if s)

    async def token(self) -> str:
        """The access token (fetched once per client)."""
        if self._token is not None:
            return self._token
        url = f"{self.base_url}/auth/oauth/token"
        try:
            body = await request_json(
                self._http,
                "POST",
                url,
                vendor=VENDOR,
                timeout=self._timeout,
                secrets=self._secrets,
                auth=("public-client", "public"),
                data={"grant_type": "password", "username": self._key, "password": self._secret},
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            )
        except VendorRequestError as exc:
            if exc.status_code == 400:  # Spring's invalid_grant: the key or secret is wrong
                raise VendorAuthError(str(exc) + " (check the API key and secret)", status_code=400) from exc
            raise
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorResponseError(f"{describe(VENDOR, 'POST', url)}: the answer has no access_token")
        self._token = token
        return token

    async def _get(self, url: str) -> Any:
        headers = {"Authorization": f"Bearer {await self.token()}", "Accept": "application/json",
                   "User-Agent": USER_AGENT}  # fmt: skip
        try:
            return await request_json(
                self._http, "GET", url, vendor=VENDOR, timeout=self._timeout, secrets=self._secrets, headers=headers
            )
        except VendorRateLimited as exc:
            raise VendorRateLimited(str(exc), exc.retry_after or RATE_LIMIT_WAIT) from exc
        except VendorAuthError as exc:
            if exc.status_code == 403:  # the WAF, not the token (see the module's docstring)
                message = str(exc) + " (Datto's request protection: retried later)"
                raise VendorRateLimited(message, WAF_WAIT, status_code=403) from exc
            raise

    def _same_host(self, url: str) -> bool:
        return httpx.URL(url).host == httpx.URL(self.base_url).host

    async def site_device_pages(self, site_uid: str) -> AsyncIterator[list[dict[str, Any]]]:
        """The raw `devices` of each page of one site, following `pageDetails.nextPageUrl`."""
        url: str | None = f"{self.base_url}/api/v2/site/{quote(site_uid, safe='')}/devices?max={PAGE_SIZE}&page=0"
        seen: set[str] = set()
        while url is not None:
            if url in seen or len(seen) >= MAX_PAGES:
                raise VendorResponseError(f"{describe(VENDOR, 'GET', url)}: pageDetails.nextPageUrl loops")
            seen.add(url)
            body = await self._get(url)
            where = describe(VENDOR, "GET", url)
            devices = body.get("devices") if isinstance(body, dict) else None
            if not isinstance(devices, list):
                raise VendorResponseError(f"{where}: the answer has no 'devices' list")
            yield devices
            details = body.get("pageDetails")
            following = details.get("nextPageUrl") if isinstance(details, dict) else None
            if following in (None, "") or not devices:
                return
            if not isinstance(following, str) or not self._same_host(following):
                raise VendorResponseError(f"{where}: nextPageUrl {following!r} is not on {self.base_url}")
            url = following

    async def site_devices(self, site_uid: str) -> list[dict[str, Any]]:
        return [device async for page in self.site_device_pages(site_uid) for device in page]
