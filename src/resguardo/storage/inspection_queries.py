"""Queries for inspections (kept beside, not inside, the main repositories)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, select

from resguardo.domain.codes import FirearmStatus
from resguardo.domain.inspections import Inspection, InspectionState
from resguardo.domain.people import stored
from resguardo.domain.reconciliation import RegistryEntry
from resguardo.domain.timefmt import parse_date, parse_instant
from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.repositories import Repositories
from resguardo.storage.scoped import Scope


def _inspection(row: Any) -> Inspection:
    return Inspection(
        id=row.id, authority_id=row.authority_id, agency_id=row.agency_id,
        agency_path=row.path, planned_on=parse_date(row.planned_on),  # type: ignore[arg-type]
        sealed=bool(row.sealed), state=InspectionState(row.state),
        locations=tuple(json.loads(row.locations)), ordered_by=row.ordered_by,
        revealed=bool(row.revealed),
        opened_at=parse_instant(row.opened_at) if row.opened_at else None,
        closed_at=parse_instant(row.closed_at) if row.closed_at else None,
        people=tuple(stored(p) for p in json.loads(row.people)),
        present_by=parse_instant(row.present_by) if row.present_by else None)


def get(repo: Repositories, inspection_id: int) -> Inspection | None:
    """The inspection by id, if the actor may know of it (``scoped.inspections``: in
    scope, and not a sealed revista still planned at the actor's own agency)."""
    row = repo.conn.execute(scoped.inspections(repo.scope)
                            .where(t.inspections.c.id == inspection_id)).first()
    return None if row is None else _inspection(row)


def in_scope(repo: Repositories, state: str | None = None) -> list[Inspection]:
    i = t.inspections.c
    stmt = scoped.inspections(repo.scope).order_by(i.id.desc())
    if state:
        stmt = stmt.where(i.state == state)
    return [_inspection(r) for r in repo.conn.execute(stmt)]


def open_at(repo: Repositories, agency_id: int) -> Inspection | None:
    """The inspection open at an agency in scope, if any (the custody movements' freeze
    reads it unscoped: ``UnitOfWork.open_inspection``)."""
    i = t.inspections.c
    row = repo.conn.execute(scoped.inspections(repo.scope).where(
        i.agency_id == agency_id, i.state == "open")).first()
    return None if row is None else _inspection(row)


def details(repo: Repositories, inspection_id: int) -> dict:
    row = repo.conn.execute(scoped.inspections(repo.scope, t.inspections)
                            .where(t.inspections.c.id == inspection_id)).one()
    return dict(row._mapping)


def scans(repo: Repositories, inspection_id: int, *, last: int | None = None) -> list[dict]:
    s = t.inspection_scans.c
    stmt = scoped.scans(repo.scope).where(s.inspection_id == inspection_id)
    if last is not None:
        stmt = stmt.order_by(s.id.desc()).limit(last)
    else:
        stmt = stmt.order_by(s.id)
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]


def scan_counts(repo: Repositories, inspection_id: int) -> tuple[int, int]:
    """(scans recorded, distinct serials seen)."""
    s = t.inspection_scans.c
    row = repo.conn.execute(scoped.scans(repo.scope, func.count(),
                                         func.count(s.serial_key.distinct()))
                            .where(s.inspection_id == inspection_id)).one()
    return int(row[0]), int(row[1])


def registry_for(repo: Repositories, inspection: Inspection) -> list[RegistryEntry]:
    """The agency's books for the count: every weapon, or those stored at the scoped locations."""
    f, loc, off = t.firearms.c, t.locations.c, t.officers.c
    stmt = (scoped.firearms(repo.scope, f.serial, f.make, f.model, f.calibre, f.kind, f.status,
                            loc.code.label("location"), off.badge)
            .outerjoin(t.locations, loc.id == f.location_id)
            .outerjoin(t.officers, off.id == f.custodian_id)
            .where(f.agency_id == inspection.agency_id).order_by(f.id))
    if inspection.locations:
        stmt = stmt.where(and_(f.status == FirearmStatus.IN_STORAGE.value,
                               loc.code.in_(inspection.locations)))
    code = repo.org_unscoped(inspection.agency_id).code
    return [RegistryEntry(serial=r.serial, make=r.make, status=FirearmStatus(r.status),
                          location=r.location, custodian=r.badge, agency=code, model=r.model,
                          calibre=r.calibre) for r in repo.conn.execute(stmt)]


