"""SentinelOne client (respx, fixtures shaped like the v2.1 API) and the shared helpers in connectors/http.py."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.http import (
    VendorAuthError,
    VendorError,
    VendorRateLimited,
    VendorRequestError,
    VendorResponseError,
    VendorUnavailable,
    parse_retry_after,
    with_backoff,
)
from connectors.sentinelone import DISCONNECT_PATH, THREATS_PATH, SentinelOneClient

BASE = "https://usea1-acme.sentinelone.net"
TOKEN = "s1-token-DO-NOT-LEAK-0123456789abcdef"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "vendors"
SINCE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def page(n: int) -> httpx.Response:
    return httpx.Response(200, json=fixture(f"sentinelone_threats_page{n}.json"))


def assert_no_secret(exc: BaseException) -> None:
    while exc is not None:
        assert TOKEN not in str(exc) and TOKEN not in repr(exc)
        exc = exc.__cause__


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
async def s1() -> AsyncIterator[SentinelOneClient]:
    async with httpx.AsyncClient() as http:
        yield SentinelOneClient(BASE + "/", TOKEN, client=http, timeout=5)


# --- threats: paging, parameters, headers -----------------------------------------------------------------------


async def test_pages_through_three_pages_until_next_cursor_is_null(s1: SentinelOneClient):
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get(THREATS_PATH).mock(side_effect=[page(1), page(2), page(3)])
        pages = [p async for p in s1.iter_threats(updated_from=SINCE, limit=2, max_pages=10)]
    assert [p.next_cursor for p in pages] == ["YWdlbnRfaWQ6NTgwMjkzODE=", "YWdlbnRfaWQ6NTgwMjkzOTk=", None]
    assert [p.total_items for p in pages] == [5, 5, 5]
    raw = [t for n in (1, 2, 3) for t in fixture(f"sentinelone_threats_page{n}.json")["data"]]
    assert [t for p in pages for t in p.items] == raw  # raw objects, untouched
    params = [dict(call.request.url.params) for call in route.calls]
    # Sorted by update, oldest first, from the filter on (inclusive): what the vendors' own integrations send.
    scan = {"limit": "2", "sortBy": "updatedAt", "sortOrder": "asc", "updatedAt__gte": "2026-11-20T08:00:00.000000Z"}
    assert params == [
        scan,
        scan | {"cursor": "YWdlbnRfaWQ6NTgwMjkzODE="},
        scan | {"cursor": "YWdlbnRfaWQ6NTgwMjkzOTk="},
    ]
    for call in route.calls:
        assert call.request.headers["Authorization"] == f"ApiToken {TOKEN}"
        assert call.request.url.path == "/web/api/v2.1/threats"


async def test_max_pages_bounds_the_iterator_and_the_last_cursor_is_where_to_resume(s1: SentinelOneClient):
    with respx.mock(base_url=BASE) as router:
        route = router.get(THREATS_PATH).mock(side_effect=[page(1), page(2), page(3)])
        pages = [p async for p in s1.iter_threats(max_pages=2)]
    assert route.call_count == 2 and pages[-1].next_cursor == "YWdlbnRfaWQ6NTgwMjkzOTk="
    # No filter, no cursor; still sorted.
    assert dict(route.calls[0].request.url.params) == {"limit": "100", "sortBy": "updatedAt", "sortOrder": "asc"}


async def test_updated_from_is_sent_in_utc_and_must_be_aware_and_the_site_narrows(s1: SentinelOneClient):
    berlin = timezone(timedelta(hours=1))
    with respx.mock(base_url=BASE) as router:
        route = router.get(THREATS_PATH).mock(return_value=page(3))
        since = datetime(2026, 11, 20, 9, 30, 0, 250000, tzinfo=berlin)
        await s1.threats_page(None, updated_from=since, site_id="1650000000000000001")
    assert route.calls.last.request.url.params["updatedAt__gte"] == "2026-11-20T08:30:00.250000Z"
    assert route.calls.last.request.url.params["siteIds"] == "1650000000000000001"
    with pytest.raises(ValueError, match="timezone-aware"):
        await s1.threats_page(None, updated_from=datetime(2026, 11, 20, 8, 0))
    with pytest.raises(ValueError, match="limit"):
        await s1.threats_page(None, limit=1001)


# --- errors ------------------------------------------------------------------------------------------------------


async def test_429_with_retry_after_seconds_then_success_via_with_backoff(s1: SentinelOneClient):
    limited = httpx.Response(429, headers={"Retry-After": "7"}, json={"errors": [{"title": "Too Many Requests"}]})
    with respx.mock(base_url=BASE) as router:
        router.get(THREATS_PATH).mock(return_value=limited)
        with pytest.raises(VendorRateLimited) as err:
            await s1.threats_page(None)
    assert err.value.retry_after == 7.0 and err.value.retryable and err.value.status_code == 429
    assert_no_secret(err.value)
    sleep = FakeSleep()
    with respx.mock(base_url=BASE) as router:
        route = router.get(THREATS_PATH).mock(side_effect=[limited, page(3)])
        result = await with_backoff(lambda: s1.threats_page(None), sleep=sleep)
    assert sleep.delays == [7.0] and route.call_count == 2 and len(result.items) == 1


async def test_429_with_retry_after_http_date_is_honoured_up_to_the_cap(s1: SentinelOneClient):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=120)
    limited = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    with respx.mock(base_url=BASE) as router:
        router.get(THREATS_PATH).mock(side_effect=[limited])
        with pytest.raises(VendorRateLimited) as err:
            await s1.threats_page(None)
    assert 115 <= err.value.retry_after <= 120
    sleep = FakeSleep()
    with respx.mock(base_url=BASE) as router:
        router.get(THREATS_PATH).mock(side_effect=[limited, page(1)])
        await with_backoff(lambda: s1.threats_page(None), cap=30, sleep=sleep)
    assert sleep.delays == [30]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, text="Internal Server Error"),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(503),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("connection refused"),
    ],
    ids=["500", "502", "503", "timeout", "connect"],
)
async def test_5xx_and_network_errors_are_unavailable_then_success(s1: SentinelOneClient, failure: Any):
    with respx.mock(base_url=BASE) as router:
        router.get(THREATS_PATH).mock(side_effect=[failure])
        with pytest.raises(VendorUnavailable) as err:
            await s1.threats_page(None)
    assert err.value.retryable and "SentinelOne GET https://usea1-acme.sentinelone.net/web/api/v2.1/threats" in str(
        err.value
    )
    assert_no_secret(err.value)
    sleep = FakeSleep()
    with respx.mock(base_url=BASE) as router:
        route = router.get(THREATS_PATH).mock(side_effect=[failure, failure, page(2)])
        result = await with_backoff(lambda: s1.threats_page("c"), base=1.0, sleep=sleep)
    assert route.call_count == 3 and result.next_cursor == "YWdlbnRfaWQ6NTgwMjkzOTk="
    assert 0.5 <= sleep.delays[0] <= 1.0 and 1.0 <= sleep.delays[1] <= 2.0


async def test_timeout_message_names_the_limit(s1: SentinelOneClient):
    with respx.mock(base_url=BASE) as router:
        router.get(THREATS_PATH).mock(side_effect=httpx.ConnectTimeout("timed out"))
        with pytest.raises(VendorUnavailable, match="did not answer within 5 s"):
            await s1.threats_page(None)


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_are_not_retried_and_never_show_the_token(s1: SentinelOneClient, status: int):
    body = fixture("sentinelone_error_401.json")
    body["errors"][0]["detail"] += f" (token {TOKEN})"  # a vendor that echoes the token must not leak it
    sleep = FakeSleep()
    with respx.mock(base_url=BASE) as router:
        route = router.get(THREATS_PATH).mock(return_value=httpx.Response(status, json=body))
        with pytest.raises(VendorAuthError) as err:
            await with_backoff(lambda: s1.threats_page(None), sleep=sleep)
    assert route.call_count == 1 and sleep.delays == []
    assert not err.value.retryable and err.value.status_code == status
    assert f"HTTP {status}" in str(err.value) and "Authentication Failed" in str(err.value) and "***" in str(err.value)
    assert_no_secret(err.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"pagination": {"nextCursor": None, "totalItems": 0}}),
        httpx.Response(200, json={"data": {"id": "1"}, "pagination": {"nextCursor": None}}),
        httpx.Response(200, json={"data": ["not an object"], "pagination": {"nextCursor": None}}),
        httpx.Response(200, json={"data": []}),
        httpx.Response(200, json={"data": [], "pagination": {"nextCursor": 42}}),
        httpx.Response(200, json=[]),
    ],
    ids=["not-json", "no-data", "data-not-list", "item-not-object", "no-pagination", "cursor-not-str", "list-body"],
)
async def test_malformed_answers_are_response_errors(s1: SentinelOneClient, response: httpx.Response):
    sleep = FakeSleep()
    with respx.mock(base_url=BASE) as router:
        route = router.get(THREATS_PATH).mock(return_value=response)
        with pytest.raises(VendorResponseError) as err:
            await with_backoff(lambda: s1.threats_page(None), sleep=sleep)
    assert route.call_count == 1 and not err.value.retryable
    assert_no_secret(err.value)


async def test_other_client_errors_are_request_errors(s1: SentinelOneClient):
    with respx.mock(base_url=BASE) as router:
        router.get(THREATS_PATH).mock(return_value=httpx.Response(400, json={"errors": [{"title": "Bad filter"}]}))
        with pytest.raises(VendorRequestError, match="HTTP 400.*Bad filter"):
            await s1.threats_page(None)
        router.get(THREATS_PATH).mock(return_value=httpx.Response(302, headers={"Location": "https://login.x/"}))
        with pytest.raises(VendorRequestError, match="redirects are not followed"):
            await s1.threats_page(None)


# --- disconnect --------------------------------------------------------------------------------------------------


async def test_disconnect_filters_by_exactly_this_agent_id(s1: SentinelOneClient):
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.post(DISCONNECT_PATH).mock(
            return_value=httpx.Response(200, json=fixture("sentinelone_disconnect.json"))
        )
        assert await s1.disconnect_agent("1700000000000000001") == 1
    request = route.calls.last.request
    assert request.url.path == "/web/api/v2.1/agents/actions/disconnect"
    assert json.loads(request.content) == {"filter": {"ids": ["1700000000000000001"]}}
    assert request.headers["Authorization"] == f"ApiToken {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("agent_id", ["", "   ", None])
async def test_disconnect_refuses_an_empty_agent_id_before_any_request(s1: SentinelOneClient, agent_id: Any):
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.post(DISCONNECT_PATH).mock(return_value=httpx.Response(200, json={"data": {"affected": 99}}))
        with pytest.raises(ValueError, match="every agent"):
            await s1.disconnect_agent(agent_id)
    assert not route.called


@pytest.mark.parametrize(
    "body", [{"data": {}}, {"data": {"affected": "1"}}, {"affected": 1}, {"data": {"affected": True}}, []]
)
async def test_disconnect_malformed_answer(s1: SentinelOneClient, body: Any):
    with respx.mock(base_url=BASE) as router:
        router.post(DISCONNECT_PATH).mock(return_value=httpx.Response(200, json=body))
        with pytest.raises(VendorResponseError, match="data.affected"):
            await s1.disconnect_agent("1700000000000000001")


async def test_disconnect_auth_error_keeps_the_token_out():
    with respx.mock(base_url=BASE) as router:
        router.post(DISCONNECT_PATH).mock(return_value=httpx.Response(403, text=f"forbidden for ApiToken {TOKEN}"))
        async with SentinelOneClient(BASE, TOKEN) as own:  # the client builds (and closes) its own httpx client
            with pytest.raises(VendorAuthError) as err:
                await own.disconnect_agent("1700000000000000001")
    assert_no_secret(err.value)
    assert TOKEN not in repr(own)


async def test_injected_client_is_not_closed():
    async with httpx.AsyncClient() as http:
        async with SentinelOneClient(BASE, TOKEN, client=http):
            pass
        assert not http.is_closed
    with pytest.raises(ValueError):
        SentinelOneClient(BASE, "")


# --- shared helpers (connectors/http.py) -------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-3", None),
        ("nan", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("Fri, 20 Nov 2026 08:01:30 GMT", 90.0),
        ("Fri, 20 Nov 2026 07:59:00 GMT", 0.0),  # in the past: retry now
        ("Friday, 20-Nov-26 08:00:10 GMT", 10.0),  # obsolete RFC 850 form
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None):
    assert parse_retry_after(header, now=NOW) == expected


async def test_with_backoff_grows_exponentially_with_jitter_caps_and_reraises_the_last_error():
    sleep = FakeSleep()
    calls = 0

    async def always_down() -> None:
        nonlocal calls
        calls += 1
        raise VendorUnavailable(f"down #{calls}")

    with pytest.raises(VendorUnavailable, match="down #5"):
        await with_backoff(always_down, attempts=5, base=1.0, cap=5.0, sleep=sleep)
    assert calls == 5 and len(sleep.delays) == 4
    for attempt, delay in enumerate(sleep.delays):
        ceiling = min(5.0, 2.0**attempt)
        assert ceiling / 2 <= delay <= ceiling


async def test_with_backoff_rate_limit_without_retry_after_falls_back_to_exponential():
    sleep = FakeSleep()
    outcomes: list[Any] = [VendorRateLimited("slow", None), VendorRateLimited("slow", 2.5), "ok"]

    async def fn() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await with_backoff(fn, base=4.0, sleep=sleep) == "ok"
    assert 2.0 <= sleep.delays[0] <= 4.0 and sleep.delays[1] == 2.5


@pytest.mark.parametrize(
    "error", [VendorAuthError("no"), VendorResponseError("bad"), VendorRequestError("404"), KeyError("bug")]
)
async def test_with_backoff_reraises_non_retryable_errors_at_once(error: Exception):
    sleep = FakeSleep()
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(type(error)):
        await with_backoff(fn, sleep=sleep)
    assert calls == 1 and sleep.delays == []
    assert not isinstance(error, VendorError) or not error.retryable


async def test_with_backoff_needs_at_least_one_attempt():
    async def fn() -> None:
        raise AssertionError("not called")

    with pytest.raises(ValueError):
        await with_backoff(fn, attempts=0)
