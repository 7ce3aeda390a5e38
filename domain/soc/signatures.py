"""Inbound webhook signatures in the Standard Webhooks scheme (https://www.standardwebhooks.com/).

A sender adds three headers: ``webhook-id`` (the message id; retries of one message keep it),
``webhook-timestamp`` (integer Unix seconds) and ``webhook-signature``: space-separated ``v1,<base64>``
entries, each an HMAC-SHA256 over ``"{id}.{timestamp}.{body}"`` with the raw body bytes exactly as received.
We accept a delivery when the timestamp is within ``tolerance`` of ``now`` (replay window, both directions)
and any ``v1`` entry matches the HMAC under any of our secrets, compared with ``hmac.compare_digest``.
Several entries (the sender rotates its key) and several secrets (we rotate ours: old and new secret are
both valid for a while) are both supported; entries of other versions (``v1a``, ...) are ignored.

Secrets: ``whsec_<base64>`` as the spec recommends (the key is the decoded bytes); any other string is used
as its UTF-8 bytes (vendors that hand out plain secrets); ``bytes`` are the key itself. Note: the reference
libraries also base64-decode an unprefixed string, so store base64 secrets from such senders with ``whsec_``.
A secret that is empty or not valid base64 after ``whsec_`` is a configuration error (``ValueError``), not a
bad delivery.

Other methods (``WebhookAuth``), for senders without Standard Webhooks: the security platforms themselves poll-only
in public integrations, pushes come from automation tools (SentinelOne notifications/automation, SOAR tools,
mail-to-webhook flows) that can add a fixed header or an HMAC of the body:

* ``header_secret``: the secret, as is, in a named header (default ``X-Webhook-Secret``);
* ``bearer``: ``Authorization: Bearer <secret>``;
* ``hmac_sha256``: HMAC-SHA256 of the raw body under the secret's UTF-8 bytes, in a named header (default
  ``X-Signature-SHA256``), hex (optionally ``sha256=``-prefixed, as GitHub does) or base64.

All compare in constant time. They carry no timestamp, so a replayed delivery is not refused; it is harmless: the
alerts it carries are de-duplicated by their vendor ids.

Pure: ``now`` is passed in; no I/O.
"""

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
DEFAULT_TOLERANCE = timedelta(minutes=5)
SECRET_PREFIX = "whsec_"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Secret = str | bytes
_TIMESTAMP = re.compile(r"^\d{1,12}$")


class WebhookAuth(StrEnum):
    """How an integration's deliveries prove where they come from."""

    STANDARD_WEBHOOKS = "standard_webhooks"
    HEADER_SECRET = "header_secret"
    BEARER = "bearer"
    HMAC_SHA256 = "hmac_sha256"


DEFAULT_HEADERS = {WebhookAuth.HEADER_SECRET: "X-Webhook-Secret", WebhookAuth.HMAC_SHA256: "X-Signature-SHA256"}
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class SignatureErrorCode(StrEnum):
    MISSING_HEADER = "missing_header"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    BAD_SIGNATURE = "bad_signature"


class SignatureError(Exception):
    """A delivery that must be rejected (HTTP 401); `code` is for logs and metrics, `message` for people."""

    def __init__(self, code: SignatureErrorCode, message: str):
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


def secret_key(secret: Secret) -> bytes:
    """The HMAC key of a configured secret (see the module docstring)."""
    if isinstance(secret, bytes):
        key = secret
    elif secret.startswith(SECRET_PREFIX):
        encoded = secret[len(SECRET_PREFIX) :]
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error as exc:
            raise ValueError("webhook secret: not valid base64 after 'whsec_'") from exc
    else:
        key = secret.encode()
    if not key:
        raise ValueError("webhook secret must not be empty")
    return key


def _as_list(secrets: Secret | Sequence[Secret]) -> list[Secret]:
    items = [secrets] if isinstance(secrets, str | bytes) else list(secrets)
    if not items:
        raise ValueError("at least one webhook secret is needed")
    return items


def _unix_seconds(timestamp: datetime | int) -> int:
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
        return int(timestamp.timestamp() // 1)
    return int(timestamp)


def _when(raw_timestamp: str) -> str:
    """A header timestamp for people: ISO-8601 where a datetime can hold it, else the raw Unix seconds."""
    try:
        return datetime.fromtimestamp(int(raw_timestamp), tz=UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return f"Unix time {raw_timestamp}"


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign(secret: Secret, msg_id: str, timestamp: datetime | int, body: bytes) -> str:
    """One ``v1,<base64>`` signature entry."""
    digest = _digest(secret_key(secret), msg_id, str(_unix_seconds(timestamp)), body)
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secrets: Secret | Sequence[Secret], msg_id: str, timestamp: datetime | int, body: bytes
) -> dict[str, str]:
    """The three headers a sender adds, with one signature entry per secret (for tests and benchmarks)."""
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(_unix_seconds(timestamp)),
        HEADER_SIGNATURE: " ".join(sign(secret, msg_id, timestamp, body) for secret in _as_list(secrets)),
    }


