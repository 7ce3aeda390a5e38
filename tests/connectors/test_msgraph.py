"""Microsoft Graph client: client-credentials token, subscribedSkus with $select, @odata.nextLink followed on
Graph only, refused credentials and missing permissions as auth errors; the MFA registration report over its pages,
its 403s told apart (no Entra ID P1/P2 licence, no permission) (respx, spec-shaped fixtures)."""

from urllib.parse import parse_qs

import httpx
import pytest
import respx

from connectors.http import VendorAuthError, VendorRateLimited, VendorResponseError
from connectors.msgraph import MfaReportRefused, MsGraphClient
from tests.inventory_mocks import M365_TENANT, MFA_URL, SKUS_URL, TOKEN_URL, fixture, graph_mfa, graph_skus

CLIENT_ID, SECRET = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", "graph-secret-DO-NOT-LEAK"


def _client() -> MsGraphClient:
    return MsGraphClient(M365_TENANT, CLIENT_ID, SECRET)


@respx.mock
async def test_client_credentials_token_and_the_skus():
    graph_skus(respx.mock)
    async with _client() as graph:
        skus = await graph.subscribed_skus()
    assert [s["skuPartNumber"] for s in skus] == ["O365_BUSINESS_PREMIUM", "SPE_E3"]
    form = parse_qs(respx.calls[0].request.content.decode())
    assert form == {"client_id": [CLIENT_ID], "client_secret": [SECRET], "grant_type": ["client_credentials"],
                    "scope": ["https://graph.microsoft.com/.default"]}  # fmt: skip
    sku_call = respx.calls[1].request
    assert sku_call.headers["Authorization"] == "Bearer eyJ0eXAiOiJKV1QiLCJub25jZSI6.graph.token"
    assert "skuPartNumber" in sku_call.url.params["$select"]


@respx.mock
async def test_next_link_is_followed_on_graph_only():
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=fixture("graph_token.json")))
    body = fixture("graph_subscribed_skus.json")
    first = dict(body, value=body["value"][:1], **{"@odata.nextLink": f"{SKUS_URL}?$skiptoken=abc"})
    route = respx.get(SKUS_URL)
    route.side_effect = [httpx.Response(200, json=first), httpx.Response(200, json=dict(body, value=body["value"][1:]))]
    async with _client() as graph:
        assert [s["skuPartNumber"] for s in await graph.subscribed_skus()] == ["O365_BUSINESS_PREMIUM", "SPE_E3"]
    route.side_effect = None
    route.mock(return_value=httpx.Response(200, json=dict(body, **{"@odata.nextLink": "https://evil.example/x"})))
    async with _client() as graph:
        with pytest.raises(VendorResponseError, match="not on"):
            await graph.subscribed_skus()


@respx.mock
async def test_refused_credentials_missing_permission_and_throttling():
    token = respx.post(TOKEN_URL)
    token.mock(return_value=httpx.Response(401, json=fixture("graph_token_invalid_client.json")))
    async with _client() as graph:
        with pytest.raises(VendorAuthError) as refused:
            await graph.subscribed_skus()
    assert "AADSTS7000215" in str(refused.value) and SECRET not in str(refused.value)
    token.mock(return_value=httpx.Response(400, json=fixture("graph_token_invalid_client.json")))
    async with _client() as graph:
        with pytest.raises(VendorAuthError):
            await graph.subscribed_skus()
    token.mock(return_value=httpx.Response(200, json=fixture("graph_token.json")))
    skus = respx.get(SKUS_URL).mock(return_value=httpx.Response(403, json=fixture("graph_error_403.json")))
    async with _client() as graph:
        with pytest.raises(VendorAuthError, match="Authorization_RequestDenied"):
            await graph.subscribed_skus()
    skus.mock(return_value=httpx.Response(429, headers={"Retry-After": "7"}))
    async with _client() as graph:
        with pytest.raises(VendorRateLimited) as limited:
            await graph.subscribed_skus()
    assert limited.value.retry_after == 7


@respx.mock
async def test_mfa_report_follows_next_link_over_both_pages():
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=fixture("graph_token.json")))
    route = graph_mfa(respx.mock)
    async with _client() as graph:
        users = await graph.user_registration_details()
    assert [u["userDisplayName"] for u in users] == ["Alex Wilber", "Allan Deyoung", "Bianca Pisani", "Christie Cline",
                                                     "Diego Siciliani", "Lee Gu", "Megan Bowen"]  # fmt: skip
    assert route.call_count == 2 and "$skiptoken" in route.calls[1].request.url.params
    assert route.calls[0].request.headers["Authorization"] == "Bearer eyJ0eXAiOiJKV1QiLCJub25jZSI6.graph.token"


@respx.mock
async def test_mfa_report_403_says_whether_the_licence_or_the_permission_is_missing():
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=fixture("graph_token.json")))
    report = respx.get(MFA_URL).mock(return_value=httpx.Response(403, json=fixture("graph_error_403_non_premium.json")))
    async with _client() as graph:
        with pytest.raises(MfaReportRefused) as no_licence:
            await graph.user_registration_details()
    assert no_licence.value.licence_missing and no_licence.value.status_code == 403
    report.mock(return_value=httpx.Response(403, json=fixture("graph_error_403.json")))
    async with _client() as graph:
        with pytest.raises(MfaReportRefused) as no_permission:
            await graph.user_registration_details()
    assert not no_permission.value.licence_missing
    report.mock(return_value=httpx.Response(401, json=fixture("graph_error_403.json")))
    async with _client() as graph:
        with pytest.raises(VendorAuthError) as unauthorised:
            await graph.user_registration_details()
    assert not isinstance(unauthorised.value, MfaReportRefused)
