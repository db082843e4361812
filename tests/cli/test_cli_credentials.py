"""The command line on a server: with RESGUARDO_CLI_SIGN_IN on, `--as` must be proved
(password on the terminal, or a token file of that person), and every entry records
the command line's credential; on a laptop (the default) `--as` is trusted."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app
from resguardo.services import auth, users
from resguardo.storage import account_tables

from world import PASSWORD

runner = CliRunner()
ISSUE = ("--as", "armero1", "issue", "GLK-A100", "--to", "P1", "--json")


@pytest.fixture
def server(world, monkeypatch):  # type: ignore[no-untyped-def]
    """The CLI against the test world, with the server setting on."""
    monkeypatch.delenv("RESGUARDO_USER", raising=False)
    monkeypatch.delenv("RESGUARDO_TOKEN_FILE", raising=False)
    world.settings = dataclasses.replace(world.settings, cli_sign_in=True)
    context.set_deployment(world)
    yield world
    context.set_deployment(None)


def _status(world) -> str:  # type: ignore[no-untyped-def]
    with world.read(None) as uow:
        return uow.repo.firearm("GLK-A100").status.value


def _credential(world, position: int) -> str | None:  # type: ignore[no-untyped-def]
    with world.read(None) as uow:
        return account_tables.credential_of(uow.conn, position)


def test_on_a_server_acting_as_someone_without_credentials_is_refused(server):
    result = runner.invoke(app, list(ISSUE), input="")
    assert result.exit_code == 1
    wrong = runner.invoke(app, list(ISSUE), input="not-the-password\n")
    assert wrong.exit_code == 1 and "wrong username or password" in wrong.output
    assert _status(server) == "in_storage"
    with server.read(None) as uow:
        failed = [e for e in uow.repo.iter_events() if e.type == "auth.login_failed"]
    assert failed[-1].payload["address"] == "cli"


def test_on_a_server_the_password_on_the_terminal_works_and_is_recorded(server):
    result = runner.invoke(app, list(ISSUE), input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout[result.stdout.index("{"):])
    assert entry["actor"] == "armero1" and _status(server) == "issued"
    assert _credential(server, entry["position"]) == "cli:password"


def test_on_a_server_a_token_file_of_that_person_works(server, tmp_path, monkeypatch):
    session = auth.issue_session(server, _actor(server, "armero1"))
    token_file = tmp_path / "armero1.token"
    token_file.write_text(session.token + "\n")
    monkeypatch.setenv("RESGUARDO_TOKEN_FILE", str(token_file))
    result = runner.invoke(app, list(ISSUE))
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)
    assert _credential(server, entry["position"]).startswith("cli:session:")
    # the same file does not prove anybody else
    refused = runner.invoke(app, ["--as", "jefe1", "alerts", "--json"])
    assert refused.exit_code == 1 and "belongs to someone else" in refused.output
    # and it stops with the session
    with server.work("armero1") as uow:
        users.set_password(uow, "armero1", "a-brand-new-password")
        uow.commit()
    assert runner.invoke(app, ["--as", "armero1", "alerts"]).exit_code == 1


def test_on_a_laptop_as_is_trusted_and_recorded_as_local(world, monkeypatch):
    monkeypatch.delenv("RESGUARDO_USER", raising=False)
    context.set_deployment(world)
    try:
        result = runner.invoke(app, list(ISSUE))
    finally:
        context.set_deployment(None)
    assert result.exit_code == 0, result.output
    assert _credential(world, json.loads(result.stdout)["position"]) == "cli:local"


def _actor(world, name: str):  # type: ignore[no-untyped-def]
    with world.read(None) as uow:
        return uow.repo.actor_for(name)


def test_the_command_line_disables_and_two_admins_grant_power(server):
    with server.work(None) as uow:
        users.add_user(uow, "admin2", PASSWORD, "admin", "NACIONAL")
        uow.commit()

    def cli(*args: str, who: str = "admin", before: str = ""):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--as", who, *args], input=before + PASSWORD + "\n")
    assert cli("user", "disable", "armero2", "--reason", "Baja").exit_code == 0
    assert cli("user", "list", "--json").exit_code == 0
    made = cli("user", "add", "armero9", "--role", "armorer", "--scope", "MUN1",
               "--password-stdin", before="the-new-account-password\n")
    assert made.exit_code == 1 and "second admin" in made.output
    asked = cli("user", "request", "account", "armero9", "--role", "armorer", "--scope", "MUN1",
                "--json")
    assert asked.exit_code == 0, asked.output
    request_id = json.loads(asked.stdout[asked.stdout.index("{"):])["id"]
    assert cli("user", "approve", str(request_id)).exit_code == 1
    approved = cli("user", "approve", str(request_id), who="admin2")
    assert approved.exit_code == 0 and "One-time password for armero9" in approved.output
