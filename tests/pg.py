"""A private, throwaway PostgreSQL server for the test session (never mocked)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg


def find_bin(name: str) -> str | None:
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    return shutil.which(name)


#: Room the data directory should find in memory before it is put there (see ``memory_dir``).
_MEMORY_NEEDED = 2 << 30


def memory_dir() -> str | None:
    """Where the server's files go: memory (``/dev/shm``) when it has room, else the
    temporary directory.

    A test makes a database of about 8 MB and some 300 files; on a disk mounted with
    ``discard`` (this project's machines) making and deleting them costs about a second
    each, which once showed as a minute in each worker's last teardown. The server runs
    with ``fsync=off`` anyway: nothing of it is meant to outlive the session.
    """
    shm = "/dev/shm"
    try:
        room = shutil.disk_usage(shm).free
    except OSError:
        return None
    return shm if room >= _MEMORY_NEEDED and os.access(shm, os.W_OK) else None


def create_database(dsn: str, name: str, template: str | None = None) -> None:
    """Make database ``name`` (a copy of ``template``) on the server of ``dsn``, replacing
    one of that name."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # PostgreSQL 15's default copies a template through the write-ahead log; copying
        # its files is twice as fast for the small databases of the tests
        strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
        suffix = f' TEMPLATE "{template}"{strategy}' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')


def database_name(url: str) -> str:
    """The database's name in a URL of :meth:`PostgresServer.url`."""
    return url.split("@/", 1)[1].split("?", 1)[0]


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="resguardo-pg-", dir=memory_dir()))
        self.port = 55000 + os.getpid() % 1000
        self.as_root = os.geteuid() == 0

    def _run(self, *cmd: str) -> None:
        if self.as_root:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found")
        if self.as_root:
            shutil.chown(self.dir, "postgres")
        self.pg_ctl = pg_ctl
        self._run(initdb, "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        self._run(pg_ctl, "-D", str(self.dir / "data"), "-w", "-l", str(self.dir / "log"),
                  "-o", f"-k {self.dir} -p {self.port} -c listen_addresses='' -c fsync=off "
                  "-c max_connections=200", "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), autocommit=True):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def dsn(self, db: str) -> str:
        return f"host={self.dir} port={self.port} user=postgres dbname={db}"

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@/{db}?host={self.dir}&port={self.port}"

    def new_database(self, template: str | None = None) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        create_database(self.dsn("postgres"), name, template)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database` (its URL), closing what is still
        connected to it: a test's database is dropped when the test ends, so that a
        worker's server does not pile up hundreds of them."""
        name = database_name(url)
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
