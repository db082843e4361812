"""Writing batches of rows into the log's tables, on the driver cursor of a unit of work.

``BatchWriter`` inserts prepared rows (``events``, ``firearms``, ``merkle_nodes``)
in the transaction of one SQLAlchemy connection, with one statement per table
and batch rather than one per row.

On SQLite a batch is first copied into temporary tables of the same connection
(cheap: no index, no constraint), then moved into the real tables with one
``INSERT ... SELECT`` per table on a thread of its own. The b-tree work of a
batch (each of those tables has two to five indexes) thus runs in one call
into SQLite, which lets other Python threads run meanwhile: the caller reads
and judges the next batch while the database indexes this one. The temporary
tables are created inside the transaction, so a rollback removes them; ``close``
drops them otherwise. During the writer's life the connection's page cache is
raised (``cache_size``) so that a large import does not spill index pages it
will touch again; ``close`` restores it.

On PostgreSQL the rows go straight in with ``executemany``, on the caller's
thread.

One batch at most is in flight: ``wait`` returns once it is written (raising
what made it fail) and must be called before anything else uses the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress

from sqlalchemy import Connection

EVENT_COLUMNS = ("position", "type", "at", "actor_id", "actor", "org_id", "subject_type",
                 "subject_id", "corrects", "reason", "request_id", "payload")
FIREARM_COLUMNS = (
    "id", "serial", "serial_key", "make", "make_key", "model", "calibre", "kind", "folio",
    "barrel_serial", "ballistic_id", "licence_id", "acquired_on", "supplier", "purchase_ref",
    "agency_id", "status", "location_id", "custodian_id", "status_since", "last_event")
NODE_COLUMNS = ("level", "idx", "hash")
_TABLES = (("events", EVENT_COLUMNS), ("firearms", FIREARM_COLUMNS),
           ("merkle_nodes", NODE_COLUMNS))
#: Page cache while importing, in KiB (SQLite's negative ``cache_size``): the indexes'
#: insertion points of a million-row import stay in memory.
CACHE_KIB = 64 * 1024


def _insert(table: str, columns: Sequence[str], pg: bool) -> str:
    marks = ", ".join(("%s" if pg else "?") for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def _stage_name(table: str) -> str:
    return f"resguardo_bulk_{table}"


class BatchWriter:
    """Inserts batches of event, firearm and tree-node rows (see the module docstring)."""

    def __init__(self, conn: Connection, *, background: bool = True) -> None:
        self.conn = conn
        self._dbapi = conn.connection.driver_connection
        self._pg = conn.dialect.name == "postgresql"
        self._staged = not self._pg
        self._stages_made = False
        self._cache: int | None = None
        self._pool: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
            if background and self._staged else None)
        self._pending: Future[None] | None = None

    def write(self, events: list[tuple], firearms: list[tuple], nodes: Sequence[tuple],
              after: Callable[[], None] | None = None) -> None:
        """Insert the rows (events first), then run ``after`` on the connection."""
        self.wait()
        if not self._staged:
            cur = self._dbapi.cursor()
            try:
                for (table, columns), rows in zip(_TABLES, (events, firearms, nodes),
                                                  strict=True):
                    if rows:
                        cur.executemany(_insert(table, columns, True), rows)
            finally:
                cur.close()
            if after is not None:
                after()
            return
        self._stage(events, firearms, nodes)
        if self._pool is None:
            self._move(after)
        else:
            self._pending = self._pool.submit(self._move, after)

    def _stage(self, events: list[tuple], firearms: list[tuple],
               nodes: Sequence[tuple]) -> None:
        cur = self._dbapi.cursor()
        try:
            if not self._stages_made:
                self._cache = int(cur.execute("PRAGMA cache_size").fetchone()[0])
                cur.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
                for table, columns in _TABLES:
                    # Created in the transaction: a rollback takes them away as well.
                    cur.execute(f"CREATE TEMP TABLE {_stage_name(table)} "
                                f"({', '.join(columns)})")
                self._stages_made = True
            for (table, columns), rows in zip(_TABLES, (events, firearms, nodes), strict=True):
                stage = _stage_name(table)
                cur.execute(f"DELETE FROM temp.{stage}")
                if rows:
                    cur.executemany(_insert(f"temp.{stage}", columns, False), rows)
        finally:
            cur.close()

    def _move(self, after: Callable[[], None] | None) -> None:
        cur = self._dbapi.cursor()
        try:
            for table, columns in _TABLES:
                names = ", ".join(columns)
                # ORDER BY rowid: the rows go in as staged (positions ascending).
                cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM "
                            f"temp.{_stage_name(table)} ORDER BY rowid")
        finally:
            cur.close()
        if after is not None:
            after()

    def wait(self) -> None:
        """Return once the batch in flight is written (raising what made it fail)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last batch, drop the staging tables, restore the page cache."""
        try:
            self.wait()
        except BaseException:
            self._shutdown()
            with suppress(Exception):  # the transaction rolls back: what failed is said
                self._tidy()
            raise
        self._shutdown()
        self._tidy()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _tidy(self) -> None:
        if not self._stages_made:
            return
        self._stages_made = False
        cur = self._dbapi.cursor()
        try:
            for table, _ in _TABLES:
                cur.execute(f"DROP TABLE IF EXISTS temp.{_stage_name(table)}")
            if self._cache is not None:
                cur.execute(f"PRAGMA cache_size = {self._cache}")
        finally:
            cur.close()
