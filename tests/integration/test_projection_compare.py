"""The streaming projection check (`ledger verify`, `ledger rebuild --check`) finds every
row edited, removed or added behind the log's back wherever it lies: the compare reads
windows of keys and only looks row by row at a window that differs, so these tests cut
the tables into windows of two keys and put the damage at the edges of windows, at the
end of a table, and where SQLite lets an id hold text."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from resguardo.services import ammunition, ledger_verify
from resguardo.storage import rebuild

from world import do


@pytest.fixture(autouse=True)
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild, "WINDOW", 2)


def _check(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        scratch = rebuild.replay(rebuild.events(uow.conn))
        try:
            diffs = rebuild.compare(uow.conn, scratch)
        finally:
            scratch.close()
    return [(d.table, d.key, d.problem) for d in diffs]


def _ids(app, table: str) -> list[int]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(f"SELECT id FROM {table} ORDER BY id"))]


def test_an_intact_projection_has_no_difference(world):  # type: ignore[no-untyped-def]
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-1", 500)
    assert _check(world) == []


def test_edits_anywhere_in_a_table_are_each_reported(world):  # type: ignore[no-untyped-def]
    firearms = _ids(world, "firearms")
    first, middle, last = firearms[0], firearms[len(firearms) // 2], firearms[-1]
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE firearms SET status = 'decommissioned' WHERE id = :i"),
                     {"i": first})
        conn.execute(text("DELETE FROM firearms WHERE id = :i"), {"i": middle})
        conn.execute(text("UPDATE firearms SET serial = 'GLK-Z999' WHERE id = :i"), {"i": last})
        conn.execute(text(
            "INSERT INTO firearms (id, serial, serial_key, make, make_key, calibre, kind, "
            "agency_id, status, status_since, last_event) SELECT :n, 'GHOST-1', 'GHOST1', "
            "make, make_key, calibre, kind, agency_id, 'in_storage', status_since, :n "
            "FROM firearms WHERE id = :i"), {"n": last + 1000, "i": first})
    assert _check(world) == [
        ("firearms", str(first), "differs"), ("firearms", str(middle), "missing"),
        ("firearms", str(last), "differs"), ("firearms", str(last + 1000), "extra")]


def test_a_table_keyed_by_text_is_compared_whole(world):  # type: ignore[no-untyped-def]
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-1", 500)
    do(world, "armero1", ammunition.receive, "MUN1", "ARM2", "9x19mm", "L-2", 200)
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE ammo_stock SET quantity = quantity - 50 WHERE lot = 'L-2'"))
    found = _check(world)
    assert [(table, problem) for table, _, problem in found] == [("ammo_stock", "differs")]
    assert found[0][1].endswith("/9x19mm/L-2")


def test_an_id_turned_into_text_on_sqlite_is_refused(world):  # type: ignore[no-untyped-def]
    # An id is the table's rowid on SQLite (INTEGER PRIMARY KEY, migration 0020): SQLite
    # refuses text there itself, where a BIGINT key kept it and the check had to find it.
    if world.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite lets a number column hold text")
    victim = _ids(world, "firearms")[1]
    with pytest.raises(IntegrityError, match="datatype mismatch"), world.engine.begin() as conn:
        conn.execute(text("UPDATE firearms SET id = 'x' || id WHERE id = :i"), {"i": victim})
    assert _check(world) == []


def test_verify_reports_the_projection_and_the_log_together(world):  # type: ignore[no-untyped-def]
    victim = _ids(world, "officers")[0]
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE officers SET status = 'separated' WHERE id = :i"),
                     {"i": victim})
    with world.read(None) as uow:
        report = ledger_verify.verify(uow, verifier=None, origin="x", workers=1)
    projection = [f for f in report.findings if f.kind == "projection"]
    assert report.projection and len(projection) == 1
    assert f"officers {victim}: status: live='separated' log='active'" in projection[0].message


def _damage(app) -> list[int]:  # type: ignore[no-untyped-def]
    """Edit, remove and add firearms rows, and put text in a number column (SQLite)."""
    firearms = _ids(app, "firearms")
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE firearms SET model = 'X' WHERE id = :i"), {"i": firearms[0]})
        conn.execute(text("DELETE FROM firearms WHERE id = :i"), {"i": firearms[2]})
        conn.execute(text("UPDATE firearms SET last_event = last_event || 'x' WHERE id = :i"),
                     {"i": firearms[3]})
        conn.execute(text("UPDATE officers SET name = upper(name) || ' ' WHERE id = "
                          "(SELECT min(id) FROM officers)"))
    return firearms


def test_sqlite_and_the_window_walk_find_the_same_rows(world, monkeypatch):  # type: ignore[no-untyped-def]
    # On SQLite the live database is attached to the scratch one and SQLite finds the rows
    # that differ; the window walk (PostgreSQL's way) must find exactly the same.
    if world.engine.dialect.name != "sqlite":
        pytest.skip("the attached comparison is SQLite's")
    firearms = _damage(world)
    by_sqlite = _check(world)
    monkeypatch.setattr(rebuild, "_attach", lambda live, replayed: None)
    assert by_sqlite == _check(world)
    officer = _ids(world, "officers")[0]
    assert by_sqlite == [("officers", str(officer), "differs"),
                         ("firearms", str(firearms[0]), "differs"),
                         ("firearms", str(firearms[2]), "missing"),
                         ("firearms", str(firearms[3]), "differs")]


def test_a_list_cut_short_never_calls_an_edited_row_extra_or_missing(world):  # type: ignore[no-untyped-def]
    firearms = _ids(world, "firearms")
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE firearms SET model = 'X'"))
    with world.read(None) as uow:
        scratch = rebuild.replay_log(uow.conn)
        try:
            diffs = rebuild.compare(uow.conn, scratch, limit=3)
        finally:
            scratch.close()
    assert [(d.key, d.problem) for d in diffs] == [(str(i), "differs") for i in firearms[:3]]


def test_a_write_committed_during_the_check_is_not_taken_for_damage(world):  # type: ignore[no-untyped-def]
    # verify reads the log in one read transaction; the live projection it compares with
    # must be the one of that same moment, not one a desk wrote since.
    if world.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's window walk reads in the verify's own transaction")
    with world.read(None) as uow:
        scratch = rebuild.replay_log(uow.conn)
        do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-9", 100)
        try:
            diffs = rebuild.compare(uow.conn, scratch)
        finally:
            scratch.close()
    assert diffs == []
    assert _check(world) == []  # and the new row is the log's


def test_the_fast_replay_builds_what_the_event_by_event_replay_builds(world):  # type: ignore[no-untyped-def]
    # Registrations, custody and other entries interleaved: replay_log inserts runs of
    # registrations at once; every table must come out row for row the same.
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-1", 500)
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE firearms SET model = 'X' WHERE id = "
                          "(SELECT max(id) FROM firearms)"))
    with world.read(None) as uow:
        fast = rebuild.replay_log(uow.conn, page=3)
        slow = rebuild.replay(rebuild.events(uow.conn))
        try:
            for table in rebuild.t.PROJECTION:
                query = f"SELECT * FROM {table.name} ORDER BY 1"
                assert (fast.exec_driver_sql(query).fetchall()
                        == slow.exec_driver_sql(query).fetchall()), table.name
            assert [d.problem for d in rebuild.compare(uow.conn, fast)] == ["differs"]
        finally:
            fast.close()
            slow.close()


def test_a_live_database_that_cannot_be_attached_is_compared_in_windows(world, monkeypatch):  # type: ignore[no-untyped-def]
    if world.engine.dialect.name != "sqlite":
        pytest.skip("the attached comparison is SQLite's")
    firearms = _damage(world)
    # an auditor's copy SQLite cannot open a second time (here: a path that is not there)
    monkeypatch.setattr(rebuild.urllib.parse, "quote", lambda path: path + "-not-there")
    assert ("firearms", str(firearms[2]), "missing") in _check(world)
    assert len(_check(world)) == 4


def test_a_write_committed_before_the_replay_is_replayed_and_compared_alike(world):  # type: ignore[no-untyped-def]
    # The replay of a SQLite file reads the log in the transaction the comparison then
    # uses: a desk's write committed after verify's own transaction began is in both
    # halves (and the replay still takes SQLite's fast way).
    if world.engine.dialect.name != "sqlite":
        pytest.skip("the attached replay is SQLite's")
    with world.read(None) as uow:
        before = uow.repo.log_size()
        do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-8", 100)
        scratch = rebuild.replay_log(uow.conn)
        try:
            assert scratch.info.get(rebuild._ATTACHED)
            lots = scratch.exec_driver_sql("SELECT lot FROM ammo_stock").fetchall()
            diffs = rebuild.compare(uow.conn, scratch)
        finally:
            scratch.close()
        assert uow.repo.log_size() == before  # verify's own transaction did not move
    assert ("L-8",) in lots and diffs == []


def test_the_desk_writing_between_the_replay_and_the_comparison_is_no_finding(world):  # type: ignore[no-untyped-def]
    # An auditor verifies a busy deployment: the desk commits a movement after the replay
    # read the log and before the comparison reads the projection. Both halves must read
    # the same moment of the database (one snapshot on either engine), or every auditor's
    # verify of a working PostgreSQL deployment reports rows the insider never touched,
    # and real findings drown among them.
    with world.read(None) as uow:
        before = uow.repo.log_size()
        scratch = rebuild.replay_log(uow.conn)
        try:
            do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-9", 100)
            diffs = rebuild.compare(uow.conn, scratch)
        finally:
            scratch.close()
        assert uow.repo.log_size() == before
    assert diffs == []
    assert _check(world) == []  # the next verify sees the movement, replayed and compared
