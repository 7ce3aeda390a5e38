"""SentinelOne Management API v2.1: list threats (cursor paging) and network-disconnect an agent.

Auth is a long-lived service-user token sent as `Authorization: ApiToken <token>`. Threats come back raw, exactly
as the API returns them; mapping them to alerts is the poll activity's job. Query parameter names are the wire
names of the v2.1 OpenAPI spec (`updatedAt__gte`, not the generated clients' `updatedAtGte`).

Typical use in a poll activity, one page per call so the cursor can be persisted between pages:

    async with SentinelOneClient(url, token) as s1:
        page = await with_backoff(lambda: s1.threats_page(cursor, updated_from=since))
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from connectors.http import USER_AGENT, HttpClientOwner, VendorResponseError, describe, iso_utc, request_json

VENDOR = "SentinelOne"
THREATS_PATH = "/web/api/v2.1/threats"
DISCONNECT_PATH = "/web/api/v2.1/agents/actions/disconnect"
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ThreatsPage:
    items: list[dict[str, Any]]
    next_cursor: str | None  # None on the last page
    total_items: int | None = None


class SentinelOneClient(HttpClientOwner):
    def __init__(
        self, base_url: str, api_token: str, *, client: httpx.AsyncClient | None = None, timeout: float = 30.0
    ):
        if not api_token:
            raise ValueError("SentinelOne API token is empty")
        self.base_url = base_url.rstrip("/")
        self._token = api_token
        self._timeout = timeout
        self._init_http(client, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"SentinelOneClient({self.base_url!r})"

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[Any, str]:
        url = self.base_url + path
        headers = {"Authorization": f"ApiToken {self._token}", "Accept": "application/json", "User-Agent": USER_AGENT}
        secrets = (self._token,)
        body = await request_json(
            self._http, method, url, vendor=VENDOR, timeout=self._timeout, secrets=secrets, headers=headers, **kwargs
        )
        return body, describe(VENDOR, method, url)

    async def threats_page(
        self,
        cursor: str | None,
        *,
        updated_from: datetime | None = None,
        site_id: str | None = None,
        limit: int = 100,
    ) -> ThreatsPage:
        """One page of threats updated at or after `updated_from` (timezone-aware), oldest update first
        (`sortBy=updatedAt&sortOrder=asc`: a threat updated while we page moves behind our position instead of
        being skipped); only of `site_id` if given. Pass the previous page's `next_cursor` as `cursor` together
        with the same filter to get the next page."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, got {limit}")
        params: dict[str, str | int] = {"limit": limit, "sortBy": "updatedAt", "sortOrder": "asc"}
        if cursor:
            params["cursor"] = cursor
        if updated_from is not None:
            params["updatedAt__gte"] = iso_utc(updated_from)
        if site_id:
            params["siteIds"] = site_id
        body, where = await self._call("GET", THREATS_PATH, params=params)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise VendorResponseError(f"{where}: the answer has no 'data' list of threat objects")
        pagination = body.get("pagination")
        if not isinstance(pagination, dict):
            raise VendorResponseError(f"{where}: the answer has no 'pagination' object")
        next_cursor = pagination.get("nextCursor")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise VendorResponseError(f"{where}: 'pagination.nextCursor' is not a string or null")
        total = pagination.get("totalItems")
        return ThreatsPage(
            items=data,
            next_cursor=next_cursor or None,  # an empty cursor would restart at page one: treat it as the end
            total_items=total if isinstance(total, int) and not isinstance(total, bool) else None,
        )

    async def iter_threats(
        self,
        *,
        updated_from: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
        max_pages: int = 10,
    ) -> AsyncIterator[ThreatsPage]:
        """Yield pages until `nextCursor` is null or `max_pages` pages were read (then the last page's
        `next_cursor` is where to resume)."""
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        for _ in range(max_pages):
            page = await self.threats_page(cursor, updated_from=updated_from, limit=limit)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def disconnect_agent(self, agent_id: str) -> int:
        """Network-quarantine one agent ("Disconnect from Network"); returns how many agents the console
        affected (1, or 0 when the id matched nothing). The filter always names exactly this agent id."""
        if not isinstance(agent_id, str) or not agent_id.strip():
            raise ValueError("agent_id must be a non-empty string: an empty filter would match every agent")
        body, where = await self._call("POST", DISCONNECT_PATH, json={"filter": {"ids": [agent_id.strip()]}})
        data = body.get("data") if isinstance(body, dict) else None
        affected = data.get("affected") if isinstance(data, dict) else None
        if not isinstance(affected, int) or isinstance(affected, bool):
            raise VendorResponseError(f"{where}: the answer has no integer 'data.affected'")
        return affected
