"""Queries for trace, the trace index and the duplicate check (beside the main repositories).

Reads of agency data go through ``repo.in_scope`` like every other query;
the few unscoped ones feed the system-wide trace index, whose results are
filtered by scope before anyone sees them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Connection, TextClause, func, select, text

from resguardo.domain.corrections import apply_corrections, identities
from resguardo.domain.events import Event
from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.event_queries import event_from_row
from resguardo.storage.repositories import Repositories

#: Entries that add a serial to the registry or may change one.
REGISTRY_CHANGES = ("firearm.registered", "entry.corrected")
TRACE_EVENTS = ("access.trace", "access.trace_request")
_BATCH = 50_000
_IN_CHUNK = 500


def _chunks(ids: Iterable[int], size: int = _IN_CHUNK) -> Iterator[list[int]]:
    batch: list[int] = []
    for value in ids:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the system-wide index (unscoped: filtered by scope after every search) ------------

def registry_keys_unscoped(conn: Connection) -> Iterator[tuple[int, str, str]]:
    """(firearm id, serial key, make key) of every registered firearm, by id, in batches
    (the trace index is the system's: every search through it is filtered by scope)."""
    c = t.firearms.c
    last = -1
    base = scoped.firearms(scoped.Scope(None), c.id, c.serial_key, c.make_key)
    while True:
        rows = conn.execute(base.where(c.id > last)
                            .order_by(c.id).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            yield int(row.id), row.serial_key, row.make_key
        last = int(rows[-1].id)


def registry_changes_unscoped(conn: Connection, start: int, stop: int) -> Iterator[tuple[int, str, int, dict]]:
    """(position, type, subject id, payload) of registrations and corrections in [start, stop)
    (the system-wide trace index, which every search then narrows by scope)."""
    c = t.events.c
    pos = start
    while pos < stop:
        rows = conn.execute(select(c.position, c.type, c.subject_id, c.payload).where(
            c.type.in_(REGISTRY_CHANGES), c.position >= pos, c.position < stop)
            .order_by(c.position).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            yield int(row.position), row.type, int(row.subject_id or 0), json.loads(row.payload)
        pos = int(rows[-1].position) + 1


def identity_corrected_unscoped(conn: Connection, stop: int) -> Iterator[int]:
    """Ids of the firearms whose serial or make a correction before ``stop`` changed (the
    trace index's; the duplicate check keeps those among the weapons it read in scope)."""
    c = t.events.c
    pos = 0
    while True:
        rows = conn.execute(select(c.position, c.subject_id, c.payload).where(
            c.type == "entry.corrected", c.position >= pos, c.position < stop)
            .order_by(c.position).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            payload = json.loads(row.payload)
            if changes_identity(payload):
                yield int(row.subject_id or 0)
        pos = int(rows[-1].position) + 1


def changes_identity(correction: dict) -> bool:
    """Whether a correction's payload changes the serial or make a registration recorded."""
    return (correction.get("corrected_type") == "firearm.registered"
            and bool({"serial_key", "make_key"} & set(correction.get("changes", {}))))


def former_keys(conn: Connection, ids: Iterable[int]) -> dict[int, set[tuple[str, str]]]:
    """Every (serial key, make key) each firearm was recorded under and is no longer:
    as registered, and as each correction of its serial or make left it."""
    return {firearm_id: {(sk, mk) for _, sk, _, mk in former}
            for firearm_id, former in former_identities_unscoped(conn, ids).items()}


def former_identities_unscoped(conn: Connection, ids: Iterable[int]
                      ) -> dict[int, list[tuple[str, str, str, str]]]:
    """Every (serial, serial key, make, make key) each firearm was recorded under and is
    no longer, first the one it was registered with (for the trace index, and for the
    duplicate check of weapons it read in scope: callers pass those ids only)."""
    c = t.events.c
    out: dict[int, list[tuple[str, str, str, str]]] = {}
    for chunk in _chunks(sorted(set(ids))):
        registered = {int(r.position): json.loads(r.payload) for r in conn.execute(
            select(c.position, c.payload).where(c.position.in_(chunk),
                                                c.type == "firearm.registered"))}
        fixes: dict[int, list[dict]] = {}
        for row in conn.execute(select(c.corrects, c.payload).where(
                c.type == "entry.corrected", c.corrects.in_(chunk)).order_by(c.position)):
            fixes.setdefault(int(row.corrects), []).append(json.loads(row.payload))
        for firearm_id, payload in registered.items():
            corrections = fixes.get(firearm_id, [])
            now = apply_corrections(payload, corrections)
            current = (now["serial_key"], now["make_key"])
            out[firearm_id] = [i for i in identities(payload, corrections)
                               if (i[1], i[3]) != current]
    return out


def firearm_keys_unscoped(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Current (serial key, make key) of these firearms, wherever they are (for the
    system-wide trace index)."""
    c = t.firearms.c
    out: dict[int, tuple[str, str]] = {}
    base = scoped.firearms(scoped.Scope(None), c.id, c.serial_key, c.make_key)
    for chunk in _chunks(ids):
        for row in conn.execute(base.where(c.id.in_(chunk))):
            out[int(row.id)] = (row.serial_key, row.make_key)
    return out


def entry_hash_unscoped(conn: Connection, position: int) -> str | None:
    """SHA-256 of the ledger leaf at ``position`` (None when the log is shorter): the trace
    index's own check that it was built from this log."""
    row = conn.execute(select(t.events).where(t.events.c.position == position)).first()
    if row is None:
        return None
    return hashlib.sha256(event_from_row(row).leaf()).hexdigest()


# --- candidates, in scope ------------------------------------------------------------------

def candidate_rows(repo: Repositories, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Firearms with these ids that lie in the actor's scope, with their agency code and path."""
    f, o, i = t.firearms.c, t.organizations.c, t.imports.c
    out: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        stmt = (scoped.firearms(repo.scope, f.id, f.serial, f.make, f.model, f.calibre, f.kind,
                                f.status, f.location_id, f.custodian_id, f.record_officer_id,
                                f.agency_id, o.code.label("agency"),
                                o.path.label("agency_path"), f.import_id,
                                i.state.label("import_state"))
                .join(t.organizations, o.id == f.agency_id)
                .outerjoin(t.imports, i.id == f.import_id)
                .where(f.id.in_(chunk)))
        for row in repo.conn.execute(stmt):
            found = dict(row._mapping)
            state = found.pop("import_state")
            import_id = found.pop("import_id")
            # a weapon whose import has not completed is not yet the registry's: said so
            found["import_running"] = (int(import_id) if import_id is not None
                                       and state != "completed" else None)
            out[int(row.id)] = found
    return out


def firearm_entries(repo: Repositories, ids: Iterable[int]) -> dict[int, list[Event]]:
    """Every entry the actor may read about each of these firearms (custody, requests,
    corrections), in log order: of a weapon in scope, its whole history."""
    c = t.events.c
    out: dict[int, list[Event]] = {}
    for chunk in _chunks(ids, 100):
        rows = repo.conn.execute(scoped.entries(repo.scope).where(
            c.subject_type == "firearm", c.subject_id.in_(chunk))
            .order_by(c.subject_id, c.position))
        for row in rows:
            out.setdefault(int(row.subject_id), []).append(event_from_row(row))
    return out


def custody_before(repo: Repositories, firearm_id: int, types: Iterable[str], *,
                   through: int | None, limit: int) -> list[Event]:
    """The last ``limit`` entries of these types about one firearm at or before position
    ``through`` (all when None) that the actor may read, newest first: read backwards
    through ``ix_events_subject (subject_type, subject_id, position)``, so only those are
    read."""
    c = t.events.c
    wanted = frozenset(types)
    cond: list[ColumnElement[bool] | TextClause] = [
        c.subject_type == "firearm", c.subject_id == firearm_id, c.type.in_(sorted(wanted))]
    if not wanted & t.FREQUENT_CUSTODY:  # the weapon's rare entries: their own index
        cond.append(text(t.FIREARM_RARE))
    if through is not None:
        cond.append(c.position <= through)
    rows = repo.conn.execute(scoped.entries(repo.scope).where(*cond)
                             .order_by(c.position.desc()).limit(limit))
    return [event_from_row(row) for row in rows]


def custody_after(repo: Repositories, firearm_id: int, types: Iterable[str], *,
                  after: int, limit: int) -> list[Event]:
    """The first ``limit`` entries of these types about one firearm after position
    ``after`` that the actor may read, oldest first (forwards through the same index)."""
    c = t.events.c
    rows = repo.conn.execute(scoped.entries(repo.scope).where(
        c.subject_type == "firearm", c.subject_id == firearm_id, c.type.in_(sorted(types)),
        c.position > after).order_by(c.position).limit(limit))
    return [event_from_row(row) for row in rows]


def entry_counts_unscoped(conn: Connection, firearm_id: int, other_types: Iterable[str]
                          ) -> tuple[int, int]:
    """How many entries are about one firearm, and how many of them are of ``other_types``.

    The first is counted from ``ix_events_subject`` alone (an index-only scan on
    PostgreSQL: no entry is loaded); the second names the few kinds of entry that
    are not custody (requests, corrections, overrides), read through the weapon's
    rare entries (``ix_events_firearm_rare``: no issue or return is among them).
    """
    c = t.events.c
    mine = (c.subject_type == "firearm", c.subject_id == firearm_id)
    total = conn.execute(select(func.count()).select_from(t.events).where(*mine)).scalar_one()
    rare = frozenset(other_types)
    other = conn.execute(select(func.count()).select_from(t.events).where(
        *mine, c.type.in_(sorted(rare)),
        *([text(t.FIREARM_RARE)] if not rare & t.FREQUENT_CUSTODY else []))).scalar_one()
    return int(total), int(other)


def firearm_entries_of_types(repo: Repositories, firearm_id: int, types: Iterable[str]
                             ) -> list[Event]:
    """Every entry of these (rare) types about one firearm the actor may read, in log
    order."""
    c = t.events.c
    rows = repo.conn.execute(scoped.entries(repo.scope).where(
        c.subject_type == "firearm", c.subject_id == firearm_id, c.type.in_(sorted(types)))
        .order_by(c.position))
    return [event_from_row(row) for row in rows]


def head_position_unscoped(conn: Connection) -> int:
    """The position of the last entry in the log (-1 when it is empty)."""
    last = conn.execute(select(func.max(t.events.c.position))).scalar_one()
    return -1 if last is None else int(last)


def last_position_through_unscoped(conn: Connection, includes: Callable[[str], bool]) -> int:
    """The last position whose entry's instant ``includes`` accepts (-1: none).

    Instants never decrease along the log (each entry takes its instant while it
    holds the log head), so the entries a moment includes are a prefix of the log
    and its end is found by bisection on the primary key: about 24 reads at
    10 million entries, whatever the moment.
    """
    c = t.events.c
    low, high = -1, head_position_unscoped(conn)  # includes(at[low]) holds; nothing past high
    while low < high:
        middle = (low + high + 1) // 2
        row = conn.execute(select(c.position, c.at).where(c.position >= middle)
                           .order_by(c.position).limit(1)).first()
        if row is None or not includes(row.at):
            high = middle - 1
        else:
            low = int(row.position)
    return low


# --- the access log of traces ------------------------------------------------------------------

def trace_log(repo: Repositories, *, actor_id: int | None, offset: int, limit: int
              ) -> tuple[list[Event], int]:
    """Recorded traces in scope, newest first (only ``actor_id``'s when given), and the total."""
    c = t.events.c
    cond: list[ColumnElement[bool]] = [c.type.in_(TRACE_EVENTS)]
    if actor_id is not None:
        cond.append(c.actor_id == actor_id)
    total = repo.conn.execute(scoped.entries(repo.scope, func.count()).where(*cond)).scalar_one()
    rows = repo.conn.execute(scoped.entries(repo.scope).where(*cond).order_by(c.position.desc())
                             .offset(offset).limit(limit))
    return [event_from_row(r) for r in rows], int(total)


# --- the registry in scope, for the duplicate check ------------------------------------------

def registry_in_scope(repo: Repositories) -> Iterator[dict[str, Any]]:
    """Every firearm in scope: id, serial, serial key, make, make key, agency code, status."""
    f, o = t.firearms.c, t.organizations.c
    last = -1
    while True:
        rows = repo.conn.execute(
            scoped.firearms(repo.scope, f.id, f.serial, f.serial_key, f.make, f.make_key,
                            f.status, o.code.label("agency"))
            .join(t.organizations, o.id == f.agency_id)
            .where(f.id > last).order_by(f.id).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            yield dict(row._mapping)
        last = int(rows[-1].id)