def others_with_keys_unscoped(repo: Repositories, agency_id: int,
                              keys: Iterable[str]) -> list[RegistryEntry]:
    """Weapons of other agencies whose serial keys were scanned (they are ``foreign``).

    Unscoped on purpose (reviewed): a revista that finds another agency's weapon says
    whose it is, whoever counts; only the serials scanned at the count are looked up."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    f, o = t.firearms.c, t.organizations.c
    out: list[RegistryEntry] = []
    for start in range(0, len(wanted), 500):
        stmt = (scoped.firearms(Scope(None), f.serial, f.make, f.status, o.code)
                .join(t.organizations, o.id == f.agency_id)
                .where(f.agency_id != agency_id, f.serial_key.in_(wanted[start:start + 500])))
        out.extend(RegistryEntry(serial=r.serial, make=r.make, status=FirearmStatus(r.status),
                                 agency=r.code) for r in repo.conn.execute(stmt))
    return out


def expected_rounds(repo: Repositories, agency_id: int) -> dict[tuple[str, str, str], int]:
    s, loc = t.ammo_stock.c, t.locations.c
    rows = repo.conn.execute(scoped.locations(repo.scope, loc.code, s.calibre, s.lot, s.quantity)
                             .join(t.ammo_stock, loc.id == s.location_id)
                             .where(loc.agency_id == agency_id))
    return {(r.code, r.calibre, r.lot): int(r.quantity) for r in rows}


def counted_rounds(repo: Repositories, inspection_id: int) -> dict[tuple[str, str, str], int]:
    c = t.inspection_rounds.c
    rows = repo.conn.execute(scoped.rounds(repo.scope).where(c.inspection_id == inspection_id))
    return {(r.location, r.calibre, r.lot): int(r.quantity) for r in rows}


def findings(repo: Repositories, inspection_id: int) -> list[dict]:
    c = t.inspection_findings.c
    rows = repo.conn.execute(scoped.findings(repo.scope)
                             .where(c.inspection_id == inspection_id).order_by(c.seq))
    return [dict(r._mapping) for r in rows]


def findings_page(repo: Repositories, inspection_id: int, *, states: Iterable[str] = (),
                  kind: str | None = None, offset: int = 0,
                  limit: int | None = None) -> tuple[list[dict], int]:
    """One page of an inspection's findings (filtered by state and kind) and the total."""
    c = t.inspection_findings.c
    cond = [c.inspection_id == inspection_id]
    wanted = list(states)
    if wanted:
        cond.append(c.state.in_(wanted))
    if kind:
        cond.append(c.kind == kind)
    total = int(repo.conn.execute(scoped.findings(repo.scope, func.count())
                                  .where(*cond)).scalar_one())
    stmt = scoped.findings(repo.scope).where(*cond).order_by(c.seq).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(r._mapping) for r in repo.conn.execute(stmt)], total


def finding_counts(repo: Repositories, inspection_id: int) -> dict[str, dict[str, int]]:
    """{state: {kind: count}} of an inspection's actionable findings."""
    c = t.inspection_findings.c
    rows = repo.conn.execute(scoped.findings(repo.scope, c.state, c.kind, func.count())
                             .where(c.inspection_id == inspection_id, c.actionable.is_(True))
                             .group_by(c.state, c.kind))
    out: dict[str, dict[str, int]] = {}
    for state, kind, n in rows:
        out.setdefault(state, {})[kind] = int(n)
    return out


def findings_by_id(repo: Repositories, inspection_id: int, seqs: Iterable[int]) -> dict[int, dict]:
    c = t.inspection_findings.c
    wanted = sorted(set(seqs))
    out: dict[int, dict] = {}
    for start in range(0, len(wanted), 500):
        rows = repo.conn.execute(scoped.findings(repo.scope).where(
            c.inspection_id == inspection_id, c.seq.in_(wanted[start:start + 500])))
        out.update({int(r.seq): dict(r._mapping) for r in rows})
    return out


def findings_with_key(repo: Repositories, inspection_id: int, key: str) -> list[dict]:
    """Findings of an inspection whose weapon has this serial key (for a scan after closing)."""
    c = t.inspection_findings.c
    rows = repo.conn.execute(scoped.findings(repo.scope)
                             .where(c.inspection_id == inspection_id, c.serial.is_not(None))
                             .order_by(c.seq))
    from resguardo.domain.serials import serial_key
    return [dict(r._mapping) for r in rows if serial_key(r.serial) == key]


def open_findings(repo: Repositories) -> list[dict]:
    """Per closed inspection in scope: its findings not yet closed, by state and kind."""
    c, o, i = t.inspection_findings.c, t.organizations.c, t.inspections.c
    stmt = (scoped.inspections(repo.scope, c.inspection_id, c.agency_id, o.code.label("agency"),
                               i.closed_at, i.present_by, c.state, c.kind,
                               func.count().label("n"))
            .join(t.inspection_findings, i.id == c.inspection_id)
            .where(c.actionable.is_(True), c.state != "closed")
            .group_by(c.inspection_id, c.agency_id, o.code, i.closed_at, i.present_by, c.state,
                      c.kind)
            .order_by(c.inspection_id))
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]


