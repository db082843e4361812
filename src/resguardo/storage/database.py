"""Engine set-up for SQLite (WAL, foreign keys, serialized writers) and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

try:
    import fcntl
except ImportError:  # not on Windows: writers take turns by SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

#: Beside a SQLite database ``X``, the file ``X-writers``: every writer holds a shared lock
#: on it while it waits for SQLite's write lock (``BEGIN IMMEDIATE``), and lets it go once
#: it has the lock. A long write that lets the lock go between slices (a large import)
#: takes it exclusively before its next slice (``let_waiting_writers_in``): it begins
#: again only once every writer that was waiting has got in. SQLite itself keeps no
#: queue: a waiter polls (its busy handler sleeps up to 100 ms), and on a busy machine it
#: could miss a short gap between two slices and wait a whole slice more.
WRITERS_SUFFIX = "-writers"

_ERRORS: tuple[type[Exception], ...] = (OperationalError, ProgrammingError,
                                        sqlite3.OperationalError)


def database_errors(*, postgresql: bool = False) -> tuple[type[Exception], ...]:
    """Errors that mean the database is unreachable or lacks the schema.

    SQLAlchemy's, and the drivers' own (raised directly on the hot path in
    ``fast.py``): SQLite's always, psycopg's when ``postgresql`` or once psycopg is
    loaded. A deployment on PostgreSQL loads it with its engine, and nothing raises
    psycopg's errors before; so a command on SQLite starts without importing it
    (a quarter of a second).
    """
    pg = sys.modules.get("psycopg")
    if pg is None and postgresql:
        import psycopg as pg
    if pg is None:
        return _ERRORS
    return (*_ERRORS, pg.OperationalError, pg.ProgrammingError)


#: SQLite's result code for "database or disk is full" (``SQLITE_FULL``).
_SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE for ``disk_full``.
_PG_DISK_FULL = "53100"
_FULL_WORDS = ("database or disk is full", "no space left on device")


def is_storage_full(exc: BaseException) -> bool:
    """Whether a database error means the storage is full (not busy, not gone).

    Looks through SQLAlchemy's wrapper to the driver's error: SQLite's
    ``SQLITE_FULL``, PostgreSQL's ``disk_full`` (53100), or either's words
    for it when the code is lost (a write that failed in the WAL or a file
    PostgreSQL could not extend).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if getattr(current, "sqlstate", None) == _PG_DISK_FULL:
            return True
        if any(words in str(current).lower() for words in _FULL_WORDS):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


STORAGE_FULL = ("the storage is full: the database cannot grow; free disk space where the "
                "database lives, then retry")

WRITE = "resguardo_write"


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection (sqlite3 or psycopg) under a SQLAlchemy connection, for
    the hot paths that skip SQLAlchemy's statement layer."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the connection is closed")
    return raw


@lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    return sql.replace("?", "%s")


def driver_sql(sql: str, *, qmark: bool) -> str:
    """A statement written with ``?`` placeholders, in the driver's own style: sqlite3
    takes ``?`` (qmark), psycopg ``%s``. The one place where one becomes the other; the
    driver-cursor paths write their SQL once, with ``?``, and pass it through here."""
    return sql if qmark else _pyformat(sql)


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs, and libpq's
    multi-host form (``postgresql://u@host1:5432,host2:5432/db?target_session_attrs=
    read-write``, as a high-availability cluster prints it) as SQLAlchemy spells it
    (one ``host=host:port`` parameter per server)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
            break
    if not url.startswith("postgresql"):
        return url
    scheme, rest = url.split("://", 1)
    netloc, slash, tail = rest.partition("/")
    user, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return url
    path, question, query = tail.partition("?")
    params = [f"host={host}" for host in hosts.split(",") if host]
    return f"{scheme}://{user}{at}/{path}?" + "&".join(params + ([query] if query else []))


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


#: Mode of the SQLite file: only the account the server runs as reads it (it holds
#: password hashes and every entry); SQLite gives its -wal and -shm companions the
#: same mode as the database file.
DATABASE_FILE_MODE = 0o600


