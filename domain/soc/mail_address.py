"""The address a SOC integration receives alert mails at: ``soc-<integration id>-<token>@<any domain>``.

The local part names the integration and carries a secret, so a mail forwarded to the hub needs no other proof
of where it belongs. The token is derived from the integration's stored webhook signing secret (HMAC-SHA256 of a
fixed label, base32, lower case, truncated to 80 bits): no extra column, and rotating the secret rotates the
address too (the previous secret's address keeps working until that secret is revoked, as for the webhook).
Lower case throughout, because mail systems may change the case of a local part on the way.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from uuid import UUID

_LABEL = b"psa-soc-mail-intake-v1"
TOKEN_LENGTH = 16  # base32 characters, 80 bits; the whole local part stays within RFC 5321's 64 characters
_LOCAL_PART = re.compile(
    r"^soc-(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(?P<token>[a-z2-7]+)$"
)


def mail_token(secret: str) -> str:
    digest = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_LENGTH]


def mail_local_part(integration_id: UUID, secret: str) -> str:
    return f"soc-{integration_id}-{mail_token(secret)}"


def read_local_part(address: str) -> tuple[UUID, str] | None:
    """(integration id, token) of a recipient address, or None when it is not a SOC intake address."""
    local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
    match = _LOCAL_PART.match(local)
    return (UUID(match["id"]), match["token"]) if match else None


def token_matches(token: str, secrets: Iterable[str | None]) -> bool:
    """Whether `token` is derived from one of the secrets; compared in constant time, every secret tried."""
    found = False
    for secret in secrets:
        if secret:
            found |= hmac.compare_digest(token.encode(), mail_token(secret).encode())
    return found
