"""RocketCyber (Kaseya) API v3: list incidents (page-number paging).

Auth is a static provider API key sent as `Authorization: Bearer <key>`. The base URL is regional,
`https://api-us.rocketcyber.com/v3` (default) or `https://api-eu.rocketcyber.com/v3`; a base URL without the
`/v3` suffix gets it appended. Pages are 1-based; the envelope is `totalCount`, `currentPage`, `totalPages`,
`dataCount`, `data`. Incidents come back raw, exactly as the API returns them.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from connectors.http import USER_AGENT, HttpClientOwner, VendorResponseError, describe, iso_utc, request_json

VENDOR = "RocketCyber"
DEFAULT_BASE_URL = "https://api-us.rocketcyber.com/v3"
INCIDENTS_PATH = "/incidents"
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class IncidentsPage:
    items: list[dict[str, Any]]
    page: int
    total_pages: int
    total_count: int | None = None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class RocketCyberClient(HttpClientOwner):
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        account_id: int | str | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ):
        if not api_key:
            raise ValueError("RocketCyber API key is empty")
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.base_url = base if base.endswith("/v3") else base + "/v3"
        self.account_id = account_id
        self._key = api_key
        self._timeout = timeout
        self._init_http(client, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"RocketCyberClient({self.base_url!r}, account_id={self.account_id!r})"

    async def incidents_page(
        self,
        page: int,
        *,
        page_size: int = 100,
        since: datetime | None = None,
        resolved_since: datetime | None = None,
    ) -> IncidentsPage:
        """One page (1-based) of incidents; with `since` (timezone-aware) only those created from then on (inclusive?
        undocumented), oldest first (`sort=createdAt:asc`); with `resolved_since` only resolved ones, resolved from
        then on, oldest resolution first; only for `account_id` if set (else every account the key can see). In
        ascending order an incident created while we page lands behind our page instead of shifting one past it."""
        if page < 1:
            raise ValueError(f"page is 1-based, got {page}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        params: dict[str, str | int] = {"page": page, "pageSize": page_size}
        if self.account_id is not None:
            params["accountId"] = str(self.account_id)
        if since is not None:
            params["createdAt"] = iso_utc(since, timespec="milliseconds") + "|"  # open-ended range "start|"
            params["sort"] = "createdAt:asc"
        if resolved_since is not None:
            params["status"] = "resolved"
            params["resolvedAt"] = iso_utc(resolved_since, timespec="milliseconds") + "|"
            params["sort"] = "resolvedAt:asc"
        url = self.base_url + INCIDENTS_PATH
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json", "User-Agent": USER_AGENT}
        body = await request_json(
            self._http,
            "GET",
            url,
            vendor=VENDOR,
            timeout=self._timeout,
            secrets=(self._key,),
            headers=headers,
            params=params,
        )
        where = describe(VENDOR, "GET", url)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise VendorResponseError(f"{where}: the answer has no 'data' list of incident objects")
        total_pages = _int(body.get("totalPages"))
        if total_pages is None or total_pages < 0:
            raise VendorResponseError(f"{where}: the answer has no integer 'totalPages'")
        current = body.get("currentPage")
        if current is not None and _int(current) != page:  # the API ignored our page: stop before reading dupes
            raise VendorResponseError(f"{where}: asked for page {page}, the answer is page {current!r}")
        return IncidentsPage(items=data, page=page, total_pages=total_pages, total_count=_int(body.get("totalCount")))

    async def iter_incidents(
        self, *, since: datetime | None = None, page_size: int = 100, start_page: int = 1, max_pages: int = 10
    ) -> AsyncIterator[IncidentsPage]:
        """Yield pages from `start_page` until `page >= totalPages` (or an empty page), at most `max_pages`."""
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        for page_number in range(start_page, start_page + max_pages):
            page = await self.incidents_page(page_number, page_size=page_size, since=since)
            yield page
            if page.page >= page.total_pages or not page.items:
                return
