"""Standard Webhooks verification: the spec's test vector, every rejection reason, rotation, round trips."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.soc.signatures import (
    SignatureError,
    SignatureErrorCode,
    secret_key,
    sign,
    signed_headers,
    verify,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_" + base64.b64encode(b"the previous key, still valid").decode()
NOW = datetime(2026, 11, 20, 8, 15, 42, tzinfo=UTC)
BODY = b'{"id":"evt-1","title":"Mimikatz detected"}'


def headers(secret=SECRET, body=BODY, at=NOW, msg_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W") -> dict[str, str]:
    return signed_headers(secret, msg_id, at, body)


def reason(secret, hdrs, body=BODY, now=NOW, **kwargs) -> SignatureErrorCode:
    with pytest.raises(SignatureError) as exc:
        verify(secret, hdrs, body, now, **kwargs)
    assert exc.value.message
    return exc.value.code


def test_matches_the_reference_test_vector():
    # standard-webhooks/libraries/python/tests: test_sign_function
    assert sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}') == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_valid_delivery_returns_the_webhook_id():
    assert verify(SECRET, headers(), BODY, NOW) == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


def test_header_names_are_case_insensitive():
    shouted = {name.upper(): value for name, value in headers().items()}
    assert verify(SECRET, shouted, BODY, NOW) == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


def test_wrong_secret():
    assert reason("whsec_" + base64.b64encode(b"someone else").decode(), headers()) is SignatureErrorCode.BAD_SIGNATURE


def test_tampered_body():
    assert reason(SECRET, headers(), body=BODY.replace(b"Mimikatz", b"Nothing")) is SignatureErrorCode.BAD_SIGNATURE


def test_tampered_id_or_timestamp():
    hdrs = headers()
    assert reason(SECRET, {**hdrs, "webhook-id": "msg_other"}) is SignatureErrorCode.BAD_SIGNATURE
    shifted = str(int(hdrs["webhook-timestamp"]) + 1)
    assert reason(SECRET, {**hdrs, "webhook-timestamp": shifted}) is SignatureErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_or_empty_headers(missing):
    hdrs = headers()
    assert reason(SECRET, {k: v for k, v in hdrs.items() if k != missing}) is SignatureErrorCode.MISSING_HEADER
    assert reason(SECRET, {**hdrs, missing: "  "}) is SignatureErrorCode.MISSING_HEADER


@pytest.mark.parametrize("value", ["hello", "1795162542.5", "-1795162542", "1e9", "99999999999999"])
def test_bad_timestamp(value):
    assert reason(SECRET, {**headers(), "webhook-timestamp": value}) is SignatureErrorCode.BAD_TIMESTAMP


def test_stale_and_future_timestamps_around_the_tolerance():
    tolerance = timedelta(minutes=5)
    assert verify(SECRET, headers(at=NOW - tolerance), BODY, NOW)
    assert verify(SECRET, headers(at=NOW + tolerance), BODY, NOW)
    late = headers(at=NOW - tolerance - timedelta(seconds=1))
    early = headers(at=NOW + tolerance + timedelta(seconds=1))
    assert reason(SECRET, late) is SignatureErrorCode.STALE_TIMESTAMP
    assert reason(SECRET, early) is SignatureErrorCode.FUTURE_TIMESTAMP
    assert verify(SECRET, late, BODY, NOW, tolerance=timedelta(minutes=10))


def test_rotated_secrets_on_our_side():
    signed_with_old = headers(secret=OLD_SECRET)
    assert verify([SECRET, OLD_SECRET], signed_with_old, BODY, NOW)
    assert reason([SECRET], signed_with_old) is SignatureErrorCode.BAD_SIGNATURE


def test_multiple_signatures_from_the_sender():
    hdrs = signed_headers([OLD_SECRET, SECRET], "msg_1", NOW, BODY)
    assert len(hdrs["webhook-signature"].split()) == 2
    assert verify(SECRET, hdrs, BODY, NOW) == "msg_1"
    valid = headers()["webhook-signature"]
    noisy = f"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,{valid[3:]} v1,%%%notbase64 garbage {valid}"
    assert verify(SECRET, {**headers(), "webhook-signature": noisy}, BODY, NOW)
    # A correct digest under another version label does not count.
    assert reason(SECRET, {**headers(), "webhook-signature": "v1a," + valid[3:]}) is SignatureErrorCode.BAD_SIGNATURE


def test_secret_forms():
    assert secret_key(SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert secret_key("plain-vendor-secret") == b"plain-vendor-secret"
    assert secret_key(b"\x00\x01") == b"\x00\x01"
    hdrs = signed_headers("plain-vendor-secret", "msg_1", NOW, BODY)
    assert verify("plain-vendor-secret", hdrs, BODY, NOW) == "msg_1"
    for bad in ["", "whsec_", "whsec_not*base64", b""]:
        with pytest.raises(ValueError):
            secret_key(bad)
    with pytest.raises(ValueError):
        verify([], headers(), BODY, NOW)
    with pytest.raises(ValueError):
        verify(SECRET, headers(), BODY, NOW.replace(tzinfo=None))


@given(
    body=st.binary(max_size=4096),
    msg_id=st.text(
        alphabet=st.characters(blacklist_categories=["Cs", "Zs", "Zl", "Zp", "Cc"]), min_size=1, max_size=60
    ),
    key=st.binary(min_size=1, max_size=64),
    offset=st.integers(min_value=-300, max_value=300),
)
def test_sign_verify_round_trip(body, msg_id, key, offset):
    secret = "whsec_" + base64.b64encode(key).decode()
    hdrs = signed_headers(secret, msg_id, NOW + timedelta(seconds=offset), body)
    assert verify(secret, hdrs, body, NOW) == msg_id
    with pytest.raises(SignatureError):
        verify(secret, hdrs, body + b"x", NOW)


def test_a_timestamp_beyond_the_calendar_is_refused_not_crashed_on():
    """Twelve digits reach the year 33658, which no datetime holds: still a refusal that names the value."""
    with pytest.raises(SignatureError) as exc:
        verify(SECRET, {**headers(), "webhook-timestamp": "999999999999"}, BODY, NOW)
    assert exc.value.code is SignatureErrorCode.FUTURE_TIMESTAMP and "999999999999" in exc.value.message