def verify(
    secrets: Secret | Sequence[Secret],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """The webhook id of a delivery whose signature and timestamp check out; SignatureError otherwise."""
    keys = [secret_key(secret) for secret in _as_list(secrets)]
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lowered = {name.lower(): value for name, value in headers.items()}
    values = {}
    for name in (HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE):
        value = (lowered.get(name) or "").strip()
        if not value:
            raise SignatureError(SignatureErrorCode.MISSING_HEADER, f"header {name} is missing or empty")
        values[name] = value
    msg_id, raw_timestamp = values[HEADER_ID], values[HEADER_TIMESTAMP]

    if not _TIMESTAMP.match(raw_timestamp):
        raise SignatureError(SignatureErrorCode.BAD_TIMESTAMP, f"{HEADER_TIMESTAMP} must be integer Unix seconds")
    # As durations since the epoch: twelve digits reach past the year 9999, which a datetime cannot hold.
    age = (now - _EPOCH) - timedelta(seconds=int(raw_timestamp))
    if age > tolerance:
        raise SignatureError(
            SignatureErrorCode.STALE_TIMESTAMP, f"sent at {_when(raw_timestamp)}, older than {tolerance} (replay?)"
        )
    if -age > tolerance:
        raise SignatureError(
            SignatureErrorCode.FUTURE_TIMESTAMP, f"sent at {_when(raw_timestamp)}, more than {tolerance} ahead"
        )

    expected = [_digest(key, msg_id, raw_timestamp, body) for key in keys]
    for entry in values[HEADER_SIGNATURE].split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        if any(hmac.compare_digest(candidate, digest) for digest in expected):
            return msg_id
    raise SignatureError(SignatureErrorCode.BAD_SIGNATURE, "no v1 signature matches any configured secret")


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = {key.lower(): value for key, value in headers.items()}
    value = (lowered.get(name.lower()) or "").strip()
    if not value:
        raise SignatureError(SignatureErrorCode.MISSING_HEADER, f"header {name} is missing or empty")
    return value


def body_hmac(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of a body under a secret's UTF-8 bytes (the ``hmac_sha256`` method)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _verify_header_secret(secrets: Sequence[str], value: str) -> None:
    if not any(hmac.compare_digest(value.encode(), secret.encode()) for secret in secrets):
        raise SignatureError(SignatureErrorCode.BAD_SIGNATURE, "the secret does not match any configured secret")


def _verify_body_hmac(secrets: Sequence[str], name: str, value: str, body: bytes) -> None:
    value = value.removeprefix("sha256=").strip()
    if _HEX.match(value):
        candidate = bytes.fromhex(value)
    else:
        try:
            candidate = base64.b64decode(value, validate=True)
        except binascii.Error:
            candidate = b""
    if len(candidate) != hashlib.sha256().digest_size:
        raise SignatureError(
            SignatureErrorCode.BAD_SIGNATURE, f"header {name} must hold the HMAC-SHA256 as 64 hex digits or base64"
        )
    expected = [hmac.new(secret.encode(), body, hashlib.sha256).digest() for secret in secrets]
    if not any(hmac.compare_digest(candidate, digest) for digest in expected):
        raise SignatureError(SignatureErrorCode.BAD_SIGNATURE, "the body's HMAC matches no configured secret")


def verify_delivery(
    method: WebhookAuth,
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    header: str | None = None,
) -> str | None:
    """Checks a delivery by the integration's method; SignatureError when it fails. Returns the Standard Webhooks
    message id (None for the other methods). `header`: the header of `header_secret` / `hmac_sha256`."""
    if method == WebhookAuth.STANDARD_WEBHOOKS:
        return verify(secrets, headers, body, now)
    if not secrets:
        raise ValueError("at least one webhook secret is needed")
    if method == WebhookAuth.BEARER:
        scheme, _, token = _header(headers, "Authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SignatureError(SignatureErrorCode.MISSING_HEADER, "header Authorization must be 'Bearer <secret>'")
        _verify_header_secret(secrets, token.strip())
        return None
    name = header or DEFAULT_HEADERS[method]
    if method == WebhookAuth.HEADER_SECRET:
        _verify_header_secret(secrets, _header(headers, name))
    else:
        _verify_body_hmac(secrets, name, _header(headers, name), body)
    return None
