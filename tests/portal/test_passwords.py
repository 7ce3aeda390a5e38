"""Portal passwords: set by an MSP admin through the API or with `psa users set-password`, stored as an Argon2 hash
only, too short ones refused with a message, other roles refused, every change audited without the password."""

import pytest
from typer.testing import CliRunner

import hub.users_cli
from hub.cli import app
from hub.security import check_password
from models import User
from tests.api import assert_problem, audit_events, make_world, row

USERS = "/api/v1/users"


@pytest.fixture
def w(engine):
    return make_world(engine)


async def test_admin_sets_a_password_stored_as_argon2_hash(api, engine, w):
    user = w.users["a_it"]
    resp = await api.put(f"{USERS}/{user.id}/password", json={"password": "kurz"}, headers=w.h("msp_admin"))
    assert_problem(resp, 422, "at least 12 characters")
    assert row(engine, User, user.id).password_hash is None

    resp = await api.put(
        f"{USERS}/{user.id}/password", json={"password": "ein-gutes-Passwort"}, headers=w.h("msp_admin")
    )
    assert resp.status_code == 204, resp.text
    stored = row(engine, User, user.id)
    assert stored.password_hash.startswith("$argon2id$") and "ein-gutes-Passwort" not in stored.password_hash
    assert check_password(stored, "ein-gutes-Passwort") and not check_password(stored, "ein-gutes-passwort")
    event = [e for e in audit_events(engine, user.id) if e.action == "password_set"][-1]
    assert "ein-gutes-Passwort" not in str(event.data) and "argon2" not in str(event.data)


@pytest.mark.parametrize("who", ["msp_tech", "a_it", "a_user"])
async def test_only_msp_admins_set_passwords(api, engine, w, who):
    target = w.users["a_user"]
    resp = await api.put(f"{USERS}/{target.id}/password", json={"password": "ein-gutes-Passwort"}, headers=w.h(who))
    assert_problem(resp, 403, "msp_admin")
    assert row(engine, User, target.id).password_hash is None


def test_set_password_from_the_shell(engine, monkeypatch, w):
    monkeypatch.setattr(hub.users_cli, "_engine", lambda: engine)
    user = w.users["b_user"]
    runner = CliRunner()
    result = runner.invoke(app, ["users", "set-password", user.email], input="zu-kurz\nzu-kurz\n")
    assert result.exit_code == 2 and "at least 12 characters" in result.output
    result = runner.invoke(
        app, ["users", "set-password", user.email.upper()], input="Shell-Passwort-42\nShell-Passwort-42\n"
    )
    assert result.exit_code == 0, result.output
    assert "Shell-Passwort-42" not in result.output.replace("Shell-Passwort-42\n", "", 0)
    assert check_password(row(engine, User, user.id), "Shell-Passwort-42")
