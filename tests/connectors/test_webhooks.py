"""The webhook connector: headers, errors that keep secrets out, and no redirects to other hosts."""

import httpx
import pytest
import respx

from connectors.webhooks import WebhookError, post_json, redact_url

URL = "https://hooks.example.test/path/s3cr3t?sig=abc"


def test_headers_and_body():
    with respx.mock(assert_all_called=True) as router:
        route = router.post(URL).mock(return_value=httpx.Response(200))
        post_json(URL, {"a": "ä"}, idempotency_key="k1", timeout=5)
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "k1" and request.headers["User-Agent"] == "msp-hub"
    assert httpx.Response(200, content=request.content).json() == {"a": "ä"}


def test_redirect_to_another_host_is_not_followed():
    with respx.mock(assert_all_called=False) as router:
        router.post(URL).mock(return_value=httpx.Response(307, headers={"Location": "https://evil.example/x"}))
        evil = router.post("https://evil.example/x").mock(return_value=httpx.Response(200))
        with pytest.raises(WebhookError, match="redirects to another host") as err:
            post_json(URL, {}, idempotency_key="k", timeout=5)
    assert not evil.called and err.value.status_code == 307
    assert "s3cr3t" not in str(err.value) and "sig=" not in str(err.value)


def test_same_host_308_is_followed_but_302_is_not():
    with respx.mock(assert_all_called=True) as router:
        router.post(URL).mock(return_value=httpx.Response(308, headers={"Location": "/new"}))
        new = router.post("https://hooks.example.test/new").mock(return_value=httpx.Response(202))
        assert post_json(URL, {"x": 1}, idempotency_key="k", timeout=5).status_code == 202
    assert new.calls.last.request.headers["Idempotency-Key"] == "k"
    with respx.mock() as router:
        router.post(URL).mock(return_value=httpx.Response(302, headers={"Location": "/new"}))
        with pytest.raises(WebhookError, match="HTTP 302"):
            post_json(URL, {}, idempotency_key="k", timeout=5)


def test_error_status_and_transport_errors():
    with respx.mock() as router:
        router.post(URL).mock(return_value=httpx.Response(429, text="slow down"))
        with pytest.raises(WebhookError, match=r"answered HTTP 429: slow down") as err:
            post_json(URL, {}, idempotency_key="k", timeout=5)
        assert err.value.status_code == 429
    with respx.mock() as router:
        router.post(URL).mock(side_effect=httpx.ConnectTimeout("timed out"))
        with pytest.raises(WebhookError, match="did not answer within 5 s"):
            post_json(URL, {}, idempotency_key="k", timeout=5)


def test_redact_url():
    assert redact_url(URL) == "https://hooks.example.test"
    assert redact_url("http://127.0.0.1:8080/x?y=z") == "http://127.0.0.1:8080"
