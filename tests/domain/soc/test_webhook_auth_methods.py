"""The verification methods besides Standard Webhooks: a static secret header, a bearer token, an HMAC-SHA256 of the
raw body; each compares in constant time, accepts any configured secret (rotation) and says what is wrong."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from domain.soc.signatures import (
    SignatureError,
    SignatureErrorCode,
    WebhookAuth,
    body_hmac,
    signed_headers,
    verify_delivery,
)

NOW = datetime(2026, 11, 20, 8, 15, 42, tzinfo=UTC)
BODY = b'{"id":"evt-1","title":"Mimikatz detected"}'
SECRET, OLD = "s3cr3t-token", "previous-token"


def refused(method: WebhookAuth, headers: dict[str, str], body: bytes = BODY, header: str | None = None) -> str:
    with pytest.raises(SignatureError) as exc:
        verify_delivery(method, [SECRET, OLD], headers, body, NOW, header)
    assert exc.value.message
    return exc.value.code


def test_header_secret_in_the_default_or_a_named_header():
    assert verify_delivery(WebhookAuth.HEADER_SECRET, [SECRET], {"x-webhook-secret": SECRET}, BODY, NOW) is None
    named = {"X-S1-Token": OLD}
    assert verify_delivery(WebhookAuth.HEADER_SECRET, [SECRET, OLD], named, BODY, NOW, "x-s1-token") is None
    assert refused(WebhookAuth.HEADER_SECRET, {"X-Webhook-Secret": SECRET + "x"}) == SignatureErrorCode.BAD_SIGNATURE
    assert refused(WebhookAuth.HEADER_SECRET, {"X-Other": SECRET}) == SignatureErrorCode.MISSING_HEADER
    # The secret in the default header does not count when the integration names another one.
    assert refused(WebhookAuth.HEADER_SECRET, {"X-Webhook-Secret": SECRET}, header="X-S1-Token") == "missing_header"


def test_bearer_token():
    assert verify_delivery(WebhookAuth.BEARER, [SECRET], {"Authorization": f"Bearer {SECRET}"}, BODY, NOW) is None
    assert verify_delivery(WebhookAuth.BEARER, [SECRET], {"authorization": f"bearer {SECRET}"}, BODY, NOW) is None
    assert refused(WebhookAuth.BEARER, {"Authorization": "Bearer nope"}) == SignatureErrorCode.BAD_SIGNATURE
    assert refused(WebhookAuth.BEARER, {"Authorization": f"Basic {SECRET}"}) == SignatureErrorCode.MISSING_HEADER
    assert refused(WebhookAuth.BEARER, {}) == SignatureErrorCode.MISSING_HEADER


def test_hmac_of_the_body_in_hex_prefixed_hex_or_base64():
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    assert body_hmac(SECRET, BODY) == digest.hex()
    for value in (digest.hex(), digest.hex().upper(), "sha256=" + digest.hex(), base64.b64encode(digest).decode()):
        assert verify_delivery(WebhookAuth.HMAC_SHA256, [OLD, SECRET], {"X-Signature-SHA256": value}, BODY, NOW) is None
    good = {"X-Signature-SHA256": digest.hex()}
    assert refused(WebhookAuth.HMAC_SHA256, good, body=BODY + b" ") == SignatureErrorCode.BAD_SIGNATURE
    assert refused(WebhookAuth.HMAC_SHA256, {"X-Signature-SHA256": "abc"}) == SignatureErrorCode.BAD_SIGNATURE
    assert refused(WebhookAuth.HMAC_SHA256, {"X-Hub-Signature-256": digest.hex()}) == SignatureErrorCode.MISSING_HEADER
    named = {"X-Hub-Signature-256": "sha256=" + digest.hex()}
    assert verify_delivery(WebhookAuth.HMAC_SHA256, [SECRET], named, BODY, NOW, "X-Hub-Signature-256") is None


def test_standard_webhooks_stays_the_default_scheme_and_returns_the_message_id():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    headers = signed_headers(secret, "msg_1", NOW, BODY)
    assert verify_delivery(WebhookAuth.STANDARD_WEBHOOKS, [secret], headers, BODY, NOW) == "msg_1"
    # A plain secret header is no Standard Webhooks signature.
    with pytest.raises(SignatureError):
        verify_delivery(WebhookAuth.STANDARD_WEBHOOKS, [secret], {"X-Webhook-Secret": secret}, BODY, NOW)
