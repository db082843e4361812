"""A sliced import keeps SQLite's temporary files in memory; nothing else does.

A statement that inserts many rows into a table with foreign keys, inside a larger
transaction, keeps a statement journal: the pages it changes, so that it can be undone
alone. SQLite writes that journal into a file of its own past 64 KiB, two writes per
page. A sliced import's batches are such statements: a 200,000-row import wrote 727,874
pages where 165,820 with the journal in memory (``storage.database.temp_in_memory``).
Only the import's connection, and only until it goes back to the pool: with every
temporary file in memory, an export's sort of a million weapons would hold them all in
memory as well.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text
from test_import_sliced import inventory

from resguardo.services import imports
from resguardo.services.imports import ImportOptions, import_file
from resguardo.storage import bulk
from resguardo.storage.database import make_engine, temp_in_memory

FD_DIR = Path("/proc/self/fd")
pytestmark = pytest.mark.skipif(not FD_DIR.is_dir(), reason="needs /proc (Linux)")


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


def _batch(conn, suffix: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                      "WHERE i < 20000) INSERT INTO weapon (serial, place_id) "
                      f"SELECT printf('%08d{suffix}', (i * 7919) % 100003), 1 FROM n"))


def _two_batches(conn) -> list[str]:  # type: ignore[no-untyped-def]
    """Two 20,000-row statements in one transaction, the second's keys among the first's
    pages; the temporary files open before the transaction ends."""
    with conn.begin():
        _batch(conn, "")
        _batch(conn, "B")
        return open_temporary_files()


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'resguardo.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE place (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE weapon (id INTEGER PRIMARY KEY, serial TEXT UNIQUE, "
                          "place_id INTEGER REFERENCES place (id))"))
        conn.execute(text("INSERT INTO place VALUES (1)"))
    yield engine
    engine.dispose()


def test_a_large_statement_journals_into_a_file_unless_told_otherwise(engine):  # type: ignore[no-untyped-def]
    assert open_temporary_files() == []
    with engine.connect() as conn:
        assert _two_batches(conn) != []  # SQLite's default: the journal went to a file
    with engine.connect() as conn:
        conn.execute(text("DELETE FROM weapon"))
        conn.commit()
        temp_in_memory(conn)
        assert _two_batches(conn) == []
        assert conn.execute(text("SELECT count(*) FROM weapon")).scalar_one() == 40000


def test_the_connection_keeps_files_again_once_back_in_the_pool(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        temp_in_memory(conn)
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar_one() == 2  # memory
        first = conn.connection.dbapi_connection
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is first  # the same one, from the pool
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar_one() == 0  # the default


def test_it_cannot_change_inside_a_transaction(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT 1"))
        conn.exec_driver_sql("CREATE TEMP TABLE t (x)")
        with pytest.raises(RuntimeError, match="inside a transaction"):
            temp_in_memory(conn)


def test_a_sliced_import_writes_its_batches_with_no_temporary_file(world, tmp_path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch):
    if not world.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's temporary files")
    monkeypatch.setattr(imports, "SLICED_FROM_BYTES", 0)
    seen: list[list[str]] = []
    move = bulk.BatchWriter._move

    def watched(self, *args):  # type: ignore[no-untyped-def]
        move(self, *args)
        seen.append(open_temporary_files())

    monkeypatch.setattr(bulk.BatchWriter, "_move", watched)
    with world.work("armero1") as uow:
        report = import_file(uow, "firearms", inventory(tmp_path / "inv.csv", 12_000,
                                                        prefix="TF"), ImportOptions())
        uow.commit()
    assert report.imported == 12_000 and report.slices is not None
    assert len(seen) == 3 and seen == [[], [], []]
    with world.read(None) as uow:  # the pool's connections keep their files again
        assert uow.conn.exec_driver_sql("PRAGMA temp_store").scalar_one() == 0
