"""Whether the process running a sliced import still lives.

A sliced import (``services.imports``) commits its weapons slice by slice. If its
process dies (killed, the machine lost power) no one writes its ``import.voided``
entries; the next import finds it ``running`` and must tell a live import from a
dead one. The running process holds a lock the operating system or the server lets
go of when it dies:

- SQLite: an exclusive ``flock`` on a file beside the database
  (``<database>-import-<entry>.lock``), released by the kernel when the process ends;
- PostgreSQL: a session advisory lock (``pg_advisory_lock``) on the import's own
  connection, released by the server when the connection goes.

``alive`` tries to take the same lock without waiting: taken means no one holds it.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import suppress
from pathlib import Path
from typing import IO

from sqlalchemy import Connection

from resguardo.storage.database import driver_connection

#: First key of the two-key advisory locks of PostgreSQL ("RGIM").
_PG_CLASS = 0x5247494D


def _pg_key(entry: int) -> tuple[int, int]:
    return _PG_CLASS, entry % (2**31)


def _lock_path(conn: Connection, entry: int) -> Path | None:
    database = conn.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}-import-{entry}.lock")


class Hold:
    """The lock a running import holds until ``release`` (or its process ends)."""

    def __init__(self, conn: Connection, entry: int) -> None:
        self.conn = conn
        self.entry = entry
        self._file: IO[bytes] | None = None
        self._pg = conn.dialect.name == "postgresql"
        if self._pg:
            cur = driver_connection(conn).cursor()
            try:
                cur.execute("SELECT pg_advisory_lock(%s, %s)", _pg_key(entry))
            finally:
                cur.close()
            return
        path = _lock_path(conn, entry)
        if path is not None:
            self._file = open(path, "wb")  # noqa: SIM115 - held until release
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)

    def release(self) -> None:
        if self._pg:
            self._pg = False
            with suppress(Exception):  # a closed connection has let go already
                cur = driver_connection(self.conn).cursor()
                try:
                    cur.execute("SELECT pg_advisory_unlock(%s, %s)", _pg_key(self.entry))
                finally:
                    cur.close()
        if self._file is not None:
            file, self._file = self._file, None
            with suppress(OSError):
                os.unlink(file.name)
            file.close()


def alive(conn: Connection, entry: int) -> bool:
    """Whether some process still holds the lock of the import started at ``entry``."""
    if conn.dialect.name == "postgresql":
        cur = driver_connection(conn).cursor()
        try:
            cur.execute("SELECT pg_try_advisory_lock(%s, %s)", _pg_key(entry))
            row = cur.fetchone()
            taken = bool(row[0]) if row is not None else False
            if taken:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", _pg_key(entry))
        finally:
            cur.close()
        return not taken
    path = _lock_path(conn, entry)
    if path is None or not path.exists():
        return False
    with open(path, "ab") as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)
    with suppress(OSError):
        path.unlink()
    return False
