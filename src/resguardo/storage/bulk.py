"""Writing batches of rows into the log's tables, on the driver cursor of a unit of work.

``BatchWriter`` inserts prepared rows (``events``, ``firearms``, ``merkle_nodes``)
in the transaction of one SQLAlchemy connection, with one statement per table
and batch rather than one per row. The events of a batch share their instant,
actor and request id (``Common``); each event row carries the rest
(``EVENT_OWN``).

On SQLite a batch is first copied into temporary tables of the same connection
(cheap: no index, no constraint), then moved into the real tables with one
``INSERT ... SELECT`` per table on a thread of its own. The b-tree work of a
batch (each of those tables has two to five indexes) thus runs in one call
into SQLite, which lets other Python threads run meanwhile: the caller reads
and judges the next batch while the database indexes this one. The
``firearms`` row of a registration is derived there from its payload, exactly
as ``projector`` derives it from ``firearm.registered`` (the payload's values,
no custodian, ``status_since`` the event's instant, ``last_event`` its
position); only the rows of weapons that a custody event of the same batch
has already moved on are given as rows. The temporary tables are created
inside the transaction, so a rollback removes them; ``close`` drops them
otherwise. During the writer's life the connection's page caches are raised
(``cache_size``) so that a large import neither spills index pages it will
touch again nor writes its staged rows to a file; ``close`` restores them.

On PostgreSQL the rows go straight in with ``executemany``, on the caller's
thread, every ``firearms`` row given.

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
#: The columns a batch's events share (``Common``), and those each has of its own.
COMMON_COLUMNS = ("at", "actor_id", "actor", "request_id")
EVENT_OWN = tuple(c for c in EVENT_COLUMNS if c not in COMMON_COLUMNS)
FIREARM_COLUMNS = (
    "id", "serial", "serial_key", "make", "make_key", "model", "calibre", "kind", "folio",
    "barrel_serial", "ballistic_id", "licence_id", "acquired_on", "supplier", "purchase_ref",
    "agency_id", "status", "location_id", "custodian_id", "status_since", "last_event")
NODE_COLUMNS = ("level", "idx", "hash")
_STAGES = (("events", EVENT_OWN), ("firearms", FIREARM_COLUMNS), ("merkle_nodes", NODE_COLUMNS),
           ("common", COMMON_COLUMNS))
Common = tuple[str, "int | None", str, "str | None"]
"""(at, actor_id, actor, request_id) of every event of a batch."""
#: From the staged events (``s``) and their common columns (``c``): the events' rows.
_EVENT_SELECT = ", ".join(f"c.{name}" if name in COMMON_COLUMNS else f"s.{name}"
                          for name in EVENT_COLUMNS)
#: The registration's own ``firearms`` row, as ``projector`` derives it from the payload.
_FIREARM_SELECT = ", ".join(
    ["s.position"]
    + [f"json_extract(s.payload, '$.{name}')" for name in FIREARM_COLUMNS[1:16]]
    + ["json_extract(s.payload, '$.status')", "json_extract(s.payload, '$.location_id')",
       "NULL", "c.at", "s.position"])
#: Page cache while importing, in KiB (SQLite's negative ``cache_size``): the indexes'
#: insertion points of a million-row import stay in memory.
CACHE_KIB = 64 * 1024
#: Page cache of the temporary tables a batch is staged in, in KiB (a batch is a few MiB).
STAGE_CACHE_KIB = 16 * 1024


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
        self._temp_cache: int | None = None
        self._pool: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
            if background and self._staged else None)
        self._pending: Future[None] | None = None

    def write(self, events: list[tuple], common: Common, firearms: list[tuple],
              nodes: Sequence[tuple], after: Callable[[], None] | None = None) -> None:
        """Insert the rows (events first), then run ``after`` on the connection.

        ``events`` are rows of ``EVENT_OWN``. ``firearms`` are rows of
        ``FIREARM_COLUMNS``: on SQLite only those of registered weapons a custody
        event of the batch has moved on (the others are derived from the
        registrations), on PostgreSQL every one (``derives_firearms``).
        """
        self.wait()
        if not self._staged:
            at, actor_id, actor, request_id = common
            full = [(position, type_, at, actor_id, actor, org_id, subject_type, subject_id,
                     corrects, reason, request_id, payload)
                    for (position, type_, org_id, subject_type, subject_id, corrects, reason,
                         payload) in events]
            cur = self._dbapi.cursor()
            try:
                for table, columns, rows in (("events", EVENT_COLUMNS, full),
                                             ("firearms", FIREARM_COLUMNS, firearms),
                                             ("merkle_nodes", NODE_COLUMNS, nodes)):
                    if rows:
                        cur.executemany(_insert(table, columns, True), rows)
            finally:
                cur.close()
            if after is not None:
                after()
            return
        self._stage(events, firearms, nodes, common)
        if self._pool is None:
            self._move(after)
        else:
            self._pending = self._pool.submit(self._move, after)

    @property
    def derives_firearms(self) -> bool:
        """Whether a registration's own ``firearms`` row is derived here (not given)."""
        return self._staged

    def _stage(self, events: list[tuple], firearms: list[tuple], nodes: Sequence[tuple],
               common: Common) -> None:
        cur = self._dbapi.cursor()
        try:
            if not self._stages_made:
                self._cache = int(cur.execute("PRAGMA cache_size").fetchone()[0])
                cur.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
                for table, columns in _STAGES:
                    # Created in the transaction: a rollback takes them away as well.
                    cur.execute(f"CREATE TEMP TABLE {_stage_name(table)} "
                                f"({', '.join(columns)})")
                # A batch's staged rows stay in memory rather than spill to a file.
                self._temp_cache = int(cur.execute("PRAGMA temp.cache_size").fetchone()[0])
                cur.execute(f"PRAGMA temp.cache_size = {-STAGE_CACHE_KIB}")
                self._stages_made = True
            for (table, columns), rows in zip(_STAGES, (events, firearms, nodes, [common]),
                                              strict=True):
                stage = _stage_name(table)
                cur.execute(f"DELETE FROM temp.{stage}")
                if rows:
                    cur.executemany(_insert(f"temp.{stage}", columns, False), rows)
        finally:
            cur.close()

    def _move(self, after: Callable[[], None] | None) -> None:
        events, firearms, nodes, common = (f"temp.{_stage_name(table)}" for table, _ in _STAGES)
        statements = (
            # ORDER BY rowid: the rows go in as staged (positions ascending).
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) SELECT {_EVENT_SELECT} "
            f"FROM {events} AS s, {common} AS c ORDER BY s.rowid",
            f"INSERT INTO firearms ({', '.join(FIREARM_COLUMNS)}) SELECT {_FIREARM_SELECT} "
            f"FROM {events} AS s, {common} AS c WHERE s.type = 'firearm.registered' "
            f"AND s.position NOT IN (SELECT id FROM {firearms}) ORDER BY s.rowid",
            f"INSERT INTO firearms ({', '.join(FIREARM_COLUMNS)}) SELECT "
            f"{', '.join(FIREARM_COLUMNS)} FROM {firearms} ORDER BY rowid",
            f"INSERT INTO merkle_nodes ({', '.join(NODE_COLUMNS)}) SELECT "
            f"{', '.join(NODE_COLUMNS)} FROM {nodes} ORDER BY rowid",
        )
        cur = self._dbapi.cursor()
        try:
            for statement in statements:
                cur.execute(statement)
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
            for table, _ in _STAGES:
                cur.execute(f"DROP TABLE IF EXISTS temp.{_stage_name(table)}")
            if self._cache is not None:
                cur.execute(f"PRAGMA cache_size = {self._cache}")
            if self._temp_cache is not None:
                cur.execute(f"PRAGMA temp.cache_size = {self._temp_cache}")
        finally:
            cur.close()
