"""A sliced import on SQLite lets the writer's lock go when a writer waits for it, not on a
timer: while nobody waits it goes on (up to ``SLICE_LONGEST`` times
``RESGUARDO_IMPORT_SLICE_SECONDS``), and each commit it saves is a rewrite of the serial
indexes' pages it touched. PostgreSQL, where writers cannot say they wait, keeps slices of
``RESGUARDO_IMPORT_SLICE_SECONDS``.

The slices' clock is a counter here (one second per reading), so that what is asserted is
the rule, not how fast a loaded machine runs the import.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_import_sliced import inventory

from resguardo.services import import_firearms, imports
from resguardo.services.imports import ImportOptions, import_file
from resguardo.storage import uow as uow_module
from resguardo.storage.database import WaitingWriters, say_writer_waits

from world import check_log

ROWS = 12_000  # 24 batches of ``BATCH`` (``counted_clock``)
#: Rows per batch here: the slices' clock moves once per batch, and the rule is the slices'.
BATCH = 500


def import_all(world, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Import ``ROWS`` weapons as MUN1's armorer in one unit of work; its report."""
    with world.work("armero1") as uow:
        report = import_file(uow, "firearms", inventory(tmp_path / "inv.csv", ROWS,
                                                        prefix="AD"), ImportOptions())
        uow.commit()
    assert report.imported == ROWS and report.slices is not None
    return report


def database_path(world) -> str | None:  # type: ignore[no-untyped-def]
    url = world.settings.database_url
    return url.split("///", 1)[1] if url.startswith("sqlite") else None


@pytest.fixture
def counted_clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The slices' clock: each reading is one second after the one before."""
    ticks = iter(range(10**9))
    monkeypatch.setattr(imports, "time", SimpleNamespace(monotonic=lambda: float(next(ticks))))
    monkeypatch.setattr(imports, "SLICED_FROM_BYTES", 0)
    monkeypatch.setattr(import_firearms, "SLICED_BATCH", BATCH)
    monkeypatch.setenv("RESGUARDO_IMPORT_SLICE_SECONDS", "3")
    monkeypatch.setattr(uow_module, "YIELD_MOST", 0.0)  # a waiter that never gets in


def test_a_writer_says_it_waits_and_the_import_sees_it(world):
    path = database_path(world)
    if path is None:  # PostgreSQL queues its writers; none says it waits
        assert WaitingWriters.of(world.engine) is None
        return
    waiting = WaitingWriters.of(world.engine)
    assert waiting is not None
    try:
        assert not waiting()
        fd = say_writer_waits(path)
        assert waiting()
        assert fd is not None
        os.close(fd)
        assert not waiting()
        # a writer held back by another's lock says so until it has the lock
        got_in = threading.Event()
        with world.work("armero1") as holder:
            holder.lock()

            def second_writer() -> None:
                with world.work("armero1") as other:
                    other.lock()
                    got_in.set()

            thread = threading.Thread(target=second_writer)
            thread.start()
            deadline = time.monotonic() + 60
            while not waiting():
                assert time.monotonic() < deadline, "the second writer never said it waits"
                time.sleep(0.01)
            assert not got_in.is_set()
            holder.commit()
        thread.join(60)
        assert got_in.is_set() and not waiting()
    finally:
        waiting.close()


def test_a_slice_goes_on_while_no_writer_waits(world, tmp_path, counted_clock):
    before = imports_count(world)
    report = import_all(world, tmp_path)
    if database_path(world) is None:
        # every 3 seconds of the counter (about 3 batches), as RESGUARDO_IMPORT_SLICE_SECONDS
        assert report.slices.committed >= 5
    else:
        # nobody waited: one slice, committed by the entry point (60 counted seconds at most)
        assert report.slices.committed == 0
    assert imports_count(world) == before + 1
    check_log(world)


def test_a_slice_at_its_longest_commits_on_the_writers_thread_and_the_import_goes_on(
        world, tmp_path, counted_clock, monkeypatch):
    monkeypatch.setenv("RESGUARDO_IMPORT_SLICE_SECONDS", "0.1")  # longest: 2 counted seconds
    before = imports_count(world)
    report = import_all(world, tmp_path)
    assert report.slices.committed >= 5  # a commit every batch or two, whoever waits
    assert imports_count(world) == before + 1
    check_log(world)  # every slice's weapons once, in order, as one import


def test_a_waiting_writer_ends_the_slice_after_its_seconds(world, tmp_path, counted_clock):
    path = database_path(world)
    if path is None:
        pytest.skip("on PostgreSQL slices are timed whoever waits (the test above)")
    fd = say_writer_waits(path)  # a desk write waiting for the whole import
    assert fd is not None
    try:
        report = import_all(world, tmp_path)
    finally:
        os.close(fd)
    # a slice lets the lock go as soon as it has held it 3 counted seconds and sees the
    # writer: about every 3 batches, as slices did on a timer before
    assert report.slices.committed >= 5
    check_log(world)


def imports_count(app) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with app.read(None) as uow:
        return int(uow.conn.execute(text("SELECT count(*) FROM imports")).scalar_one())
