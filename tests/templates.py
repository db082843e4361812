"""Build a test deployment once per process; every test gets a copy of it.

Building the small world (``world.build_world``) runs every migration and a few dozen
writes: 0.4 s of CPU on SQLite, about a second on PostgreSQL. A copy is a file copy on
SQLite and ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (about 0.1 s). A copy is the
same deployment only if it was built the same way: the templates are kept by what the
caller names, the database kind, the clock's reading and every ``RESGUARDO_*`` setting
in the environment, and only with the suite's hand-moved clock (one that reads the real
time would date the copy's entries at the build's time: such a caller builds its own).

Every test gets a copy, the first one too, so that no test sees what only the process
that built the template has (the ledger's in-memory state, say). A copy keeps the
template's key files (the ledger's signing key and the credential key), as a restored
deployment must.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from resguardo.services.app import Resguardo

from pg import create_database, database_name

#: (what, kind, clock reading, settings) -> (the template database, its key files)
_MADE: dict[tuple, tuple[str, tuple[Path, Path]]] = {}


def _sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[1])


def _pg(url: str) -> tuple[str, str]:
    """(the server's maintenance DSN, the database's name) of a tests/pg.py URL."""
    params = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
    dsn = f"host={params['host']} port={params['port']} user=postgres dbname=postgres"
    return dsn, database_name(url)


def _keys(app: Resguardo) -> tuple[Path, Path]:
    return app.settings.signing_key, app.settings.credential_key_path


def built_once(what: str, url: str, clock: Any, tmp: Path,
               build: Callable[[str], Resguardo], reopen: Callable[[], Resguardo]
               ) -> Resguardo:
    """The deployment ``build(template_url)`` makes, copied into ``url``'s place (a new
    SQLite file or a PostgreSQL database made for the test, replaced) and opened there by
    ``reopen()``. ``tmp`` is the test's temporary directory: a SQLite template is kept in
    the session's, and removed with it."""
    sqlite = url.startswith("sqlite")
    if not isinstance(getattr(clock, "now", None), datetime):  # not the hand-moved clock
        return build(url)
    key = (what, sqlite, clock.now, tuple(sorted(
        (k, v) for k, v in os.environ.items() if k.startswith("RESGUARDO_"))))
    made = _MADE.get(key)
    if made is None:
        before = clock.now
        if sqlite:
            template = str(tmp.parent / f"template-{uuid.uuid4().hex}.db")
            template_url = f"sqlite:///{template}"
        else:
            dsn, name = _pg(url)
            template = "tpl_" + uuid.uuid4().hex[:12]
            create_database(dsn, template)
            template_url = url.replace(f"@/{name}?", f"@/{template}?")
        app = build(template_url)
        app.engine.dispose()
        if clock.now != before:  # the build moved the clock: a copy would not be the same
            raise AssertionError(f"building {what!r} moved the clock: it cannot be copied")
        made = _MADE[key] = (template, _keys(app))
    template, keys = made
    if sqlite:
        shutil.copy(template, _sqlite_path(url))
    else:
        dsn, name = _pg(url)
        create_database(dsn, name, template)
    app = reopen()
    copy_keys(keys, app)
    return app


def copy_keys(keys: tuple[Path, Path], app: Resguardo) -> None:
    """The template's key files (signing key, credential key) for ``app``, as a restored
    deployment keeps them."""
    for source, target in zip(keys, _keys(app), strict=True):
        if source.exists() and not target.exists():
            shutil.copy(source, target)
            target.chmod(0o600)
