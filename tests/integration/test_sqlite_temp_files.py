"""SQLite's temporary files stay in memory on the product's connections.

A statement that inserts many rows into a table with foreign keys, inside a larger
transaction, keeps a statement journal: the pages it changes that the transaction had
already changed, so that it can be undone alone. SQLite writes that journal into a file
of its own past 64 KiB, two writes per page. A sliced import's batches are such
statements: a million-row import wrote 250,000 pages a second time into those files,
most of its database time (``PRAGMA temp_store=MEMORY``, ``storage.database``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from resguardo.storage.database import make_engine

FD_DIR = Path("/proc/self/fd")


def open_temporary_files() -> list[str]:
    """The files this process holds open that SQLite made and deleted (``etilqs_*``)."""
    found = []
    for fd in os.listdir(FD_DIR):
        try:
            target = os.readlink(FD_DIR / fd)
        except OSError:
            continue
        if "etilqs_" in target:
            found.append(target)
    return found


@pytest.mark.skipif(not FD_DIR.is_dir(), reason="needs /proc (Linux)")
def test_a_large_statement_in_a_transaction_writes_no_temporary_file(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'resguardo.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE place (id INTEGER PRIMARY KEY)"))
            conn.execute(text("CREATE TABLE weapon (id INTEGER PRIMARY KEY, serial TEXT UNIQUE, "
                              "place_id INTEGER REFERENCES place (id))"))
            conn.execute(text("INSERT INTO place VALUES (1)"))
        before = open_temporary_files()
        with engine.begin() as conn:
            # the first batch, then a second whose keys land among the first's pages
            conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                              "WHERE i < 20000) INSERT INTO weapon (serial, place_id) "
                              "SELECT printf('%08d', (i * 7919) % 100003), 1 FROM n"))
            conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                              "WHERE i < 20000) INSERT INTO weapon (serial, place_id) "
                              "SELECT printf('%08dB', (i * 7919) % 100003), 1 FROM n"))
            during = open_temporary_files()
            assert conn.execute(text("SELECT count(*) FROM weapon")).scalar_one() == 40000
        assert during == before == []
    finally:
        engine.dispose()
