"""The ledger in the database: tree nodes, checkpoints, cosignatures, and the reads verify needs.

`append` runs inside `UnitOfWork.append`, in the event's transaction: it reads the
tree's right edge (O(log n) nodes, one query) and writes the new leaf and the subtrees
it completes (amortized two rows). `DbNodeStore` serves the `resguardo.ledger` tree
functions with one query per root or proof.

The verification reads (`leaf_hashes`, `leaf_texts`, `node_hashes`, ...) go through the
raw DB-API cursor in bounded position ranges and assemble each event's canonical JSON
leaf straight from its columns, without a SQLAlchemy row or a general serializer, with
the writers `ledger.leaf.LEAF` generates from the leaf's one layout: PostgreSQL builds the
text itself (`Layout.postgresql`: `pg_catalog.to_json` quotes exactly as RFC 8785 does);
on SQLite, whose JSON functions (and string building in SQL generally) cost more than
Python's string escaping, the columns come back as a tuple and one format string per row
builds it (`Layout.rows_writer`), hashed in the same pass (`leaf_hashes`). Where the result does not match the
stored leaf hash, the caller recomputes the leaf with `Event.leaf()`, which defines it,
so this fast path can only cost time, never a verdict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, make_url, select
from sqlalchemy.exc import IntegrityError

from resguardo.domain.events import Event
from resguardo.ledger import LEAF_PREFIX, Node, NodeKey, append_leaves, leaf_hash
from resguardo.ledger.leaf import LEAF, NOT_CANONICAL
from resguardo.storage import ledger_tables as lt
from resguardo.storage import tables as t
from resguardo.storage.database import driver_connection, driver_sql, make_engine, normalize_url
from resguardo.storage.event_queries import event_from_row

_NODE_INSERT = "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)"
_LATEST = "SELECT size, created_at FROM checkpoints ORDER BY id DESC LIMIT 1"


def database_identity(target: Engine | str) -> str:
    """One string per database, from an engine or a settings URL (password hidden)."""
    url = make_url(normalize_url(target)) if isinstance(target, str) else target.url
    return url.render_as_string(hide_password=True)


# The leaf's text is written by `ledger.leaf.LEAF`'s writers: the PostgreSQL expression
# over the columns, and on SQLite a generator over the columns read as a tuple.
_PG_LEAF_TEXTS = (f"SELECT position, {LEAF.postgresql()} FROM events "
                  "WHERE position >= ? AND position < ? ORDER BY position")
_COLUMNS = ("position", *(name for name in LEAF.names if name != "position"))
_LEAF_COLUMNS = (f"SELECT {', '.join(_COLUMNS)} FROM events "
                 "WHERE position >= ? AND position < ? ORDER BY position")
_leaf_text_strings = LEAF.rows_writer(_COLUMNS)
"""The canonical leaf text of each row of `_LEAF_COLUMNS`, after `lead` (a type that is
not the application's yields `NOT_CANONICAL` in its place, or TypeError for text)."""
_NOT_CANONICAL = NOT_CANONICAL  # such a row takes the slow path
_LEAD = LEAF_PREFIX.decode("ascii")  # the prefix as text, to hash leaf and prefix in one
_NOT_CANONICAL_LEAF = leaf_hash(_NOT_CANONICAL.encode())
_sha256 = hashlib.sha256
_LEAF_COLUMNS_BY_ROWID = _LEAF_COLUMNS.split(" WHERE ")[0] + " WHERE rowid >= ? AND rowid < ?"
# Where the rows of [lo, hi) start in rowid order, and how many rows the position index
# holds in [lo, hi) (a row at a fractional position counts there but is no entry).
_ROWID_WINDOW = ("SELECT (SELECT rowid FROM events WHERE position = ?), "
                 "(SELECT count(*) FROM events WHERE position >= ? AND position < ?)")


def _sqlite_leaf_texts(rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
    """(position, canonical leaf text) of rows of `_LEAF_COLUMNS`.

    SQLite keeps any value in any column, so a row only takes this fast form when each
    column holds the type the application writes: JSON string escaping (exactly as
    RFC 8785 has it) refuses anything but text, and a number column holding anything but
    an integer yields a character canonical JSON never has unescaped.
    """
    try:
        return _leaf_texts_of(rows)
    except TypeError:  # a text column holds something else: take the rows one by one
        return [_one_leaf_text(row) for row in rows]


def _one_leaf_text(row: tuple[Any, ...]) -> tuple[int, str]:
    try:
        return _leaf_texts_of([row])[0]
    except TypeError:
        return row[0], _NOT_CANONICAL


def _leaf_texts_of(rows: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
    return list(zip([row[0] for row in rows], _leaf_text_strings(rows), strict=True))


def _leaf_hashes_of(rows: list[tuple[Any, ...]]) -> list[bytes]:
    """`_leaf_texts_of` hashed as RFC 9162 leaves in the same pass (0x00 leads the text)."""
    h = _sha256
    return [h(text.encode()).digest() for text in _leaf_text_strings(rows, _LEAD)]


def _one_leaf_hash(row: tuple[Any, ...]) -> bytes:
    try:
        return _leaf_hashes_of([row])[0]
    except (TypeError, UnicodeEncodeError):
        return _NOT_CANONICAL_LEAF


def _sql(conn: Connection, text: str) -> str:
    """`?` placeholders in the DB-API's own style (psycopg takes `%s`)."""
    return driver_sql(text, qmark=conn.dialect.paramstyle == "qmark")


def _raw_fetch(conn: Connection, text: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one query on the DB-API cursor of `conn`'s transaction; rows as plain tuples."""
    cursor = driver_connection(conn).cursor()
    try:
        cursor.execute(_sql(conn, text), tuple(params))
        return cursor.fetchall()
    finally:
        cursor.close()


class DbNodeStore:
    """The tree's complete-subtree hashes in `merkle_nodes`, read through one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Hashes of those `keys` that are stored, in one query."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        where = " OR ".join(["(level = ? AND idx = ?)"] * len(wanted))
        params = [v for key in wanted for v in key]
        rows = _raw_fetch(self.conn, f"SELECT level, idx, hash FROM merkle_nodes WHERE {where}",
                          params)
        return {(level, idx): _hash_bytes(h) for level, idx, h in rows
                if type(level) is int and type(idx) is int}


def write_nodes(conn: Connection, nodes: Sequence[Node]) -> None:
    """Insert tree nodes; a node already stored is an integrity error (the tree only grows)."""
    if nodes:
        conn.exec_driver_sql(_sql(conn, _NODE_INSERT), list(nodes))


def append(conn: Connection, event: Event) -> bytes:
    """Add `event` as leaf `event.position` of the tree, in the caller's transaction.

    Returns the leaf hash. Fails (and so fails the append) if the tree's right edge is
    missing or the leaf is already stored: the node store no longer matches the log.
    """
    leaf = leaf_hash(event.leaf())
    write_nodes(conn, append_leaves(DbNodeStore(conn), event.position, [leaf]))
    return leaf


def append_leaf_hashes(conn: Connection, size: int, leaves: Sequence[bytes]) -> None:
    """Extend the tree of `size` leaves by already hashed leaves (bulk loading)."""
    write_nodes(conn, append_leaves(DbNodeStore(conn), size, leaves))


# --- checkpoints ----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as the log keeps it."""

    id: int
    size: int
    root: bytes
    note: str
    created_at: str


def _checkpoint(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(id=int(row.id), size=int(row.size), root=bytes(row.root),
                            note=row.note, created_at=row.created_at)


def store_checkpoint(conn: Connection, size: int, root: bytes, note: str,
                     created_at: str) -> StoredCheckpoint:
    """Keep a signed checkpoint; returns it with its id."""
    result = conn.execute(insert(lt.checkpoints).values(
        size=size, root=root, note=note, created_at=created_at))
    key = result.inserted_primary_key
    assert key is not None
    return StoredCheckpoint(int(key[0]), size, root, note, created_at)


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    """The checkpoint signed last, if any."""
    c = lt.checkpoints.c
    row = conn.execute(select(lt.checkpoints).order_by(c.id.desc()).limit(1)).first()
    return None if row is None else _checkpoint(row)


def latest_checkpoint_head(conn: Connection) -> tuple[int, str] | None:
    """(size, created_at) of the checkpoint signed last: what the append path checks."""
    rows = _raw_fetch(conn, _LATEST, ())
    return (int(rows[0][0]), rows[0][1]) if rows else None


def checkpoint_by_id(conn: Connection, checkpoint_id: int) -> StoredCheckpoint | None:
    row = conn.execute(select(lt.checkpoints).where(lt.checkpoints.c.id == checkpoint_id)).first()
    return None if row is None else _checkpoint(row)


def all_checkpoints(conn: Connection, from_size: int = 0) -> list[StoredCheckpoint]:
    """Every stored checkpoint (of `from_size` entries or more), oldest first."""
    c = lt.checkpoints.c
    query = select(lt.checkpoints).order_by(c.id)
    if from_size:
        query = query.where(c.size >= from_size)
    return [_checkpoint(r) for r in conn.execute(query)]


def checkpoint_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(lt.checkpoints)).scalar_one())


# --- cosignatures -----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCosignature:
    """A witness's cosignature line on a stored checkpoint, and the key it verified with."""

    checkpoint_id: int
    witness: str
    vkey: str
    line: str
    timestamp: int


def _cosignature(row: Any) -> StoredCosignature:
    return StoredCosignature(int(row.checkpoint_id), row.witness, row.vkey, row.line,
                             int(row.timestamp))


def add_cosignature(conn: Connection, cosignature: StoredCosignature) -> None:
    conn.execute(insert(lt.cosignatures).values(
        checkpoint_id=cosignature.checkpoint_id, witness=cosignature.witness,
        vkey=cosignature.vkey, line=cosignature.line, timestamp=cosignature.timestamp))


def keep_cosignature(conn: Connection, cosignature: StoredCosignature) -> bool:
    """Add a cosignature unless the witness already has one on that checkpoint (two
    publishers may race for the same answer); True if this one was added."""
    if cosignature_of(conn, cosignature.checkpoint_id, cosignature.witness) is not None:
        return False
    try:
        with conn.begin_nested():
            add_cosignature(conn, cosignature)
    except IntegrityError:
        return False
    return True


def cosignature_of(conn: Connection, checkpoint_id: int, witness: str) -> StoredCosignature | None:
    c = lt.cosignatures.c
    row = conn.execute(select(lt.cosignatures).where(
        c.checkpoint_id == checkpoint_id, c.witness == witness)).first()
    return None if row is None else _cosignature(row)


def cosignatures(conn: Connection, checkpoint_id: int | None = None) -> list[StoredCosignature]:
    """Cosignatures of one checkpoint, or of all, by checkpoint then witness."""
    c = lt.cosignatures.c
    stmt = select(lt.cosignatures).order_by(c.checkpoint_id, c.witness)
    if checkpoint_id is not None:
        stmt = stmt.where(c.checkpoint_id == checkpoint_id)
    return [_cosignature(r) for r in conn.execute(stmt)]


def witness_size(conn: Connection, witness: str, vkey: str) -> int:
    """The largest checkpoint size this witness (with this key) cosigned here; 0 if none."""
    c, k = lt.cosignatures.c, lt.checkpoints.c
    found = conn.execute(select(func.max(k.size)).select_from(
        lt.cosignatures.join(lt.checkpoints, c.checkpoint_id == k.id)).where(
        c.witness == witness, c.vkey == vkey)).scalar()
    return 0 if found is None else int(found)


# --- witness attempts -------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessAttempt:
    """One add-checkpoint request to a witness and how it ended."""

    id: int
    witness: str
    checkpoint_id: int
    size: int
    old_size: int
    at: str
    status: int
    outcome: str
    detail: str


def add_witness_attempt(conn: Connection, witness: str, checkpoint_id: int, size: int,
                        old_size: int, at: str, status: int, outcome: str, detail: str) -> None:
    conn.execute(insert(lt.witness_attempts).values(
        witness=witness, checkpoint_id=checkpoint_id, size=size, old_size=old_size, at=at,
        status=status, outcome=outcome, detail=detail))


def latest_witness_attempts(conn: Connection) -> list[WitnessAttempt]:
    """The newest attempt of each witness, by witness name."""
    a = lt.witness_attempts.c
    newest = select(func.max(a.id)).group_by(a.witness).scalar_subquery()
    rows = conn.execute(select(lt.witness_attempts).where(a.id.in_(newest))
                        .order_by(a.witness))
    return [WitnessAttempt(int(r.id), r.witness, int(r.checkpoint_id), int(r.size),
                           int(r.old_size), r.at, int(r.status), r.outcome, r.detail)
            for r in rows]


def event_time(conn: Connection, position: int) -> str | None:
    """When the entry at `position` was recorded (None if there is no such row)."""
    rows = _raw_fetch(conn, "SELECT at FROM events WHERE position = ?", (position,))
    return str(rows[0][0]) if rows else None


# --- reads for verification and export --------------------------------------------------


@dataclass(frozen=True)
class LogBounds:
    """What the tables say about the log's extent."""

    head: int
    """Size recorded in log_head."""
    events_end: int
    """One past the highest event position (0 without events)."""
    event_count: int
    leaves_end: int
    """One past the highest stored leaf (level-0 node) index."""


def log_bounds(conn: Connection) -> LogBounds:
    head = _raw_fetch(conn, "SELECT size FROM log_head WHERE id = 1", ())
    top, count = _raw_fetch(conn, "SELECT max(position), count(*) FROM events", ())[0]
    leaves = _raw_fetch(conn, "SELECT max(idx) FROM merkle_nodes WHERE level = 0", ())[0][0]
    return LogBounds(head=int(head[0][0]) if head else 0,
                     events_end=-1 if top is None else int(top) + 1,
                     event_count=int(count),
                     leaves_end=0 if leaves is None else int(leaves) + 1)


def shareable_url(conn: Connection) -> str | None:
    """A URL another process can open the same database with (None for in-memory SQLite)."""
    url = conn.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


_READERS: dict[str, Engine] = {}


@contextmanager
def reader(url: str) -> Iterator[Connection]:
    """A read transaction on the database at `url` (engines kept per process)."""
    engine = _READERS.get(url)
    if engine is None:
        engine = _READERS[url] = make_engine(url)
    with engine.connect() as conn, conn.begin():
        yield conn


def first_position_from(conn: Connection, position: int) -> int:
    """The lowest event position at or after `position` (`position` itself if there is none)."""
    found = _raw_fetch(conn, "SELECT min(position) FROM events WHERE position >= ?",
                       (position,))[0][0]
    return position if found is None else int(found)


def leaf_texts(conn: Connection, lo: int, hi: int) -> list[tuple[int, str]]:
    """(position, canonical leaf text) of the event rows with lo <= position < hi, in order.

    The text is the leaf `Event.leaf()` gives whenever the row is intact and its payload
    column holds canonical JSON (as the application writes it); anything else yields a
    text that does not hash to the stored leaf.
    """
    if conn.dialect.name == "sqlite":
        return _sqlite_leaf_texts(_raw_fetch(conn, _LEAF_COLUMNS, (lo, hi)))
    return _raw_fetch(conn, _PG_LEAF_TEXTS, (lo, hi))


def leaf_hashes(conn: Connection, lo: int, hi: int) -> list[bytes] | None:
    """Leaf hashes of the event rows at positions lo..hi-1, when exactly those rows exist.

    Each is SHA-256(0x00 || the leaf text `leaf_texts` gives), so it equals the stored leaf
    only if the row is intact. None when the rows are not exactly one per position (a
    gap, an extra row, a position that is not an integer): `leaf_texts` then shows which.
    On SQLite the rows are read by rowid, a plain walk of the table instead of a seek per
    row through the position index; that the rowid window holds exactly the positions
    lo..hi-1 in order, and that the index counts no other row in [lo, hi), is checked.
    """
    n = hi - lo
    if n <= 0:
        return []
    expected = list(range(lo, hi))
    if conn.dialect.name == "sqlite":
        first, count = _raw_fetch(conn, _ROWID_WINDOW, (lo, lo, hi))[0]
        if first is None or count != n:
            return None
        rows = _raw_fetch(conn, _LEAF_COLUMNS_BY_ROWID, (first, first + n))
        if [row[0] for row in rows] != expected:
            return None
        try:
            return _leaf_hashes_of(rows)
        except (TypeError, UnicodeEncodeError):  # a column holds something else
            return [_one_leaf_hash(row) for row in rows]
    texts = _raw_fetch(conn, _PG_LEAF_TEXTS, (lo, hi))
    if [row[0] for row in texts] != expected:
        return None
    h = _sha256
    return [h(LEAF_PREFIX + text.encode()).digest() for _, text in texts]


def node_hashes(conn: Connection, level: int, lo: int, hi: int) -> list[bytes]:
    """Hashes of the stored nodes (level, idx) with lo <= idx < hi, in index order."""
    rows = _raw_fetch(conn, "SELECT hash FROM merkle_nodes WHERE level = ? AND idx >= ? "
                      "AND idx < ? ORDER BY idx", (level, lo, hi))
    return [h if h.__class__ is bytes else _hash_bytes(h) for (h,) in rows]


def _hash_bytes(value: Any) -> bytes:
    """A stored hash as bytes; a value of another type (text written behind the
    application's back on SQLite) becomes b"", which no recomputed hash equals."""
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else b""


def node_rows(conn: Connection, level: int, lo: int, hi: int) -> dict[int, bytes]:
    """idx -> hash of the stored nodes (level, idx) with lo <= idx < hi."""
    rows = _raw_fetch(conn, "SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx >= ? "
                      "AND idx < ?", (level, lo, hi))
    # an index that is not an integer is a forged row: stray_nodes() reports it
    return {idx: _hash_bytes(h) for idx, h in rows if type(idx) is int}


def stray_nodes(conn: Connection, level: int, lo: int, hi: int) -> list[Any]:
    """Indexes in [lo, hi) at `level` that are not integers (SQLite keeps any type)."""
    rows = _raw_fetch(conn, "SELECT idx FROM merkle_nodes WHERE level = ? AND idx >= ? "
                      "AND idx < ?", (level, lo, hi))
    return sorted(idx for (idx,) in rows if type(idx) is not int)


def nodes_above(conn: Connection, level: int) -> dict[NodeKey, bytes]:
    """Every stored node above `level` (few: one per 2**level leaves)."""
    rows = _raw_fetch(conn, "SELECT level, idx, hash FROM merkle_nodes WHERE level > ?", (level,))
    return {(lv, ix): _hash_bytes(h) for lv, ix, h in rows
            if type(lv) is int and type(ix) is int}


def events_at(conn: Connection, positions: Iterable[int]) -> dict[int, Any]:
    """The stored rows at these positions (for the rare leaf the fast path cannot match)."""
    wanted = sorted(set(positions))
    if not wanted:
        return {}
    rows = conn.execute(select(t.events).where(t.events.c.position.in_(wanted)))
    return {int(r.position): r for r in rows}


def event_of_row(row: Any) -> Event:
    """The Event a stored row holds; ValueError if its payload is not a JSON object."""
    try:
        event = event_from_row(row)
    except json.JSONDecodeError as exc:
        raise ValueError(f"payload is not JSON ({exc.msg})") from None
    if not isinstance(event.payload, dict):
        raise ValueError("payload is not a JSON object")
    return event


def event_rows(conn: Connection, lo: int, hi: int) -> list[Any]:
    """The stored event rows with lo <= position < hi, in order (for export)."""
    c = t.events.c
    return list(conn.execute(select(t.events).where(c.position >= lo, c.position < hi)
                             .order_by(c.position)))


def organization_paths(conn: Connection) -> dict[int, str]:
    return {int(r.id): r.path for r in conn.execute(select(t.organizations.c.id,
                                                           t.organizations.c.path))}


def firearm_last_events(conn: Connection, ids: Iterable[int]) -> dict[int, int]:
    """firearm id -> last_event, to name the entry a differing projection row points at."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    f = t.firearms.c
    return {int(r.id): int(r.last_event)
            for r in conn.execute(select(f.id, f.last_event).where(f.id.in_(wanted)))}
