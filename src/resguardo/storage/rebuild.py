"""Replay the log into a scratch projection and compare it with the live one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, create_engine, select
from sqlalchemy.pool import StaticPool

from resguardo.domain.events import Event
from resguardo.storage import projector
from resguardo.storage import tables as t


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


def replay(events: Iterator[Event], *, progress: Callable[[int], None] | None = None
           ) -> Connection:
    """A scratch in-memory database holding the projection replayed from ``events``."""
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    t.metadata.create_all(engine, tables=list(t.PROJECTION))
    conn = engine.connect()
    with conn.begin():
        for n, ev in enumerate(events, 1):
            projector.apply(conn, ev)
            if progress is not None and n % 1000 == 0:
                progress(n)
    return conn


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def _rows(conn: Connection, table: Table) -> dict[tuple, tuple]:
    pk = [c.name for c in table.primary_key.columns]
    cols = [c.name for c in table.columns]
    out = {}
    for row in conn.execute(select(table)):
        m = row._mapping
        out[tuple(_norm(m[k]) for k in pk)] = tuple(_norm(m[c]) for c in cols)
    return out


def compare(live: Connection, replayed: Connection, limit: int = 1000) -> list[Difference]:
    """Every row (up to ``limit``) where the live projection and the replay disagree."""
    found: list[Difference] = []
    for table in t.PROJECTION:
        cols = [c.name for c in table.columns]
        a, b = _rows(live, table), _rows(replayed, table)
        for key in sorted(a.keys() | b.keys(), key=repr):
            name = "/".join(str(k) for k in key)
            if key not in b:
                found.append(Difference(table.name, name, "extra", {}))
            elif key not in a:
                found.append(Difference(table.name, name, "missing", {}))
            elif a[key] != b[key]:
                diff = {c: (x, y) for c, x, y in zip(cols, a[key], b[key], strict=True) if x != y}
                found.append(Difference(table.name, name, "differs", diff))
            if len(found) >= limit:
                return found
    return found
