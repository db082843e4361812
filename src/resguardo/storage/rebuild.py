"""Replay the log into a scratch projection and compare it with the live one.

Both halves are bounded in memory whatever the size of the log: the events are read in
pages on the driver's cursor, the scratch projection is SQLite's private temporary
database (on disk past its page cache, deleted when its connection closes), and the
comparison walks both projections in primary-key order, holding one key's rows at a time.

On a SQLite file most of the work stays inside SQLite: the live database is attached
read only to the scratch one, runs of registrations (an imported registry: nearly the
whole log) become rows with one ``INSERT ... SELECT`` each, and the rows that differ are
found by a walk of each table with a primary-key lookup in the other.
"""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Index, MetaData, Table, UniqueConstraint, create_engine
from sqlalchemy.pool import NullPool

from resguardo.domain.events import Event
from resguardo.storage import projector
from resguardo.storage import tables as t
from resguardo.storage.database import driver_connection, driver_sql

PAGE = 4096
"""Event rows read per query while replaying."""
WINDOW = 4096
"""Key values compared per window (ids: a window holds at most this many rows)."""
SCRATCH_CACHE_KIB = 64 * 1024
"""The scratch projection's page cache; past it, its pages go to a temporary file."""

_EVENT_COLUMNS = ("position, type, at, actor_id, actor, org_id, subject_type, subject_id, "
                  "corrects, reason, request_id, payload, secret")


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    problem: str  # "missing" (in the log, not in the table), "extra" or "differs"
    columns: dict[str, tuple[Any, Any]]  # column -> (live, replayed)

    def as_dict(self) -> dict:
        return {"table": self.table, "key": self.key, "problem": self.problem,
                "columns": {k: {"live": v[0], "replayed": v[1]} for k, v in self.columns.items()}}

    def __str__(self) -> str:
        if self.problem == "differs":
            cols = "; ".join(f"{k}: live={v[0]!r} log={v[1]!r}" for k, v in self.columns.items())
            return f"{self.table} {self.key}: {cols}"
        if self.problem == "extra":
            return f"{self.table} {self.key}: row exists but no event created it"
        return f"{self.table} {self.key}: the log creates this row but it is missing"


def _pages(conn: Connection, page: int, start: int = 0, stop: int | None = None
           ) -> Iterator[list[tuple]]:
    """Every event row (``_EVENT_COLUMNS``) at positions [start, stop) (stop None: to the
    end) in position order, `page` rows at a time."""
    bounded = "" if stop is None else "AND position < ? "
    sql = (f"SELECT {_EVENT_COLUMNS} FROM events WHERE position >= ? {bounded}"
           "ORDER BY position LIMIT ?")
    sql = driver_sql(sql, qmark=conn.dialect.paramstyle == "qmark")
    position = start
    while True:
        cursor = driver_connection(conn).cursor()
        try:
            cursor.execute(sql, (position, page) if stop is None else (position, stop, page))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if rows:
            yield rows
        if len(rows) < page:
            return
        position = rows[-1][0] + 1


def _event(row: tuple, payload: dict) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                 row[9], row[10], payload, row[12])


def events(conn: Connection, page: int = PAGE) -> Iterator[Event]:
    """Every event row in position order, read `page` rows at a time on the driver's
    cursor (the replay's share of SQLAlchemy's row handling would be most of its time)."""
    loads = json.loads
    for rows in _pages(conn, page):
        for row in rows:
            yield _event(row, loads(row[11]))


def _scratch_connection(path: str = "") -> sqlite3.Connection:
    # "": SQLite's private temporary database, removed when the connection closes; a path:
    # a snapshot file (written without a journal: its writer renames it into place only
    # once it is complete).
    db = sqlite3.connect(path, check_same_thread=False, uri=True)  # uri: attach read only
    for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{SCRATCH_CACHE_KIB}"):
        db.execute(f"PRAGMA {pragma}")
    return db


def _scratch_schema() -> MetaData:
    """The projection's tables with their primary keys and no other index or unique
    constraint: the handlers find rows by primary key (and loss reports by weapon), and a
    duplicate the live tables would have refused shows as a row the live one lacks."""
    schema = MetaData()
    for table in t.PROJECTION:
        copy = table.to_metadata(schema)
        copy.indexes.clear()
        for constraint in [c for c in copy.constraints if isinstance(c, UniqueConstraint)]:
            copy.constraints.discard(constraint)
    Index("ix_loss_reports_firearm_id", schema.tables["loss_reports"].c.firearm_id)
    return schema


