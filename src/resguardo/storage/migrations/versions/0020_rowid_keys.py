"""integer keys as SQLite rowids: the log, the projection and the tables keyed by a position

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-06 21:15:00

Written by hand. On SQLite only a column declared exactly ``INTEGER PRIMARY KEY`` is the
table's rowid; the ``BIGINT PRIMARY KEY`` the earlier migrations created is a second
b-tree (an index) beside the table, so every row written or found by its key costs one
more b-tree look-up and one more page. The tables whose primary key is one integer column
(``REKEYED``) are rebuilt with that column declared ``INTEGER`` (``tables.RowKey``), the
way SQLite documents for a change ``ALTER TABLE`` cannot make:

1. the triggers and views of the database are set aside (their SQL kept);
2. for each table: a new table from the table's own ``CREATE TABLE`` text with only the
   key's type changed (every other column, default, constraint and foreign key exactly
   as it was), every row copied in key order, the old table dropped, the new one renamed
   to its name, and the table's indexes created again from their own SQL (partial and
   expression indexes included);
3. the triggers and views created again, each from its own SQL, in their order;
4. ``PRAGMA foreign_key_check`` must find nothing (``schema.upgrade`` also checks).

Statistics taken with ``ANALYZE`` (``sqlite_stat1``) go with a dropped table; those of a
rebuilt table are taken again.

All in the upgrade's one transaction: a failure leaves the database as it was. Foreign
keys must not be enforced meanwhile (a table being dropped is still the parent of other
tables' rows): ``schema.upgrade`` runs the migrations with ``PRAGMA foreign_keys=OFF``,
and this migration refuses to run otherwise.

A value that is not an integer in one of these keys (only possible behind the
application's back) makes SQLite refuse the copy ("datatype mismatch"), and the upgrade
stops with the table named, the database unchanged.

PostgreSQL keeps ``BIGINT``: nothing to do there. The downgrade declares the keys
``BIGINT`` again the same way.
"""

import re

from alembic import op
from sqlalchemy.exc import IntegrityError

revision = '0020'
down_revision = '0015'
branch_labels = None
depends_on = None

#: Table -> its primary key, a single integer column (``tables.RowKey``).
REKEYED = {
    "events": "position",
    "event_credentials": "first_position",
    "organizations": "id",
    "locations": "id",
    "licences": "id",
    "officers": "id",
    "officer_pins": "officer_id",
    "firearms": "id",
    "imports": "id",
    "loss_reports": "id",
    "requests": "id",
    "overrides": "id",
    "inspections": "id",
    "inspection_scans": "id",
    "inspection_actas": "inspection_id",
}

_SCRATCH = "_rowid_rebuild"


def upgrade() -> None:
    _rekey("BIGINT", "INTEGER")


def downgrade() -> None:
    _rekey("INTEGER", "BIGINT")


def _rekey(old_type: str, new_type: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("migration 0020 rebuilds tables and must run with foreign keys "
                           "off: run it with `resguardo db upgrade`")
    tables = {name: sql for name, sql in conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
    todo = {name: column for name, column in REKEYED.items() if name in tables}
    # Triggers and views: set aside, with their SQL, before any table is dropped or renamed
    # (SQLite checks the whole schema when a table is renamed), then created again.
    aside = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type = 'trigger', rowid").all()
    for kind, name, _ in reversed(aside):
        conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    # Statistics someone took with ANALYZE go with the dropped table: taken again.
    analyzed = {row[0] for row in conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1")
                } if "sqlite_stat1" in tables else set()
    for table, column in todo.items():
        sql = _retyped(table, tables[table], column, old_type, new_type)
        if sql is not None:
            _rebuild(conn, table, column, sql)
            if table in analyzed:
                conn.exec_driver_sql(f'ANALYZE "{table}"')
    for _, _, sql in aside:
        conn.exec_driver_sql(sql)
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"rows whose foreign key finds no row after the rebuild: {broken[:5]}")


def _quoted(name: str) -> str:
    """A regular expression for an SQL name, bare or quoted as SQLite accepts it."""
    return rf'(?:"{name}"|`{name}`|\[{name}\]|{name})'


def _retyped(table: str, sql: str, column: str, old_type: str, new_type: str) -> str | None:
    """The table's CREATE TABLE text for the scratch table, its key declared ``new_type``
    and nothing else changed; None when the key is declared ``new_type`` already."""
    def definition(type_: str) -> re.Pattern[str]:  # the column's definition, not a mention
        return re.compile(rf'([(,]\s*{_quoted(column)}\s+){type_}\b', re.IGNORECASE)

    if definition(new_type).search(sql):
        return None
    retyped, count = definition(old_type).subn(rf'\g<1>{new_type}', sql, count=1)
    head = re.compile(rf'^\s*CREATE\s+TABLE\s+{_quoted(table)}\s*\(', re.IGNORECASE)
    retyped, heads = head.subn(f'CREATE TABLE "{_SCRATCH}" (', retyped, count=1)
    if count != 1 or heads != 1:
        raise RuntimeError(f"{table}: its key {column} is not declared {old_type} as expected; "
                           f"the table is: {sql}")
    return retyped


def _rebuild(conn, table: str, column: str, sql: str) -> None:  # type: ignore[no-untyped-def]
    indexes = [row[0] for row in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL ORDER BY rowid", (table,))]
    columns = ", ".join(f'"{row[1]}"' for row in conn.exec_driver_sql(
        f'PRAGMA table_info("{table}")'))
    conn.exec_driver_sql(sql)
    try:
        conn.exec_driver_sql(f'INSERT INTO "{_SCRATCH}" ({columns}) '
                             f'SELECT {columns} FROM "{table}" ORDER BY "{column}"')
    except IntegrityError as exc:
        if "datatype mismatch" not in str(exc):
            raise
        raise RuntimeError(f"{table}: a row's {column} is not an integer (SQLite refuses it "
                           "in an INTEGER PRIMARY KEY); the upgrade is rolled back, the "
                           "database left as it was") from exc
    conn.exec_driver_sql(f'DROP TABLE "{table}"')
    conn.exec_driver_sql(f'ALTER TABLE "{_SCRATCH}" RENAME TO "{table}"')
    for index in indexes:
        conn.exec_driver_sql(index)
