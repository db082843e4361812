"""`resguardo token`, `totp`, `unlock` and `serve` from the command line."""

from __future__ import annotations

import json

import pyotp
import pytest
from typer.testing import CliRunner

from inprocess import api_app
from resguardo.cli import context
from resguardo.cli.main import app
from resguardo.services import accounts, auth

from world import PASSWORD

runner = CliRunner()


def test_an_admin_creates_lists_and_revokes_an_integration_token(cli, world, asgi_client):
    with world.work(None) as uow:
        accounts.add_service_account(uow, "cerradura1", "armorer", "MUN1")
        uow.commit()
    made = cli("--as", "admin", "token", "create", "cerradura1", "--name", "locker ARM1",
               "--expires", "2030-01-01", "--json")
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    client = asgi_client(api_app(world))
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert me.json()["username"] == "cerradura1"
    listed = json.loads(cli("--as", "admin", "token", "list", "--json").stdout)
    assert [(t["id"], t["username"], t["revoked_at"]) for t in listed] == [
        (created["id"], "cerradura1", None)]
    assert created["token"] not in cli("--as", "admin", "token", "list").stdout
    revoked = cli("--as", "admin", "token", "revoke", str(created["id"]))
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert me.status_code == 401
    assert cli("--as", "admin", "token", "list", "--active", "--json").stdout.strip() == "[]"


def test_only_an_admin_may_create_tokens(cli):
    result = cli("--as", "jefe1", "token", "create", "armero1", "--name", "x")
    assert result.exit_code == 1 and "permission_denied" in result.output


def test_totp_enrolment_and_unlock(cli, world, clock):
    enrolled = cli("--as", "admin", "totp", "enroll", "supervisor", "--json")
    assert enrolled.exit_code == 0, enrolled.output
    secret = json.loads(enrolled.stdout)["secret"]
    with pytest.raises(auth.TotpRequired):
        auth.authenticate(world, "supervisor", PASSWORD, "10.0.0.1")
    code = pyotp.TOTP(secret).at(clock.now)
    assert auth.authenticate(world, "supervisor", PASSWORD, "10.0.0.1", totp=code)
    assert cli("--as", "admin", "totp", "remove", "supervisor").exit_code == 0
    secret = json.loads(cli("--as", "admin", "totp", "enroll", "armero2", "--json").stdout)["secret"]
    for _ in range(auth.TOTP_FAILURES_TO_LOCK - 1):
        with pytest.raises(auth.AuthenticationFailed):
            auth.authenticate(world, "armero2", PASSWORD, "10.0.0.1", totp="000000")
    with pytest.raises(auth.AccountLocked):
        auth.authenticate(world, "armero2", PASSWORD, "10.0.0.1", totp="000000")
    assert cli("--as", "admin", "unlock", "armero2").exit_code == 0
    code = pyotp.TOTP(secret).at(clock.now)
    assert auth.authenticate(world, "armero2", PASSWORD, "10.0.0.1", totp=code).username == \
        "armero2"


def test_serve_refuses_a_database_that_was_never_initialized(tmp_path, monkeypatch):
    from resguardo.services.app import Resguardo
    monkeypatch.setenv("RESGUARDO_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    context.set_deployment(Resguardo())
    try:
        result = runner.invoke(app, ["serve", "--port", "0"])
    finally:
        context.set_deployment(None)
    assert result.exit_code == 1 and "resguardo init" in result.output
