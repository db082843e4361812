"""SQLite keeps no queue of writers: a writer waiting for the write lock polls, and a
long write taken in slices (a large import) could take the lock again before it looks.
Writers say they wait (``storage.database.WRITERS_SUFFIX``); the long write lets every
one of them in before its next slice (``let_waiting_writers_in``, ``UnitOfWork.resume``).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from sqlalchemy import text

from resguardo.storage.database import WRITE, let_waiting_writers_in, make_engine


def _engine(path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{path}", busy_timeout=30)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
    return engine


def _someone_waits(writers: Path) -> bool:
    """Whether a writer holds its "I wait" lock on the writers file."""
    fd = os.open(writers, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_a_waiting_writer_gets_the_lock_before_the_long_write_goes_on(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "db.sqlite"
    long_write, desk = _engine(path), _engine(path)
    in_desk, desk_done, release = threading.Event(), threading.Event(), threading.Event()

    def desk_write() -> None:
        with desk.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            in_desk.set()  # BEGIN IMMEDIATE returned: the write lock is the desk's
            conn.execute(text("INSERT INTO t VALUES (2)"))
            release.wait(30)
        desk_done.set()

    conn = long_write.connect().execution_options(**{WRITE: True})
    order = []
    try:
        tx = conn.begin()  # the first slice holds the lock
        conn.execute(text("INSERT INTO t VALUES (1)"))
        waiter = threading.Thread(target=desk_write)
        waiter.start()
        while not _someone_waits(Path(f"{path}-writers")):  # the desk says it waits
            threading.Event().wait(0.01)
        tx.commit()
        assert let_waiting_writers_in(long_write, 30)
        order.append("desk in" if in_desk.is_set() else "desk still waiting")
        release.set()
        tx = conn.begin()  # the next slice: after the desk's write
        conn.execute(text("INSERT INTO t VALUES (3)"))
        tx.commit()
        waiter.join(30)
    finally:
        release.set()
        conn.close()
    assert order == ["desk in"]
    assert desk_done.is_set()
    with long_write.connect() as check:
        assert [r[0] for r in check.execute(text("SELECT n FROM t ORDER BY rowid"))] == [1, 2, 3]


def test_with_no_writer_waiting_the_long_write_goes_on_at_once(tmp_path):  # type: ignore[no-untyped-def]
    engine = _engine(tmp_path / "db.sqlite")
    assert let_waiting_writers_in(engine, 30)


def test_an_in_memory_database_has_no_turn_to_give(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine("sqlite:///:memory:")
    assert not let_waiting_writers_in(engine, 1)


def test_a_request_queued_at_the_apis_writer_gate_counts_as_waiting(tmp_path):  # type: ignore[no-untyped-def]
    from resguardo.api.dependencies import _WriterGate

    path = tmp_path / "db.sqlite"
    _engine(path)
    gate = _WriterGate(str(path))
    writers = Path(f"{path}-writers")
    with gate:
        assert _someone_waits(writers)
    assert not _someone_waits(writers)
