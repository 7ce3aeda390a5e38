"""Outgoing webhooks (Teams, generic JSON, paging tools): one JSON POST with an idempotency key.

Synchronous httpx, for the hub's sync activities (they run in the worker's thread pool). Redirects are never
followed to another origin (scheme, host and port): a webhook must not be able to bounce our POST, with its
payload, somewhere else. A 307/308 to the same origin is followed (at most `MAX_REDIRECTS` times); any other
redirect is an error. Error messages name only the origin of the URL, as webhook paths often carry secrets.
"""

from typing import Any

import httpx

USER_AGENT = "msp-hub"
MAX_REDIRECTS = 3
_ERROR_BODY_CHARS = 300


class WebhookError(Exception):
    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def redact_url(url: str | httpx.URL) -> str:
    """Scheme, host and port only: 'https://example.webhook.office.com'."""
    u = httpx.URL(str(url))
    port = f":{u.port}" if u.port is not None else ""
    return f"{u.scheme}://{u.host}{port}"


def _origin(u: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(u.scheme)
    return u.scheme, u.host, u.port or default


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    idempotency_key: str,
    timeout: float,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """POST `payload` as JSON; return the 2xx response or raise `WebhookError` (with the HTTP status)."""
    headers = {"Idempotency-Key": idempotency_key, "User-Agent": USER_AGENT, "Accept": "application/json, */*"}
    target = httpx.URL(url)
    where = redact_url(target)
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = http.post(target, json=payload, headers=headers, follow_redirects=False)
            except httpx.TimeoutException as exc:
                raise WebhookError(f"webhook {where} did not answer within {timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise WebhookError(f"webhook {where} is not reachable: {type(exc).__name__}: {exc}") from exc
            if response.is_success:
                return response
            if not response.is_redirect:
                body = " ".join(response.text.split())[:_ERROR_BODY_CHARS]
                raise WebhookError(
                    f"webhook {where} answered HTTP {response.status_code}" + (f": {body}" if body else ""),
                    status_code=response.status_code,
                )
            location = target.join(response.headers.get("Location", ""))
            if _origin(location) != _origin(target):
                raise WebhookError(
                    f"webhook {where} redirects to another host ({redact_url(location)}): not followed",
                    status_code=response.status_code,
                )
            if response.status_code not in (307, 308):
                raise WebhookError(
                    f"webhook {where} answered HTTP {response.status_code} (a redirect that would turn the POST "
                    "into a GET): not followed; configure the final URL",
                    status_code=response.status_code,
                )
            target = location
        raise WebhookError(f"webhook {where}: more than {MAX_REDIRECTS} redirects", status_code=response.status_code)
    finally:
        if own:
            http.close()
