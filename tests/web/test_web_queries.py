"""The web pages' own read queries on SQLite and PostgreSQL: an officer's
custody entries found in the entries about weapons, transfers on their way,
ammunition movements, each within the reader's scope."""

from __future__ import annotations

from resguardo.services import ammunition, custody
from resguardo.storage import web_queries

from world import do, look


def test_an_officers_custody_entries_are_theirs_alone_newest_first(world):
    do(world, "armero1", custody.issue, "GLK-A100", "P1")
    do(world, "armero1", custody.issue, "GLK-A200", "P2")
    do(world, "armero1", custody.return_, "GLK-A100", "ARM2")
    do(world, "armero1", custody.issue, "GLK-A300", "P1")

    def entries(uow, badge):  # type: ignore[no-untyped-def]
        officer = uow.repo.officer(uow.repo.org("MUN1").id, badge)
        found, older = web_queries.officer_custody(uow.repo, officer.id, officer.agency_id,
                                                   limit=2)
        return [(e.type, uow.repo.firearm_by_id(e.payload["firearm_id"]).serial)
                for e in found], older

    assert look(world, "jefe1", entries, "P1") == (
        [("custody.issued", "GLK-A300"), ("custody.returned", "GLK-A100")], True)
    assert look(world, "jefe1", entries, "P2") == ([("custody.issued", "GLK-A200")], False)


def test_transfers_on_their_way_are_seen_from_both_ends_and_nowhere_else(world):
    do(world, "armero1", custody.request_transfer, "GLK-A500", "MUN2", "Reasignación")
    do(world, "armero1", custody.request_transfer, "GLK-A400", "MUN2", "Préstamo")
    do(world, "jefe1", custody.approve_transfer, "GLK-A500")

    def serials(uow, incoming):  # type: ignore[no-untyped-def]
        return [r["serial"] for r in web_queries.transfers_in_transit(uow.repo,
                                                                       incoming=incoming)]

    assert look(world, "armero2", serials, True) == ["GLK-A500"]
    assert look(world, "armero1", serials, True) == []
    assert look(world, "armero1", serials, False) == ["GLK-A500"]
    assert look(world, "armero3", serials, True) == []
    pending = look(world, "armero2", lambda uow: [r["serial"] for r in
                                                  web_queries.transfers_pending(uow.repo)])
    assert pending == ["GLK-A400"]
    do(world, "armero2", custody.receive_transfer, "GLK-A500", "ARM1")
    assert look(world, "armero2", serials, True) == []
    assert look(world, "supervisor", serials, False) == []


def test_ammunition_movements_stay_in_scope(world):
    do(world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L1", 100)
    do(world, "armero1", ammunition.issue, "MUN1", "ARM1", "P1", "9x19mm", "L1", 10)
    do(world, "armero2", ammunition.receive, "MUN2", "ARM1", "9x19mm", "R7", 50)

    def moves(uow):  # type: ignore[no-untyped-def]
        found, older = web_queries.ammunition_movements(uow.repo, limit=10)
        return [(e.type, e.payload["lot"]) for e in found], older

    assert look(world, "armero1", moves) == (
        [("ammunition.issued", "L1"), ("ammunition.received", "L1")], False)
    assert look(world, "armero2", moves) == ([("ammunition.received", "R7")], False)
    assert len(look(world, "supervisor", moves)[0]) == 3
    assert look(world, "armero3", moves) == ([], False)


def test_an_officers_custody_page_is_read_through_its_index(world):
    """The page reads the officer's own entries, not every custody entry of the agency."""
    from sqlalchemy import text

    do(world, "armero1", custody.issue, "GLK-A100", "P1")

    def plan(uow):  # type: ignore[no-untyped-def]
        officer = uow.repo.officer(uow.repo.org("MUN1").id, "P1")
        statements: list[str] = []
        params: list = []

        def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            statements.append(statement)
            params.append(parameters)

        from sqlalchemy import event

        event.listen(uow.conn, "before_cursor_execute", seen)
        try:
            web_queries.officer_custody(uow.repo, officer.id, officer.agency_id)
        finally:
            event.remove(uow.conn, "before_cursor_execute", seen)
        (statement,) = [s for s in statements if "FROM events" in s]
        if uow.conn.dialect.name == "sqlite":
            rows = uow.conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params[-1])
            return " ".join(str(r[-1]) for r in rows)
        uow.conn.execute(text("SET LOCAL enable_seqscan = off"))
        rows = uow.conn.exec_driver_sql("EXPLAIN " + statement, params[-1])
        return " ".join(r[0] for r in rows)

    found = look(world, "jefe1", plan)
    assert "ix_events_custody_officer" in found
    if world.engine.dialect.name == "sqlite":  # looked up by officer, not scanned
        assert "SEARCH" in found, found
    else:
        assert "Index Cond" in found and "officer_id" in found, found
