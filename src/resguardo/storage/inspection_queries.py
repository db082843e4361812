"""Queries for inspections (kept beside, not inside, the main repositories)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, select

from resguardo.domain.codes import FirearmStatus
from resguardo.domain.inspections import Inspection, InspectionState
from resguardo.domain.reconciliation import RegistryEntry
from resguardo.domain.timefmt import parse_date, parse_instant
from resguardo.storage import tables as t
from resguardo.storage.repositories import Repositories


def _inspection(row: Any) -> Inspection:
    return Inspection(
        id=row.id, authority_id=row.authority_id, agency_id=row.agency_id,
        agency_path=row.path, planned_on=parse_date(row.planned_on),  # type: ignore[arg-type]
        sealed=bool(row.sealed), state=InspectionState(row.state),
        locations=tuple(json.loads(row.locations)), ordered_by=row.ordered_by,
        revealed=bool(row.revealed),
        opened_at=parse_instant(row.opened_at) if row.opened_at else None,
        closed_at=parse_instant(row.closed_at) if row.closed_at else None,
        people=tuple(json.loads(row.people)))


def _base():  # type: ignore[no-untyped-def]
    i, o = t.inspections.c, t.organizations.c
    return select(t.inspections, o.path).join(t.organizations, o.id == i.agency_id)


def get(repo: Repositories, inspection_id: int) -> Inspection | None:
    """The inspection by id, ignoring scope (callers apply ``visible_to``)."""
    row = repo.conn.execute(_base().where(t.inspections.c.id == inspection_id)).first()
    return None if row is None else _inspection(row)


def in_scope(repo: Repositories, state: str | None = None) -> list[Inspection]:
    i = t.inspections.c
    stmt = _base().where(repo.in_scope(i.agency_id)).order_by(i.id.desc())
    if state:
        stmt = stmt.where(i.state == state)
    return [_inspection(r) for r in repo.conn.execute(stmt)]


def open_at(repo: Repositories, agency_id: int) -> Inspection | None:
    """The inspection open at an agency, if any (checked before every custody movement)."""
    found = repo.raw.scalar("SELECT id FROM inspections WHERE agency_id = ? AND state = 'open'",
                            (agency_id,))
    return None if found is None else get(repo, int(found))


def details(repo: Repositories, inspection_id: int) -> dict:
    row = repo.conn.execute(select(t.inspections).where(t.inspections.c.id == inspection_id)).one()
    return dict(row._mapping)


def scans(repo: Repositories, inspection_id: int, *, last: int | None = None) -> list[dict]:
    s = t.inspection_scans.c
    stmt = select(t.inspection_scans).where(s.inspection_id == inspection_id)
    if last is not None:
        stmt = stmt.order_by(s.id.desc()).limit(last)
    else:
        stmt = stmt.order_by(s.id)
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]


def scan_counts(repo: Repositories, inspection_id: int) -> tuple[int, int]:
    """(scans recorded, distinct serials seen)."""
    s = t.inspection_scans.c
    row = repo.conn.execute(select(func.count(), func.count(s.serial_key.distinct()))
                            .where(s.inspection_id == inspection_id)).one()
    return int(row[0]), int(row[1])


def registry_for(repo: Repositories, inspection: Inspection) -> list[RegistryEntry]:
    """The agency's books for the count: every weapon, or those stored at the scoped locations."""
    f, loc, off = t.firearms.c, t.locations.c, t.officers.c
    stmt = (select(f.serial, f.make, f.model, f.calibre, f.kind, f.status,
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


def others_with_keys(repo: Repositories, agency_id: int,
                     keys: Iterable[str]) -> list[RegistryEntry]:
    """Weapons of other agencies whose serial keys were scanned (they are ``foreign``)."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    f, o = t.firearms.c, t.organizations.c
    out: list[RegistryEntry] = []
    for start in range(0, len(wanted), 500):
        stmt = (select(f.serial, f.make, f.status, o.code)
                .join(t.organizations, o.id == f.agency_id)
                .where(f.agency_id != agency_id, f.serial_key.in_(wanted[start:start + 500])))
        out.extend(RegistryEntry(serial=r.serial, make=r.make, status=FirearmStatus(r.status),
                                 agency=r.code) for r in repo.conn.execute(stmt))
    return out


def expected_rounds(repo: Repositories, agency_id: int) -> dict[tuple[str, str, str], int]:
    s, loc = t.ammo_stock.c, t.locations.c
    rows = repo.conn.execute(select(loc.code, s.calibre, s.lot, s.quantity)
                             .join(t.locations, loc.id == s.location_id)
                             .where(loc.agency_id == agency_id))
    return {(r.code, r.calibre, r.lot): int(r.quantity) for r in rows}


def counted_rounds(repo: Repositories, inspection_id: int) -> dict[tuple[str, str, str], int]:
    c = t.inspection_rounds.c
    rows = repo.conn.execute(select(t.inspection_rounds).where(c.inspection_id == inspection_id))
    return {(r.location, r.calibre, r.lot): int(r.quantity) for r in rows}


def findings(repo: Repositories, inspection_id: int) -> list[dict]:
    c = t.inspection_findings.c
    rows = repo.conn.execute(select(t.inspection_findings)
                             .where(c.inspection_id == inspection_id).order_by(c.seq))
    return [dict(r._mapping) for r in rows]


def open_findings(repo: Repositories) -> list[dict]:
    """Actionable findings not yet answered, in scope, of closed inspections."""
    c, o, i = t.inspection_findings.c, t.organizations.c, t.inspections.c
    stmt = (select(t.inspection_findings, o.code.label("agency"), i.closed_at)
            .join(t.organizations, o.id == c.agency_id)
            .join(t.inspections, i.id == c.inspection_id)
            .where(c.actionable.is_(True), c.resolution.is_(None), repo.in_scope(c.agency_id))
            .order_by(c.inspection_id, c.seq))
    return [dict(r._mapping) for r in repo.conn.execute(stmt)]
