"""``db backup`` under write load, ``db restore`` into an empty database, the ledger verified.

Runs on SQLite (the online backup API) and PostgreSQL (pg_dump and pg_restore of the test
server's own version).
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.services import backup, custody
from resguardo.services.app import Resguardo

from pg import find_bin
from world import build_world, do, make_app

runner = CliRunner()


@pytest.fixture
def source(db_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A deployment built here, so that its signing key exists (the shared template's does
    not travel with its copies)."""
    if not db_url.startswith("sqlite"):
        pg_dump = find_bin("pg_dump")
        if pg_dump is None:
            pytest.skip("pg_dump not installed")
        # the tools of the test server's own version
        monkeypatch.setenv("RESGUARDO_PG_BINDIR", os.path.dirname(pg_dump))
    app = build_world(db_url, clock, tmp_path)
    yield app
    app.engine.dispose()


@pytest.fixture
def empty_target(source, tmp_path, request):  # type: ignore[no-untyped-def]
    """A deployment on a new, empty database, with the source's settings (and key)."""
    if source.settings.database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    app = Resguardo(dataclasses.replace(source.settings, database_url=url), clock=source.clock)
    yield app
    app.engine.dispose()


def log_size(app: Resguardo) -> int:
    with app.read(None) as uow:
        return uow.repo.log_size()


def entries(app: Resguardo, end: int) -> list[dict]:
    with app.read(None) as uow:
        return [e.document() for e in uow.repo.iter_events()
                if e.position < end]


def cli(app: Resguardo, *args: str):  # type: ignore[no-untyped-def]
    context.set_deployment(app)
    try:
        return runner.invoke(cli_app, list(args))
    finally:
        context.set_deployment(None)


def test_a_backup_taken_while_custody_is_written_restores_and_verifies(source, empty_target,
                                                                       tmp_path, clock):
    stop = threading.Event()
    committed: list[int] = []
    failures: list[BaseException] = []

    def desk() -> None:
        writer = make_app(source.settings.database_url, clock, tmp_path)
        try:
            while not stop.is_set():
                committed.append(do(writer, "armero1", custody.issue, "GLK-A100", "P1").position)
                committed.append(do(writer, "armero1", custody.return_, "GLK-A100",
                                    "ARM1").position)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
        finally:
            writer.engine.dispose()

    thread = threading.Thread(target=desk)
    thread.start()
    try:
        while len(committed) < 6 and not failures:
            time.sleep(0.01)
        acknowledged = max(committed)  # every entry committed before the backup began
        out = tmp_path / "copia.backup"
        backup.backup(source, out)
        while len(committed) < 12 and not failures:  # the desk kept writing after it
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert out.stat().st_mode & 0o077 == 0  # readable by its owner only

    outcome = backup.restore(empty_target, out)
    assert outcome.report.ok, [f.message for f in outcome.report.findings]
    assert outcome.report.projection  # the full verify: projection replayed
    assert acknowledged < outcome.entries <= log_size(source)
    assert entries(empty_target, outcome.entries) == entries(source, outcome.entries)


def test_the_commands_say_what_is_kept_apart_and_restore_only_into_an_empty_database(
        source, empty_target, tmp_path):
    out = tmp_path / "copia.backup"
    result = cli(source, "db", "backup", str(out))
    assert result.exit_code == 0, result.output
    assert "NOT in this backup" in result.stdout
    assert str(source.settings.signing_key) in result.stdout
    again = cli(source, "db", "backup", str(out))
    assert again.exit_code == 1 and "already exists" in again.stderr

    done = cli(empty_target, "db", "restore", str(out))
    assert done.exit_code == 0, done.output
    assert "OK: the ledger verifies." in done.stdout

    refused = cli(empty_target, "db", "restore", str(out))
    assert refused.exit_code == 1 and "is not empty" in refused.stderr and "--force" in refused.stderr
    do(empty_target, "armero1", custody.issue, "GLK-A100", "P1")  # the copy moves on
    assert log_size(empty_target) == log_size(source) + 1
    forced = cli(empty_target, "db", "restore", str(out), "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert log_size(empty_target) == log_size(source)  # replaced by the backup


def test_a_restore_without_the_signing_key_is_not_reported_as_a_success(source, empty_target,
                                                                        tmp_path):
    out = tmp_path / "copia.backup"
    backup.backup(source, out)
    keyless = Resguardo(dataclasses.replace(empty_target.settings,
                                            signing_key=tmp_path / "elsewhere.key"),
                        engine=empty_target.engine, clock=empty_target.clock)
    result = cli(keyless, "db", "restore", str(out))
    assert result.exit_code == 1
    assert "the restored ledger does not verify" in result.stderr
    assert "no_key" in result.stderr and "OK:" not in result.stdout


def test_a_file_that_is_no_backup_is_refused_before_anything_changes(source, empty_target,
                                                                     tmp_path):
    junk = tmp_path / "notas.txt"
    junk.write_text("no soy un respaldo\n", encoding="utf-8")
    result = cli(empty_target, "db", "restore", str(junk))
    assert result.exit_code == 1 and "is not a Resguardo backup" in result.stderr
    other = tmp_path / "other.db"
    if source.settings.database_url.startswith("sqlite"):
        other.write_bytes(b"PGDMP" + b"\0" * 64)
        expected = "is a PostgreSQL backup"
    else:
        sqlite3.connect(other).execute("create table t (x)").connection.close()
        expected = "is a SQLite backup"
    result = cli(empty_target, "db", "restore", str(other))
    assert result.exit_code == 1 and expected in result.stderr, result.output
    from resguardo.storage.backup import is_empty
    assert is_empty(empty_target.engine)


def test_a_sqlite_database_that_is_not_resguardos_is_refused(sqlite_url, tmp_path):
    stranger = tmp_path / "ajena.db"
    conn = sqlite3.connect(stranger)
    conn.execute("create table cosas (x)")
    conn.commit()
    conn.close()
    target = Resguardo(dataclasses.replace(make_app(sqlite_url, None, tmp_path).settings))
    result = cli(target, "db", "restore", str(stranger))
    assert result.exit_code == 1 and "not a Resguardo one" in result.stderr
    target.engine.dispose()


def test_backup_paths_are_kept_out_of_the_way(tmp_path: Path) -> None:
    """A partial file never stays behind a failed backup."""
    with pytest.raises(backup.BackupError, match="no database at"):
        from resguardo.storage import backup as store
        store.backup(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "out.db")
    assert list(tmp_path.iterdir()) == []


def test_the_database_password_reaches_pg_dump_by_environment_not_argv() -> None:
    from resguardo.storage.backup import _conninfo

    conninfo, env = _conninfo("postgresql://resguardo:s3cr3t@dbhost:5433/resguardo")
    assert "s3cr3t" not in conninfo
    assert conninfo == "postgresql://resguardo@dbhost:5433/resguardo"
    assert env["PGPASSWORD"] == "s3cr3t"


def test_a_missing_pg_tool_is_named(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from resguardo.storage.backup import pg_tool

    monkeypatch.setenv("RESGUARDO_PG_BINDIR", str(tmp_path))
    with pytest.raises(backup.BackupError, match=r"RESGUARDO_PG_BINDIR: no pg_dump in"):
        pg_tool("pg_dump")
