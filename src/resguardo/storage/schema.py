"""Schema management through Alembic, on whatever engine Resguardo uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, insert, select

from resguardo.storage import ledger_tables  # noqa: F401  (the ledger's tables join the metadata)
from resguardo.storage import tables as t
from resguardo.storage.database import driver_connection

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration (creates it on an empty database), or to
    ``revision``; in one transaction.

    On SQLite the migrations run with foreign keys not enforced (``PRAGMA foreign_keys``
    can only change outside a transaction), as SQLite documents for rebuilding a table
    that other tables refer to (migration 0020): a table being replaced is still the
    parent of other rows. When a migration ran, ``PRAGMA foreign_key_check`` must then
    find nothing before the transaction commits; enforcement is on again afterwards.
    """
    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            _foreign_keys(conn, on=False)
        try:
            with conn.begin():
                before = MigrationContext.configure(conn).get_current_revision()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                after = MigrationContext.configure(conn).get_current_revision()
                if sqlite and after != before:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError("the upgrade left rows whose foreign key finds no "
                                           f"row (table, rowid, parent, key): {broken[:5]}")
                if conn.execute(select(t.log_head.c.size).where(t.log_head.c.id == 1)
                                ).first() is None:
                    conn.execute(insert(t.log_head).values(id=1, size=0))
        finally:
            if sqlite:
                _foreign_keys(conn, on=True)


def _foreign_keys(conn: Connection, *, on: bool) -> None:
    """Switch SQLite's foreign key enforcement on the driver's connection, outside any
    transaction (inside one the pragma does nothing)."""
    raw = driver_connection(conn)
    if raw.in_transaction:
        raise RuntimeError("foreign key enforcement cannot change inside a transaction")
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revise(engine: Engine, message: str) -> None:  # pragma: no cover - developer tool
    """Autogenerate a migration from the difference between tables.py and the database."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
