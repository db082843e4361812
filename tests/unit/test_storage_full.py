"""A full disk is told apart from a busy or unreachable database, whatever wraps the error."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from resguardo.storage.database import is_storage_full


def real_sqlite_full() -> sqlite3.OperationalError:
    """The error SQLite itself raises when the database cannot grow."""
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (b blob)")
    conn.execute("pragma max_page_count = 2")
    try:
        conn.execute("insert into t values (zeroblob(100000))")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("SQLite accepted a row larger than its page limit")


def test_sqlites_own_full_error_is_storage_full() -> None:
    exc = real_sqlite_full()
    assert exc.sqlite_errorcode == sqlite3.SQLITE_FULL
    assert is_storage_full(exc)
    assert is_storage_full(OperationalError("INSERT ...", {}, exc))  # as SQLAlchemy wraps it


def test_postgresqls_disk_full_is_storage_full() -> None:
    exc = psycopg.errors.DiskFull(
        'could not extend file "base/16384/16385": No space left on device')
    assert is_storage_full(exc)
    assert is_storage_full(OperationalError("INSERT ...", {}, exc))
    # a failed write of another kind, whose words still say it
    assert is_storage_full(psycopg.OperationalError(
        'could not write to file "pg_wal/xlogtemp.123": No space left on device'))


@pytest.mark.parametrize("exc", [
    sqlite3.OperationalError("database is locked"),
    psycopg.OperationalError("server closed the connection unexpectedly"),
    OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database file")),
])
def test_a_busy_or_unreachable_database_is_not_storage_full(exc: Exception) -> None:
    assert not is_storage_full(exc)
