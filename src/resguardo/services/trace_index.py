"""The trace index of a deployment: built once, then kept up to date from the log.

Every registered serial lives in one in-memory :class:`SerialIndex` per
process and database, covering the whole system (scope is applied to each
search's candidates, never to the index). So does every serial a weapon was
recorded under before a correction of its serial or make (as registered, and
as each correction left it), under :func:`former_id`: tracing the serial a
weapon used to carry still finds it. The index remembers the log
position it has read up to, its *watermark*. Before each search it catches
up: it reads only the entries at or after the watermark that can change the
registry's serials (``firearm.registered``, and ``entry.corrected`` of a
registration that changes its serial or make), through the events table's
(type, position) index, and moves the watermark to the log size it read.
A firearm registered a moment ago is therefore found by the next trace,
and no query ever rebuilds the index from scratch.

Building the index costs minutes at a million serials, which a one-shot CLI
process cannot pay on every run. So the index is also **persisted** to a
file next to the database (``<database file>.trace-index`` for SQLite, or the
path in ``RESGUARDO_TRACE_INDEX``; ``off`` disables it). The file holds the
index, its watermark, and the SHA-256 of the ledger leaves at position 0 and
just below the watermark, so that a file left over from another database, or from a
log that was restored to an earlier state, is recognized and ignored. A
process loads the file (seconds), catches up from its watermark and, when it
had to build the index or caught up on at least ``SAVE_AFTER`` changes,
writes the file back (atomically, mode 0600; in :func:`prepare`, never while
a trace's transaction is open). The file is a cache: deleting
it is always safe. Because it is a pickle, it is loaded only when it belongs
to the user running Resguardo and nobody else may write it.

Loading, building and saving happen on a read-only connection of their own;
entry points call :func:`prepare` before opening a trace's unit of work, so
no trace holds a writer's lock meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import stat
import tempfile
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resguardo.domain.serial_index import SerialIndex
from resguardo.storage import trace_queries as q
from resguardo.storage.uow import UnitOfWork

#: Changes caught up on after which the persisted file is written again.
SAVE_AFTER = 1000
FILE_FORMAT = "resguardo-trace-index/2"  # /2: former serials indexed too
ENV_PATH = "RESGUARDO_TRACE_INDEX"
log = logging.getLogger("resguardo.trace")


@dataclass
class TraceIndex:
    """A serial index of every firearm and the log position it reflects."""

    index: SerialIndex
    watermark: int = 0
    genesis: str | None = None
    unsaved: int = 0  # changes applied since the persisted file was written
    source: str = "built"  # "built" from the database, "file" (as saved), or "unsaved"
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


_CACHE: weakref.WeakKeyDictionary[Any, TraceIndex] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def index_path(database_url: str) -> Path | None:
    """Where the persisted index lives for this database (None: not persisted)."""
    configured = os.environ.get(ENV_PATH)
    if configured is not None:
        value = configured.strip()
        return None if value.lower() in {"", "off", "none", "0"} else Path(value)
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite:///").split("?", 1)[0] + ".trace-index")
    return None


def _entry(engine: Any) -> TraceIndex:
    with _CACHE_LOCK:
        entry = _CACHE.get(engine)
        if entry is None:
            entry = _CACHE[engine] = TraceIndex(SerialIndex(), watermark=-1)
        return entry


def prepare(engine: Any) -> None:
    """Load or build the process's index, catch up and save it, outside any transaction.

    Entry points call this before they open the unit of work of a trace, so
    that the first trace of a process does not hold a writer's lock (SQLite
    takes it when a write transaction begins; the API queues its writers in
    the process) for the seconds a load, or the minutes a build, can take,
    and no trace holds it while the file is written.
    """
    entry = _entry(engine)
    with entry.lock:
        if entry.watermark < 0:
            _initialize(engine, entry)
        path = index_path(str(engine.url))
        with UnitOfWork(engine, None, write=False) as reader:
            catch_up(reader, entry)
            if path is not None and entry.unsaved >= SAVE_AFTER:
                save(reader, entry, path)


@contextlib.contextmanager
def current(uow: UnitOfWork) -> Iterator[TraceIndex]:
    """The deployment's index, caught up with the log as ``uow`` sees it, held for one search.

    Searches of one process take turns (a search also indexes pending additions).
    """
    entry = _entry(uow.engine)
    with entry.lock:
        if entry.watermark < 0:
            _initialize(uow.engine, entry)
        catch_up(uow, entry)
        yield entry


def forget(engine: Any) -> None:
    """Drop a process's cached index (tests; or to force a reload from the file)."""
    with _CACHE_LOCK:
        _CACHE.pop(engine, None)


def _initialize(engine: Any, entry: TraceIndex) -> None:
    """Load the persisted index, or build it, on a read-only connection of its own."""
    path = index_path(str(engine.url))
    with UnitOfWork(engine, None, write=False) as reader:
        loaded = load(path, reader) if path is not None else None
        if loaded is not None:
            entry.index, entry.watermark = loaded.index, loaded.watermark
            entry.genesis, entry.unsaved, entry.source = loaded.genesis, 0, "file"
            return
        build(reader, entry)
        if path is not None:
            save(reader, entry, path)


