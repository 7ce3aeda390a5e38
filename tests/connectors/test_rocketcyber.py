"""RocketCyber v3 client: page-number paging, parameters, auth header, typed errors (respx, spec-shaped fixtures)."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.http import (
    VendorAuthError,
    VendorRateLimited,
    VendorRequestError,
    VendorResponseError,
    VendorUnavailable,
    with_backoff,
)
from connectors.rocketcyber import RocketCyberClient

BASE = "https://api-us.rocketcyber.com/v3"
KEY = "rc-key-DO-NOT-LEAK-fedcba9876543210"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "vendors"
SINCE = datetime(2026, 11, 17, 0, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def page(n: int) -> httpx.Response:
    return httpx.Response(200, json=fixture(f"rocketcyber_incidents_page{n}.json"))


def assert_no_secret(exc: BaseException) -> None:
    while exc is not None:
        assert KEY not in str(exc) and KEY not in repr(exc)
        exc = exc.__cause__


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def rc(http: httpx.AsyncClient) -> RocketCyberClient:
    return RocketCyberClient(BASE, KEY, client=http, timeout=5)


async def test_pages_through_until_page_equals_total_pages(http: httpx.AsyncClient):
    rc = RocketCyberClient(BASE, KEY, account_id=1234567, client=http)
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE}/incidents").mock(side_effect=[page(1), page(2), page(3)])
        pages = [p async for p in rc.iter_incidents(since=SINCE, page_size=2, max_pages=10)]
    assert [(p.page, p.total_pages, p.total_count) for p in pages] == [(1, 3, 5), (2, 3, 5), (3, 3, 5)]
    raw = [i for n in (1, 2, 3) for i in fixture(f"rocketcyber_incidents_page{n}.json")["data"]]
    assert [i for p in pages for i in p.items] == raw  # raw objects, untouched
    params = [dict(call.request.url.params) for call in route.calls]
    assert params == [
        {
            "page": str(n),
            "pageSize": "2",
            "accountId": "1234567",
            "createdAt": "2026-11-17T00:00:00.000Z|",
            "sort": "createdAt:asc",  # oldest first: an incident created while we page lands behind us
        }
        for n in (1, 2, 3)
    ]
    for call in route.calls:
        assert call.request.headers["Authorization"] == f"Bearer {KEY}"
        assert call.request.url.path == "/v3/incidents"


async def test_no_filters_by_default_and_max_pages_bounds(rc: RocketCyberClient):
    with respx.mock() as router:
        route = router.get(f"{BASE}/incidents").mock(side_effect=[page(1), page(2), page(3)])
        pages = [p async for p in rc.iter_incidents(max_pages=2)]
    assert route.call_count == 2 and pages[-1].page == 2
    assert dict(route.calls[0].request.url.params) == {"page": "1", "pageSize": "100"}


async def test_empty_result_stops_after_one_request(rc: RocketCyberClient):
    empty = {"totalCount": 0, "currentPage": 1, "totalPages": 0, "dataCount": 0, "data": []}
    with respx.mock() as router:
        route = router.get(f"{BASE}/incidents").mock(return_value=httpx.Response(200, json=empty))
        pages = [p async for p in rc.iter_incidents()]
    assert route.call_count == 1 and pages[0].items == [] and pages[0].total_pages == 0


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api-eu.rocketcyber.com", "https://api-eu.rocketcyber.com/v3"),
        ("https://api-eu.rocketcyber.com/v3/", "https://api-eu.rocketcyber.com/v3"),
        ("", "https://api-us.rocketcyber.com/v3"),
    ],
)
async def test_base_url_normalisation(base_url: str, expected: str):
    async with RocketCyberClient(base_url, KEY) as rc:
        assert rc.base_url == expected


async def test_argument_checks(rc: RocketCyberClient):
    with pytest.raises(ValueError, match="1-based"):
        await rc.incidents_page(0)
    with pytest.raises(ValueError, match="page_size"):
        await rc.incidents_page(1, page_size=1001)
    with pytest.raises(ValueError, match="timezone-aware"):
        await rc.incidents_page(1, since=datetime(2026, 11, 17))
    with pytest.raises(ValueError):
        RocketCyberClient(BASE, "")
    assert KEY not in repr(rc)


async def test_429_seconds_and_http_date_then_success_via_with_backoff(rc: RocketCyberClient):
    in_a_minute = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=60)
    by_seconds = httpx.Response(429, headers={"Retry-After": "3"}, text="API rate limited")
    by_date = httpx.Response(429, headers={"Retry-After": format_datetime(in_a_minute, usegmt=True)})
    with respx.mock() as router:
        router.get(f"{BASE}/incidents").mock(side_effect=[by_seconds, by_date])
        with pytest.raises(VendorRateLimited) as first:
            await rc.incidents_page(1)
        with pytest.raises(VendorRateLimited) as second:
            await rc.incidents_page(1)
    assert first.value.retry_after == 3.0 and 55 <= second.value.retry_after <= 60
    assert_no_secret(first.value)
    sleep = FakeSleep()
    with respx.mock() as router:
        route = router.get(f"{BASE}/incidents").mock(side_effect=[by_seconds, by_date, page(1)])
        result = await with_backoff(lambda: rc.incidents_page(1), cap=30, sleep=sleep)
    assert route.call_count == 3 and sleep.delays == [3.0, 30] and result.page == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500), httpx.Response(502), httpx.Response(503), httpx.Response(504), httpx.ReadTimeout("slow")],
    ids=["500", "502", "503", "504", "timeout"],
)
async def test_unavailable_then_success(rc: RocketCyberClient, failure: Any):
    with respx.mock() as router:
        router.get(f"{BASE}/incidents").mock(side_effect=[failure])
        with pytest.raises(VendorUnavailable) as err:
            await rc.incidents_page(1)
    assert "RocketCyber GET https://api-us.rocketcyber.com/v3/incidents" in str(err.value)
    assert_no_secret(err.value)
    sleep = FakeSleep()
    with respx.mock() as router:
        route = router.get(f"{BASE}/incidents").mock(side_effect=[failure, page(2)])
        result = await with_backoff(lambda: rc.incidents_page(2), base=2.0, sleep=sleep)
    assert route.call_count == 2 and result.page == 2 and 1.0 <= sleep.delays[0] <= 2.0


async def test_503_retry_after_is_honoured(rc: RocketCyberClient):
    sleep = FakeSleep()
    with respx.mock() as router:
        router.get(f"{BASE}/incidents").mock(side_effect=[httpx.Response(503, headers={"Retry-After": "4"}), page(1)])
        await with_backoff(lambda: rc.incidents_page(1), sleep=sleep)
    assert sleep.delays == [4.0]


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_are_not_retried_and_never_show_the_key(rc: RocketCyberClient, status: int):
    sleep = FakeSleep()
    with respx.mock() as router:
        route = router.get(f"{BASE}/incidents").mock(
            return_value=httpx.Response(status, json={"message": f"Invalid token Bearer {KEY}"})
        )
        with pytest.raises(VendorAuthError) as err:
            await with_backoff(lambda: rc.incidents_page(1), sleep=sleep)
    assert route.call_count == 1 and sleep.delays == [] and err.value.status_code == status
    assert "Invalid token Bearer ***" in str(err.value)
    assert_no_secret(err.value)


async def test_404_is_a_request_error_not_retried(rc: RocketCyberClient):
    sleep = FakeSleep()
    with respx.mock() as router:
        route = router.get(f"{BASE}/incidents").mock(return_value=httpx.Response(404, text="Not Found"))
        with pytest.raises(VendorRequestError, match="HTTP 404"):
            await with_backoff(lambda: rc.incidents_page(1), sleep=sleep)
    assert route.call_count == 1 and sleep.delays == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="{not json"),
        httpx.Response(200, json={"totalCount": 0, "currentPage": 1, "totalPages": 0, "dataCount": 0}),
        httpx.Response(200, json={"currentPage": 1, "totalPages": 1, "data": "nope"}),
        httpx.Response(200, json={"currentPage": 1, "totalPages": 1, "data": [1, 2]}),
        httpx.Response(200, json={"currentPage": 1, "data": []}),
        httpx.Response(200, json={"currentPage": 1, "totalPages": "3", "data": []}),
        httpx.Response(200, json={"currentPage": 2, "totalPages": 3, "data": []}),
    ],
    ids=["not-json", "no-data", "data-not-list", "item-not-object", "no-total-pages", "total-pages-str", "wrong-page"],
)
async def test_malformed_answers_are_response_errors(rc: RocketCyberClient, response: httpx.Response):
    sleep = FakeSleep()
    with respx.mock() as router:
        route = router.get(f"{BASE}/incidents").mock(return_value=response)
        with pytest.raises(VendorResponseError) as err:
            await with_backoff(lambda: rc.incidents_page(1), sleep=sleep)
    assert route.call_count == 1 and sleep.delays == []
    assert_no_secret(err.value)


async def test_resolved_since_asks_for_resolutions_from_then_on(rc: RocketCyberClient):
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE}/incidents").mock(return_value=page(1))
        await rc.incidents_page(1, page_size=50, resolved_since=SINCE)
    assert dict(route.calls.last.request.url.params) == {
        "page": "1",
        "pageSize": "50",
        "status": "resolved",
        "resolvedAt": "2026-11-17T00:00:00.000Z|",
        "sort": "resolvedAt:asc",
    }