def create_private_file(path: str) -> None:
    """Create the database file readable and writable by its owner only, if it is new."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATABASE_FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, DATABASE_FILE_MODE)  # whatever the umask said
    finally:
        os.close(fd)


def make_engine(url: str, *, synchronous: str = "FULL", busy_timeout: float = 60.0) -> Engine:
    """An engine for ``url``; on SQLite a writer waits up to ``busy_timeout`` seconds for the
    write lock (``RESGUARDO_BUSY_TIMEOUT_SECONDS``)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            create_private_file(path)
        engine = create_engine(url, connect_args={"timeout": busy_timeout,
                                                  "check_same_thread": False},
                               poolclass=NullPool if path == ":memory:" else None)
        writers = path + WRITERS_SUFFIX if path and path != ":memory:" else None
        _sqlite_setup(engine, synchronous, busy_timeout, writers)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_setup(engine: Engine, synchronous: str, busy_timeout: float,
                  writers: str | None) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={max(0, int(busy_timeout * 1000))}")
        cur.close()

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn, record):  # type: ignore[no-untyped-def]
        if record is not None and record.info.pop(_TEMP_IN_MEMORY, False):
            # back to files: an export's sort of a million rows stays out of memory
            dbapi_conn.execute("PRAGMA temp_store=DEFAULT")

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        # Writers take the write lock up front, so two writers never both read
        # the same state and then race to change it.
        if conn.get_execution_options().get(WRITE):
            waiting = _waiting(writers)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                if waiting is not None:
                    os.close(waiting)  # the lock is ours (or the wait failed): not waiting
        else:
            conn.exec_driver_sql("BEGIN")


def _writers_file(path: str) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # a read-only directory: writers take turns without it
        return None


def _waiting(writers: str | None) -> int | None:
    """Say "a writer waits" (a shared lock on the writers file) until the descriptor
    returned is closed; None where there is no such file."""
    if writers is None or fcntl is None:
        return None
    fd = _writers_file(writers)
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        except OSError:
            os.close(fd)
            return None
    return fd


def say_writer_waits(database: str | None) -> int | None:
    """For a writer that queues before ``BEGIN IMMEDIATE`` (the API's writer gate): say
    it waits for the SQLite database at path ``database`` until the descriptor returned
    is closed (None: nothing to close)."""
    if not database or database == ":memory:":
        return None
    return _waiting(database + WRITERS_SUFFIX)


def _engine_writers_file(engine: Engine) -> int | None:
    """The writers file of ``engine``'s SQLite database, open (see ``WRITERS_SUFFIX``);
    None where writers cannot say they wait (PostgreSQL, an in-memory database, no
    ``fcntl``, a file that cannot be opened)."""
    if not is_sqlite(engine) or fcntl is None:
        return None
    path = engine.url.database
    if not path or path == ":memory:":
        return None
    return _writers_file(path + WRITERS_SUFFIX)


def let_waiting_writers_in(engine: Engine, most: float) -> bool:
    """Return once no writer waits for SQLite's write lock (see ``WRITERS_SUFFIX``), or
    after ``most`` seconds, so that a long write taken in slices never starves others;
    False where writers cannot say they wait (PostgreSQL, which queues them; an in-memory
    database; no ``fcntl``): the caller then pauses instead."""
    fd = _engine_writers_file(engine)
    if fd is None:
        return False
    try:
        deadline = time.monotonic() + most
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return True
                time.sleep(0.005)
    finally:
        os.close(fd)