def agency_entries_unscoped(repo: Repositories, agency_id: int, after: int, before: int | None,
                            types: Iterable[str], *, limit: int) -> tuple[list[dict], int]:
    """Entries of these types at an agency strictly between two log positions (the first
    ``limit`` of them, and how many there are).

    Unscoped on purpose (reviewed): the caller shows them only to whom may see the
    inspection (``visible_to``); each entry names its weapon by serial, even one since
    transferred to an agency outside the viewer's scope."""
    e = t.events.c
    cond = [e.type.in_(sorted(set(types))), e.position > after, e.org_id == agency_id]
    if before is not None:
        cond.append(e.position < before)
    total = int(repo.conn.execute(select(func.count()).select_from(t.events)
                                  .where(*cond)).scalar_one())
    f = t.firearms.c
    rows = repo.conn.execute(
        select(e.position, e.type, e.at, e.actor, e.payload, e.reason,
               f.serial.label("firearm_serial"))
        .outerjoin(t.firearms, and_(e.subject_type == "firearm", f.id == e.subject_id))
        .where(*cond).order_by(e.position).limit(limit))
    return [dict(r._mapping) for r in rows], total


def entry_position(repo: Repositories, inspection_id: int, event_type: str) -> int | None:
    """Where an inspection's entry of this type (opened, closed) sits in the log, if the
    actor may read it."""
    e = t.events.c
    found = repo.conn.execute(scoped.entries(repo.scope, e.position).where(
        e.subject_type == "inspection", e.subject_id == inspection_id,
        e.type == event_type).order_by(e.position).limit(1)).scalar()
    return None if found is None else int(found)


def witness_record_unscoped(repo: Repositories, inspection_id: int) -> dict | None:
    """What the overseer's witness answered for the closing (``inspection.witnessed``).

    Unscoped on purpose (reviewed): the witness is part of a closed revista's record,
    shown to whoever may see the revista (the caller loaded it through its base and
    ``visible_to``), the agency's staff included, who read no ``inspection.*`` entry by
    itself; only the answer for this revista is read."""
    e = t.events.c
    found = repo.conn.execute(select(e.payload).where(
        e.subject_type == "inspection", e.subject_id == inspection_id,
        e.type == "inspection.witnessed").order_by(e.position.desc()).limit(1)).scalar()
    return None if found is None else dict(json.loads(found))


def closed_before(repo: Repositories, agency_id: int, inspection_id: int) -> list[tuple[int, str]]:
    """(id, closed_at) of the agency's inspections closed before this one was planned."""
    i = t.inspections.c
    rows = repo.conn.execute(scoped.inspections(repo.scope, i.id, i.closed_at).where(
        i.agency_id == agency_id, i.state == "closed", i.id < inspection_id))
    return [(int(r.id), str(r.closed_at)) for r in rows]


def last_closed(repo: Repositories) -> dict[int, str]:
    """{agency id: when its last inspection closed}, for the agencies in scope."""
    i = t.inspections.c
    rows = repo.conn.execute(scoped.inspections(repo.scope, i.agency_id, func.max(i.closed_at))
                             .where(i.state == "closed").group_by(i.agency_id))
    return {int(a): str(at) for a, at in rows}


def planned_or_open(repo: Repositories) -> dict[int, list[Inspection]]:
    """Inspections not yet closed, by agency, in scope (callers apply ``visible_to``)."""
    out: dict[int, list[Inspection]] = {}
    for found in in_scope(repo):
        if found.state != InspectionState.CLOSED:
            out.setdefault(found.agency_id, []).append(found)
    return out


def annex_books(repo: Repositories, inspection: Inspection) -> list[dict[str, Any]]:
    """The weapons on the books for the count (as ``registry_for``) with what the acta's
    annex prints of each: kind, calibre, folio, where it is and who holds it."""
    f, loc, off = t.firearms.c, t.locations.c, t.officers.c
    stmt = (scoped.firearms(repo.scope, f.serial, f.serial_key, f.make, f.model, f.calibre,
                            f.kind, f.folio, f.status, loc.code.label("location"), off.badge,
                            off.name.label("holder"))
            .outerjoin(t.locations, loc.id == f.location_id)
            .outerjoin(t.officers, off.id == f.custodian_id)
            .where(f.agency_id == inspection.agency_id).order_by(f.id))
    if inspection.locations:
        stmt = stmt.where(and_(f.status == FirearmStatus.IN_STORAGE.value,
                               loc.code.in_(inspection.locations)))
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]


def agency_licences(repo: Repositories, agency_id: int) -> list[dict[str, Any]]:
    """The collective licences (LOC) covering an agency: number and validity."""
    lic, la = t.licences.c, t.licence_agencies.c
    rows = repo.conn.execute(scoped.licences(repo.scope, lic.number, lic.valid_from,
                                             lic.valid_to)
                             .join(t.licence_agencies, la.licence_id == lic.id)
                             .where(la.agency_id == agency_id).order_by(lic.number))
    return [dict(r._mapping) for r in rows]
