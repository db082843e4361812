"""Integer keys as SQLite rowids (migration 0020): a deployment written before it is
upgraded with every row, index, constraint and trigger kept, and its ledger and projection
still verify; on PostgreSQL the keys stay BIGINT and the schema equals the models."""

from __future__ import annotations

import importlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Index, Table, inspect
from typer.testing import CliRunner

from ledger_world import build_ledger_world
from resguardo.cli import context
from resguardo.cli.main import app as cli_app
from resguardo.storage import schema
from resguardo.storage.database import make_engine
from resguardo.storage.tables import metadata

REKEYED: dict[str, str] = importlib.import_module(
    "resguardo.storage.migrations.versions.0020_rowid_keys").REKEYED
BEFORE = "0015"
#: What an operator may have added to guard the log: the migration must keep them exactly.
GUARDS = (
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END",
    "CREATE VIEW issued AS SELECT position, payload FROM events WHERE type = 'custody.issued'",
)
runner = CliRunner()


def _path(url: str) -> Path:
    return Path(url.split("///", 1)[1])


def _tables(db: sqlite3.Connection) -> list[str]:
    return [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]


def _rows(db: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (alembic's version aside), in a fixed order."""
    return {table: sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in _tables(db) if table != "alembic_version"}


def _schema_objects(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """Indexes, triggers and views with their SQL; the indexes SQLite makes for a UNIQUE
    constraint or a primary key that is not the rowid by table, origin and columns (their
    names are numbered in the table's order of constraints)."""
    made = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                      "WHERE type IN ('index', 'trigger', 'view')").fetchall()
    found: list[tuple[Any, ...]] = [row for row in made if row[3] is not None]
    for table in _tables(db):
        for _, name, unique, origin, _ in db.execute(f'PRAGMA index_list("{table}")'):
            if origin != "c":
                columns = tuple(r[2] for r in db.execute(f'PRAGMA index_info("{name}")'))
                found.append(("constraint", origin, table, unique, columns))
    return sorted(found, key=repr)


def _pk_indexes(db: sqlite3.Connection, table: str) -> list[str]:
    """The separate index SQLite keeps for a primary key that is not the rowid."""
    return [row[1] for row in db.execute(f'PRAGMA index_list("{table}")') if row[3] == "pk"]


def _key_type(db: sqlite3.Connection, table: str, column: str) -> tuple[str, int]:
    (found,) = [(row[2], row[5]) for row in db.execute(f'PRAGMA table_info("{table}")')
                if row[1] == column]
    return found


def _written_before_0020(live: Path, old: Path) -> None:
    """``old``: a database at revision 0015 holding every row of ``live``, with the
    guards an operator may have added."""
    engine = make_engine(f"sqlite:///{old}")
    schema.upgrade(engine, BEFORE)
    engine.dispose()
    db = sqlite3.connect(old, isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS live", (str(live),))
        db.execute("BEGIN")
        for table in _tables(db):
            if table == "alembic_version":
                continue
            mine = {row[1] for row in db.execute(f'PRAGMA main.table_info("{table}")')}
            theirs = [row[1] for row in db.execute(f'PRAGMA live.table_info("{table}")')]
            columns = ", ".join(f'"{c}"' for c in theirs if c in mine)
            db.execute(f'DELETE FROM main."{table}"')
            db.execute(f'INSERT INTO main."{table}" ({columns}) '
                       f'SELECT {columns} FROM live."{table}"')
        for guard in GUARDS:
            db.execute(guard)
        db.execute("COMMIT")
        db.execute("ANALYZE")  # the planner's statistics, as an operator may have taken them
        db.execute("DETACH DATABASE live")
    finally:
        db.close()


#: Schema objects the migrations after 0020 add to a deployment.
ADDED_AFTER_0020 = {"ix_events_firearm_rare"}


def test_a_deployment_written_before_0020_is_upgraded_whole_and_still_verifies(
        sqlite_url, clock, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    app = build_ledger_world(sqlite_url, clock, tmp_path, monkeypatch, rounds=4)
    app.engine.dispose()
    live = _path(sqlite_url)
    with sqlite3.connect(live) as db:
        expected = _rows(db)
    assert len(expected["events"]) > 40 and expected["firearms"] and expected["checkpoints"]
    old = tmp_path / "old.db"
    _written_before_0020(live, old)
    with sqlite3.connect(old) as db:
        before = _schema_objects(db)
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (BEFORE,)
        # Before: BIGINT keys, each with an index of its own beside the table.
        assert _key_type(db, "events", "position") == ("BIGINT", 1)
        assert _pk_indexes(db, "events") == ["sqlite_autoindex_events_1"]
        assert all(len(_pk_indexes(db, table)) == 1 for table in REKEYED)
        assert _rows(db) == expected
    for name in [live.name, live.name + "-wal", live.name + "-shm"]:
        (live.parent / name).unlink(missing_ok=True)
    shutil.copyfile(old, live)

    context.set_deployment(app)
    try:
        upgraded = runner.invoke(cli_app, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        verified = runner.invoke(cli_app, ["ledger", "verify", "--as", "auditor"])
        assert verified.exit_code == 0, verified.output
        assert "OK: the ledger verifies." in verified.stdout
        rebuilt = runner.invoke(cli_app, ["ledger", "rebuild", "--check", "--as", "auditor"])
        assert rebuilt.exit_code == 0 and "matches the log" in rebuilt.stdout, rebuilt.output
    finally:
        context.set_deployment(None)
    app.engine.dispose()

    with sqlite3.connect(live) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (
            schema.head_revision(),)
        for table, column in REKEYED.items():
            assert _key_type(db, table, column) == ("INTEGER", 1), table
            assert _pk_indexes(db, table) == [], table
        # every index, trigger and view, with the same SQL; only the keys' own indexes gone
        # (and what later migrations add: 0021 a weapon's rare entries' partial index)
        objects = _schema_objects(db)
        assert [o[1] for o in objects if o[1] in ADDED_AFTER_0020] == sorted(ADDED_AFTER_0020)
        assert [o for o in objects if o[1] not in ADDED_AFTER_0020] == [
            o for o in before if o[:2] != ("constraint", "pk") or o[2] not in REKEYED]
        assert _rows(db) == expected
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        analyzed = {table for (table,) in db.execute("SELECT tbl FROM sqlite_stat1")}
        assert {"events", "firearms", "officers"} <= analyzed  # taken again after the rebuild
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE events SET actor = 'nadie' WHERE position = 3")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM events WHERE position = 3")


def test_a_key_that_is_not_an_integer_stops_the_upgrade_and_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    schema.upgrade(engine, BEFORE)
    with engine.begin() as conn:  # behind the application's back: SQLite kept it as text
        conn.exec_driver_sql(
            "INSERT INTO events (position, type, at, actor, payload) "
            "VALUES ('siete', 'x', '2026-01-01T00:00:00.000000Z', 'x', '{}')")
    with pytest.raises(RuntimeError, match="events: a row's position is not an integer"):
        schema.upgrade(engine)
    engine.dispose()
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (BEFORE,)
        assert _key_type(db, "events", "position") == ("BIGINT", 1)
        assert db.execute("SELECT position FROM events").fetchall() == [("siete",)]


def test_after_0020_sqlite_refuses_a_key_that_is_not_an_integer(sqlite_url):
    engine = make_engine(sqlite_url)
    schema.upgrade(engine)
    with pytest.raises(Exception, match="datatype mismatch"), engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO events (position, type, at, actor, payload) "
            "VALUES (2.5, 'x', '2026-01-01T00:00:00.000000Z', 'x', '{}')")
    with engine.connect() as conn:  # and the upgrade left foreign keys enforced
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_the_upgrade_refuses_to_rebuild_tables_with_foreign_keys_enforced(tmp_path):
    from alembic import command
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(engine, BEFORE)
    cfg = schema.alembic_config()
    with pytest.raises(RuntimeError, match="foreign keys off"), engine.begin() as conn:
        cfg.attributes["connection"] = conn  # foreign keys on, as every connection has them
        command.upgrade(cfg, "head")
    engine.dispose()


def test_the_migrated_schema_equals_the_models(db_url):
    """Every table, column (type included) and index of the models, on both engines;
    the integer keys BIGINT on PostgreSQL and INTEGER (the rowid) on SQLite."""
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with engine.connect() as conn:
        context_ = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context_, metadata)
        columns = {table: {c["name"]: c["type"] for c in inspect(conn).get_columns(table)}
                   for table in REKEYED}
    # The one index the models do not declare: the expression index of migration 0007,
    # which reflection cannot read on SQLite and sees as an extra index on PostgreSQL.
    extra = [d for d in diffs if d[0] == "remove_index" and isinstance(d[1], Index)
             and d[1].name == "ix_events_custody_officer"]
    assert [d for d in diffs if d not in extra] == []
    sqlite = engine.dialect.name == "sqlite"
    for table, column in REKEYED.items():
        assert isinstance(metadata.tables[table], Table)
        assert str(columns[table][column]) == ("INTEGER" if sqlite else "BIGINT"), table
    engine.dispose()


def test_the_downgrade_declares_the_keys_bigint_again_with_every_row(tmp_path):
    from alembic import command
    from alembic.script import ScriptDirectory

    from resguardo.storage.database import driver_connection
    cfg = schema.alembic_config()
    migration = ScriptDirectory.from_config(cfg).get_revision("0020")
    assert migration is not None and isinstance(migration.down_revision, str)
    engine = make_engine(f"sqlite:///{tmp_path / 'db.db'}")
    schema.upgrade(engine, "0020")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO organizations (id, code, name, kind, path) "
                             "VALUES (0, 'N', 'Nacional', 'national', '0')")
        conn.exec_driver_sql("INSERT INTO locations (id, agency_id, code, name, kind) "
                             "VALUES (1, 0, 'ARM1', 'Armería', 'armory')")
    with engine.connect() as conn:
        driver_connection(conn).execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, migration.down_revision)
    engine.dispose()
    with sqlite3.connect(tmp_path / "db.db") as db:
        for table, column in REKEYED.items():
            assert _key_type(db, table, column) == ("BIGINT", 1), table
            assert len(_pk_indexes(db, table)) == 1, table
        assert db.execute("SELECT id, agency_id, code FROM locations").fetchall() == [
            (1, 0, "ARM1")]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
