"""Replay the log into a scratch projection and compare it with the live one.

Both halves are bounded in memory whatever the size of the log: the events are read in
pages on the driver's cursor, the scratch projection is SQLite's private temporary
database (on disk past its page cache, deleted when its connection closes), and the
comparison walks both projections in primary-key order, holding one key's rows at a time.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, create_engine, select
from sqlalchemy.pool import NullPool

from resguardo.domain.events import Event
from resguardo.storage import projector
from resguardo.storage import tables as t
from resguardo.storage.database import driver_connection

PAGE = 4096
"""Event rows read per query while replaying."""
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


def events(conn: Connection, page: int = PAGE) -> Iterator[Event]:
    """Every event row in position order, read `page` rows at a time on the driver's
    cursor (the replay's share of SQLAlchemy's row handling would be most of its time)."""
    sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?"
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    loads = json.loads
    position = 0
    while True:
        cursor = driver_connection(conn).cursor()
        try:
            cursor.execute(sql, (position, page))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        for row in rows:
            yield Event(*row[:11], payload=loads(row[11]), secret=row[12])
        if len(rows) < page:
            return
        position = rows[-1][0] + 1


def _scratch_connection() -> sqlite3.Connection:
    # "": SQLite's private temporary database, removed when the connection closes.
    db = sqlite3.connect("", check_same_thread=False)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{SCRATCH_CACHE_KIB}"):
        db.execute(f"PRAGMA {pragma}")
    return db


def replay(events: Iterable[Event], *, progress: Callable[[int], None] | None = None
           ) -> Connection:
    """A scratch database holding the projection replayed from ``events``."""
    engine = create_engine("sqlite://", poolclass=NullPool, creator=_scratch_connection)
    conn = engine.connect()  # the only one: closing it removes the scratch database
    apply = projector.apply
    with conn.begin():
        t.metadata.create_all(conn, tables=list(t.PROJECTION))
        for n, ev in enumerate(events, 1):
            apply(conn, ev)
            if progress is not None and n % 4096 == 0:
                progress(n)
    return conn


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def _groups(conn: Connection, table: Table) -> Iterator[tuple[Any, dict[tuple, tuple]]]:
    """The table's rows as (first key value, {full key: row}), in order of the first key
    column when it is a number (the same order on every engine); a table keyed by text
    comes as a single group (such tables stay small: ammunition lots, alert keys)."""
    pk = [c.name for c in table.primary_key.columns]
    cols = [c.name for c in table.columns]
    key_at = [cols.index(k) for k in pk]
    first = table.primary_key.columns[pk[0]]
    numeric = first.type.python_type is int
    stmt = select(*[table.c[c] for c in cols])
    if numeric:
        stmt = stmt.order_by(first)
    result = conn.execution_options(stream_results=True, yield_per=PAGE).execute(stmt)
    rows = (tuple(_norm(v) for v in row) for row in result)
    if not numeric:
        yield None, {tuple(r[i] for i in key_at): r for r in rows}
        return
    for value, group in itertools.groupby(rows, key=lambda r: _order(r[key_at[0]])):
        yield value, {tuple(r[i] for i in key_at): r for r in group}


def _order(value: Any) -> tuple[int, Any]:
    """SQLite's order of values (null, numbers, then text, then anything else): a row tampered
    with can hold text in a number column."""
    if value is None:
        return -1, 0
    if isinstance(value, int | float):
        return 0, value
    if isinstance(value, str):
        return 1, value
    return 2, repr(value)


def _compare_group(table: Table, a: dict[tuple, tuple], b: dict[tuple, tuple]
                   ) -> Iterator[Difference]:
    cols = [c.name for c in table.columns]
    for key in sorted(a.keys() | b.keys(), key=repr):
        name = "/".join(str(k) for k in key)
        if key not in b:
            yield Difference(table.name, name, "extra", {})
        elif key not in a:
            yield Difference(table.name, name, "missing", {})
        elif a[key] != b[key]:
            diff = {c: (x, y) for c, x, y in zip(cols, a[key], b[key], strict=True) if x != y}
            yield Difference(table.name, name, "differs", diff)


def _differences(table: Table, live: Connection, replayed: Connection) -> Iterator[Difference]:
    """A merge of both projections' rows of `table` by the first key column."""
    left, right = _groups(live, table), _groups(replayed, table)
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] is not None and b[0] is not None
                         and a[0] < b[0]):
            assert a is not None
            yield from _compare_group(table, a[1], {})
            a = next(left, None)
        elif a is None or (a[0] is not None and b[0] is not None and b[0] < a[0]):
            yield from _compare_group(table, {}, b[1])
            b = next(right, None)
        else:
            yield from _compare_group(table, a[1], b[1])
            a, b = next(left, None), next(right, None)


def compare(live: Connection, replayed: Connection, limit: int = 1000) -> list[Difference]:
    """Every row (up to ``limit``) where the live projection and the replay disagree."""
    found: list[Difference] = []
    for table in t.PROJECTION:
        for difference in _differences(table, live, replayed):
            found.append(difference)
            if len(found) >= limit:
                return found
    return found