_SCRATCH = _scratch_schema()


def replay(events: Iterable[Event], *, progress: Callable[[int], None] | None = None
           ) -> Connection:
    """A scratch database holding the projection replayed from ``events``."""
    conn, apply = _scratch()
    with conn.begin():
        _SCRATCH.create_all(conn)
        for n, ev in enumerate(events, 1):
            apply(ev)
            if progress is not None and n % 4096 == 0:
                progress(n)
    return conn


def replay_log(log: Connection, *, progress: Callable[[int], None] | None = None,
               page: int = PAGE) -> Connection:
    """A scratch database holding the projection replayed from every event of the
    database ``log`` (what ``replay(events(log))`` gives, faster on a large registry).

    Registrations in a row (an imported registry: nearly the whole log) are not made
    into ``Event`` objects one by one but turned straight into the projector's own row
    and inserted many at once, before any other event is applied: the same rows in the
    same order as one insert each. On a SQLite file the live database is attached (read
    only) to the scratch one and SQLite itself makes those rows from the event rows
    (``projector.registered_select``); the scratch connection keeps that read transaction
    for ``compare``, which reads the live projection in it: the log replayed and the
    projection compared are of one moment, even when a desk has committed since ``log``'s
    transaction began. Elsewhere the event rows are read on ``log``'s cursor and each
    registration made into ``projector.registered_row``.
    """
    conn = open_scratch()
    replay_range(log, conn, 0, None, progress=progress, page=page, keep_attached=True)
    return conn


def open_scratch(path: str | None = None, *, copy_of: str | None = None) -> Connection:
    """A scratch projection: SQLite's private temporary database (`path` None) or the
    file `path` (a projection snapshot being written); its tables are created, or, with
    `copy_of`, copied whole from that snapshot file (SQLite's online backup)."""
    engine = create_engine("sqlite://", poolclass=NullPool,
                           creator=lambda: _scratch_connection(path or ""))
    conn = engine.connect()
    if copy_of is not None:
        conn.commit()  # the backup needs the connection outside a transaction
        source = sqlite3.connect(f"file:{urllib.parse.quote(os.path.abspath(copy_of))}?mode=ro",
                                 uri=True)
        try:
            source.backup(driver_connection(conn))
        finally:
            source.close()
    else:
        with conn.begin():
            _SCRATCH.create_all(conn)
    return conn


def replay_range(log: Connection, scratch: Connection, start: int, stop: int | None, *,
                 progress: Callable[[int], None] | None = None, page: int = PAGE,
                 keep_attached: bool = False) -> None:
    """Apply the events at positions [start, stop) of ``log`` (stop None: to the end) to
    the scratch projection ``scratch``, which holds the projection replayed up to `start`
    (``replay_log`` when start is 0 and stop None). `progress` is told the position
    reached. On a SQLite file the live database is attached for the replay; with
    `keep_attached` it stays attached, its read transaction open, for ``compare``;
    otherwise the replay is committed and the live database detached."""
    apply = _applier(scratch)
    attached = _attach(log, scratch, same_as_live=False)
    if attached is not None:
        try:
            _replay_attached(attached, apply, progress, page, start, stop)
        except BaseException:
            _detach(attached)
            scratch.close()
            raise
        if keep_attached:
            scratch.info[_ATTACHED] = True
        else:
            _detach(attached)
        return
    row_of, insert, loads = projector.registered_row, projector.REGISTERED_SQL, json.loads
    dbapi = driver_connection(scratch)
    n = start
    with scratch.begin():
        for rows in _pages(log, page, start, stop):
            registered: list[tuple] = []
            for row in rows:
                if row[1] == _REGISTERED:
                    registered.append(row_of(row[0], row[2], loads(row[11])))
                    continue
                if registered:
                    dbapi.executemany(insert, registered)
                    registered = []
                apply(_event(row, loads(row[11])))
            if registered:
                dbapi.executemany(insert, registered)
            before, n = n, n + len(rows)
            if progress is not None and n // 4096 > before // 4096:
                progress(n)


