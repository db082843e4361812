"""The command line as a script or a person uses it: help, exit codes, JSON."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app

from world import PASSWORD

runner = CliRunner()


def all_commands(group, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    if hasattr(group, "commands"):
        for name, cmd in group.commands.items():
            yield from all_commands(cmd, (*prefix, name))
    else:
        yield prefix, group


def test_every_command_has_help_with_an_example():
    missing = []
    for path, cmd in all_commands(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        if "Example:" not in (cmd.help or ""):
            missing.append(" ".join(path))
    assert missing == []


def test_issue_and_return_print_json_and_exit_zero(cli):
    result = cli("--as", "armero1", "issue", "GLK-A100", "--to", "p1", "--json")
    assert result.exit_code == 0, result.output
    event = json.loads(result.stdout)
    assert event["type"] == "custody.issued" and event["actor"] == "armero1"
    result = cli("--as", "armero1", "return", "glk a100", "--location", "ARM2")
    assert result.exit_code == 0 and "returned to ARM2" in result.stdout


def test_a_refused_operation_exits_one_with_the_reason_on_one_line(cli):
    cli("--as", "jefe1", "officer", "suspend", "P1", "--reason", "Investigación interna")
    result = cli("--as", "armero1", "issue", "GLK-A100", "--to", "P1")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "officer is suspended" in lines[0]
    assert "officer_not_eligible" in lines[0]


def test_acting_without_a_user_is_bad_usage(cli):
    result = cli("issue", "GLK-A100", "--to", "P1")
    assert result.exit_code == 2 and "--as USER" in result.stderr


def test_an_unknown_option_is_bad_usage(cli):
    assert cli("--as", "armero1", "issue", "GLK-A100", "--bogus").exit_code == 2


def test_firearm_list_is_paginated_and_scoped(cli):
    result = cli("--as", "armero2", "firearm", "list", "--json")
    data = json.loads(result.stdout)
    assert data["total"] == 1 and data["items"][0]["serial"] == "BER-B100"
    result = cli("--as", "supervisor", "firearm", "list", "--json", "--limit", "2")
    data = json.loads(result.stdout)
    assert data["total"] == 6 and len(data["items"]) == 2


def test_firearm_show_prints_the_custody_history(cli):
    cli("--as", "armero1", "issue", "GLK-A100", "--to", "P2")
    result = cli("--as", "jefe1", "firearm", "show", "GLK-A100", "--json")
    data = json.loads(result.stdout)
    assert [e["event"] for e in data["history"]] == ["firearm.registered", "custody.issued"]
    assert data["custodian"] == {"badge": "P2", "name": "Luis Mora"}


def test_alerts_list_an_unnotified_loss_after_the_deadline(cli, clock):
    reported = cli("--as", "armero1", "report-loss", "GLK-A200", "--occurred", "2025-03-02",
                   "--place", "Patrulla 7", "--on-duty", "--complaint", "FGE/1/2025",
                   "--authority", "FGE Jalisco")
    assert reported.exit_code == 0, reported.stderr
    assert json.loads(cli("--as", "jefe1", "alerts", "--json").stdout) == []
    clock.advance(hours=25)
    alerts = json.loads(cli("--as", "jefe1", "alerts", "--json").stdout)
    assert [a["kind"] for a in alerts] == ["loss_unnotified"]
    key = alerts[0]["key"]
    # another agency's chief does not see it
    assert json.loads(cli("--as", "jefe2", "alerts", "--json").stdout) == []
    result = cli("--as", "jefe1", "alerts", "--ack", key, "--note", "Oficio enviado")
    assert result.exit_code == 0
    assert json.loads(cli("--as", "jefe1", "alerts", "--json").stdout) == []


def test_a_loss_needs_the_complaint_its_authority_and_the_duty_answer(cli):
    base = ("--as", "armero1", "report-loss", "GLK-A200", "--occurred", "2025-03-02",
            "--place", "Patrulla 7")
    no_duty = cli(*base, "--complaint", "FGE/1/2025", "--authority", "FGE Jalisco")
    assert no_duty.exit_code == 1 and "on duty or off duty" in no_duty.stderr
    no_authority = cli(*base, "--off-duty", "--complaint", "FGE/1/2025", "--authority", " ")
    assert no_authority.exit_code == 1 and "authority the complaint" in no_authority.stderr
    assert cli(*base, "--off-duty", "--authority", "FGE Jalisco").exit_code == 2


def test_a_recovered_weapon_is_held_as_evidence_until_a_chief_releases_it(cli):
    cli("--as", "armero1", "report-loss", "GLK-A200", "--stolen", "--occurred", "2025-03-02",
        "--place", "Patrulla 7", "--on-duty", "--complaint", "FGE/1/2025",
        "--authority", "FGE Jalisco")
    held = cli("--as", "armero1", "recover", "GLK-A200", "--held-by", "FGE Jalisco",
               "--reason", "Asegurada en un cateo")
    assert held.exit_code == 0 and "held as evidence" in held.stdout
    refused = cli("--as", "armero1", "issue", "GLK-A200", "--to", "P1")
    assert refused.exit_code == 1 and "release" in refused.stderr
    negligence = cli("--as", "jefe1", "negligence", "GLK-A200", "--not-negligent",
                     "--reason", "Robo con violencia")
    assert negligence.exit_code == 0, negligence.stderr
    released = cli("--as", "jefe1", "release", "GLK-A200", "--location", "ARM1",
                   "--reference", "Oficio FGE/LIB/1/2025", "--json")
    assert released.exit_code == 0 and json.loads(released.stdout)["type"] == "firearm.released"
    assert cli("--as", "armero1", "issue", "GLK-A200", "--to", "P1").exit_code == 0


def test_alerts_list_weapons_held_by_suspended_officers_and_overdue_returns(cli, clock):
    cli("--as", "armero1", "issue", "GLK-A100", "--to", "P1")
    cli("--as", "jefe1", "officer", "suspend", "P1", "--reason", "Investigación")
    clock.advance(hours=13)
    kinds = sorted(a["kind"] for a in json.loads(cli("--as", "jefe1", "alerts", "--json").stdout))
    assert kinds == ["issued_to_ineligible", "no_credential_folio", "overdue_return"]  # P1 has no folio


def test_ammunition_balance_never_goes_negative(cli):
    common = ["--calibre", "9x19mm", "--lot", "L1", "--location", "ARM1"]
    assert cli("--as", "armero1", "ammo", "receive", "100", *common).exit_code == 0
    assert cli("--as", "armero1", "ammo", "issue", "30", "--to", "P1", *common).exit_code == 0
    result = cli("--as", "armero1", "ammo", "issue", "80", "--to", "P2", *common)
    assert result.exit_code == 1 and "only 70 rounds" in result.stderr
    result = cli("--as", "armero1", "ammo", "return", "25", "--by", "P1", "--consumed", "5",
                 "--justification", "duty_discharge", *common)
    assert result.exit_code == 1 and "incident number" in result.stderr
    result = cli("--as", "armero1", "ammo", "return", "25", "--by", "P1", "--consumed", "5",
                 "--justification", "duty_discharge", "--incident", "INC-9", *common)
    assert result.exit_code == 0
    balance = json.loads(cli("--as", "jefe1", "ammo", "balance", "--json").stdout)
    assert balance["stock"][0]["quantity"] == 95 and balance["held"] == []


def test_init_refuses_a_database_that_is_already_initialized(cli):
    result = cli("init", "--admin-password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 1 and "already initialized" in result.stderr


def test_commands_on_a_missing_database_say_to_run_init(tmp_path, monkeypatch):
    monkeypatch.setenv("RESGUARDO_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    context.set_deployment(None)
    result = runner.invoke(app, ["--as", "x", "firearm", "list"])
    context.set_deployment(None)
    assert result.exit_code == 1 and "resguardo init" in result.stderr


def test_ledger_rebuild_check_passes_on_an_untouched_database(cli):
    cli("--as", "armero1", "issue", "GLK-A100", "--to", "P1")
    result = cli("--as", "auditor", "ledger", "rebuild", "--check", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True


def test_a_command_on_sqlite_starts_without_postgresql_driver_or_alembic(tmp_path):
    """Start-up: psycopg and Alembic (about half a second) load only where they serve."""
    import os
    import subprocess
    import sys

    script = (
        "import sys; sys.argv = ['resguardo', '--as', 'x', 'firearm', 'list']\n"
        "from resguardo.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    print('exit', exc.code, file=sys.stderr)\n"
        "print(sorted(m for m in ('psycopg', 'alembic') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        env={**os.environ, "RESGUARDO_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"})
    lines = done.stderr.strip().splitlines()
    assert "run `resguardo init` first" in done.stderr
    assert lines[-2:] == ["exit 1", "[]"]


def test_a_full_disk_says_the_storage_is_full(cli, monkeypatch):
    import sqlite3

    from resguardo.storage.repositories import Repositories

    def no_room(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        full = sqlite3.OperationalError("database or disk is full")
        full.sqlite_errorcode = sqlite3.SQLITE_FULL
        raise full
    monkeypatch.setattr(Repositories, "firearms", no_room)
    result = cli("--as", "armero1", "firearm", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the storage is full"), result.stderr
    assert "[storage_full]" in result.stderr and "busy" not in result.stderr
