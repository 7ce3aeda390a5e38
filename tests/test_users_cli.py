"""`psa users` and `psa keys` against the test database: a user and key created without the seed script, the key
printed once and accepted by the API, revoked from the shell and refused at once."""

import pytest
from typer.testing import CliRunner

import hub.users_cli
from hub.cli import app
from tests.conftest import auth
from tests.factories import make_tenant, unique


@pytest.fixture
def psa(engine, monkeypatch):
    monkeypatch.setattr(hub.users_cli, "_engine", lambda: engine)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    return run


async def test_users_and_keys_from_the_shell(psa, api, engine):
    tenant = make_tenant(engine)
    email = f"{unique('it')}@example.com"
    psa(
        "users",
        "create",
        "--email",
        email,
        "--name",
        "Kai IT",
        "--role",
        "customer_it",
        "--customer",
        tenant.customer_number,
    )
    assert f"{email}  customer_it  {tenant.customer_number}  active" in psa(
        "users", "list", "--customer", tenant.customer_number
    )
    out = psa("keys", "create", "--email", email, "--name", "Laptop", "--expires", "2099-12-31")
    key_id, key = out.split()[1], out.strip().splitlines()[-1]
    assert key.startswith("psa_")
    assert key not in psa("keys", "list", "--email", email) and "expires 2099-12-31T23:59:59" in psa("keys", "list")
    assert (await api.get(f"/api/v1/tenants/{tenant.id}", headers=auth(key))).status_code == 200

    assert "revoked" in psa("keys", "revoke", key_id)
    assert "was revoked already" in psa("keys", "revoke", key_id)
    assert (await api.get("/api/v1/tickets", headers=auth(key))).status_code == 401

    # The rules are the API's: a customer role needs its customer; a bad expiry is named.
    assert "exactly one customer" in psa(
        "users", "create", "--email", f"{unique('x')}@example.com", "--name", "X", "--role", "customer_user", code=2
    )
    assert "--expires" in psa("keys", "create", "--email", email, "--name", "x", "--expires", "morgen", code=2)
    assert "deactivated" in psa("users", "set", email, "--inactive")


async def test_external_technician_from_the_shell(psa, api, engine):
    tenant = make_tenant(engine)
    email = f"{unique('vendor')}@example.com"
    create = ("users", "create", "--email", email, "--name", "Vendor", "--role", "external_tech")
    assert "access_expires_at: required" in psa(*create, "--customer", tenant.customer_number, code=2)
    psa(*create, "--customer", tenant.customer_number, "--access-expires", "2099-12-31")
    key = psa("keys", "create", "--email", email, "--name", "ERP").strip().splitlines()[-1]
    assert (await api.get("/api/v1/tickets", headers=auth(key))).status_code == 200
    psa("users", "set", email, "--access-expires", "2020-01-01")  # the engagement ended: access ends now
    assert (await api.get("/api/v1/tickets", headers=auth(key))).status_code == 401
