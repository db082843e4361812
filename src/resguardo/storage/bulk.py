"""Writing batches of rows into the log's tables, on the driver cursor of a unit of work.

``BatchWriter`` inserts prepared rows (``events``, ``firearms``, ``merkle_nodes``)
in the transaction of one SQLAlchemy connection, with one statement per table
and batch rather than one per row. The events of a batch share their instant,
actor and request id (``Common``); each event row carries the rest
(``EVENT_OWN``).

On SQLite a batch is first copied into temporary tables of the same connection
(cheap: no index, no constraint), then moved into the real tables with one
``INSERT ... SELECT`` per table on a thread of its own (the interpreter's thread
switch interval shortened meanwhile, ``_SwitchInterval``); the tree nodes go
there as runs of concatenated hashes (``node_runs``) that SQLite takes apart
itself. The b-tree work of a batch thus runs in calls into SQLite, which
let other Python threads run meanwhile: the caller reads and judges the next
batch while the database indexes this one. The ``firearms`` row of a
registration is derived there from its payload, exactly as ``projector``
derives it from ``firearm.registered`` (the payload's values, no custodian,
``status_since`` the event's instant, ``last_event`` its position); only the
rows of weapons that a custody event of the same batch has already moved on
are given as rows. The temporary tables are created inside the transaction, so
a rollback removes them; ``close`` drops them otherwise. During the writer's
life the connection's page caches are raised (``cache_size``) so that a large
import neither spills index pages it will touch again nor writes its staged
rows to a file; ``close`` restores them.

A large import (``DEFER_AFTER`` events and at least the size of the log it
started from) sets the indexes it would fill in random order (``DEFER_INDEXES``)
aside, in its transaction, and builds them again at its end
(``restore_indexes``): one sort instead of a b-tree insertion into a page of
its own per row. The primary keys and the unique (make_key, serial_key)
constraint stay, so the uniqueness of a weapon is enforced as the rows go in
and looked up through that index. A rollback brings the indexes back as they
were.

On PostgreSQL the rows go straight in with ``COPY ... FROM STDIN`` (one per
table and batch), on the caller's thread, every ``firearms`` row given: the
server checks every constraint and foreign key as it does for an INSERT, and
an error fails the import's transaction the same way. As the import grows the
table, its statistics are taken again (``ANALYZE_AFTER``, then at each
doubling) so that the import's own look-ups keep using the unique index.

One batch at most is in flight: ``wait`` returns once it is written (raising
what made it fail) and must be called before anything else uses the connection.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from sqlalchemy import Connection

from resguardo.domain import firearm_state
from resguardo.storage.database import driver_connection

EVENT_COLUMNS = ("position", "type", "at", "actor_id", "actor", "org_id", "subject_type",
                 "subject_id", "corrects", "reason", "request_id", "payload", "secret")
#: The columns a batch's events share (``Common``), and those each has of its own.
COMMON_COLUMNS = ("at", "actor_id", "actor", "request_id")
EVENT_OWN = tuple(c for c in EVENT_COLUMNS if c not in COMMON_COLUMNS)
FIREARM_COLUMNS = (
    "id", "serial", "serial_key", "make", "make_key", "model", "calibre", "kind", "folio",
    "barrel_serial", "ballistic_id", "licence_id", "acquired_on", "supplier", "purchase_ref",
    "agency_id", "status", "location_id", "custodian_id", "status_since", "last_event",
    "import_id")
NODE_COLUMNS = ("level", "idx", "hash")
_STAGES = (("events", EVENT_OWN), ("firearms", FIREARM_COLUMNS), ("common", COMMON_COLUMNS))
#: A batch's tree nodes in one statement: runs of consecutive indexes of one level
#: (``[level, first idx, count, byte offset]`` in the JSON array ``runs``), their hashes
#: (32 bytes each) one after the other in ``hashes``, taken apart by SQLite itself.
_NODE_RUNS = (
    "WITH RECURSIVE r(level, idx, last, off) AS ("
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[1]') + json_extract(value, '$[2]') - 1, json_extract(value, '$[3]') "
    "FROM json_each(:runs) "
    "UNION ALL SELECT level, idx + 1, last, off + 32 FROM r WHERE idx < last) "
    "INSERT INTO merkle_nodes (level, idx, hash) "
    "SELECT level, idx, substr(:hashes, off + 1, 32) FROM r")
_HASH_SIZE = 32
Common = tuple[str, "int | None", str, "str | None"]
"""(at, actor_id, actor, request_id) of every event of a batch."""
#: From the staged events (``s``) and their common columns (``c``): the events' rows.
_EVENT_SELECT = ", ".join(f"c.{name}" if name in COMMON_COLUMNS else f"s.{name}"
                          for name in EVENT_COLUMNS)


def _sql_source(source: object) -> str:
    """One source of a ``firearm_state`` rule as SQL over a staged event (``s``) and its
    common columns (``c``)."""
    if isinstance(source, firearm_state.Field):
        return f"json_extract(s.payload, '$.{source.name}')"
    if source is firearm_state.AT:
        return "c.at"
    if source is firearm_state.POSITION:
        return "s.position"
    if source is None:
        return "NULL"
    if isinstance(source, str) and "'" not in source:
        return f"'{source}'"
    raise ValueError(f"no SQL for the rule's source {source!r}")


def firearm_select(rule: firearm_state.Rule) -> str:
    """The ``firearms`` row of a staged registration in SQL, generated from ``rule`` (the
    ``firearm.registered`` rule of ``domain.firearm_state``, which ``projector`` applies
    too): the id is the position, the import's entry its ``import_entry``, the weapon's
    own columns its payload's. A column of the rule that the row leaves out must be one
    the rule leaves empty (its default)."""
    for name in rule.columns:
        if name not in FIREARM_COLUMNS and rule.sets[name] is not None:
            raise ValueError(f"the registration's row leaves out {name!r}, which it sets")
    sources = []
    for name in FIREARM_COLUMNS:
        if name == "id":
            sources.append("s.position")
        elif name == "import_id":
            sources.append("json_extract(s.payload, '$.import_entry')")
        elif name in rule.sets:
            sources.append(_sql_source(rule.sets[name]))
        else:
            sources.append(f"json_extract(s.payload, '$.{name}')")
    return ", ".join(sources)


#: The registration's own ``firearms`` row, as ``projector`` derives it from the payload.
_FIREARM_SELECT = firearm_select(firearm_state.RULES["firearm.registered"])
#: Page cache while importing, in KiB (SQLite's negative ``cache_size``): the indexes'
#: insertion points of a million-row import stay in memory.
CACHE_KIB = 64 * 1024
#: Page cache of the temporary tables a batch is staged in, in KiB (a batch is a few MiB).
STAGE_CACHE_KIB = 16 * 1024
#: Events written by one import after which, on SQLite, the indexes in ``DEFER_INDEXES``
#: are set aside until its end, when the import is also at least as large as the log it
#: started from.
DEFER_AFTER = 50_000
#: Indexes whose entries an import adds in no particular order (serial keys as the file
#: lists them): each row would touch a page of its own. A large import builds them again
#: at its end, one sort each. The indexes whose entries an import appends in order
#: (positions, ids, its agency and status) are cheap to keep up and are kept; so are the
#: primary keys and the unique (make_key, serial_key) constraint, through which the
#: uniqueness of a weapon is enforced and looked up as the rows go in.
DEFER_INDEXES = ("ix_firearms_serial_key",)
#: PostgreSQL: firearms rows written by one import after which the table's statistics
#: are taken again (then each time the import has doubled them).
ANALYZE_AFTER = 10_000


def _insert(table: str, columns: Sequence[str]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def node_runs(nodes: Iterable[tuple[int, int, bytes]]) -> dict[str, Any]:
    """Tree nodes ``(level, idx, hash)`` as the parameters of ``_NODE_RUNS``.

    A batch's thousands of node rows go into SQLite as two values and are taken
    apart there, off the caller's thread, in one statement (the nodes a batch of
    leaves completes are consecutive at each level: one run per level).
    """
    by_level: dict[int, tuple[list[int], list[bytes]]] = {}
    for level, idx, digest in nodes:
        found = by_level.get(level)
        if found is None:
            found = by_level[level] = ([], [])
        found[0].append(idx)
        found[1].append(digest)
    runs: list[list[int]] = []
    hashes: list[bytes] = []
    offset = 0
    for level, (indexes, digests) in sorted(by_level.items()):
        if set(map(len, digests)) != {_HASH_SIZE}:
            idx = next(i for i, d in zip(indexes, digests, strict=True) if len(d) != _HASH_SIZE)
            raise ValueError(f"node ({level}, {idx}): a tree hash is {_HASH_SIZE} bytes")
        count = len(indexes)
        if indexes == list(range(indexes[0], indexes[0] + count)):
            runs.append([level, indexes[0], count, offset])  # a batch's nodes, at each level
            offset += count * _HASH_SIZE
            hashes.extend(digests)
            continue
        items = sorted(zip(indexes, digests, strict=True))
        indexes, digests = [i for i, _ in items], [d for _, d in items]
        begin = 0
        for end in range(1, count + 1):
            if end == count or indexes[end] != indexes[end - 1] + 1:
                runs.append([level, indexes[begin], end - begin, offset])
                offset += (end - begin) * _HASH_SIZE
                begin = end
        hashes.extend(digests)
    return {"runs": json.dumps(runs), "hashes": b"".join(hashes)}


class _SwitchInterval:
    """The interpreter's thread switch interval, shortened while writers run.

    The writer thread needs the GIL for a moment at the start and end of each of
    its statements; with the default interval (5 ms) it would wait that long each
    time behind the caller's Python. Shortened while at least one writer lives,
    restored when the last one closes.
    """

    WHILE_WRITING = 0.0005

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 0.0

    def enter(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, self.WHILE_WRITING))
            self._users += 1

    def leave(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                sys.setswitchinterval(self._saved)


_SWITCH = _SwitchInterval()


def _stage_name(table: str) -> str:
    return f"resguardo_bulk_{table}"


class BatchWriter:
    """Inserts batches of event, firearm and tree-node rows (see the module docstring)."""

    def __init__(self, conn: Connection, *, background: bool = True) -> None:
        self.conn = conn
        self._dbapi = driver_connection(conn)
        self._pg = conn.dialect.name == "postgresql"
        self._staged = not self._pg
        self._stages_made = False
        self._cache: int | None = None
        self._temp_cache: int | None = None
        #: The writer thread, started with the first batch (``close`` ends it).
        self._background = background and self._staged
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        #: Events staged by this writer; the log's size when it began (first batch).
        self._written = 0
        self._base: int | None = None
        #: CREATE INDEX statements of the indexes set aside (None: none set aside).
        self._deferred: list[str] | None = None
        self._may_defer = self._staged
        #: PostgreSQL: firearms rows written by this writer, and the count at which it
        #: next has the table's statistics taken again (doubling: a few times an import).
        self._firearms_written = 0
        self._analyze_at = ANALYZE_AFTER
        #: A writer whose transaction commits in slices (``keep_indexes``), and whether the
        #: statistics are to be taken at the next pause between slices.
        self._sliced = False
        self._analyze_due = False

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
                     corrects, reason, request_id, payload, secret)
                    for (position, type_, org_id, subject_type, subject_id, corrects, reason,
                         payload, secret) in events]
            cur = self._dbapi.cursor()
            try:
                for table, columns, rows in (("events", EVENT_COLUMNS, full),
                                             ("firearms", FIREARM_COLUMNS, firearms),
                                             ("merkle_nodes", NODE_COLUMNS, nodes)):
                    if rows:
                        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                self._firearms_written += len(firearms)
                if self._firearms_written >= self._analyze_at and self._sliced:
                    self._analyze_due = True  # between two slices, without the log's lock
                elif self._firearms_written >= self._analyze_at:
                    # What the planner knows of the table is what it was before the import
                    # (for a new table: nothing). Look-ups by (make, serial) would read
                    # every weapon of a make, more at each batch; counted again, they
                    # descend the unique index. In the transaction, so a rollback forgets.
                    cur.execute("ANALYZE firearms")
                    self._analyze_at = 2 * self._firearms_written
            finally:
                cur.close()
            if after is not None:
                after()
            return
        self._stage(events, firearms, common)
        runs = node_runs(nodes)
        if not self._background:
            self._move(runs, after)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
            _SWITCH.enter()
        self._pending = self._pool.submit(self._move, runs, after)

    @property
    def derives_firearms(self) -> bool:
        """Whether a registration's own ``firearms`` row is derived here (not given)."""
        return self._staged

    def _stage(self, events: list[tuple], firearms: list[tuple], common: Common) -> None:
        cur = self._dbapi.cursor()
        try:
            if not self._stages_made:
                self._cache = int(cur.execute("PRAGMA cache_size").fetchone()[0])
                cur.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
                for table, columns in _STAGES:
                    # Created in the transaction: a rollback takes them away as well. (A
                    # sliced import commits them; a rollback after its close brings them
                    # back: the next writer on the connection takes them as they are.)
                    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_stage_name(table)} "
                                f"({', '.join(columns)})")
                # A batch's staged rows stay in memory rather than spill to a file.
                self._temp_cache = int(cur.execute("PRAGMA temp.cache_size").fetchone()[0])
                cur.execute(f"PRAGMA temp.cache_size = {-STAGE_CACHE_KIB}")
                self._stages_made = True
                self._base = int(cur.execute(
                    "SELECT coalesce(max(position) + 1, 0) FROM events").fetchone()[0])
            self._written += len(events)
            if (self._may_defer and self._deferred is None
                    and self._written >= max(DEFER_AFTER, self._base or 0)):
                self._defer_indexes(cur)
            for (table, columns), rows in zip(_STAGES, (events, firearms, [common]),
                                              strict=True):
                stage = _stage_name(table)
                cur.execute(f"DELETE FROM temp.{stage}")
                if rows:
                    cur.executemany(_insert(f"temp.{stage}", columns), rows)
        finally:
            cur.close()

    def _defer_indexes(self, cur: Any) -> None:
        """Drop the indexes of ``DEFER_INDEXES`` in the transaction (``restore_indexes``).

        Dropped inside the import's transaction: a rollback brings them back as they
        were, and other connections keep reading them until the commit.
        """
        marks = ", ".join("?" for _ in DEFER_INDEXES)
        found = cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND name IN ({marks}) ORDER BY name", DEFER_INDEXES).fetchall()
        for name, _ in found:
            cur.execute(f'DROP INDEX "{name}"')
        self._deferred = [sql for _, sql in found]

    def keep_indexes(self) -> None:
        """Set no index aside (a writer whose transaction commits in slices); on PostgreSQL
        take the table's statistics between slices (``between_slices``)."""
        if self._deferred is not None:
            raise RuntimeError("indexes were set aside already")
        self._may_defer = False
        self._sliced = True

    def between_slices(self) -> None:
        """After a slice is committed, before the next one begins: on PostgreSQL, take the
        statistics of ``firearms`` again when due, in a transaction of its own (ANALYZE
        blocks no writer; inside a slice it would hold the log's lock meanwhile)."""
        if not self._analyze_due:
            return
        self._analyze_due = False
        cur = self._dbapi.cursor()
        try:
            cur.execute("ANALYZE firearms")
        finally:
            cur.close()
        self._dbapi.commit()
        self._analyze_at = 2 * self._firearms_written

    def restore_indexes(self) -> None:
        """Build again the indexes set aside, and set none aside any more.

        Call before the connection is used for anything but this writer's batches
        (``close`` does it): queries by serial need them.
        """
        self.wait()
        self._may_defer = False
        deferred, self._deferred = self._deferred, None
        if not deferred:
            return
        cur = self._dbapi.cursor()
        try:
            for sql in deferred:
                cur.execute(sql)
        finally:
            cur.close()

    def _move(self, runs: dict[str, Any], after: Callable[[], None] | None) -> None:
        events, firearms, common = (f"temp.{_stage_name(table)}" for table, _ in _STAGES)
        statements = (
            # ORDER BY rowid: the rows go in as staged (positions ascending).
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) SELECT {_EVENT_SELECT} "
            f"FROM {events} AS s, {common} AS c ORDER BY s.rowid",
            f"INSERT INTO firearms ({', '.join(FIREARM_COLUMNS)}) SELECT {_FIREARM_SELECT} "
            f"FROM {events} AS s, {common} AS c WHERE s.type = 'firearm.registered' "
            f"AND s.position NOT IN (SELECT id FROM {firearms}) ORDER BY s.rowid",
            f"INSERT INTO firearms ({', '.join(FIREARM_COLUMNS)}) SELECT "
            f"{', '.join(FIREARM_COLUMNS)} FROM {firearms} ORDER BY rowid",
        )
        cur = self._dbapi.cursor()
        try:
            for statement in statements:
                cur.execute(statement)
            cur.execute(_NODE_RUNS, runs)
        finally:
            cur.close()
        if after is not None:
            after()

    def in_background(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the writer's thread once the batch in flight is written (on the
        caller's thread when there is no writer thread): the caller goes on meanwhile, and
        ``wait`` returns once ``fn`` has run, raising what made it fail. ``fn`` may use the
        connection: nothing else does until ``wait``."""
        self.wait()
        if self._pool is None:
            fn()
            return
        self._pending = self._pool.submit(fn)

    def then(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (which may use the connection) on the writer's thread right after
        what it has in hand (the batch in flight), without waiting for it here; on the
        caller's thread when there is no writer thread. ``wait`` returns once both have
        run, raising what made either fail (``fn`` does not run after a failed batch)."""
        if self._pool is None:
            self.wait()
            fn()
            return
        previous = self._pending

        def run() -> None:
            if previous is not None:
                previous.result()  # done already (one worker, in order); raises its failure
            fn()

        self._pending = self._pool.submit(run)

    def wait(self) -> None:
        """Return once the batch in flight is written (raising what made it fail)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self, *, failed: bool = False) -> None:
        """Wait for the last batch, rebuild the indexes set aside, drop the staging tables
        and restore the page cache. ``failed``: the transaction is about to be rolled back
        (which brings the indexes back by itself)."""
        try:
            self.wait()
            if not failed:
                self.restore_indexes()
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
            _SWITCH.leave()

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
