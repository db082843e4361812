"""Reads of the event log: the row-to-``Event`` mapping, and ``EventQueries``,
the entry, history, correction, replay and log-size reads ``Repositories`` inherits.
Every one starts from ``scoped.entries`` (the entries the actor may read); the system
(``actor=None``) reads them all."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from resguardo.domain.entities import Actor
from resguardo.domain.errors import NotFound
from resguardo.domain.events import Event
from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.fast import Raw

_LOG_SIZE = "SELECT size FROM log_head WHERE id = 1"


def event_from_row(row: Any) -> Event:
    return Event(position=row.position, type=row.type, at=row.at, actor_id=row.actor_id,
                 actor=row.actor, org_id=row.org_id, subject_type=row.subject_type,
                 subject_id=row.subject_id, corrects=row.corrects, reason=row.reason,
                 request_id=row.request_id, payload=json.loads(row.payload),
                 secret=row.secret)


class EventQueries:
    """Event and log reads on one connection; mixed into ``Repositories``."""

    conn: Connection
    raw: Raw
    actor: Actor | None
    scope: scoped.Scope

    def event(self, position: int) -> Event:
        """The entry at `position`, if the actor may read it (``scoped.entries``).

        Every person's look-up of an entry by its position goes through here: an entry the
        actor may not see raises the very `NotFound` a position that does not exist raises.
        """
        row = self.conn.execute(scoped.entries(self.scope)
                                .where(t.events.c.position == position)).first()
        if row is None:
            raise NotFound(f"entry {position} not found", position=position)
        return event_from_row(row)

    def readable_positions(self, start: int, stop: int) -> set[int]:
        """The positions in [start, stop) of the entries the actor may read (the ledger's
        export shows those whole and the others as their leaf hash)."""
        c = t.events.c
        return {int(p) for p in self.conn.execute(scoped.entries(self.scope, c.position).where(
            c.position >= start, c.position < stop)).scalars()}

    def event_unscoped(self, position: int) -> Event:
        """The entry at `position` whoever asks (the system's own reads: webhooks, verify)."""
        row = self.conn.execute(select(t.events).where(t.events.c.position == position)).first()
        if row is None:
            raise NotFound(f"entry {position} not found", position=position)
        return event_from_row(row)

    def history(self, subject_type: str, subject_id: int) -> list[Event]:
        """The entries about one subject the actor may read, oldest first."""
        c = t.events.c
        rows = self.conn.execute(scoped.entries(self.scope).where(
            c.subject_type == subject_type, c.subject_id == subject_id).order_by(c.position))
        return [event_from_row(r) for r in rows]

    def firearm_history(self, firearm_id: int) -> list[Event]:
        """The events whose subject is the firearm (not those of its officers), oldest first."""
        return self.history("firearm", firearm_id)

    def firearm_history_page(self, firearm_id: int, offset: int, limit: int
                             ) -> tuple[list[Event], bool]:
        """A page of the events about a firearm, newest first, and whether older ones exist."""
        c = t.events.c
        rows = list(self.conn.execute(
            scoped.entries(self.scope)
            .where(c.subject_type == "firearm", c.subject_id == firearm_id).order_by(c.position.desc()).offset(offset).limit(limit + 1)))
        return [event_from_row(r) for r in rows[:limit]], len(rows) > limit

    def corrections_of(self, positions: Sequence[int]) -> dict[int, list[Event]]:
        """The corrections of each of these entries the actor may read, by position."""
        if not positions:
            return {}
        c = t.events.c
        rows = self.conn.execute(scoped.entries(self.scope).where(
            c.type == "entry.corrected", c.corrects.in_(set(positions))).order_by(c.position))
        out: dict[int, list[Event]] = {}
        for row in rows:
            ev = event_from_row(row)
            out.setdefault(int(ev.corrects or 0), []).append(ev)
        return out

    def iter_events(self, start: int = 0, stop: int | None = None,
                    batch: int = 5000) -> Iterator[Event]:
        """The entries the actor may read from ``start`` (to ``stop``), in log order: the
        whole log for the system (replay, webhooks)."""
        c = t.events.c
        pos = start
        base = scoped.entries(self.scope)
        while True:
            stmt = base.where(c.position >= pos).order_by(c.position).limit(batch)
            if stop is not None:
                stmt = stmt.where(c.position < stop)
            rows = self.conn.execute(stmt).all()
            if not rows:
                return
            for row in rows:
                yield event_from_row(row)
            pos = rows[-1].position + 1

    def log_size(self) -> int:
        # asked by every write and by the tests around each request: a plain statement
        return int(self.raw.scalar(_LOG_SIZE))
