"""The custody hot path's few statements, on the driver's own cursor.

SQLAlchemy costs tens of microseconds per statement; at a shift change with a
scanner that is most of an operation. These statements run on the DBAPI
connection underneath the same SQLAlchemy connection, so they share its
transaction. Written once with ``?`` placeholders; psycopg gets ``%s``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from resguardo.storage.database import driver_connection, driver_sql


class Raw:
    """Plain statements on the driver connection behind ``conn``."""

    __slots__ = ("_dbapi", "_pg")

    def __init__(self, conn: Connection) -> None:
        self._dbapi = driver_connection(conn)
        self._pg = conn.dialect.name == "postgresql"

    def _sql(self, sql: str) -> str:
        return driver_sql(sql, qmark=not self._pg)

    def rows(self, sql: str, params: tuple = ()) -> list[SimpleNamespace]:
        cur = self._dbapi.cursor()
        try:
            cur.execute(self._sql(sql), params)
            names = [d[0] for d in cur.description]
            return [SimpleNamespace(**dict(zip(names, row, strict=True))) for row in cur.fetchall()]
        finally:
            cur.close()

    def first(self, sql: str, params: tuple = ()) -> SimpleNamespace | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: tuple = ()) -> Any:
        cur = self._dbapi.cursor()
        try:
            cur.execute(self._sql(sql), params)
            row = cur.fetchone()
            return None if row is None else row[0]
        finally:
            cur.close()

    def execute(self, sql: str, params: tuple = ()) -> int:
        cur = self._dbapi.cursor()
        try:
            cur.execute(self._sql(sql), params)
            return cur.rowcount
        finally:
            cur.close()

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        """One statement for many rows (psycopg sends them in one pipeline)."""
        if not rows:
            return
        cur = self._dbapi.cursor()
        try:
            cur.executemany(self._sql(sql), rows)
        finally:
            cur.close()
