"""Datto RMM v2 client: password-grant token with the public client, Bearer calls, paging by nextPageUrl, 429/403
as retryable waits, 401 and a refused token as auth errors (respx, spec-shaped fixtures)."""

import base64
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from connectors.datto_rmm import DattoRmmClient
from connectors.http import VendorAuthError, VendorRateLimited, VendorResponseError
from tests.inventory_mocks import DATTO, DEVICES_URL, SITE, datto_pages, fixture

KEY, SECRET = "datto-key-DO-NOT-LEAK", "datto-secret-DO-NOT-LEAK"


def _client() -> DattoRmmClient:
    return DattoRmmClient(DATTO, KEY, SECRET)


def assert_no_secret(exc: BaseException) -> None:
    while exc is not None:
        for secret in (KEY, SECRET):
            assert secret not in str(exc) and secret not in repr(exc)
        exc = exc.__cause__


@respx.mock
async def test_token_then_every_page_by_next_page_url():
    datto_pages(respx.mock)
    async with _client() as rmm:
        devices = await rmm.site_devices(SITE)
    assert [d["hostname"] for d in devices] == ["ACME-WS-042", "CONTOSO-DC01", "ACME-NB-007"]
    token_call = respx.calls[0].request
    assert token_call.headers["Authorization"] == "Basic " + base64.b64encode(b"public-client:public").decode()
    assert parse_qs(token_call.content.decode()) == {"grant_type": ["password"], "username": [KEY],
                                                     "password": [SECRET]}  # fmt: skip
    first, second = respx.calls[1].request, respx.calls[2].request
    assert first.url.params["max"] == "250" and first.url.params["page"] == "0"
    assert second.url.params["page"] == "1"  # followed verbatim
    assert first.headers["Authorization"] == "Bearer eyJhbGciOiJSUzI1NiJ9.datto.token"
    assert len(respx.calls) == 3  # one token for all pages


@respx.mock
async def test_rate_limit_and_waf_are_retryable_waits():
    respx.post(f"{DATTO}/auth/oauth/token").mock(return_value=httpx.Response(200, json=fixture("datto_token.json")))
    route = respx.get(DEVICES_URL).mock(return_value=httpx.Response(429, text="Too Many Requests"))
    async with _client() as rmm:
        with pytest.raises(VendorRateLimited) as limited:
            await rmm.site_devices(SITE)
        assert limited.value.retryable and limited.value.retry_after == 60
        route.mock(return_value=httpx.Response(403, text="<html>Request blocked</html>"))
        with pytest.raises(VendorRateLimited) as waf:
            await rmm.site_devices(SITE)
    assert waf.value.retryable and waf.value.retry_after == 300 and waf.value.status_code == 403


@respx.mock
async def test_401_and_a_refused_token_are_auth_errors_without_the_secret():
    token = respx.post(f"{DATTO}/auth/oauth/token")
    token.mock(return_value=httpx.Response(400, json=fixture("datto_token_invalid_grant.json")))
    async with _client() as rmm:
        with pytest.raises(VendorAuthError) as refused:
            await rmm.site_devices(SITE)
    assert not refused.value.retryable and "invalid_grant" in str(refused.value)
    assert_no_secret(refused.value)
    token.mock(return_value=httpx.Response(200, json=fixture("datto_token.json")))
    respx.get(DEVICES_URL).mock(return_value=httpx.Response(401, json=fixture("datto_error_401.json")))
    async with _client() as rmm:
        with pytest.raises(VendorAuthError) as unauthorised:
            await rmm.site_devices(SITE)
    assert unauthorised.value.status_code == 401 and not unauthorised.value.retryable


@respx.mock
async def test_an_answer_without_devices_or_a_foreign_next_page_is_refused():
    respx.post(f"{DATTO}/auth/oauth/token").mock(return_value=httpx.Response(200, json=fixture("datto_token.json")))
    route = respx.get(DEVICES_URL).mock(return_value=httpx.Response(200, json={"pageDetails": {}}))
    async with _client() as rmm:
        with pytest.raises(VendorResponseError, match="no 'devices' list"):
            await rmm.site_devices(SITE)
        page = fixture("datto_site_devices_page1.json")
        page["pageDetails"]["nextPageUrl"] = "https://evil.example/api/v2/site/x/devices?page=1"
        route.mock(return_value=httpx.Response(200, json=page))
        with pytest.raises(VendorResponseError, match="not on"):  # the token is never sent elsewhere
            await rmm.site_devices(SITE)
        page["pageDetails"]["nextPageUrl"] = f"{DEVICES_URL}?max=250&page=0"
        route.mock(return_value=httpx.Response(200, json=page))
        with pytest.raises(VendorResponseError, match="loops"):
            await rmm.site_devices(SITE)
