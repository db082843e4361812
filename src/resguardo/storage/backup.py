"""Copies of the database, taken while it runs, and put back into an empty one.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the
database in one step, which in WAL mode reads one consistent snapshot while
writers carry on: every transaction committed before the copy began is in it,
none after. PostgreSQL: ``pg_dump`` in its custom format (one snapshot too),
and ``pg_restore`` to put it back.

What is not in the database is not in the copy: the checkpoint signing key
(a file, a signer process or a token) and the settings. ``services.backup``
says so and verifies a restored ledger.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from resguardo.storage.database import DATABASE_FILE_MODE, normalize_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL); refuses an in-memory database."""
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:":
        raise BackupError("an in-memory database has nothing to back up or restore into")
    return Path(path)


def is_empty(engine: Engine) -> bool:
    """Whether the database holds no table at all (a restore may go there)."""
    return not inspect(engine).get_table_names()


def backup(url: str, out: Path) -> None:
    """Write the database at ``url`` to ``out`` (a new file, readable by its owner only)."""
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATABASE_FILE_MODE)
    os.close(fd)
    try:
        path = sqlite_path(url)
        if path is None:
            _pg_dump(url, partial)
        else:
            _sqlite_backup(path, partial)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _sqlite_backup(path: Path, out: Path) -> None:
    if not path.exists():
        raise BackupError(f"no database at {path}")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        target = sqlite3.connect(out)
        try:
            # pages=-1: one step, one snapshot; a stepped copy restarts at every write
            source.backup(target, pages=-1)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {path}: {exc}") from None
    finally:
        source.close()


def restore(url: str, source: Path, engine: Engine) -> None:
    """Put the backup ``source`` into the database at ``url`` (whose ``engine`` is disposed
    before and after). The caller decides whether a non-empty target may be replaced."""
    kind = backup_kind(source)
    path = sqlite_path(url)
    engine.dispose()
    try:
        if path is None:
            if kind != "postgresql":
                raise BackupError(f"{source} is a SQLite backup; the configured database is "
                                  "PostgreSQL")
            _pg_restore(url, source)
        else:
            if kind != "sqlite":
                raise BackupError(f"{source} is a PostgreSQL backup (pg_dump); the configured "
                                  "database is SQLite")
            _sqlite_restore(source, path)
    finally:
        engine.dispose()


def backup_kind(source: Path) -> str:
    """``sqlite`` or ``postgresql``, read from the file's first bytes."""
    try:
        with open(source, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {source}: {exc.strerror or exc}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{source} is not a Resguardo backup (neither a SQLite database nor a "
                      "pg_dump custom-format file)")


def _sqlite_restore(source: Path, path: Path) -> None:
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source}: {exc}") from None
    try:
        try:
            check = src.execute("pragma quick_check").fetchone()[0]
            tables = {r[0] for r in src.execute(
                "select name from sqlite_master where type = 'table'")}
        except sqlite3.Error as exc:
            raise BackupError(f"{source} is damaged: {exc}") from None
        if check != "ok":
            raise BackupError(f"{source} is damaged: {check}")
        if "alembic_version" not in tables or "events" not in tables:
            raise BackupError(f"{source} is a SQLite database but not a Resguardo one")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATABASE_FILE_MODE))
        target = sqlite3.connect(path, timeout=60)
        try:
            src.backup(target, pages=-1)  # replaces every page of the target, WAL included
            target.execute("pragma journal_mode=wal")
        except sqlite3.Error as exc:
            raise BackupError(f"cannot write {path}: {exc}") from None
        finally:
            target.close()
    finally:
        src.close()


# --- PostgreSQL -------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: from RESGUARDO_PG_BINDIR, else the newest
    ``/usr/lib/postgresql/N/bin`` (Debian), else the PATH."""
    bindir = os.environ.get("RESGUARDO_PG_BINDIR")
    if bindir:
        found = Path(bindir) / name
        if not found.exists():
            raise BackupError(f"RESGUARDO_PG_BINDIR: no {name} in {bindir}")
        return str(found)
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
                       if p.parent.parent.name.isdigit()),
                      key=lambda p: int(p.parent.parent.name), reverse=True)
    if versions:
        return str(versions[0])
    which = shutil.which(name)
    if which is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install "
                          "postgresql-client); or set RESGUARDO_PG_BINDIR")
    return which


def _conninfo(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for the tools, and the environment carrying the password (never argv)."""
    parsed = make_url(normalize_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed._replace(drivername="postgresql", password=None)  # set() keeps a None
    hosts = parsed.query.get("host")
    if isinstance(hosts, tuple):  # a cluster (normalize_url): libpq lists the hosts instead
        rest = plain.difference_update_query(["host"]).set(host=None, port=None).render_as_string(
            hide_password=False)
        scheme, _, tail = rest.partition("://")
        user, at, path = tail.partition("@")
        if not at:
            user, path = "", tail
        return f"{scheme}://{user}{'@' if user else ''}{','.join(hosts)}{path}", env
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = " ".join(done.stderr.split())[:500] or f"exit status {done.returncode}"
        raise BackupError(f"{what} failed: {_without_secrets(reason)}")


def _without_secrets(text: str) -> str:
    return re.sub(r"(password=)\S+", r"\1***", text)


def _pg_dump(url: str, out: Path) -> None:
    conninfo, env = _conninfo(url)
    _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          f"--file={out}", f"--dbname={conninfo}"], env, "pg_dump")


def _pg_restore(url: str, source: Path) -> None:
    conninfo, env = _conninfo(url)
    # --clean drops what the backup holds before creating it again; one transaction, so
    # a restore that fails half-way leaves the database as it was
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", f"--dbname={conninfo}", str(source)],
         env, "pg_restore")
