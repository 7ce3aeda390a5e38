"""`psa users create|list|set` and `psa keys create|list|revoke`: users and keys of a real installation without the
seed script. Same rules and audit trail as the API (`hub.security`); the actor of a CLI change is empty (shell
access to the hub). A new key is printed once and stored only as a hash."""

from datetime import UTC, datetime
from uuid import UUID

import typer
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from domain.roles import Role
from hub.config import get_settings
from hub.db import make_engine, session_scope
from hub.security import AccountError, change_user, create_user, issue_key, revoke_key, set_password
from models import ApiKey, Tenant, User

users_app = typer.Typer(help="Hub users: create, list, change role or membership, deactivate", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create (shown once), list, revoke", no_args_is_help=True)


def _engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _tenant_id(session: Session, customer: str | None) -> UUID | None:
    if customer is None:
        return None
    tenant = session.exec(select(Tenant).where(Tenant.customer_number == customer)).one_or_none()
    if tenant is None:
        raise _fail(f"no customer with the number {customer}")
    return tenant.id


def _user(session: Session, email: str) -> User:
    user = session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).one_or_none()
    if user is None:
        raise _fail(f"no user with the e-mail {email}")
    return user


def _expiry(value: str | None, option: str = "--expires") -> datetime | None:
    """An ISO date (end of that day, UTC) or an ISO time with its offset."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(hour=23, minute=59, second=59, tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option} {value!r}: give a date (2027-03-31) or a time with offset") from None
    if parsed.tzinfo is None:
        raise _fail(f"{option} {value!r}: a time needs its UTC offset, e.g. 2027-03-31T18:00+02:00")
    return parsed


@users_app.command("create")
def users_create(
    email: str = typer.Option(..., help="Login e-mail (unique)"),
    name: str = typer.Option(..., help="Display name"),
    role: Role = typer.Option(..., help="msp_admin, msp_tech, finance, customer_it, customer_user or external_tech"),
    customer: str | None = typer.Option(None, help="Customer number of the tenant (customer roles)"),
    access_expires: str | None = typer.Option(
        None, help="Last day of access (2027-03-31) or time with offset; required for external_tech"
    ),
) -> None:
    """Create a user; customer roles belong to the customer given by --customer."""
    try:
        with session_scope(_engine()) as session:
            user = create_user(
                session,
                email=email,
                display_name=name,
                role=role,
                tenant_id=_tenant_id(session, customer),
                actor_user_id=None,
                access_expires_at=_expiry(access_expires, "--access-expires"),
            )
            typer.echo(f"user {user.id} {user.email} ({user.role.value}) created")
    except AccountError as err:
        raise _fail(f"{err.field}: {err.message}") from None


@users_app.command("list")
def users_list(customer: str | None = typer.Option(None, help="Only this customer's users")) -> None:
    """List users: id, e-mail, role, customer, active."""
    with Session(_engine()) as session:
        query = select(User, Tenant.customer_number).outerjoin(Tenant, col(Tenant.id) == User.tenant_id)
        if customer is not None:
            query = query.where(Tenant.customer_number == customer)
        for user, number in session.exec(query.order_by(col(User.email))):
            state = "active" if user.is_active else "deactivated"
            typer.echo(f"{user.id}  {user.email}  {user.role.value}  {number or '-'}  {state}")


@users_app.command("set")
def users_set(
    email: str = typer.Argument(..., help="The user's e-mail"),
    role: Role | None = typer.Option(None),
    customer: str | None = typer.Option(None, help="New customer number (customer roles)"),
    active: bool | None = typer.Option(None, "--active/--inactive", help="Deactivate: all keys refused at once"),
    access_expires: str | None = typer.Option(None, help="New last day of access; a past one ends access now"),
) -> None:
    """Change a user's role, membership, active flag or access expiry."""
    try:
        with session_scope(_engine()) as session:
            user = _user(session, email)
            changes: dict = {}
            if role is not None:
                changes["role"] = role
                changes["tenant_id"] = _tenant_id(session, customer) if role.is_customer_side else None
            elif customer is not None:
                changes["tenant_id"] = _tenant_id(session, customer)
            if active is not None:
                changes["is_active"] = active
            if access_expires is not None:
                changes["access_expires_at"] = _expiry(access_expires, "--access-expires")
            change_user(session, user, changes, None)
            typer.echo(f"user {user.email}: {user.role.value}, {'active' if user.is_active else 'deactivated'}")
    except AccountError as err:
        raise _fail(f"{err.field}: {err.message}") from None


@users_app.command("set-password")
def users_set_password(
    email: str = typer.Argument(..., help="The user's e-mail"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given (at least 12 chars)"
    ),
) -> None:
    """Set a user's password for the web portal (stored as an Argon2 hash)."""
    try:
        with session_scope(_engine()) as session:
            user = _user(session, email)
            set_password(session, user, password, None)
            typer.echo(f"password of {user.email} set")
    except AccountError as err:
        raise _fail(f"{err.field}: {err.message}") from None


@keys_app.command("create")
def keys_create(
    email: str = typer.Option(..., help="The user the key is for"),
    name: str = typer.Option(..., help="What the key is for"),
    expires: str | None = typer.Option(None, help="Last valid day (2027-03-31) or time with offset"),
) -> None:
    """Issue a key and print it once; only its hash is stored."""
    try:
        with session_scope(_engine()) as session:
            row, key = issue_key(session, _user(session, email), name, _expiry(expires), datetime.now(UTC), None)
            key_id = row.id
    except AccountError as err:
        raise _fail(f"{err.field}: {err.message}") from None
    typer.echo(f"key {key_id} for {email}; store it now, it is not shown again:")
    typer.echo(key)


@keys_app.command("list")
def keys_list(email: str | None = typer.Option(None, help="Only this user's keys")) -> None:
    """List keys: id, user, name, prefix, expiry, revocation."""
    with Session(_engine()) as session:
        query = select(ApiKey, User.email).join(User, col(User.id) == ApiKey.user_id)
        if email is not None:
            query = query.where(ApiKey.user_id == _user(session, email).id)
        for key, owner in session.exec(query.order_by(col(ApiKey.created_at))):
            expires = key.expires_at.isoformat() if key.expires_at else "-"
            revoked = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "valid"
            typer.echo(f"{key.id}  {owner}  {key.name}  {key.prefix}…  expires {expires}  {revoked}")


@keys_app.command("revoke")
def keys_revoke(key_id: UUID = typer.Argument(..., help="The key's id (psa keys list)")) -> None:
    """Revoke a key; it is refused from the next request on."""
    with session_scope(_engine()) as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise _fail(f"no API key {key_id}")
        changed = revoke_key(session, key, datetime.now(UTC), None)
    typer.echo(f"key {key_id} {'revoked' if changed else 'was revoked already'}")
