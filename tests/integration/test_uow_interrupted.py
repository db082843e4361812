"""A unit of work whose statement was interrupted between its sending and its answer (Ctrl-C
in a PostgreSQL import) takes its next transaction on a new connection: the import then
takes back its committed slices on its way out (tests/integration/test_import_interrupted.py,
where the interruption lands wherever it lands)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("db_kind", ["postgresql"])
def test_a_restart_after_an_interrupted_statement_begins_on_a_new_connection(world, db_kind):
    with world.work("armero1") as uow:
        before = uow.repo.log_size()
        # what Ctrl-C leaves when it lands after the query was sent: its answer never read
        uow.conn.connection.driver_connection.pgconn.send_query(b"SELECT pg_sleep(0.2)")
        uow.restart()
        assert uow.repo.log_size() == before
        assert uow.conn.exec_driver_sql("SELECT 1").scalar() == 1