class WaitingWriters:
    """Whether a writer waits for SQLite's write lock now (see ``WRITERS_SUFFIX``): a long
    write taken in slices asks after each batch and lets the lock go as soon as one does,
    rather than every few hundred milliseconds whether anyone waits or not.

    ``WaitingWriters.of(engine)`` is None where writers cannot say they wait (PostgreSQL,
    an in-memory database, no ``fcntl``, a writers file that cannot be opened)."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def of(cls, engine: Engine) -> WaitingWriters | None:
        fd = _engine_writers_file(engine)
        return None if fd is None else cls(fd)

    def __call__(self) -> bool:
        """True while some writer holds its shared lock on the writers file (it waits for,
        or is just taking, the write lock); one non-blocking ``flock`` call."""
        if self._fd is None or fcntl is None:
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


_TEMP_IN_MEMORY = "resguardo.temp_in_memory"


def temp_in_memory(conn: Connection) -> None:
    """SQLite: keep this connection's temporary files in memory (``PRAGMA temp_store=
    MEMORY``) from its next transaction on, until it goes back to the pool. Call outside
    any transaction of ``conn``. A no-op on PostgreSQL.

    For a sliced import: each of its batches is a statement that inserts thousands of rows
    into tables with foreign keys inside the slice's transaction, so SQLite keeps a
    statement journal of every page it changes (to undo that statement alone), and past
    64 KiB it writes that journal into a file, two writes per page: a 200,000-row import
    made 727,874 writes instead of 165,820. Only there: with every temporary file in
    memory, a sort of a million rows (an export of the registry) would hold them all in
    memory too (105 MB at its peak, 296 MB in memory).
    """
    if conn.dialect.name != "sqlite":
        return
    raw = driver_connection(conn)
    if raw.in_transaction:
        raise RuntimeError("temporary storage cannot change inside a transaction")
    raw.execute("PRAGMA temp_store=MEMORY")
    conn.connection.info[_TEMP_IN_MEMORY] = True  # the pool's record: reset at its checkin


def checkpoint_passive(conn: Connection) -> None:
    """Copy what SQLite's write-ahead log holds back into the database without waiting for
    anyone (``PRAGMA wal_checkpoint(PASSIVE)``), outside any transaction of ``conn``: a
    long write does it between its slices, so that the next writer's commit does not
    (SQLite checkpoints in the commit that finds the log past 1,000 pages). A no-op on
    PostgreSQL."""
    _wal_checkpoint(conn, "PASSIVE")


def _wal_checkpoint(conn: Connection, mode: str) -> None:
    """``PRAGMA wal_checkpoint(mode)`` on SQLite, outside any transaction of ``conn``."""
    if conn.dialect.name != "sqlite":
        return
    raw = driver_connection(conn)
    if raw.in_transaction:
        return
    cur = raw.cursor()
    try:
        cur.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
    finally:
        cur.close()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("events")


def server_version(engine: Engine) -> str:
    with engine.connect() as conn:
        if is_sqlite(engine):
            return "SQLite " + conn.execute(text("select sqlite_version()")).scalar_one()
        return conn.execute(text("show server_version")).scalar_one()


def status(conn: Connection) -> dict[str, Any]:
    """Which database this process writes to and, on PostgreSQL, how far its streaming
    replicas lag (for the health endpoint; a role without the right to read
    ``pg_stat_replication`` sees no replicas rather than an error)."""
    if conn.dialect.name == "sqlite":
        return {"engine": "sqlite", "role": "primary", "replicas": []}
    row = conn.execute(text(
        "SELECT current_database(), inet_server_addr()::text, inet_server_port(), "
        "pg_is_in_recovery()")).one()
    replicas: list[dict[str, Any]] = []
    if not row[3]:
        rows = conn.execute(text(
            "SELECT application_name, state, sync_state, "
            "EXTRACT(EPOCH FROM replay_lag)::float8, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 "
            "FROM pg_stat_replication ORDER BY application_name"))
        replicas = [{"name": r[0], "state": r[1], "sync": r[2],
                     "replay_lag_seconds": r[3] or 0.0, "replay_lag_bytes": int(r[4] or 0)}
                    for r in rows]
    return {"engine": "postgresql", "database": row[0],
            "server": f"{row[1]}:{row[2]}" if row[1] else "local socket",
            "role": "standby" if row[3] else "primary", "replicas": replicas}


def replica_status(primary_size: int, replica: Engine | None) -> dict[str, Any] | None:
    """How far the read replica (``RESGUARDO_READ_DATABASE_URL``) is behind: entries of
    the log it has not replayed yet, and for how long it has been behind (None without a
    replica)."""
    if replica is None:
        return None
    try:
        with replica.connect() as conn:
            size = conn.exec_driver_sql("SELECT size FROM log_head WHERE id = 1").scalar() or 0
            standby = conn.dialect.name != "sqlite" and bool(
                conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar())
            seconds = 0.0
            if standby and size < primary_size:
                seconds = float(conn.exec_driver_sql(
                    "SELECT COALESCE(EXTRACT(EPOCH FROM now() - "
                    "pg_last_xact_replay_timestamp()), 0)::float8").scalar() or 0.0)
    except database_errors(postgresql=replica.dialect.name != "sqlite") as exc:
        return {"reachable": False, "error": type(exc).__name__}
    return {"reachable": True, "role": "standby" if standby else "primary",
            "entries_behind": max(0, primary_size - size), "lag_seconds": round(seconds, 3)}


def wait_until_durable(conn: Connection) -> None:
    """Wait until every transaction this PostgreSQL server committed before now is on disk,
    and on the synchronous standby when there is one.

    A writer commits its entries with ``synchronous_commit = off`` (``UnitOfWork.commit``),
    which releases the log head's lock at once instead of after the WAL flush; the next
    writer goes on while this one waits here. The wait is one small transaction that
    writes a WAL record (a logical message, nothing in any table) and commits with the
    session's synchronous commit: PostgreSQL acknowledges it only once the WAL up to its
    commit, which lies after every commit before it, is flushed (and replicated, under
    ``synchronous_standby_names``). Only then does Resguardo answer the person. A crash
    in between loses the entry and every later one (the WAL is one sequence), never a
    confirmed one, and never leaves a gap in the log.
    """
    with conn.begin():
        conn.exec_driver_sql("SELECT pg_logical_emit_message(true, 'resguardo', 'durable')")
def checkpoint_wal(conn: Connection) -> None:
    """Copy SQLite's write-ahead log back into the database and truncate it to nothing
    (``PRAGMA wal_checkpoint(TRUNCATE)``), outside any transaction of ``conn``: waits (the
    busy timeout) for readers on older snapshots. A no-op on PostgreSQL."""
    _wal_checkpoint(conn, "TRUNCATE")
