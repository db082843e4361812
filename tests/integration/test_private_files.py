"""Secrets outside the database, and files only their owner reads: a fresh
deployment's database, its -wal/-shm companions and its key file are mode 0600,
and the database holds no key that signs sessions (they are looked up on the server)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from resguardo.cli import context
from resguardo.cli.main import app
from resguardo.services import auth
from resguardo.services.app import Resguardo
from resguardo.storage.api_tables import api_secrets

from world import PASSWORD


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_deployment_s_files_are_mode_0600_and_hold_no_session_key(tmp_path,
                                                                         monkeypatch):
    db = tmp_path / "resguardo.db"
    monkeypatch.setenv("RESGUARDO_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.delenv("RESGUARDO_SIGNING_KEY", raising=False)
    old = os.umask(0o022)  # the usual umask would leave new files readable by everyone
    try:
        deployment = Resguardo()
        context.set_deployment(deployment)
        result = CliRunner().invoke(app, ["init", "--admin-password-stdin"],
                                    input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        actor = auth.authenticate(deployment, "admin", PASSWORD, "127.0.0.1")
        auth.issue_session(deployment, actor)
        files = {p.name: _mode(p) for p in tmp_path.iterdir()}
        with deployment.read(None) as uow:
            stored = uow.conn.execute(api_secrets.select()).all()
        deployment.engine.dispose()
    finally:
        os.umask(old)
        context.set_deployment(None)
    assert {"resguardo.db", "resguardo.db-wal", "resguardo.db-shm",
            "resguardo.db.key"} <= set(files)
    assert {name: mode for name, mode in files.items() if mode != 0o600} == {}
    assert stored == []


def test_upgrading_deletes_the_old_session_signing_key_from_the_database(tmp_path):
    from alembic import command
    from sqlalchemy import insert, select

    from resguardo.storage import schema
    from resguardo.storage.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = schema.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
        conn.execute(insert(api_secrets).values(name="session_signing_key", value="forge-me",
                                                created_at="2026-01-01T00:00:00.000000Z"))
    schema.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(api_secrets.c.name)).all() == []
    engine.dispose()
