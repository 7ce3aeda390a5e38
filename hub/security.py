"""Hub users and their API keys: the rules the API (`api/routes/users.py`, `keys.py`) and the CLI
(`psa users`, `psa keys`) share, each change with its audit event.

Keys are random, shown once, stored as a SHA-256 hash (keys carry 256 bits, so no slow KDF is needed)."""

import functools
import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import func
from sqlmodel import Session, select

from domain.roles import Role, role_tenant_error
from models import ApiKey, AuditEvent, Tenant, User

KEY_PREFIX = "psa_"


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_lookup_prefix(key: str) -> str:
    return key[:12]


class AccountError(ValueError):
    """A user or key change the rules refuse; `field` names the input at fault, `status` the HTTP answer."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


def key_refusal(key: ApiKey, user: User, now: datetime) -> str | None:
    """Why a presented key is refused now; None if it is good. Checked on every request: a revocation, a
    deactivation or an expiry takes effect at once."""
    if key.revoked_at is not None or not user.is_active:
        return "invalid or revoked API key"
    if key.expires_at is not None and key.expires_at <= now:
        return f"API key expired at {key.expires_at.isoformat()}"
    if user.access_expires_at is not None and user.access_expires_at <= now:
        return f"access of {user.email} expired at {user.access_expires_at.isoformat()}"
    return None


def check_access_expiry(role: Role, access_expires_at: datetime | None, now: datetime | None) -> None:
    """An external technician's access always ends: the date is required; on creation (`now` given) it lies
    ahead. A change may move it into the past: that is how access ends early."""
    if role == Role.EXTERNAL_TECH and access_expires_at is None:
        raise AccountError("access_expires_at", "required for role external_tech: its access ends on a date")
    if now is not None and access_expires_at is not None and access_expires_at <= now:
        raise AccountError("access_expires_at", "must lie in the future")


def audit(
    session: Session,
    actor_user_id: uuid.UUID | None,
    tenant_id: uuid.UUID | None,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    data: dict[str, Any],
) -> None:
    """Actor None: the CLI (someone with shell access to the hub)."""
    session.add(AuditEvent.of(actor_user_id, tenant_id, entity, entity_id, action, data))


def check_membership(session: Session, role: Role, tenant_id: uuid.UUID | None) -> None:
    """The role and the tenant (membership) fit together, and the tenant exists."""
    if (error := role_tenant_error(role, tenant_id is not None)) is not None:
        raise AccountError("tenant_id", error)
    if tenant_id is not None and session.get(Tenant, tenant_id) is None:
        raise AccountError("tenant_id", f"no tenant {tenant_id}")


def _user_fields(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role.value,
        "tenant_id": user.tenant_id,
        "is_active": user.is_active,
        "access_expires_at": user.access_expires_at,
    }


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    role: Role,
    tenant_id: uuid.UUID | None,
    actor_user_id: uuid.UUID | None,
    access_expires_at: datetime | None = None,
    now: datetime | None = None,
) -> User:
    email = email.strip().lower()
    check_membership(session, role, tenant_id)
    check_access_expiry(role, access_expires_at, now or datetime.now(UTC))
    if session.exec(select(User.id).where(func.lower(User.email) == email)).first() is not None:
        raise AccountError("email", f"a user with the e-mail {email} exists already", 409)
    user = User(
        email=email, display_name=display_name, role=role, tenant_id=tenant_id, access_expires_at=access_expires_at
    )
    session.add(user)
    session.flush()
    audit(session, actor_user_id, tenant_id, "user", user.id, "created", _user_fields(user))
    return user


def change_user(session: Session, user: User, changes: dict[str, Any], actor_user_id: uuid.UUID | None) -> None:
    """Role, membership, name or active flag; the audit event lists what changed."""
    role = changes.get("role", user.role)
    tenant_id = changes.get("tenant_id", user.tenant_id)
    if "role" in changes or "tenant_id" in changes:
        check_membership(session, role, tenant_id)
    if "role" in changes or "access_expires_at" in changes:
        check_access_expiry(role, changes.get("access_expires_at", user.access_expires_at), None)
    if actor_user_id == user.id and (changes.get("is_active") is False or changes.get("role", role) != user.role):
        raise AccountError(
            "role" if "role" in changes else "is_active",
            "you cannot demote or deactivate yourself; ask another msp_admin",
            409,
        )
    changed = {}
    for name, value in changes.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed[name] = value
    if changed:
        session.flush()
        audit(session, actor_user_id, user.tenant_id, "user", user.id, "updated", changed)


def issue_key(
    session: Session, user: User, name: str, expires_at: datetime | None, now: datetime, actor_user_id: uuid.UUID | None
) -> tuple[ApiKey, str]:
    """A new key for `user`: the row (hash only) and the key itself, which is shown once and never stored."""
    if not user.is_active:
        raise AccountError("user_id", f"user {user.email} is deactivated; activate it first", 409)
    if expires_at is not None and expires_at <= now:
        raise AccountError("expires_at", "must lie in the future")
    key = generate_api_key()
    row = ApiKey(
        user_id=user.id, name=name, prefix=key_lookup_prefix(key), key_hash=hash_api_key(key), expires_at=expires_at
    )
    session.add(row)
    session.flush()
    data = {"user_id": user.id, "name": name, "prefix": row.prefix, "expires_at": expires_at}
    audit(session, actor_user_id, user.tenant_id, "api_key", row.id, "created", data)
    return row, key


def revoke_key(session: Session, key: ApiKey, now: datetime, actor_user_id: uuid.UUID | None) -> bool:
    """Revoke at once; False if it was revoked already (nothing changes, nothing is audited twice)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    user = session.get(User, key.user_id)
    session.flush()
    audit(
        session,
        actor_user_id,
        user.tenant_id if user else None,
        "api_key",
        key.id,
        "revoked",
        {"user_id": key.user_id, "name": key.name, "prefix": key.prefix},
    )
    return True


# --- Portal passwords: Argon2 through pwdlib (its recommended parameters); only the hash is stored.
MIN_PASSWORD_LENGTH = 12
_passwords = PasswordHash.recommended()


def set_password(session: Session, user: User, password: str, actor_user_id: uuid.UUID | None) -> None:
    """Set (or replace) the user's portal password; audited without the password or its hash."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise AccountError("password", "must have at most 1024 characters")
    user.password_hash = _passwords.hash(password)
    session.flush()
    audit(session, actor_user_id, user.tenant_id, "user", user.id, "password_set", {"email": user.email})


def check_password(user: User | None, password: str) -> bool:
    """Whether `password` is the user's; False for no user or one without a password. Verifies against a dummy hash
    then, so the answer takes as long either way (no probing which e-mails exist)."""
    if user is None or user.password_hash is None:
        _passwords.verify(password, _dummy_hash())
        return False
    return _passwords.verify(password, user.password_hash)


def user_refusal(user: User, now: datetime) -> str | None:
    """Why the user may not log in now (deactivated, access expired); None if it may."""
    if not user.is_active:
        return "user deactivated"
    if user.access_expires_at is not None and user.access_expires_at <= now:
        return f"access of {user.email} expired at {user.access_expires_at.isoformat()}"
    return None


@functools.cache
def _dummy_hash() -> str:
    return _passwords.hash(secrets.token_urlsafe(16))
