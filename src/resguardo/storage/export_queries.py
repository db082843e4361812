"""Reads behind the exports: the registry, roster, locations, custody, findings, licences.

Every query is scoped through ``Repositories.in_scope`` (the acting user's
organization and everything below it) and streams its rows in a stable
order (agency code, then the natural key), so two exports of the same data
are identical. The same queries run on the live projection and on a scratch
projection replayed from the log up to a date (``--as-of``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.sql import Select

from resguardo.domain.events import Event
from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.event_queries import event_from_row
from resguardo.storage.repositories import Repositories
from resguardo.storage.scoped import Scope

#: Rows fetched per round trip while streaming.
STREAM = 2000


def _stream(conn: Connection, stmt: Select) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(stream_results=True, yield_per=STREAM).execute(stmt)
    try:
        for row in result:
            yield dict(row._mapping)
    finally:
        result.close()


def firearm_rows(repo: Repositories, *, agency_id: int | None = None,
                 status: str | None = None) -> Iterator[dict[str, Any]]:
    """Firearms in scope with their agency, location, custodian and licence."""
    f, o, loc, of, lic = (t.firearms.c, t.organizations.c, t.locations.c, t.officers.c,
                          t.licences.c)
    stmt = (scoped.firearms(repo.scope, t.firearms, o.code.label("agency"),
                            loc.code.label("location"), of.badge.label("custodian"),
                            of.name.label("custodian_name"), lic.number.label("licence"))
            .join(t.organizations, o.id == f.agency_id)
            .outerjoin(t.locations, loc.id == f.location_id)
            .outerjoin(t.officers, of.id == f.custodian_id)
            .outerjoin(t.licences, lic.id == f.licence_id)
            .order_by(o.code, f.serial_key, f.make_key, f.id))
    if agency_id is not None:
        stmt = stmt.where(f.agency_id == agency_id)
    if status:
        stmt = stmt.where(f.status == status)
    return _stream(repo.conn, stmt)


def officer_rows(repo: Repositories, *, agency_id: int | None = None,
                 status: str | None = None) -> Iterator[dict[str, Any]]:
    """Officers in scope with their agency and licence."""
    of, o, lic = t.officers.c, t.organizations.c, t.licences.c
    stmt = (scoped.officers(repo.scope, t.officers, o.code.label("agency"),
                            lic.number.label("licence"))
            .join(t.organizations, o.id == of.agency_id)
            .outerjoin(t.licences, lic.id == of.licence_id)
            .order_by(o.code, of.badge))
    if agency_id is not None:
        stmt = stmt.where(of.agency_id == agency_id)
    if status:
        stmt = stmt.where(of.status == status)
    return _stream(repo.conn, stmt)


def location_rows(repo: Repositories, *,
                  agency_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Locations in scope with their agency."""
    loc, o = t.locations.c, t.organizations.c
    stmt = (scoped.locations(repo.scope, t.locations, o.code.label("agency"))
            .join(t.organizations, o.id == loc.agency_id)
            .order_by(o.code, loc.code))
    if agency_id is not None:
        stmt = stmt.where(loc.agency_id == agency_id)
    return _stream(repo.conn, stmt)


def finding_rows(repo: Repositories, *, agency_id: int | None = None,
                 resolution: str | None = None) -> Iterator[dict[str, Any]]:
    """Findings of closed inspections at agencies in scope, with the inspection's dates."""
    fi, i, o = t.inspection_findings.c, t.inspections.c, t.organizations.c
    stmt = (scoped.inspections(repo.scope, t.inspection_findings, o.code.label("agency"),
                               i.closed_at, i.planned_on)
            .join(t.inspection_findings, i.id == fi.inspection_id)
            .order_by(o.code, fi.inspection_id, fi.seq))
    if agency_id is not None:
        stmt = stmt.where(fi.agency_id == agency_id)
    if resolution == "open":
        stmt = stmt.where(fi.resolution.is_(None))
    elif resolution:
        stmt = stmt.where(fi.resolution == resolution)
    return _stream(repo.conn, stmt)


# --- the log up to a moment -------------------------------------------------------------