_REGISTERED = "firearm.registered"
_ATTACHED = "resguardo.live_attached"
"""Set in a scratch connection's info while the live database is attached to it."""
REGISTERED_RUN = 65_536
"""Registrations inserted per statement on SQLite (the progress moves between them)."""
# SQLite's JSON functions end a string at an escaped NUL (\u0000) where Python keeps it:
# a registration holding one is applied here like any other entry.
_ESCAPED_NUL = "instr(payload, '\\u0000') > 0"
_OTHERS = (f"SELECT {_EVENT_COLUMNS} FROM live.events WHERE position >= ? "
           f"AND (type != '{_REGISTERED}' OR {_ESCAPED_NUL}) ORDER BY position LIMIT ?")
_OTHERS_TO = _OTHERS.replace("WHERE position >= ? ", "WHERE position >= ? AND position < ? ")
_REGISTER_RUN = (
    f"INSERT INTO main.firearms ({', '.join(projector.REGISTERED_COLUMNS)}) SELECT {projector.registered_select('payload', 'at', 'position')} FROM live.events "
    f"WHERE position >= ? AND position < ? AND type = '{_REGISTERED}' AND NOT {_ESCAPED_NUL} "
    "ORDER BY position")


def _replay_attached(db: sqlite3.Connection, apply: Callable[[Event], None],
                     progress: Callable[[int], None] | None, page: int, start: int = 0,
                     stop: int | None = None) -> None:
    """Replay the entries [start, stop) of the attached live log into the scratch
    database of `db`: the entries that are not registrations are read a page at a time
    and applied one by one; every run of registrations between them is one
    ``INSERT ... SELECT`` per `REGISTERED_RUN`."""
    end = db.execute("SELECT max(position) + 1 FROM live.events").fetchone()[0] or 0
    if stop is not None:
        end = min(end, stop)
    loads = json.loads

    def register(lo: int, hi: int) -> None:
        """Insert the registrations at positions lo..hi-1 (nothing else is there)."""
        while lo < hi:
            step = min(hi, lo + REGISTERED_RUN)
            db.execute(_REGISTER_RUN, (lo, step))
            lo = step
            if progress is not None:
                progress(lo)

    position = start
    while stop is None or position < end:
        rows = (db.execute(_OTHERS, (position, page)) if stop is None
                else db.execute(_OTHERS_TO, (position, end, page))).fetchall()
        for row in rows:
            if type(row[0]) is not int:  # a position SQLite could not keep as a rowid
                raise ValueError(f"an event row sits at position {row[0]!r}")
            register(position, row[0])
            apply(_event(row, loads(row[11])))
            position = row[0] + 1
        if progress is not None and rows:
            progress(position)
        if len(rows) < page:
            break
    register(position, end)


def _scratch() -> tuple[Connection, Callable[[Event], None]]:
    """A scratch projection's connection (the only one: closing it removes the scratch
    database) and the projector applying one event to it."""
    engine = create_engine("sqlite://", poolclass=NullPool, creator=_scratch_connection)
    conn = engine.connect()
    return conn, _applier(conn)


def _applier(conn: Connection) -> Callable[[Event], None]:
    return lambda ev: projector.apply(conn, ev)


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def _order(value: Any) -> tuple[int, Any]:
    """SQLite's order of values (null, numbers, text, then anything else): a row tampered
    with can hold text in a number column."""
    if value is None:
        return -1, 0
    if isinstance(value, int | float):
        return 0, value
    if isinstance(value, str):
        return 1, value
    return 2, repr(value)


