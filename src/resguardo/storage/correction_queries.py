"""Reads of identity corrections (serial, make, kind, calibre) for the overseer: the
requests of an agency and the entries that asked for, applied or rejected them.

The agency is looked up in the caller's scope by the service first; these reads
then take only that agency's requests and entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, or_

from resguardo.domain.events import Event
from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.event_queries import event_from_row
from resguardo.storage.repositories import Repositories

#: Entries that decide a request (an approved correction names it; so does a rejection).
DECISIONS = ("entry.corrected", "request.rejected")


def correction_requests(repo: Repositories, agency_id: int, start: str, end: str) -> list[dict]:
    """The agency's identity correction requests pending at some moment of [start, end)
    (asked for before ``end`` and not decided before ``start``), oldest first."""
    c = t.requests.c
    rows = repo.conn.execute(scoped.requests(repo.scope, side="from").where(
        c.kind == "correction", c.agency_id == agency_id, c.requested_at < end,
        or_(c.decided_at.is_(None), c.decided_at >= start)).order_by(c.id))
    return [dict(r._mapping) for r in rows]


def entries(repo: Repositories, positions: Iterable[int]) -> dict[int, Event]:
    """The entries at these positions that the actor may read."""
    wanted = sorted(set(positions))
    if not wanted:
        return {}
    rows = repo.conn.execute(scoped.entries(repo.scope).where(t.events.c.position.in_(wanted)))
    return {int(r.position): event_from_row(r) for r in rows}


def decisions(repo: Repositories, requests: list[dict]) -> dict[int, Event]:
    """The entry that approved or rejected each decided request, by request id."""
    decided = [r for r in requests if r["state"] != "pending"]
    if not decided:
        return {}
    c = t.events.c
    ids = {int(r["id"]) for r in decided}
    rows = repo.conn.execute(scoped.entries(repo.scope).where(
        c.type.in_(DECISIONS), c.subject_type == "firearm",
        c.subject_id.in_({int(r["firearm_id"]) for r in decided}), c.position > min(ids)))
    out: dict[int, Event] = {}
    for row in rows:
        ev = event_from_row(row)
        request_id = ev.payload.get("request_id")
        if request_id in ids:
            out[int(request_id)] = ev
    return out


def direct_corrections(repo: Repositories, agency_id: int, start: str,
                       end: str) -> list[Event]:
    """Corrections of the agency's registrations applied without a request in [start, end)
    (made before identity corrections needed a second person), oldest first."""
    c = t.events.c
    rows = repo.conn.execute(scoped.entries(repo.scope).where(and_(
        c.type == "entry.corrected", c.org_id == agency_id, c.at >= start, c.at < end))
        .order_by(c.position))
    return [ev for ev in map(event_from_row, rows)
            if ev.payload.get("request_id") is None
            and ev.payload.get("corrected_type") == "firearm.registered"]


def firearm_names_unscoped(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(serial, make) as registered now of these firearms (reviewed: corrections of the
    agency's weapons are named even after a transfer took one out of the caller's scope;
    callers pass only ids from the agency's own correction requests)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    c = t.firearms.c
    rows = conn.execute(scoped.firearms(scoped.Scope(None), c.id, c.serial, c.make)
                        .where(c.id.in_(wanted)))
    return {int(r.id): (r.serial, r.make) for r in rows}
