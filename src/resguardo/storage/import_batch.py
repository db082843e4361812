"""Appending many registrations at once: what ``UnitOfWork.append`` writes, in bulk.

A bulk import registers up to millions of firearms in one transaction.
``UnitOfWork.append`` costs a few SQLAlchemy statements per event; this
builds the very same rows in plain Python and hands them, a batch at a time,
to ``storage.bulk.BatchWriter``, which writes them with one statement per
table and batch on the driver cursor of the unit of work's own transaction:

- ``events``: the event as ``UnitOfWork.append`` records it (canonical
  payload text, position, instant, actor, organization, request id);
- the projection: the ``firearms`` row ``projector`` derives from
  ``firearm.registered``, already carrying the effect of the custody event
  that may follow it in the same batch, folded in by ``domain.firearm_state``'s
  rule when that event changes nothing but the weapon's row
  (``projector.row_only``: ``custody.issued`` without an override,
  ``firearm.repair_sent``); any other follow-up event goes through
  ``projector.apply`` itself;
- the ledger: each event's leaf hash and the Merkle nodes it completes, as
  ``ledger_store.append`` would write them one by one (the tree's right edge
  is kept in memory from one batch to the next, and read again from the
  database when events were appended one by one in between);
- the append hooks (automatic checkpoints) run once per batch, with its last
  event, rather than once per event.

``prepare`` builds a batch while the previous one is still being written
(``BatchWriter`` writes on a thread of its own on SQLite); ``write`` hands it
over. One batch at most is in flight, and ``wait`` must be called before
anything else touches the connection (``registered`` does so itself).

The payload text comes from ``registration_text`` (plain rows) or
``flat_canonical``, which give the RFC 8785 text ``canonical`` gives (the
tests compare them on hostile text), and the leaf text, written by the writers
``ledger.leaf`` builds from the leaf's one layout, is checked against
``Event.leaf()`` on the first event of every batch, so the ledger reads these
events exactly as any other. Replaying the log rebuilds the same projection
(tested).

The unit of work's log head advances by the number of events written; the
events are not kept in ``UnitOfWork.appended`` (a million of them would not
fit in memory).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from resguardo.domain import firearm_state
from resguardo.domain.codes import FirearmStatus
from resguardo.domain.entities import NewEvent
from resguardo.domain.events import Event, canonical, new_secrets
from resguardo.domain.registry import REGISTRATION_FIELDS, registration_fields, registration_payload
from resguardo.ledger import LEAF_PREFIX, extend_frontier, root_node_keys
from resguardo.ledger.leaf import INT, JSON, LEAF, TEXT, Layout, Member
from resguardo.storage import projector
from resguardo.storage.bulk import FIREARM_COLUMNS as _FIREARM_COLUMNS
from resguardo.storage.bulk import BatchWriter, Common
from resguardo.storage.database import driver_connection, driver_sql
from resguardo.storage.ledger_store import DbNodeStore
from resguardo.storage.uow import UnitOfWork

_MAX_SAFE = 2**53 - 1
#: The registration fields that are never None (``domain.registry.registration_fields``).
_REQUIRED = frozenset({"serial", "serial_key", "make", "make_key", "calibre", "kind",
                       "agency_id"})
#: The columns of a weapon's row that an entry following its registration in the same
#: batch may set and still be written in the row itself (its instant is the batch's).
_FOLDABLE = frozenset({"status", "location_id", "custodian_id", "status_since", "last_event"})


def _folded(event_type: str, payload: dict) -> firearm_state.Rule | None:
    """The ``firearm_state`` rule of an entry that follows a registration in its batch, when
    the row written can carry its effect (it changes nothing but that row, and only
    ``_FOLDABLE`` columns); None when it goes through ``projector.apply``."""
    rule = firearm_state.rule_for(event_type, payload)
    if (rule is None or not rule.columns or not _FOLDABLE.issuperset(rule.columns)
            or not projector.row_only(event_type, payload)):
        return None
    return rule

_KEY_CHUNK = 400
_LEAF_PREFIX = LEAF_PREFIX
_SHA256 = hashlib.sha256


# --- canonical payload text --------------------------------------------------------------

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                          check_circular=False, allow_nan=False).encode


_SIMPLE = frozenset({str, int, bool, type(None)})
_WITH_DICT = _SIMPLE | {dict}
_ASCII_KEYS: dict[tuple[str, ...], bool] = {}


def flat_canonical(payload: dict[str, Any]) -> str:
    """RFC 8785 text of a payload (what ``canonical(payload)`` returns), quickly.

    For ASCII keys, and values that are text, integers within +/-(2**53 - 1),
    booleans, null or an object of text keyed by text below U+10000, the C JSON
    encoder with sorted keys writes exactly the RFC 8785 form: the same escapes
    (the two-character forms and lower-case ``\\u00xx``), code-point order
    (equal to UTF-16 order below U+10000), integers as digits. Anything else
    goes to ``canonical``.
    """
    keys = tuple(payload)
    ascii_keys = _ASCII_KEYS.get(keys)
    if ascii_keys is None:
        ascii_keys = "".join(keys).isascii()
        if len(_ASCII_KEYS) < 256:
            _ASCII_KEYS[keys] = ascii_keys
    values = payload.values()
    kinds = set(map(type, values))
    if not ascii_keys or not kinds <= _SIMPLE and not (
            kinds <= _WITH_DICT and all(_flat_text(v) for v in values if type(v) is dict)):
        return canonical(payload)
    if int in kinds and not all(-_MAX_SAFE <= v <= _MAX_SAFE for v in values
                                if type(v) is int):
        return canonical(payload)
    return _dumps(payload)


def _flat_text(value: dict[Any, Any]) -> bool:
    return all(type(k) is str and type(v) is str and (not k or max(k) < "\U00010000")
               for k, v in value.items())


# The registration payload's members, as ``domain.registry.registration_payload`` writes
# them (``_check_registration_text`` compares the two when this module loads).
_REGISTRATION = Layout((
    *(Member(name, INT if name in ("licence_id", "agency_id") else TEXT,
             nullable=name not in _REQUIRED) for name in REGISTRATION_FIELDS),
    Member("location_id", INT), Member("status", TEXT),
    Member("serial_as_typed", TEXT, optional=True), Member("notes", JSON, optional=True)))
_registration_text = _REGISTRATION.bound_writer(
    ("status",), (*REGISTRATION_FIELDS, "location_id", "notes", "serial_as_typed"))(
        status=FirearmStatus.IN_STORAGE.value)


def registration_text(fields: Sequence[Any], location_id: int,
                      notes_text: str | None = None, serial_as_typed: str | None = None) -> str:
    """RFC 8785 text of ``canonical(registration_payload(fields, location_id,
    serial_as_typed, notes))``, written directly.

    ``fields`` are the values ``domain.registry.registration_fields`` gives (text or None,
    the licence and agency ids as integers), ``notes_text`` the canonical text of the
    notes object (None: no notes). The domain decides the values and which keys there
    are; this only writes them, with a writer ``ledger.leaf`` builds from the members
    (``_REGISTRATION``). ``_check_registration_text`` compares the two when this module is
    loaded, the import compares them once per batch (``FirearmImport.check_plain``) and
    the tests on arbitrary text.
    """
    return _registration_text(*fields, location_id, notes_text, serial_as_typed)


def _check_registration_text() -> None:
    """``registration_text`` writes the payload ``registration_payload`` describes: the same
    keys, in the same order, with and without the optional ones (else the module fails to
    load, rather than an import writing entries the domain would not)."""
    samples = [
        (registration_fields("glk 900-01", "Glock", "17", "9mm", "pistol", "F-1", "B 1",
                             "BI-1", 7, "2024-01-02", "Ñandú", "OC-1", 3), {"lote": "Sí"}),
        (registration_fields("GLK-1", "Glock", None, "9mm", "pistol", None, None, None, None,
                             None, None, None, 3), None),
    ]
    for (fields, typed), notes in samples:
        payload = registration_payload(fields, 5, typed, notes)
        text = registration_text(fields, 5, None if notes is None else canonical(notes), typed)
        if text != canonical(payload):
            raise AssertionError("registration_text differs from domain.registry's payload")
    if _FIREARM_COLUMNS[1:16] != REGISTRATION_FIELDS:
        raise AssertionError("the registration fields are not the firearms columns in order")


leaf_text = LEAF.writer()
"""The ledger leaf of an event (``Event.leaf()``), its payload already canonical text: a
function of ``ledger.leaf.LEAF``'s members in their declared order (position, type, at,
actor_id, actor, org_id, subject_type, subject_id, corrects, reason, request_id, payload
text, secret). Integers are ids and positions, far below 2**53."""
#: The leaf of a ``firearm.registered`` entry of a batch: called with what the batch's
#: entries share, it gives a function of (org_id, payload text, position, secret, subject_id).
_registration_leaf = LEAF.bound_writer(
    ("actor", "actor_id", "at", "corrects", "reason", "request_id", "subject_type", "type"),
    ("org_id", "payload", "position", "secret", "subject_id"))


# --- looking up what is already registered ------------------------------------------------


def _sql(pg: bool, text: str) -> str:
    return driver_sql(text, qmark=not pg)


@dataclass(frozen=True, slots=True)
class Registered:
    """A firearm already in the registry: its id and owning agency."""

    id: int
    agency_id: int


Registration = tuple[str, tuple, int, "NewEvent | None"]
"""One firearm to register: (canonical payload text, its ``REGISTRATION_FIELDS`` values
(``domain.registry``, in ``firearms`` column order),
location id, the custody event that follows it or None). The registration is the event
``domain.registry.register_firearm`` decides: organization the agency, no reason."""

_check_registration_text()


def registration_of(new: NewEvent) -> Registration:
    """A ``firearm.registered`` event the domain decided, as ``append_registrations`` takes it."""
    p = new.payload
    if new.org_id != p["agency_id"] or new.reason is not None or p["status"] != "in_storage":
        raise ValueError("not a registration as domain.registry.register_firearm decides it")
    return (flat_canonical(p), tuple(p[name] for name in REGISTRATION_FIELDS),
            p["location_id"], None)


@dataclass(slots=True)
class Batch:
    """Rows of one batch of registrations, ready to be written (``LogWriter.write``)."""

    start: int
    end: int
    ids: list[int]
    events: list[tuple]
    """Rows of ``bulk.EVENT_OWN``."""
    common: Common
    firearms: list[tuple]
    """The ``firearms`` rows the writer does not derive (``BatchWriter.write``)."""
    nodes: list[tuple]
    frontier: dict[tuple[int, int], bytes]
    later: list[Event]
    tail: Event


class LogWriter:
    """Bulk appends in one unit of work (see the module docstring)."""

    def __init__(self, uow: UnitOfWork, *, background: bool = True) -> None:
        self.uow = uow
        self.conn = uow.conn
        self.hooks = uow.hooks
        self._dbapi = driver_connection(uow.conn)
        self._pg = uow.conn.dialect.name == "postgresql"
        actor = uow.actor
        self._actor_id = actor.user_id if actor else None
        self._actor = actor.username if actor else uow.system_name
        self.written = 0
        self._rows = BatchWriter(uow.conn, background=background)
        #: The tree's right edge after this writer's last batch, and that batch's end.
        self._frontier: dict[tuple[int, int], bytes] | None = None
        self._tree_size = -1
        self._import_entry: int | None = None

    @property
    def import_entry(self) -> int | None:
        """The ``import.started`` entry of a sliced import: every registration names it
        (``import_entry``), and the weapon's row carries it (``firearms.import_id``)."""
        return self._import_entry

    @import_entry.setter
    def import_entry(self, entry: int | None) -> None:
        self._import_entry = entry
        if entry is not None:
            # a slice commits: no index may be set aside across a commit, the desk reads it
            self._rows.keep_indexes()

    def _cursor(self) -> Any:
        return self._dbapi.cursor()

    # -- reads ---------------------------------------------------------------------

    def registered(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Registered]:
        """The firearms registered anywhere (any agency) under these (make_key, serial_key).

        Looked up through the unique (make_key, serial_key) index, the one index of
        ``firearms`` a large import keeps up as it goes (``BatchWriter``).
        """
        self.wait()
        return self._registered(keys)

    def registered_later(self, keys: Iterable[tuple[str, str]]
                         ) -> Callable[[], dict[tuple[str, str], Registered]]:
        """``registered``, looked up on the writer's thread once the batch in flight is
        written (``BatchWriter.then``): the caller prepares the next batch meanwhile, and
        the function returned waits for the answer. Nothing else may use the connection
        before it is called."""
        wanted = list(keys)
        found: dict[tuple[str, str], Registered] = {}
        self._rows.then(lambda: found.update(self._registered(wanted)))

        def answer() -> dict[tuple[str, str], Registered]:
            self.wait()
            return found

        return answer

    def _registered(self, keys: Iterable[tuple[str, str]]
                    ) -> dict[tuple[str, str], Registered]:
        by_make: dict[str, list[str]] = {}
        for make, serial in set(keys):
            by_make.setdefault(make, []).append(serial)
        found: dict[tuple[str, str], Registered] = {}
        cur = self._cursor()
        try:
            for make, serials in by_make.items():
                for start in range(0, len(serials), _KEY_CHUNK):
                    chunk = serials[start:start + _KEY_CHUNK]
                    marks = ", ".join("?" * len(chunk))
                    sql = _sql(self._pg, "SELECT id, agency_id, serial_key FROM firearms "
                                         f"WHERE make_key = ? AND serial_key IN ({marks})")
                    if self._pg:
                        # Planned each time: a statement psycopg prepared while the table
                        # was small would keep that plan as the import grows it.
                        cur.execute(sql, [make, *chunk], prepare=False)
                    else:
                        cur.execute(sql, [make, *chunk])
                    for fid, agency_id, serial in cur.fetchall():
                        found[(make, serial)] = Registered(int(fid), int(agency_id))
        finally:
            cur.close()
        return found

    # -- writes --------------------------------------------------------------------

    def next_position(self) -> int:
        """The position the next appended event will take."""
        return log_position(self.uow)

    def prepare(self, items: Sequence[Registration], at: str) -> Batch | None:
        """The rows that append ``items`` at the log's head (nothing is written yet).

        Each ``firearm.registered`` event is followed by its custody event if any,
        whose ``firearm_id`` and ``subject_id`` are set to the position its
        registration takes (the new firearm's id). May run while the previous
        batch is being written: it reads the database only when events were
        appended since this writer's last batch.
        """
        if not items:
            return None
        start = position = self.next_position()
        actor_id, actor = self._actor_id, self._actor
        request_id = self.uow.request_id
        sha256, prefix = _SHA256, _LEAF_PREFIX
        # The leaf of a registration: what leaf_text() writes, its shared parts once.
        registration_leaf = _registration_leaf(
            actor=actor, actor_id=actor_id, at=at, corrects=None, reason=None,
            request_id=request_id, subject_type="firearm", type="firearm.registered")
        # one secret per event: a registration's and its custody event's, if any
        secret = new_secrets(len(items) + sum(1 for item in items if item[3] is not None)
                             ).__next__
        derived = self._rows.derives_firearms
        event_rows: list[tuple] = []
        firearm_rows: list[tuple] = []
        leaves: list[bytes] = []
        ids: list[int] = []
        later: list[Event] = []
        last: tuple[int, str, str | None, int | None, str | None, int | None, str, str
                    ] | None = None
        location_id: int | None
        import_entry = self._import_entry
        marker = None if import_entry is None else f',"import_entry":{int(import_entry)},"kind":'
        for text, fields, location_id, follow in items:
            fid = position
            if marker is not None:
                # the sliced import's weapons name it (RFC 8785 order: after "folio", before
                # "kind"; the first ',"kind":' is the payload's own, nested objects come later)
                text = text.replace(',"kind":', marker, 1)
            org = fields[14]
            own = secret()
            event_rows.append((fid, "firearm.registered", org, "firearm", fid, None, None, text,
                               own))
            leaves.append(sha256(prefix + registration_leaf(org, text, fid, own, fid).encode()
                                 ).digest())
            status, custodian_id, last_event = "in_storage", None, fid
            position += 1
            ids.append(fid)
            if follow is not None:
                follow = replace(follow, payload={**follow.payload, "firearm_id": fid},
                                 subject_id=fid)
                f = follow.payload
                ftext = flat_canonical(f)
                own = secret()
                event_rows.append((position, follow.type, follow.org_id, follow.subject_type, fid,
                                   follow.corrects, follow.reason, ftext, own))
                leaves.append(sha256(prefix + leaf_text(
                    position, follow.type, at, actor_id, actor, follow.org_id,
                    follow.subject_type, fid, follow.corrects, follow.reason, request_id,
                    ftext, own).encode("utf-8")).digest())
                rule = _folded(follow.type, f)
                if rule is not None:  # what the projector would write, in the row itself
                    row = dict(zip(rule.columns, rule.values(f, at, position), strict=True))
                    status = row.get("status", status)
                    location_id = row.get("location_id", location_id)
                    custodian_id = row.get("custodian_id", custodian_id)
                    last_event = row.get("last_event", last_event)
                else:
                    later.append(self._event(position, follow, at, own))
                last = (position, follow.type, follow.subject_type, fid, follow.reason,
                        follow.org_id, ftext, own)
                position += 1
            else:
                last = (fid, "firearm.registered", "firearm", fid, None, org, text, own)
            if not derived or last_event != fid:  # else: the registration's own row
                firearm_rows.append((fid, *fields, status, location_id, custodian_id, at,
                                     last_event, import_entry))
        common = (at, actor_id, actor, request_id)
        self._check(event_rows[0], common, leaves[0])
        assert last is not None
        pos, typ, stype, sid, reason, org_id, payload_text, tail_secret = last
        tail = Event(position=pos, type=typ, at=at, actor_id=actor_id, actor=actor,
                     org_id=org_id, subject_type=stype, subject_id=sid, corrects=None,
                     reason=reason, request_id=request_id, payload=json.loads(payload_text),
                     secret=tail_secret)
        nodes, frontier = self._nodes(start, leaves)
        return Batch(start, position, ids, event_rows, common, firearm_rows, nodes, frontier,
                     later, tail)

    def write(self, batch: Batch) -> None:
        """Append a prepared batch (written on the writer's thread on SQLite; see ``wait``)."""
        self.wait()
        if batch.start != self.next_position():
            raise RuntimeError("the log moved on since this batch was prepared")
        self._advance(batch.end)
        self.written += batch.end - batch.start
        self._frontier, self._tree_size = batch.frontier, batch.end
        conn, later, tail, hooks = self.conn, batch.later, batch.tail, self.hooks

        def after() -> None:
            for ev in later:
                projector.apply(conn, ev)
            for hook in hooks:
                hook(conn, tail)

        self._rows.write(batch.events, batch.common, batch.firearms, batch.nodes, after)

    def append_registrations(self, items: Sequence[Registration], at: str) -> list[int]:
        """Append ``items`` now (``prepare`` then ``write``); returns the new firearms' ids."""
        batch = self.prepare(items, at)
        if batch is None:
            return []
        self.write(batch)
        return batch.ids

    def _nodes(self, start: int, leaves: list[bytes]
               ) -> tuple[list[tuple], dict[tuple[int, int], bytes]]:
        """Tree nodes the leaves complete, and the tree's right edge after them."""
        if self._frontier is not None and self._tree_size == start:
            edge = self._frontier
        else:  # events were appended one by one since: read the edge from the database
            self.wait()
            edge = DbNodeStore(self.conn).get_many(root_node_keys(start))
        nodes, frontier = extend_frontier(edge, start, leaves)
        return nodes, frontier

    def between_slices(self) -> None:
        """Call after a slice is committed, before the next one begins (see
        ``BatchWriter.between_slices``)."""
        self._rows.between_slices()

    def in_background(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (which may use the connection) after the batch being written, on the
        writer's thread when there is one (``BatchWriter.in_background``); ``wait`` returns
        once it has run."""
        self._rows.in_background(fn)

    def then(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (which may use the connection) on the writer's thread right after the
        batch in flight, without waiting for it here (``BatchWriter.then``); ``wait``
        returns once it has run, raising what made it fail."""
        self._rows.then(fn)

    def wait(self) -> None:
        """Return once the batch being written is written (raising what made it fail).

        Call before anything else uses the connection: a batch is written on a
        thread of its own while the next one is read and judged.
        """
        self._rows.wait()

    def restore_indexes(self) -> None:
        """Build again the indexes a large import set aside, and set none aside any more
        (before queries that need them: custody and corrections of ``--update``)."""
        self._rows.restore_indexes()

    def close(self, *, failed: bool = False) -> None:
        """Wait for the last batch; leave the connection as it was found (``failed``: the
        transaction is about to be rolled back)."""
        self._rows.close(failed=failed)

    def _event(self, position: int, new: NewEvent, at: str, secret: str) -> Event:
        return Event(position=position, type=new.type, at=at, actor_id=self._actor_id,
                     actor=self._actor, org_id=new.org_id, subject_type=new.subject_type,
                     subject_id=new.subject_id, corrects=new.corrects, reason=new.reason,
                     request_id=self.uow.request_id,
                     payload=json.loads(canonical(new.payload)), secret=secret)

    @staticmethod
    def _check(row: tuple, common: Common, leaf_hash: bytes) -> None:
        """The fast texts of one event against the definitions (once per batch)."""
        position, type_, org_id, subject_type, subject_id, corrects, reason, text, secret = row
        at, actor_id, actor, request_id = common
        payload = json.loads(text)
        event = Event(position=position, type=type_, at=at, actor_id=actor_id, actor=actor,
                      org_id=org_id, subject_type=subject_type, subject_id=subject_id,
                      corrects=corrects, reason=reason, request_id=request_id,
                      payload=payload, secret=secret)
        if text != canonical(payload) or leaf_hash != _SHA256(_LEAF_PREFIX + event.leaf()).digest():
            raise RuntimeError("bulk event text differs from its canonical form")

    def _advance(self, size: int) -> None:
        # The unit of work commits the head it holds; bulk appends move it on.
        self.uow._size = size  # noqa: SLF001
        self.uow._dirty = True  # noqa: SLF001


# --- the log's counters, for undoing one row of an import -----------------------------------


def log_position(uow: UnitOfWork) -> int:
    """The position the next event appended in ``uow`` will take (takes the writer's lock)."""
    uow.lock()
    return uow._head()  # noqa: SLF001 - the unit of work's own counter


@dataclass(frozen=True, slots=True)
class Mark:
    size: int
    appended: int


def mark(uow: UnitOfWork) -> Mark:
    """Where the unit of work's log stands (with ``undo``: one row's savepoint)."""
    return Mark(log_position(uow), len(uow.appended))


def undo(uow: UnitOfWork, to: Mark) -> None:
    """After a savepoint rolled back: forget the events appended since ``to``."""
    uow._size = to.size  # noqa: SLF001
    del uow.appended[to.appended:]


@contextmanager
def savepoint(uow: UnitOfWork) -> Iterator[None]:
    """Run a block whose events are all kept or, when it raises, all undone."""
    at = mark(uow)
    nested = uow.conn.begin_nested()
    try:
        yield
    except BaseException:
        nested.rollback()
        undo(uow, at)
        raise
    nested.commit()
