"""Shared plumbing for the vendor API clients (async httpx): typed errors, response mapping, Retry-After, backoff.

The clients raise one of the `VendorError` subclasses below and never loop: the Temporal activity that calls
them owns the retry policy (`retryable` tells it whether to try again, `retry_after` how long to wait).
`with_backoff` is for riding out short hiccups inside one activity attempt.

Error messages name the vendor, the method and the URL without its query string, plus a short excerpt of the
error body; any secret the client passes in `secrets` is replaced by `***` in case a vendor echoes it.
"""

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self, TypeVar

import httpx

USER_AGENT = "msp-hub"
_ERROR_BODY_CHARS = 200
T = TypeVar("T")


class HttpClientOwner:
    """A connector that uses the httpx client it is given (tests, connection reuse) or owns one and closes it;
    an async context manager either way."""

    _http: httpx.AsyncClient
    _own_http: bool

    def _init_http(self, client: httpx.AsyncClient | None, **options: Any) -> httpx.AsyncClient:
        self._own_http = client is None
        self._http = client or httpx.AsyncClient(**options)
        return self._http

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class VendorError(Exception):
    """Base class. `retryable` says whether the same request may succeed later."""

    retryable = False

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


class VendorAuthError(VendorError):
    """401/403: the token is wrong, expired or lacks a permission. Retrying does not help."""


class VendorRateLimited(VendorError):
    """429. `retry_after` is the vendor's Retry-After in seconds (None when it sent none or an unreadable one)."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None, *, status_code: int | None = 429):
        super().__init__(message, status_code=status_code, retry_after=retry_after)


class VendorUnavailable(VendorError):
    """5xx, 408, network errors and timeouts: worth retrying. A 503 may carry `retry_after` too."""

    retryable = True


class VendorResponseError(VendorError):
    """A 2xx answer we cannot use: not JSON, or not the shape the API documents."""


class VendorRequestError(VendorError):
    """Any other 3xx/4xx (400, 404, 422, a redirect) or a bad base URL: our request or configuration is wrong."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (a past date gives 0.0).
    None when the header is missing or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def iso_utc(dt: datetime, *, timespec: str = "microseconds") -> str:
    """'2026-11-20T08:15:42.123456Z'. Naive datetimes are refused: a poller's high-water mark must be unambiguous."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"timezone-aware datetime required, got naive {dt!r}")
    return dt.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def describe(vendor: str, method: str, url: httpx.URL | str) -> str:
    """'SentinelOne GET https://usea1.sentinelone.net/web/api/v2.1/threats' (no user info, query or fragment)."""
    u = httpx.URL(str(url))
    return f"{vendor} {method} {u.scheme}://{u.netloc.decode('ascii')}{u.path}"


def error_for_response(response: httpx.Response, where: str, secrets: Iterable[str] = ()) -> VendorError | None:
    """The typed error for a non-2xx response, or None for a 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    body = scrub(" ".join(response.text.split()), secrets)[:_ERROR_BODY_CHARS]  # scrub first: no half tokens
    message = f"{where} answered HTTP {status}" + (f": {body}" if body else "")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status in (401, 403):
        return VendorAuthError(message + " (check the API token and its permissions)", status_code=status)
    if status == 429:
        return VendorRateLimited(message, retry_after, status_code=status)
    if status == 408 or status >= 500:
        return VendorUnavailable(message, status_code=status, retry_after=retry_after)
    if 300 <= status < 400:
        message += " (redirects are not followed: check the base URL)"
    return VendorRequestError(message, status_code=status)


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    vendor: str,
    timeout: float,
    secrets: Iterable[str] = (),
    **kwargs: Any,
) -> Any:
    """Send one request and return the decoded JSON body, or raise a `VendorError`."""
    secrets = tuple(secrets)
    where = describe(vendor, method, url)
    try:
        response = await client.request(method, url, timeout=timeout, follow_redirects=False, **kwargs)
    except httpx.TimeoutException as exc:
        raise VendorUnavailable(f"{where} did not answer within {timeout:g} s") from exc
    except httpx.UnsupportedProtocol as exc:
        raise VendorRequestError(scrub(f"{where}: {exc} (check the base URL)", secrets)) from exc
    except httpx.HTTPError as exc:
        raise VendorUnavailable(scrub(f"{where} is not reachable: {type(exc).__name__}: {exc}", secrets)) from exc
    error = error_for_response(response, where, secrets)
    if error is not None:
        raise error
    try:
        return response.json()
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise VendorResponseError(f"{where} answered HTTP {response.status_code} with a body that is not JSON") from exc


def backoff_delay(
    attempt: int, error: VendorError, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Delay before retry number `attempt` (0-based): the vendor's Retry-After if it sent one, else exponential
    `base * 2**attempt` with jitter in [50 %, 100 %]; never more than `cap`."""
    if error.retry_after is not None:
        return min(error.retry_after, cap)
    return min(cap, base * 2**attempt) * (0.5 + rand() / 2)


async def with_backoff(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    base: float = 1.0,
    cap: float = 30.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Call `fn` up to `attempts` times. Retries only retryable `VendorError`s (rate limits and unavailability),
    sleeping `backoff_delay` between tries; anything else, and the last error, propagates at once."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts):
        try:
            return await fn()
        except VendorError as exc:
            if not exc.retryable or attempt == attempts - 1:
                raise
            await sleep(backoff_delay(attempt, exc, base=base, cap=cap))
    raise AssertionError("unreachable")