def build(uow: UnitOfWork, entry: TraceIndex) -> None:
    """Index every registered firearm from the projection, as of the log size read first."""
    size = uow.repo.log_size()  # read before the firearms: everything below it is in them
    index = SerialIndex()
    count = 0
    for firearm_id, key, make in q.registry_keys_unscoped(uow.conn):
        index.add(firearm_id, key, make)
        count += 1
    corrected = set(q.identity_corrected_unscoped(uow.conn, size))
    for firearm_id, former in q.former_keys(uow.conn, corrected).items():
        for key, make in sorted(former):
            index.add(former_id(firearm_id, key, make), key, make)
            count += 1
    index.compact()
    entry.index, entry.watermark = index, size
    entry.genesis = q.entry_hash_unscoped(uow.conn, 0)
    entry.unsaved, entry.source = max(count, 1), "built"


def catch_up(uow: UnitOfWork, entry: TraceIndex) -> int:
    """Apply registrations and serial corrections recorded since the watermark; how many."""
    size = uow.repo.log_size()
    if size <= entry.watermark:
        return 0
    index = entry.index
    corrected: set[int] = set()
    applied = 0
    for _, event_type, firearm_id, payload in q.registry_changes_unscoped(uow.conn, entry.watermark, size):
        if event_type == "firearm.registered":
            if firearm_id not in index:
                index.add(firearm_id, payload["serial"], payload["make"])
                applied += 1
        elif q.changes_identity(payload):
            corrected.add(firearm_id)
    # A corrected serial is re-read from the projection: it holds the latest correction.
    for firearm_id, (key, make) in q.firearm_keys_unscoped(uow.conn, sorted(corrected)).items():
        if firearm_id in index:
            index.remove(firearm_id)
        index.add(firearm_id, key, make)
        applied += 1
    # ... and the ones it was recorded under before stay findable
    for firearm_id, former in q.former_keys(uow.conn, corrected).items():
        for key, make in sorted(former):
            if former_id(firearm_id, key, make) not in index:
                index.add(former_id(firearm_id, key, make), key, make)
                applied += 1
    entry.watermark = size
    entry.unsaved += applied
    return applied


def former_id(firearm_id: int, key: str, make: str) -> tuple[int, str, str]:
    """The index entry of a serial a firearm was once recorded under (its current serial's
    entry is the firearm id itself)."""
    return (firearm_id, key, make)


def firearm_of(entry_id: object) -> int:
    """The firearm an index entry belongs to (its current serial, or a former one)."""
    found = entry_id[0] if isinstance(entry_id, tuple) else entry_id
    assert isinstance(found, int)  # the index holds firearm ids and former_id tuples
    return found


# --- the persisted file ------------------------------------------------------------------------

def save(uow: UnitOfWork, entry: TraceIndex, path: Path) -> None:
    """Write the index and its watermark atomically (a reader sees the old file or the new).

    Additions not yet merged into the packed arrays are saved as they are; the
    index merges them itself when there are enough of them.
    """
    tail = q.entry_hash_unscoped(uow.conn, entry.watermark - 1) if entry.watermark > 0 else None
    data = {"format": FILE_FORMAT, "watermark": entry.watermark, "genesis": entry.genesis,
            "tail": tail, "index": entry.index}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        _unsaved(entry, path, exc)
        return
    try:
        with os.fdopen(fd, "wb") as out:
            pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _unsaved(entry, path, exc)
        return
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    entry.unsaved, entry.source = 0, "file"


def _unsaved(entry: TraceIndex, path: Path, exc: OSError) -> None:
    """A cache that cannot be written only costs the next process a rebuild."""
    log.warning("trace index not saved to %s: %s", path, exc)
    entry.unsaved, entry.source = 0, "unsaved"


def _trusted(path: Path) -> bool:
    """Only a file of this user that no one else may write is unpickled."""
    try:
        info = path.stat()
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@dataclass
class _Loaded:
    index: SerialIndex
    watermark: int
    genesis: str | None


def load(path: Path, uow: UnitOfWork) -> _Loaded | None:
    """The persisted index if it belongs to this database's log; None to build afresh."""
    if not _trusted(path):
        return None
    try:
        with path.open("rb") as src:
            data = pickle.load(src)
    except Exception:  # noqa: BLE001 - a damaged or foreign cache is rebuilt, never fatal
        return None
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        return None
    index, watermark = data.get("index"), data.get("watermark")
    if not isinstance(index, SerialIndex) or not isinstance(watermark, int) or watermark < 0:
        return None
    if watermark > uow.repo.log_size():
        return None  # the log is shorter than the file remembers: restored or replaced
    genesis = q.entry_hash_unscoped(uow.conn, 0)
    if data.get("genesis") != genesis:
        return None  # another database's index
    if watermark > 0 and data.get("tail") != q.entry_hash_unscoped(uow.conn, watermark - 1):
        return None  # same start, different history
    return _Loaded(index, watermark, genesis)
