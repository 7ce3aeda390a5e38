"""N-central REST client: the JWT exchanged for an access token, pages by pageNumber until totalItems, a 401
refreshes the access token once (then a clear auth error), a refused JWT and a 403 are auth errors without a retry,
a 429 waits for Retry-After (respx, payloads shaped like the documented answers)."""

import httpx
import pytest
import respx

from connectors.http import VendorAuthError, VendorRateLimited, VendorResponseError
from connectors.ncentral import NcentralClient
from tests.inventory_mocks import NCENTRAL, NCENTRAL_DEVICES_URL, NCENTRAL_JWT, ORG_UNIT, fixture, ncentral_pages

AUTH_URL, REFRESH_URL = f"{NCENTRAL}/api/auth/authenticate", f"{NCENTRAL}/api/auth/refresh"
ACCESS_1, REFRESH_1 = "eyJhbGciOiJIUzUxMiJ9.ncentral.access-1", "eyJhbGciOiJIUzUxMiJ9.ncentral.refresh-1"
ACCESS_2 = "eyJhbGciOiJIUzUxMiJ9.ncentral.access-2"


def _client(page_size: int = 2) -> NcentralClient:
    return NcentralClient(NCENTRAL + "/", NCENTRAL_JWT, page_size=page_size)


def assert_no_secret(exc: BaseException | None) -> None:
    while exc is not None:
        for secret in (NCENTRAL_JWT, ACCESS_1, REFRESH_1, ACCESS_2):
            assert secret not in str(exc) and secret not in repr(exc)
        exc = exc.__cause__


@respx.mock
async def test_jwt_exchanged_once_then_every_page_until_total_items():
    devices_route = ncentral_pages(respx.mock)
    async with _client() as rmm:
        devices = await rmm.org_unit_devices(ORG_UNIT)
    assert [d["longName"] for d in devices] == ["ACME-WS-042", "CONTOSO-DC01", "ACME-NB-007"]
    auth = respx.calls[0].request
    assert auth.method == "POST" and auth.url == AUTH_URL and auth.headers["Authorization"] == f"Bearer {NCENTRAL_JWT}"
    pages = [c.request for c in devices_route.calls]
    assert [(p.url.params["pageNumber"], p.url.params["pageSize"]) for p in pages] == [("1", "2"), ("2", "2")]
    assert {p.headers["Authorization"] for p in pages} == {f"Bearer {ACCESS_1}"}
    assert len(respx.calls) == 3  # one exchange, two pages: page 2 reached totalItems 3


@respx.mock
async def test_a_server_answering_fewer_than_page_size_is_still_read_to_the_end():
    ncentral_pages(respx.mock)
    async with _client(page_size=200) as rmm:  # page 1 brings 2 of 200, but totalItems says 3
        assert len(await rmm.org_unit_devices(ORG_UNIT)) == 3