class _Side:
    """One projection's rows of a table, read on the driver's cursor in windows of the
    first key column."""

    def __init__(self, conn: Connection, table: Table) -> None:
        self.dbapi = driver_connection(conn)
        self.qmark = conn.dialect.paramstyle == "qmark"
        self.table = table
        self.columns = ", ".join(c.name for c in table.columns)
        self.first = next(iter(table.primary_key.columns)).name
        self.order = ", ".join(c.name for c in table.primary_key.columns)
        self.booleans = [i for i, c in enumerate(table.columns)
                         if c.type.python_type is bool]

    def _fetch(self, sql: str, params: tuple) -> list[tuple]:
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(driver_sql(sql, qmark=self.qmark), params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if self.booleans and not self.qmark:  # PostgreSQL's booleans; SQLite keeps 0 and 1
            rows = [tuple(_norm(v) for v in row) for row in rows]
        return rows

    def all(self) -> list[tuple]:
        return self._fetch(f"SELECT {self.columns} FROM {self.table.name}", ())

    def window(self, lo: int, hi: int) -> list[tuple]:
        return self._fetch(f"SELECT {self.columns} FROM {self.table.name} WHERE "
                           f"{self.first} >= ? AND {self.first} < ? ORDER BY {self.order}",
                           (lo, hi))

    def next_key(self, lo: int) -> int | None:
        # the upper bound leaves out text (greater than any number on SQLite): `strays`
        rows = self._fetch(f"SELECT min({self.first}) FROM {self.table.name} WHERE "
                           f"{self.first} >= ? AND {self.first} <= ?", (lo, 2 ** 63 - 1))
        return None if rows[0][0] is None else rows[0][0]

    def strays(self) -> list[tuple]:
        """Rows whose first key is not a whole number (only a row edited on SQLite)."""
        if not self.qmark:
            return []
        return self._fetch(f"SELECT {self.columns} FROM {self.table.name} WHERE "
                           f"typeof({self.first}) != 'integer'", ())


def _compare_rows(table: Table, a: list[tuple], b: list[tuple]) -> Iterator[Difference]:
    cols = [c.name for c in table.columns]
    key_at = [cols.index(c.name) for c in table.primary_key.columns]
    left = {tuple(r[i] for i in key_at): r for r in a}
    right = {tuple(r[i] for i in key_at): r for r in b}
    for key in sorted(left.keys() | right.keys(),
                      key=lambda k: tuple(_order(v) for v in k)):
        name = "/".join(str(k) for k in key)
        if key not in right:
            yield Difference(table.name, name, "extra", {})
        elif key not in left:
            yield Difference(table.name, name, "missing", {})
        elif left[key] != right[key]:
            diff = {c: (x, y) for c, x, y in zip(cols, left[key], right[key], strict=True)
                    if x != y}
            yield Difference(table.name, name, "differs", diff)


def _differences(table: Table, live: Connection, replayed: Connection) -> Iterator[Difference]:
    """Both projections' rows of `table`, a window of the first key column at a time:
    equal windows (nearly all) cost one list comparison; a window that differs is
    compared row by row. A table keyed by text (ammunition lots, alert keys: small) is
    read whole."""
    a, b = _Side(live, table), _Side(replayed, table)
    if next(iter(table.primary_key.columns)).type.python_type is not int:
        yield from _compare_rows(table, a.all(), b.all())
        return
    yield from _compare_rows(table, a.strays(), b.strays())
    lo = min((k for k in (a.next_key(-(2 ** 63)), b.next_key(-(2 ** 63))) if k is not None),
             default=None)
    while lo is not None:
        hi = lo + WINDOW
        rows_a, rows_b = a.window(lo, hi), b.window(lo, hi)
        if rows_a != rows_b:
            yield from _compare_rows(table, rows_a, rows_b)
        lo = min((k for k in (a.next_key(hi), b.next_key(hi)) if k is not None), default=None)


def compare(live: Connection, replayed: Connection, limit: int = 1000, *,
            progress: Callable[[int, int], None] | None = None) -> list[Difference]:
    """Every row (up to ``limit``) where the live projection and the replay disagree;
    `progress` is told (tables compared, tables) after each table.

    A scratch database ``replay_log`` left attached to the live one is compared in that
    same read transaction (and detached); otherwise the live SQLite file is attached now
    when it can be, or both are read a window at a time."""
    found: list[Difference] = []
    if replayed.info.pop(_ATTACHED, False):
        attached: sqlite3.Connection | None = driver_connection(replayed)
    else:
        attached = _attach(live, replayed)
    try:
        for n, table in enumerate(t.PROJECTION, 1):
            differences = (_set_differences(table, attached, limit + 1) if attached is not None
                           else _differences(table, live, replayed))
            for difference in differences:
                found.append(difference)
                if len(found) >= limit:
                    return found
            if progress is not None:
                progress(n, len(t.PROJECTION))
        return found
    finally:
        if attached is not None:
            _detach(attached)


def _detach(db: sqlite3.Connection) -> None:
    """End the read transaction on the attached live database and detach it. COMMIT, not
    ROLLBACK: the transaction also holds the replay's writes to the scratch database,
    whose journal is off (a rollback there is undefined); the live one is read only."""
    if db.in_transaction:
        db.execute("COMMIT")
    db.execute("DETACH DATABASE live")


def _snapshot(cursor: Any, schema: str) -> tuple:
    """What says two read transactions see the same state of a log (append-only, its
    projection written in the appending transaction)."""
    return tuple(cursor.execute(f"SELECT (SELECT size FROM {schema}.log_head), "
                                f"(SELECT max(position) FROM {schema}.events), "
                                f"(SELECT count(*) FROM {schema}.events)").fetchone())


def _attach(live: Connection, replayed: Connection, *, same_as_live: bool = True
            ) -> sqlite3.Connection | None:
    """The scratch projection's driver connection with the live SQLite database attached
    (read only) as ``live`` in a read transaction, so that SQLite itself reads the log or
    finds the rows that differ; None where that cannot be (PostgreSQL, an in-memory
    database, a file SQLite cannot open a second time): the log is then read and the rows
    compared on ``live``'s own connection.

    With `same_as_live` the transaction must see what ``live``'s sees (None if a write was
    committed since that began): a scratch projection replayed on ``live`` is compared
    with the state it was replayed from. Without it (``replay_log``, which replays the
    attached log and leaves the transaction for ``compare``) the transaction sees the
    newest state: the log and the projection it is compared with are read in the same
    transaction, whatever a desk commits meanwhile."""
    path = live.engine.url.database
    if live.dialect.name != "sqlite" or not path or path == ":memory:" or "?" in path:
        return None
    scratch = driver_connection(replayed)
    if not isinstance(scratch, sqlite3.Connection) or scratch.in_transaction:
        return None
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        scratch.execute("ATTACH DATABASE ? AS live", (uri,))
    except sqlite3.Error:  # cannot be opened a second time (permissions, a lock): windows
        return None
    try:
        scratch.execute("BEGIN")
        if same_as_live:
            cursor = driver_connection(live).cursor()
            try:
                same = _snapshot(scratch, "live") == _snapshot(cursor, "main")
            finally:
                cursor.close()
        else:  # the first read sets what the transaction sees
            same = scratch.execute("SELECT count(*) FROM live.log_head").fetchone() is not None
    except sqlite3.Error:
        same = False
    if not same:
        if scratch.in_transaction:
            scratch.execute("ROLLBACK")
        scratch.execute("DETACH DATABASE live")
        return None
    return scratch


def _set_differences(table: Table, db: sqlite3.Connection, limit: int
                     ) -> Iterator[Difference]:
    """The rows of `table` that differ between the attached live projection and the
    scratch one, found by SQLite: the rows of each side that the other side has no
    identical row for (a row is the same only when every value is, of the same type,
    compared byte for byte), the first `limit` of each side in key order, then paired by
    key.

    Each side is one walk of its table with a primary-key lookup in the other per row
    (what ``EXCEPT`` both ways finds, without sorting both tables into temporary
    indexes): both tables have the same primary key, so an identical row can only be the
    one with the same key. The values are compared as they are stored: a unary ``+``
    leaves a column without affinity, so SQLite converts neither side, and ``IS`` holds
    nulls equal, as ``EXCEPT`` does."""
    names = [c.name for c in table.columns]
    keys = [c.name for c in table.columns if c.primary_key]
    order = ", ".join(f"x.{k}" for k in keys)
    sides = []
    for left, right in (("live", "main"), ("main", "live")):
        # the key columns unaltered (the lookup uses the key's index; both sides have the
        # declared type of the key, so neither is converted), the rest without affinity
        same = " AND ".join([f"y.{k} IS x.{k}" for k in keys]
                            + [f"+y.{c} IS +x.{c} COLLATE BINARY" for c in names
                               if c not in keys])
        columns = ", ".join(f"x.{c}" for c in names)
        sides.append(db.execute(
            f"SELECT {columns} FROM {left}.{table.name} AS x WHERE NOT EXISTS "
            f"(SELECT 1 FROM {right}.{table.name} AS y WHERE {same}) ORDER BY {order} "
            "LIMIT ?", (limit,)).fetchall())
    extra, missing = sides
    key_at = [n for n, c in enumerate(table.columns) if c.primary_key]

    def key(row: tuple) -> tuple:
        return tuple(_order(row[i]) for i in key_at)

    # A side cut at `limit` says nothing of keys past its last: leave those out of both, so
    # that a row is never called extra or missing for want of its other half.
    cut = [key(rows[-1]) for rows in sides if len(rows) >= limit]
    if cut:
        last = min(cut)
        extra = [r for r in extra if key(r) <= last]
        missing = [r for r in missing if key(r) <= last]
    yield from _compare_rows(table, extra, missing)
