"""The unit of work: one transaction, the acting user, the log appender and
the repositories. Entry points commit; services never do."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from resguardo.domain import inspections as inspection_rules
from resguardo.domain.entities import Actor, NewEvent
from resguardo.domain.errors import Conflict, NotFound
from resguardo.domain.events import Event, canonical, new_secret
from resguardo.domain.timefmt import DEFAULT_ZONE, in_zone, iso, utcnow
from resguardo.ledger import leaf_hash
from resguardo.storage import account_tables, ledger_store, positions, projector
from resguardo.storage.database import (
    WRITE,
    database_errors,
    is_sqlite,
    let_waiting_writers_in,
    wait_until_durable,
)
from resguardo.storage.repositories import Repositories

_HEAD_SQL = "SELECT size FROM log_head WHERE id = 1"
_LAST_INSTANT_UNSCOPED = "SELECT at FROM events WHERE position = ?"
#: Seconds a long write taken in slices lets waiting writers go first, at most, before its
#: next slice (``UnitOfWork.resume``): a steady stream of them never starves it.
YIELD_MOST = 1.0
#: The inspection open at an agency: the freeze refuses every writer's movement there,
#: whoever writes (unscoped: the writer's own reads applied scope; the freeze is the
#: system's rule)
_OPEN_INSPECTION_UNSCOPED = "SELECT id FROM inspections WHERE agency_id = ? AND state = 'open'"
#: The import a weapon came in, when it is not completed: the guard before any entry about
#: the weapon (unscoped: the entry's own reads applied the actor's scope already)
_UNFINISHED_IMPORT_UNSCOPED = (
    "SELECT i.id, i.file, i.state FROM firearms AS f JOIN imports AS i "
    "ON i.id = f.import_id WHERE f.id = ? AND i.state <> 'completed'")
_INSERT_EVENT = ("INSERT INTO events (position, type, at, actor_id, actor, org_id, subject_type,"
                 " subject_id, corrects, reason, request_id, payload, secret)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

#: Finds, inside the unit of work's own transaction, who acts (a session looked up by its
#: token): one round trip instead of a transaction of its own.
ActorResolver = Callable[[Connection], Actor]

#: Called with (connection, event) after an event is appended, in its transaction. The
#: deployment hands its hooks to each unit of work (``services.app.Wiring``).
AppendHook = Callable[[Connection, Event], None]


class UnitOfWork:
    """One transaction on behalf of one actor (``None`` for the system itself)."""

    def __init__(self, engine: Engine, actor: Actor | str | ActorResolver | None, *,
                 write: bool = True,
                 clock: Callable[[], datetime] = utcnow, request_id: str | None = None,
                 system_name: str = "system", hooks: Sequence[AppendHook] = (),
                 credential: str | None = None, fallback: Engine | None = None) -> None:
        self.engine = engine
        #: For a read that may lag (``engine`` is a read replica): the primary, used when
        #: the replica is unreachable or has not yet replayed what this request must see.
        self.fallback = fallback
        #: Which copy served this unit of work ("replica" or "primary").
        self.served_by = "primary"
        self._actor_spec = actor
        self.actor: Actor | None = actor if isinstance(actor, Actor) else None
        self.write = write
        self.clock = clock
        self.request_id = request_id
        self.system_name = system_name
        self.hooks = tuple(hooks)
        #: The credential the actor proved (``surface:kind:id``); recorded for every entry
        #: this unit of work commits (``account_tables.event_credentials``).
        self.credential = credential or (actor.credential if isinstance(actor, Actor)
                                         else None)
        self._size: int | None = None
        self._first: int | None = None
        #: The instant of the newest entry (``entry_instant``), read once under the lock.
        self._last_instant: str | None = None
        self._dirty = False
        self.appended: list[Event] = []
        #: Attempts the freeze refused: recorded in their own transaction (``_record_refusals``)
        #: whatever becomes of this one, so no refusal commits or loses the caller's work.
        self._refusals: list[NewEvent] = []
        #: Run once after the next commit (``after_commit``).
        self._after_commit: list[Callable[[], None]] = []
        #: Run when the unit of work ends, whatever became of it (``on_exit``).
        self._on_exit: list[Callable[[], None]] = []
        #: When ``commit_and_release`` let the writer's lock go (None: in a transaction).
        self._released_at: float | None = None
        #: Each organization's time zone as read in this transaction (``zone_of``).
        self._zones: dict[int, str] = {}

    def __enter__(self) -> UnitOfWork:
        if self.fallback is not None and not self.write:
            self._open_replica()
        else:
            self.conn = self._connect(self.engine)
            self._tx = self.conn.begin()
        conn = self.conn
        try:
            if isinstance(self._actor_spec, str):
                self.actor = Repositories(conn, None).actor_for(self._actor_spec)
            elif callable(self._actor_spec):
                self.actor = self._actor_spec(conn)
                self.credential = self.credential or self.actor.credential
        except BaseException:
            self._tx.rollback()
            conn.close()
            raise
        self.repo = Repositories(conn, self.actor)
        return self

    def _connect(self, engine: Engine) -> Connection:
        """A connection for this unit of work. A writer says so (SQLite then takes the write
        lock up front). A reader reads one moment of the database from its first statement to
        its end, on either engine: SQLite's read transaction is a snapshot already; on
        PostgreSQL a read runs REPEATABLE READ. Without it a long read (``ledger
        verify``, ``rebuild --check``, an export, a report) would mix states: the replay would
        read the log as it was and the comparison the projection as the desk left it a
        moment later, and a verify of a working deployment would report rows no one touched."""
        conn = engine.connect()
        if self.write:
            return conn.execution_options(**{WRITE: True})
        if conn.dialect.name == "postgresql":
            # Not READ ONLY as well: the pool then resets the connection to READ WRITE,
            # which a hot standby (the read replica) refuses for its next transaction.
            return conn.execution_options(isolation_level="REPEATABLE READ")
        return conn

    def _open_replica(self) -> None:
        """Read on the replica when it has replayed the request's position, else on the
        primary (a replica that is down or far behind slows reads, never loses them)."""
        assert self.fallback is not None
        wanted = positions.read_after()
        try:
            conn = self._connect(self.engine)
        except database_errors(postgresql=True):
            conn = None
        if conn is not None:
            tx = conn.begin()
            try:
                size = conn.exec_driver_sql(_HEAD_SQL).scalar()
            except database_errors(postgresql=True):
                size = None
            if size is not None and size >= wanted:
                self.conn, self._tx, self.served_by = conn, tx, "replica"
                return
            tx.rollback()
            conn.close()
        self.engine = self.fallback
        self.conn = self._connect(self.engine)
        self._tx = self.conn.begin()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            try:
                on_exit, self._on_exit = self._on_exit, []
                for fn in on_exit:
                    fn()
            finally:
                self.conn.close()
        self._record_refusals()

    # --- time -------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def zone_of(self, org_id: int) -> str:
        """The IANA zone organization ``org_id`` keeps: its own, its nearest ancestor's, or
        ``timefmt.DEFAULT_ZONE`` (``repo.place``); read once per transaction and read again
        after an ``organization.*`` entry."""
        zone = self._zones.get(org_id)
        if zone is None:
            # on the driver's cursor (storage/fast.py): an issue at the desk asks this
            raw = self.repo.raw
            row = raw.first("SELECT path, time_zone FROM organizations WHERE id = ?",
                            (org_id,))
            if row is None:
                raise NotFound(f"organization {org_id} not found", organization=str(org_id))
            zone = row.time_zone
            ancestors = [int(x) for x in row.path.strip("/").split("/")[:-1]]
            if zone is None and ancestors:
                marks = ", ".join("?" * len(ancestors))
                known = {r.id: r.time_zone for r in raw.rows(
                    f"SELECT id, time_zone FROM organizations WHERE id IN ({marks}) "
                    "AND time_zone IS NOT NULL", tuple(ancestors))}
                zone = next((known[a] for a in reversed(ancestors) if a in known), None)
            zone = self._zones[org_id] = zone or DEFAULT_ZONE
        return zone

    def zones_of(self, org_ids: Iterable[int]) -> dict[int, str]:
        """``zone_of`` for many organizations at once (two queries for those not read yet):
        a schedule or a dashboard over a whole state or country."""
        ids = set(org_ids)
        missing = ids - self._zones.keys()
        if missing:
            self._zones.update(self.repo.zones(missing))
        return {i: self._zones[i] for i in ids if i in self._zones}

    def today(self, org_id: int, at: datetime | None = None) -> date:
        """What day it is for organization ``org_id`` (at ``at``, default now): the one
        answer every decision and paper that speaks of a day takes (a credential valid
        through the 6th, a date "in the future", a revista's due day, ``--as-of``).

        Mexico is west of UTC: 18:07 on 6 December in Guadalajara is 00:07 UTC on the 7th,
        and it is still the 6th there. The domain takes this date as ``today``."""
        return in_zone(at or self.now(), self.zone_of(org_id)).date()

    # --- the log ------------------------------------------------------------------

    def _head(self) -> int:
        if self._released_at is not None:
            self.resume()
        if self._size is None:
            if not self.write:
                raise RuntimeError("a read-only unit of work cannot append events")
            # On PostgreSQL every writer queues on this row: appends get consecutive
            # positions and each writer sees the state its predecessor committed.
            sql = _HEAD_SQL if is_sqlite(self.engine) else _HEAD_SQL + " FOR UPDATE"
            self._size = int(self.repo.raw.scalar(sql))
            self._first = self._size
            self._last_instant = None  # others may have appended since it was read
        return self._size

    def lock(self) -> None:
        """Take the writer's lock now (before reading state that a decision depends on)."""
        self._head()

    def entry_instant(self, at: datetime | None = None) -> str:
        """The instant the next entry records: now (or ``at``), never earlier than the entry
        before it.

        Taken while holding the log head, so instants never decrease along the log: a trace
        finds the entries a moment includes by bisection on the position, and a server whose
        clock was set back (by NTP, a failover to a machine whose clock lags, or an insider
        who wants a movement dated before a weapon was recovered) cannot date an entry before
        one already recorded: the entry takes the last recorded instant instead.
        """
        position = self._head()
        if self._last_instant is None:
            last = (self.repo.raw.scalar(_LAST_INSTANT_UNSCOPED, (position - 1,))
                    if position else None)
            self._last_instant = last or ""
        instant = max(iso(at or self.now()), self._last_instant)
        self._last_instant = instant
        return instant

    # --- the freeze of an inspected agency -----------------------------------------------

    def open_inspection(self, agency_id: int) -> int | None:
        """The inspection open at ``agency_id`` (its registry is frozen), if any."""
        found = self.repo.raw.scalar(_OPEN_INSPECTION_UNSCOPED, (agency_id,))
        return None if found is None else int(found)

    def refuse_if_frozen(self, agency_id: int, what: str, subject: str | None = None) -> None:
        """Refuse (``Lockdown``) while an inspection is open at the agency.

        The attempt is recorded in a transaction of its own, after this one ends (committed
        or not): the record outlives the refusal, and the caller's work is never committed
        by it.
        """
        inspection_id = self.open_inspection(agency_id)
        if inspection_id is None:
            return
        self._refusals.append(inspection_rules.refused_attempt(inspection_id, agency_id, what,
                                                               subject))
        raise inspection_rules.lockdown(inspection_id)

    def _subject_unscoped(self, new: NewEvent) -> str | None:
        """The weapon (serial) or file a refused entry was about, for the record (the
        system's own read: the refusal names what was attempted, wherever it is)."""
        for key in ("serial", "file", "code"):
            value = new.payload.get(key)
            if isinstance(value, str):
                return value
        if new.subject_type == "firearm" and new.subject_id is not None:
            found = self.repo.raw.scalar("SELECT serial FROM firearms WHERE id = ?",
                                         (new.subject_id,))
            return None if found is None else str(found)
        return None

    def _record_refusals(self) -> None:
        if not self._refusals:
            return
        pending, self._refusals = self._refusals, []
        with UnitOfWork(self.engine, self.actor, clock=self.clock, request_id=self.request_id,
                        system_name=self.system_name, hooks=self.hooks,
                        credential=self.credential) as record:
            for new in pending:
                record.append(new)
            record.commit()

    # --- weapons of an unfinished import ---------------------------------------------------

    def refuse_if_importing(self, firearm_id: int) -> None:
        """Refuse (``Conflict``) any entry about a weapon whose import is not completed.

        A sliced import (``services.imports``) commits its weapons slice by slice; until its
        ``import.completed`` entry they are not the registry's, and a failed import takes
        them back (``import.voided``): no custody movement, correction or report may
        hang on them meanwhile.
        """
        found = self.repo.raw.first(_UNFINISHED_IMPORT_UNSCOPED, (firearm_id,))
        if found is None:
            return
        import_id, file, state = found.id, found.file, found.state
        if state == "running":
            raise Conflict(f"firearm {firearm_id} is being imported (import {import_id}, "
                           f"{file}): it takes no entry until the import is completed",
                           firearm=firearm_id, import_entry=int(import_id))
        raise Conflict(f"firearm {firearm_id} came in import {import_id} ({file}), which "
                       "failed and was voided: it is not in the registry",
                       firearm=firearm_id, import_entry=int(import_id))

    # --- appending ------------------------------------------------------------------------

    def append(self, new: NewEvent, *, at: datetime | None = None) -> Event:
        """Record one event and apply it to the projection, in this transaction.

        The one place the freeze is enforced: no entry that changes what an open
        inspection counts against is appended at its agency, whichever path asks.
        """
        position = self._head()
        self._refuse_if_held(new)
        actor = self.actor
        subject_id = new.subject_id
        if subject_id is None and new.subject_type is not None:
            subject_id = position  # the event creates its subject
        text = canonical(new.payload)
        payload = json.loads(text)  # plain JSON types only, as a reader of the log sees them
        ev = Event(
            position=position, type=new.type, at=self.entry_instant(at),
            actor_id=actor.user_id if actor else None,
            actor=actor.username if actor else self.system_name,
            org_id=new.org_id, subject_type=new.subject_type, subject_id=subject_id,
            corrects=new.corrects, reason=new.reason, request_id=self.request_id,
            payload=payload, secret=new_secret(),
        )
        # on the driver's cursor (storage/fast.py): this runs once per custody operation
        self.repo.raw.execute(_INSERT_EVENT, (
            ev.position, ev.type, ev.at, ev.actor_id, ev.actor, ev.org_id, ev.subject_type,
            ev.subject_id, ev.corrects, ev.reason, ev.request_id, text, ev.secret))
        projector.apply(self.conn, ev)
        if ev.type.startswith("organization."):
            self._zones.clear()  # a zone set on an organization reaches those below it
        ledger_store.append(self.conn, ev)
        for hook in self.hooks:
            hook(self.conn, ev)
        self._size = position + 1
        self._dirty = True
        self.appended.append(ev)
        return ev

    def _refuse_if_held(self, new: NewEvent,
                        frozen_checked: set[tuple[int, str]] | None = None) -> None:
        """The guards every appended entry passes: an open revista's freeze at its agency,
        and a weapon whose import has not finished. ``frozen_checked`` (a batch's) asks
        about each agency and entry type once."""
        if new.org_id is not None and inspection_rules.frozen_while_open(new.type):
            key = (new.org_id, new.type)
            if frozen_checked is None or key not in frozen_checked:
                if frozen_checked is not None:
                    frozen_checked.add(key)
                if self.open_inspection(new.org_id) is not None:
                    self.refuse_if_frozen(new.org_id, new.type, self._subject_unscoped(new))
        firearm_id = (new.subject_id if new.subject_type == "firearm"
                      else new.payload.get("firearm_id"))
        if isinstance(firearm_id, int) and not isinstance(firearm_id, bool):
            self.refuse_if_importing(firearm_id)

    def append_many(self, news: Sequence[NewEvent], *, at: datetime | None = None) -> list[Event]:
        """Record events one after the other, as ``append`` does each, with one statement
        per table for all of them (a roster import's registrations: ``services.registry.
        add_officers``).

        The same checks as ``append`` (the freeze of an inspected agency, a weapon of an
        unfinished import), the same event rows, projection rows (``projector.apply_many``)
        and tree nodes; the append hooks (automatic checkpoints) run once, with the last
        event, as they do for a bulk import's batch (``storage.import_batch``).
        """
        if not news:
            return []
        first = position = self._head()
        frozen_checked: set[tuple[int, str]] = set()
        actor = self.actor
        actor_id = actor.user_id if actor else None
        actor_name = actor.username if actor else self.system_name
        instant = self.entry_instant(at)
        events: list[Event] = []
        rows: list[tuple] = []
        for new in news:
            self._refuse_if_held(new, frozen_checked)
            subject_id = new.subject_id
            if subject_id is None and new.subject_type is not None:
                subject_id = position
            text = canonical(new.payload)
            ev = Event(
                position=position, type=new.type, at=instant, actor_id=actor_id,
                actor=actor_name, org_id=new.org_id, subject_type=new.subject_type,
                subject_id=subject_id, corrects=new.corrects, reason=new.reason,
                request_id=self.request_id, payload=json.loads(text), secret=new_secret())
            rows.append((ev.position, ev.type, ev.at, ev.actor_id, ev.actor, ev.org_id,
                         ev.subject_type, ev.subject_id, ev.corrects, ev.reason,
                         ev.request_id, text, ev.secret))
            events.append(ev)
            position += 1
        self.repo.raw.executemany(_INSERT_EVENT, rows)
        projector.apply_many(self.conn, events)
        if any(ev.type.startswith("organization.") for ev in events):
            self._zones.clear()
        ledger_store.append_leaf_hashes(self.conn, first,
                                        [leaf_hash(ev.leaf()) for ev in events])
        for hook in self.hooks:
            hook(self.conn, events[-1])
        self._size = position
        self._dirty = True
        self.appended.extend(events)
        return events

    def commit(self) -> None:
        # On PostgreSQL the log head's row lock is released at commit: committed without
        # waiting for the disk, then waited for (``wait_until_durable``), so writers queue
        # on the head for their work, not for each other's WAL flush.
        early = self._dirty and not is_sqlite(self.engine)
        if self._dirty:
            self.repo.raw.execute("UPDATE log_head SET size = ? WHERE id = 1", (self._size,))
            first, end = self._first, self._size
            if self.credential and first is not None and end is not None and end > first:
                account_tables.record_credential(self.conn, first, end, self.credential)
            if early:
                self.conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        self._tx.commit()
        self._zones.clear()  # the next transaction may see another's change of zone
        if early:
            wait_until_durable(self.conn)
        if self._dirty and self._size is not None:
            positions.note_commit(self._size)
        self._dirty = False
        self._first = self._size
        if self._refusals:
            self._record_refusals()
            self._size = self._first = None  # the record moved the log's head
        after, self._after_commit = self._after_commit, []
        for fn in after:
            fn()

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once, after the next commit (never after a rollback)."""
        self._after_commit.append(fn)

    def on_exit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` when this unit of work ends (after its rollback, before its connection
        goes back to the pool)."""
        self._on_exit.append(fn)

    def restart(self) -> None:
        """Roll back what is not committed and begin a new transaction."""
        try:
            self.rollback()
        except DBAPIError:
            # an interruption (Ctrl-C) between a statement's sending and its answer leaves
            # the driver's connection busy with it (PostgreSQL: "another command is already
            # in progress"): that connection is dropped and the transaction begins on a new one
            self.conn.invalidate()  # the failed rollback ended the transaction already
            self._forget()
        self._released_at = None
        self._tx = self.conn.begin()
        # an interruption (Ctrl-C) inside a statement makes SQLAlchemy drop the driver's
        # connection and open another: the repositories speak through the new one
        self.repo = Repositories(self.conn, self.actor)

    def commit_and_release(self) -> None:
        """Commit what is appended so far and take no new transaction yet: the writer's lock
        is free until ``resume`` (a slice of a long write; appending resumes by itself)."""
        self.commit()
        self._size = self._first = None  # others may append before the next slice
        self._released_at = time.monotonic()

    @property
    def released(self) -> bool:
        return self._released_at is not None

    def resume(self, pause: float = 0.0) -> None:
        """Begin the next transaction after ``commit_and_release``. With ``pause``, a
        writer waiting for the lock meanwhile goes first: on SQLite every writer that was
        waiting gets in before this one begins (``let_waiting_writers_in``, for at most
        ``YIELD_MOST`` seconds); where writers cannot say they wait, the transaction begins
        no sooner than ``pause`` seconds after the release (SQLite's busy handler retries
        every 100 ms at most)."""
        if self._released_at is None:
            return
        if pause > 0 and not let_waiting_writers_in(self.engine, YIELD_MOST):
            left = pause - (time.monotonic() - self._released_at)
            if left > 0:
                time.sleep(left)
        self._released_at = None
        self._tx = self.conn.begin()

    def commit_and_continue(self, pause: float = 0.0) -> None:
        """Commit what is appended so far, then begin a new transaction on the same
        connection, ``pause`` seconds later (``resume``)."""
        self.commit_and_release()
        self.resume(pause)

    def wait_until_durable(self) -> None:
        """Wait until what this unit of work read is on disk, before an outsider is shown it
        (a checkpoint pushed to a witness or downloaded): on PostgreSQL a writer's commit
        is visible a moment before its WAL is flushed (``commit``). A replica serves only
        what its primary flushed; SQLite commits durably."""
        if is_sqlite(self.engine) or self.served_by == "replica":
            return
        with self.engine.connect() as conn:
            wait_until_durable(conn)

    def rollback(self) -> None:
        self._after_commit.clear()
        self._zones.clear()
        if self._released_at is None:  # after ``commit_and_release`` nothing is open
            self._tx.rollback()
        self._forget()

    def _forget(self) -> None:
        """Nothing appended any more: what a rollback leaves."""
        self._size = None
        self._first = None
        self._dirty = False
        self.appended.clear()