@respx.mock
async def test_without_total_items_a_short_page_is_the_last():
    respx.post(AUTH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json")))
    body = fixture("ncentral_org_unit_devices_page2.json")
    del body["totalItems"]
    route = respx.get(NCENTRAL_DEVICES_URL).mock(return_value=httpx.Response(200, json=body))
    async with _client() as rmm:
        assert [d["deviceId"] for d in await rmm.org_unit_devices(ORG_UNIT)] == [1187654323]
    assert route.call_count == 1


@respx.mock
async def test_an_expired_access_token_is_refreshed_once_and_the_page_asked_again():
    respx.post(AUTH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json")))
    refresh = respx.post(REFRESH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_refresh.json")))
    page = httpx.Response(200, json=fixture("ncentral_org_unit_devices_page2.json") | {"totalItems": 1})
    route = respx.get(NCENTRAL_DEVICES_URL).mock(
        side_effect=[httpx.Response(401, json={"message": "Access token expired"}), page]
    )
    async with _client() as rmm:
        devices = await rmm.org_unit_devices(ORG_UNIT)
    assert len(devices) == 1 and refresh.call_count == 1
    assert refresh.calls[0].request.content.decode() == REFRESH_1
    assert [c.request.headers["Authorization"] for c in route.calls] == [f"Bearer {ACCESS_1}", f"Bearer {ACCESS_2}"]


@respx.mock
async def test_a_second_401_after_the_refresh_is_a_clear_auth_error_without_secrets():
    respx.post(AUTH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json")))
    respx.post(REFRESH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_refresh.json")))
    route = respx.get(NCENTRAL_DEVICES_URL).mock(
        return_value=httpx.Response(401, text=f"invalid token {ACCESS_1} {ACCESS_2}")
    )
    async with _client() as rmm:
        with pytest.raises(VendorAuthError) as err:
            await rmm.org_unit_devices(ORG_UNIT)
    assert route.call_count == 2  # the first try and one after the refresh, no loop
    assert err.value.status_code == 401 and not err.value.retryable
    assert "after a fresh access token" in str(err.value) and "user-API token (JWT)" in str(err.value)
    assert_no_secret(err.value)


@respx.mock
async def test_a_refused_refresh_falls_back_to_the_jwt_once():
    auth = respx.post(AUTH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json")))
    respx.post(REFRESH_URL).mock(return_value=httpx.Response(401, json={"message": "refresh token expired"}))
    page = httpx.Response(200, json=fixture("ncentral_org_unit_devices_page2.json") | {"totalItems": 1})
    respx.get(NCENTRAL_DEVICES_URL).mock(side_effect=[httpx.Response(401), page])
    async with _client() as rmm:
        assert len(await rmm.org_unit_devices(ORG_UNIT)) == 1
    assert auth.call_count == 2


@respx.mock
async def test_a_refused_jwt_is_an_auth_error_naming_what_to_check():
    auth = respx.post(AUTH_URL).mock(
        return_value=httpx.Response(401, json={"message": f"Invalid JWT {NCENTRAL_JWT}"})
    )
    devices = respx.get(NCENTRAL_DEVICES_URL)
    async with _client() as rmm:
        with pytest.raises(VendorAuthError) as err:
            await rmm.org_unit_devices(ORG_UNIT)
    assert "HTTP 401" in str(err.value) and str(err.value).count("user-API token (JWT)") == 1
    assert auth.call_count == 1 and not devices.called
    assert_no_secret(err.value)


@respx.mock
async def test_a_403_is_the_api_users_permission_not_retried_nor_refreshed():
    respx.post(AUTH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json")))
    refresh = respx.post(REFRESH_URL)
    route = respx.get(NCENTRAL_DEVICES_URL).mock(
        return_value=httpx.Response(403, json={"message": "Access denied to org unit 1234"})
    )
    async with _client() as rmm:
        with pytest.raises(VendorAuthError) as err:
            await rmm.org_unit_devices(ORG_UNIT)
    assert err.value.status_code == 403 and not err.value.retryable
    assert "role and access to the customer" in str(err.value)
    assert route.call_count == 1 and not refresh.called


@respx.mock
async def test_429_waits_for_retry_after_or_a_minute():
    respx.post(AUTH_URL).mock(return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json")))
    route = respx.get(NCENTRAL_DEVICES_URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    async with _client() as rmm:
        with pytest.raises(VendorRateLimited) as told:
            await rmm.org_unit_devices(ORG_UNIT)
        route.mock(return_value=httpx.Response(429))
        with pytest.raises(VendorRateLimited) as untold:
            await rmm.org_unit_devices(ORG_UNIT)
    assert told.value.retryable and told.value.retry_after == 120
    assert untold.value.retry_after == 60


@respx.mock
async def test_an_answer_without_data_or_tokens_is_unusable():
    auth = respx.post(AUTH_URL).mock(return_value=httpx.Response(200, json={"tokens": {}}))
    async with _client() as rmm:
        with pytest.raises(VendorResponseError, match="tokens.access.token"):
            await rmm.org_unit_devices(ORG_UNIT)
    auth.mock(return_value=httpx.Response(200, json=fixture("ncentral_authenticate.json")))
    respx.get(NCENTRAL_DEVICES_URL).mock(return_value=httpx.Response(200, json={"devices": []}))
    async with _client() as rmm:
        with pytest.raises(VendorResponseError, match="no 'data' list"):
            await rmm.org_unit_devices(ORG_UNIT)


def test_an_empty_token_is_refused_before_any_call():
    with pytest.raises(ValueError, match="empty"):
        NcentralClient(NCENTRAL, "")
