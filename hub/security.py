"""API keys: random, shown once, stored as a SHA-256 hash (keys carry 256 bits, so no slow KDF is needed)."""

import hashlib
import secrets

KEY_PREFIX = "psa_"


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_lookup_prefix(key: str) -> str:
    return key[:12]