def events_before_unscoped(conn: Connection, cutoff: str) -> Iterator[Event]:
    """The log's entries in order up to the first one recorded at or after ``cutoff``.

    The log is appended in time order, so this prefix is the log as it stood
    at that instant. Unscoped on purpose (reviewed): an export "as of" a date replays the
    whole log into a scratch projection, which the export then reads through the bases
    with the actor's scope (``services.exports._projection``).
    """
    c = t.events.c
    position = 0
    while True:
        rows = conn.execute(select(t.events).where(c.position >= position)
                            .order_by(c.position).limit(STREAM)).all()
        if not rows:
            return
        for row in rows:
            if row.at >= cutoff:
                return
            yield event_from_row(row)
        position = rows[-1].position + 1


# --- licences ----------------------------------------------------------------------------------

#: Events that add a weapon or an officer to a licence, or remove one.
LICENCE_EVENTS = (
    "firearm.registered", "licence.firearm_attached", "firearm.released",
    "firearm.decommissioned", "firearm.reported_lost", "firearm.reported_stolen",
    "firearm.transfer_sent", "officer.registered", "licence.officer_attached",
    "officer.separated",
)


def licence(repo: Repositories, number: str) -> dict[str, Any]:
    """A licence in scope by number, with its holder and the agencies it covers."""
    lic, o, la = t.licences.c, t.organizations.c, t.licence_agencies.c
    licence_id = repo.licence_id(number)
    row = repo.conn.execute(scoped.licences(repo.scope, t.licences, o.code.label("holder"),
                                            o.name.label("holder_name"))
                            .join(t.organizations, o.id == lic.holder_id)
                            .where(lic.id == licence_id)).one()
    agencies = [r.code for r in repo.conn.execute(
        scoped.licence_agencies(repo.scope, o.code).join(t.organizations, la.agency_id == o.id)
        .where(la.licence_id == licence_id).order_by(o.code))]
    return {**dict(row._mapping), "agencies": agencies}


def licence_events(repo: Repositories, start: str, end: str) -> Iterator[Event]:
    """Entries the actor may read that may change a licence's weapons or officers,
    recorded in [start, end)."""
    c = t.events.c
    stmt = (scoped.entries(repo.scope).where(c.type.in_(LICENCE_EVENTS), c.at < end)
            .order_by(c.position))
    if start:
        stmt = stmt.where(c.at >= start)
    for row in _stream(repo.conn, stmt):
        yield Event(position=row["position"], type=row["type"], at=row["at"],
                    actor_id=row["actor_id"], actor=row["actor"], org_id=row["org_id"],
                    subject_type=row["subject_type"], subject_id=row["subject_id"],
                    corrects=row["corrects"], reason=row["reason"],
                    request_id=row["request_id"], payload=json.loads(row["payload"]))


def firearms_by_id(repo: Repositories, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Firearms in scope by id, with their agency code."""
    f, o = t.firearms.c, t.organizations.c
    out: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = repo.conn.execute(scoped.firearms(repo.scope, t.firearms, o.code.label("agency"))
                                 .join(t.organizations, o.id == f.agency_id)
                                 .where(f.id.in_(chunk)))
        out.update((r.id, dict(r._mapping)) for r in rows)
    return out


def officers_by_id(repo: Repositories, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Officers in scope by id, with their agency code."""
    of, o = t.officers.c, t.organizations.c
    out: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = repo.conn.execute(scoped.officers(repo.scope, t.officers, o.code.label("agency"))
                                 .join(t.organizations, o.id == of.agency_id)
                                 .where(of.id.in_(chunk)))
        out.update((r.id, dict(r._mapping)) for r in rows)
    return out


def licence_numbers_unscoped(repo: Repositories, ids: Sequence[int]) -> dict[int, str]:
    """Licence numbers by id (reviewed: a licence's movements name the licence a weapon
    moved to, which may cover no agency in the viewer's scope; callers pass only ids
    from the entries the report reads)."""
    if not ids:
        return {}
    c = t.licences.c
    return {r.id: r.number for r in repo.conn.execute(
        scoped.licences(Scope(None), c.id, c.number).where(c.id.in_(set(ids))))}


#: Statuses of a weapon that stands on its licence today (a loss, theft, decommission or
#: transfer was its removal; a recovered weapon held as evidence comes back on release).
ON_LICENCE_STATUSES = ("in_storage", "issued", "in_repair")


def licence_weapons(repo: Repositories, licence_id: int) -> list[dict[str, Any]]:
    """Weapons in scope standing on a licence, with where they are or who carries them."""
    f, o, loc, of = t.firearms.c, t.organizations.c, t.locations.c, t.officers.c
    stmt = (scoped.firearms(repo.scope, f.id, f.serial, f.make, f.model, f.calibre, f.kind,
                            f.folio, f.status, f.acquired_on, o.code.label("agency"),
                            o.name.label("agency_name"), loc.code.label("location"),
                            loc.name.label("location_name"), loc.kind.label("location_kind"),
                            of.badge, of.name.label("officer_name"), of.credential_folio,
                            of.credential_expiry)
            .join(t.organizations, o.id == f.agency_id)
            .outerjoin(t.locations, loc.id == f.location_id)
            .outerjoin(t.officers, of.id == f.custodian_id)
            .where(f.licence_id == licence_id, f.status.in_(ON_LICENCE_STATUSES))
            .order_by(o.code, loc.code, of.badge, f.make, f.serial))
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]


def licence_officers(repo: Repositories, licence_id: int) -> list[dict[str, Any]]:
    """Officers in scope on a licence (not separated), with the weapons they carry now."""
    of, o, f = t.officers.c, t.organizations.c, t.firearms.c
    stmt = (scoped.officers(repo.scope, of.id, of.badge, of.name, of.cuip, of.status,
                            of.credential_folio, of.credential_expiry, o.code.label("agency"))
            .join(t.organizations, o.id == of.agency_id)
            .where(of.licence_id == licence_id, of.status != "separated")
            .order_by(o.code, of.badge))
    people = [dict(r._mapping) for r in repo.conn.execute(stmt)]
    carried: dict[int, list[str]] = {}
    for r in repo.conn.execute(scoped.firearms(repo.scope, f.custodian_id, f.make, f.serial)
                               .where(f.status == "issued", f.custodian_id.is_not(None))):
        carried.setdefault(r.custodian_id, []).append(f"{r.make} {r.serial}")
    for person in people:
        person["carries"] = ", ".join(sorted(carried.get(person["id"], [])))
    return people


def undeclared_weapons(repo: Repositories) -> list[dict[str, Any]]:
    """Weapons in scope on no licence that still stand in an agency some licence covers
    (not lost, stolen, decommissioned, in transit or held as evidence), with the day they
    were acquired or, unknown, registered. An agency no recorded licence covers is left
    out: its weapons have nothing to be declared on in Resguardo."""
    f, o, e, la = t.firearms.c, t.organizations.c, t.events.c, t.licence_agencies.c
    stmt = (scoped.firearms(repo.scope, f.id, f.serial, f.make, f.agency_id, f.acquired_on,
                            o.code.label("agency"), e.at.label("registered_at"))
            .join(t.organizations, o.id == f.agency_id)
            .join(t.events, e.position == f.id)
            .where(f.licence_id.is_(None), f.status.in_(ON_LICENCE_STATUSES),
                   f.agency_id.in_(scoped.licence_agencies(repo.scope, la.agency_id))))
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]


def carrying_without_folio(repo: Repositories) -> list[dict[str, Any]]:
    """Weapons in scope issued to an officer who has no credential folio recorded."""
    f, of, o = t.firearms.c, t.officers.c, t.organizations.c
    stmt = (scoped.firearms(repo.scope, f.id.label("firearm_id"), f.serial, f.make,
                            f.agency_id, o.code.label("agency"), of.badge, of.name,
                            f.status_since)
            .join(t.officers, of.id == f.custodian_id)
            .join(t.organizations, o.id == f.agency_id)
            .where(f.status == "issued", of.credential_folio.is_(None)))
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]
