"""Every query lives here (the event log's reads in ``event_queries``, mixed in),
and every read of agency data goes through one scope clause built from the
acting user, so scope is never an inline WHERE someone can forget.
``actor=None`` is the system itself (init, demo, replay)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, or_, select
from sqlalchemy.sql import Select

from resguardo.domain.codes import (
    OVERSIGHT_ROLES,
    FirearmKind,
    FirearmStatus,
    OfficerStatus,
    OrgKind,
    Role,
)
from resguardo.domain.entities import Actor, Firearm, Location, Officer, Organization, Override
from resguardo.domain.errors import NotFound
from resguardo.domain.licences import LicenceRef
from resguardo.domain.serials import make_key, serial_key
from resguardo.domain.timefmt import DEFAULT_ZONE, parse_date, parse_instant
from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.event_queries import EventQueries
from resguardo.storage.fast import Raw
from resguardo.storage.scoped import Scope


def org_from_row(row: Any) -> Organization:
    return Organization(id=row.id, code=row.code, name=row.name, kind=OrgKind(row.kind),
                        parent_id=row.parent_id, path=row.path)


def officer_from_row(row: Any) -> Officer:
    return Officer(id=row.id, agency_id=row.agency_id, badge=row.badge, name=row.name,
                   status=OfficerStatus(row.status), cuip=row.cuip,
                   credential_folio=row.credential_folio,
                   credential_expiry=parse_date(row.credential_expiry),
                   qualification_expiry=parse_date(row.qualification_expiry),
                   licence_id=row.licence_id)


def firearm_from_row(row: Any) -> Firearm:
    return Firearm(
        id=row.id, serial=row.serial, serial_key=row.serial_key, make=row.make,
        calibre=row.calibre, kind=FirearmKind(row.kind), agency_id=row.agency_id,
        status=FirearmStatus(row.status), model=row.model, folio=row.folio,
        location_id=row.location_id, custodian_id=row.custodian_id,
        barrel_serial=row.barrel_serial, ballistic_id=row.ballistic_id,
        licence_id=row.licence_id, acquired_on=parse_date(row.acquired_on),
        supplier=row.supplier, purchase_ref=row.purchase_ref,
        status_since=parse_instant(row.status_since),
        record_officer_id=row.record_officer_id)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    offset: int
    limit: int


#: The agencies overseen from within a subtree and outside it (``overseen_by``): both
#: parameters are the subtree's path followed by ``%``
_OVERSEEN = (
    "SELECT DISTINCT a.id, a.code, a.name, a.kind, a.parent_id, a.path"
    " FROM organizations AS a JOIN oversight AS ov ON ov.agency_id = a.id"
    " JOIN organizations AS o ON o.id = ov.overseer_id"
    " WHERE o.path LIKE ? AND a.path NOT LIKE ? ORDER BY a.code")
_ORG_BY_ID = select(t.organizations).where(t.organizations.c.id == bindparam("org_id"))
_PATH_CACHE = "resguardo_org_paths"


class Repositories(EventQueries):
    """Queries on one connection, restricted to one actor's scope."""

    def __init__(self, conn: Connection, actor: Actor | None) -> None:
        self.conn = conn
        self.actor = actor
        self.raw = Raw(conn)
        self.scope = Scope(actor)

    # --- scope ---------------------------------------------------------------------

    def in_scope(self, org_col: ColumnElement) -> ColumnElement[bool]:
        """A clause true for rows whose organization lies in the actor's scope."""
        return self.scope.of(org_col)

    # --- organizations ------------------------------------------------------------------

    def org(self, code_or_id: str | int) -> Organization:
        c = t.organizations.c
        cond = c.id == code_or_id if isinstance(code_or_id, int) else c.code == code_or_id
        row = self.conn.execute(select(t.organizations).where(cond, self.in_scope(c.id))).first()
        if row is None:
            raise NotFound(f"organization {code_or_id} not found", organization=str(code_or_id))
        return org_from_row(row)

    def org_unscoped(self, org_id: int) -> Organization:
        """Any organization by id, ignoring scope (for checks that then apply scope)."""
        if self.actor is not None and self.actor.scope.id == org_id:
            return self.actor.scope
        cache = self.conn.info.setdefault(_PATH_CACHE, {})
        org = cache.get(org_id)
        if org is None:
            # organizations never move or change kind, so a cached copy stays right
            org = org_from_row(self.conn.execute(_ORG_BY_ID, {"org_id": org_id}).one())
            cache[org_id] = org
        return org

    def orgs(self, kind: OrgKind | None = None) -> list[Organization]:
        c = t.organizations.c
        stmt = select(t.organizations).where(self.in_scope(c.id)).order_by(c.path)
        if kind is not None:
            stmt = stmt.where(c.kind == kind.value)
        return [org_from_row(r) for r in self.conn.execute(stmt)]

    def org_code_taken(self, code: str) -> bool:
        c = t.organizations.c
        return self.conn.execute(select(c.id).where(c.code == code)).first() is not None

    def place(self, org_id: int) -> dict[str, str | None]:
        """Where an organization is and what time it keeps (any organization, ignoring
        scope): its city and address, and its time zone, or the nearest ancestor's, or
        ``timefmt.DEFAULT_ZONE``."""
        c = t.organizations.c
        row = self.conn.execute(select(c.path, c.city, c.address, c.time_zone)
                                .where(c.id == org_id)).one()
        zone = row.time_zone
        if zone is None:
            ancestors = [int(x) for x in row.path.strip("/").split("/")[:-1]]
            zones = dict(self.conn.execute(select(c.id, c.time_zone).where(
                c.id.in_(ancestors), c.time_zone.is_not(None))).all()) if ancestors else {}
            zone = next((zones[a] for a in reversed(ancestors) if a in zones), None)
        return {"time_zone": zone or DEFAULT_ZONE, "zone_set": row.time_zone,
                "city": row.city, "address": row.address}

    def zones(self, org_ids: Iterable[int]) -> dict[int, str]:
        """The time zone each organization keeps, as ``place`` says it (its own, the
        nearest ancestor's, or ``timefmt.DEFAULT_ZONE``), for any number in two queries."""
        ids = set(org_ids)
        if not ids:
            return {}
        c = t.organizations.c
        rows = self.conn.execute(select(c.id, c.path, c.time_zone).where(c.id.in_(ids))).all()
        lines = {r.id: [int(x) for x in r.path.strip("/").split("/")[:-1]] for r in rows}
        wanted = {a for r in rows if r.time_zone is None for a in lines[r.id]}
        known = dict(self.conn.execute(select(c.id, c.time_zone).where(
            c.id.in_(wanted), c.time_zone.is_not(None))).all()) if wanted else {}
        return {r.id: r.time_zone or next((known[a] for a in reversed(lines[r.id])
                                           if a in known), DEFAULT_ZONE)
                for r in rows}

    def org_names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        c = t.organizations.c
        rows = self.conn.execute(select(c.id, c.code).where(c.id.in_(set(ids))))
        return {r.id: r.code for r in rows}

    # --- locations ------------------------------------------------------------------

    def location(self, agency_id: int, code: str) -> Location:
        row = self.raw.first(*scoped.locations_sql(self.scope, "agency_id = ? AND code = ?",
                                                   (agency_id, code)))
        if row is None:
            raise NotFound(f"location {code} not found in this agency", location=code)
        return Location(row.id, row.agency_id, row.code, row.name, row.kind)

    def location_by_id(self, location_id: int) -> Location:
        row = self.conn.execute(scoped.locations(self.scope)
                                .where(t.locations.c.id == location_id)).first()
        if row is None:
            raise NotFound("location not found")
        return Location(row.id, row.agency_id, row.code, row.name, row.kind)

    def locations(self, agency_id: int | None = None) -> list[Location]:
        c = t.locations.c
        stmt = scoped.locations(self.scope).order_by(c.agency_id, c.code)
        if agency_id is not None:
            stmt = stmt.where(c.agency_id == agency_id)
        return [Location(r.id, r.agency_id, r.code, r.name, r.kind) for r in self.conn.execute(stmt)]

    def location_codes(self, ids: Sequence[int | None]) -> dict[int, str]:
        """Codes of locations in scope by id (where weapons in scope are kept, say)."""
        return self._location_codes(self.scope, ids)

    def location_codes_unscoped(self, ids: Sequence[int | None]) -> dict[int, str]:
        """Codes of locations by id wherever they are (reviewed): the places named by
        entries the viewer may already read, such as the history of a weapon received
        from another agency, or a trace's chain of custody."""
        return self._location_codes(Scope(None), ids)

    def _location_codes(self, scope: Scope, ids: Sequence[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        c = t.locations.c
        return {r.id: r.code for r in self.conn.execute(
            scoped.locations(scope, c.id, c.code).where(c.id.in_(wanted)))}

    # --- licences --------------------------------------------------------------------

    def licence_id(self, number: str) -> int:
        c = t.licences.c
        row = self.conn.execute(scoped.licences(self.scope, c.id)
                                .where(c.number == (number or "").strip())).first()
        if row is None:
            raise NotFound(f"licence {number} not found", licence=number)
        return int(row.id)

    def licence_ref(self, number: str) -> LicenceRef:
        """A licence in scope with the agencies it covers (to check an attachment)."""
        c, la = t.licences.c, t.licence_agencies.c
        # one statement: the licence in scope and every agency it covers (a licence's
        # coverage is part of the licence, as ``scoped.licence_agencies`` reads it)
        rows = self.conn.execute(
            scoped.licences(self.scope, c.id, c.number, c.valid_to, la.agency_id)
            .outerjoin(t.licence_agencies, la.licence_id == c.id)
            .where(c.number == (number or "").strip())).all()
        if not rows:
            raise NotFound(f"licence {number} not found", licence=number)
        first = rows[0]
        valid_to = parse_date(first.valid_to)
        assert valid_to is not None
        agencies = frozenset(int(r.agency_id) for r in rows if r.agency_id is not None)
        return LicenceRef(int(first.id), first.number, agencies, valid_to)

    def licence_taken_unscoped(self, number: str) -> bool:
        """Whether any organization holds a licence with this number (reviewed: the
        number is unique nationally; only whether it is taken is told)."""
        c = t.licences.c
        return self.conn.execute(scoped.licences(Scope(None), c.id)
                                 .where(c.number == number)).first() is not None

    def licences_covering(self, agency_id: int) -> list[dict]:
        """Licences in scope that cover an agency (those its weapons and officers may go on)."""
        c, la = t.licences.c, t.licence_agencies.c
        rows = self.conn.execute(
            scoped.licences(self.scope, c.id, c.number, c.valid_to)
            .join(t.licence_agencies, la.licence_id == c.id)
            .where(la.agency_id == agency_id).order_by(c.number))
        return [dict(r._mapping) for r in rows]

    def licences(self) -> list[dict]:
        c = t.licences.c
        rows = self.conn.execute(scoped.licences(self.scope).order_by(c.number))
        return [dict(r._mapping) for r in rows]

    # --- officers -----------------------------------------------------------------------

    def officer(self, agency_id: int, badge: str) -> Officer:
        row = self.raw.first(*scoped.officers_sql(self.scope, "agency_id = ? AND badge = ?",
                                                  (agency_id, badge.strip().upper())))
        if row is None:
            raise NotFound(f"officer with badge {badge} not found in this agency", badge=badge)
        return officer_from_row(row)

    def officer_by_id(self, officer_id: int) -> Officer:
        row = self.conn.execute(scoped.officers(self.scope)
                                .where(t.officers.c.id == officer_id)).first()
        if row is None:
            raise NotFound("officer not found")
        return officer_from_row(row)

    def officers_by_id(self, ids: Sequence[int | None]) -> dict[int, Officer]:
        """Officers in scope by id (the custodians of weapons in scope, say)."""
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = self.conn.execute(scoped.officers(self.scope).where(t.officers.c.id.in_(wanted)))
        return {r.id: officer_from_row(r) for r in rows}

    def officers_by_id_unscoped(self, ids: Sequence[int | None]) -> dict[int, Officer]:
        """Officers by id wherever they serve (reviewed): the officers named by entries the
        viewer may already read, such as the custody history of a weapon that came from
        another agency, or a trace's chain of custody. Callers pass only ids taken from
        such entries."""
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = self.conn.execute(scoped.officers(Scope(None)).where(t.officers.c.id.in_(wanted)))
        return {r.id: officer_from_row(r) for r in rows}

    def badge_taken(self, agency_id: int, badge: str) -> bool:
        c = t.officers.c
        return self.conn.execute(scoped.officers(self.scope, c.id).where(
            c.agency_id == agency_id, c.badge == badge.strip().upper())).first() is not None

    def agency_badges(self, agency_id: int) -> set[str]:
        """Every badge the agency's officers hold (upper case)."""
        c = t.officers.c
        return {row[0] for row in self.conn.execute(
            scoped.officers(self.scope, c.badge).where(c.agency_id == agency_id))}

    def badges_taken(self, agency_id: int, badges: list[str]) -> set[str]:
        """Which of these badges (upper case) the agency's officers already hold."""
        c = t.officers.c
        taken: set[str] = set()
        for start in range(0, len(badges), 1000):
            chunk = badges[start:start + 1000]
            taken.update(row[0] for row in self.conn.execute(scoped.officers(
                self.scope, c.badge).where(c.agency_id == agency_id, c.badge.in_(chunk))))
        return taken

    def officers(self, *, agency_id: int | None = None, status: str | None = None,
                 offset: int = 0, limit: int = 100) -> Page:
        c = t.officers.c
        stmt = scoped.officers(self.scope)
        if agency_id is not None:
            stmt = stmt.where(c.agency_id == agency_id)
        if status:
            stmt = stmt.where(c.status == status)
        total = self.conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = self.conn.execute(stmt.order_by(c.agency_id, c.badge).offset(offset).limit(limit))
        return Page([officer_from_row(r) for r in rows], total, offset, limit)

    def weapons_held(self, officer_id: int) -> list[Firearm]:
        c = t.firearms.c
        rows = self.conn.execute(scoped.firearms(self.scope).where(
            c.custodian_id == officer_id, c.status == "issued"))
        return [firearm_from_row(r) for r in rows]

    def calibre_counts(self) -> list[tuple[str, int]]:
        """Each calibre as stored on the weapons in scope, with how many weapons carry it."""
        c = t.firearms.c
        rows = self.conn.execute(scoped.firearms(self.scope, c.calibre, func.count())
                                 .group_by(c.calibre).order_by(c.calibre))
        return [(r[0], int(r[1])) for r in rows]

    def weapons_of_record(self, officer_id: int) -> list[Firearm]:
        """The officer's weapons of record (arma de cargo), whatever their status."""
        c = t.firearms.c
        rows = self.conn.execute(scoped.firearms(self.scope).where(c.record_officer_id == officer_id)
                                 .order_by(c.make, c.serial))
        return [firearm_from_row(r) for r in rows]

    def overrides_of(self, officer_id: int, now_iso: str) -> list[Override]:
        """This officer's overrides not expired at ``now_iso``, used or not, newest first
        (``domain.custody.override_to_use`` decides which, if any, an issue goes under)."""
        c = t.overrides.c
        stmt = (select(t.overrides).where(c.officer_id == officer_id, c.expires_at >= now_iso)
                .order_by(c.id.desc()))
        return [Override(row.id, row.officer_id, row.granted_by, row.reason,
                         parse_instant(row.expires_at), row.used_by_event is not None)
                for row in self.conn.execute(stmt)]

    # --- firearms ----------------------------------------------------------------------------

    def firearm(self, serial: str, make: str | None = None) -> Firearm:
        """The firearm with this serial (and make, when several makes share it) in scope."""
        where = "serial_key = ?"
        args: tuple[str, ...] = (serial_key(serial),)
        if make:
            where, args = "serial_key = ? AND make_key = ?", (*args, make_key(make))
        sql, params = scoped.firearms_sql(self.scope, where, args)
        rows = self.raw.rows(sql + " LIMIT 3", params)
        if not rows:
            raise NotFound(f"firearm {serial} not found", serial=serial)
        if len(rows) > 1:
            from resguardo.domain.errors import ValidationFailed
            makes = ", ".join(sorted(r.make for r in rows))
            raise ValidationFailed(f"serial {serial} is registered under several makes ({makes}); "
                                   "give --make", field="make")
        return firearm_from_row(rows[0])

    def firearm_by_id(self, firearm_id: int) -> Firearm:
        row = self.conn.execute(scoped.firearms(self.scope)
                                .where(t.firearms.c.id == firearm_id)).first()
        if row is None:
            raise NotFound("firearm not found")
        return firearm_from_row(row)

    def firearm_holder_unscoped(self, make_key_: str, serial_key_: str) -> int | None:
        """The agency holding (make, serial) anywhere in the system (reviewed: a weapon's
        identity is unique nationally, so registering one checks every agency; only
        whether it is taken, and by whom, is told)."""
        c = t.firearms.c
        row = self.conn.execute(scoped.firearms(Scope(None), c.agency_id).where(
            c.make_key == make_key_, c.serial_key == serial_key_)).first()
        return None if row is None else int(row.agency_id)

    def firearms_query(self, *, agency_id: int | None = None, status: str | None = None,
                       kind: str | None = None, make: str | None = None,
                       calibre: str | None = None, location_id: int | None = None,
                       custodian_id: int | None = None, search: str | None = None,
                       exact_serial: str | None = None) -> Select:
        c = t.firearms.c
        cond: list[ColumnElement[bool]] = []
        if exact_serial:
            cond.append(c.serial_key == serial_key(exact_serial))
        if agency_id is not None:
            cond.append(c.agency_id == agency_id)
        if status:
            cond.append(c.status == status)
        if kind:
            cond.append(c.kind == kind)
        if make:
            cond.append(c.make_key == make_key(make))
        if calibre:
            cond.append(c.calibre == calibre)
        if location_id is not None:
            cond.append(c.location_id == location_id)
        if custodian_id is not None:
            cond.append(c.custodian_id == custodian_id)
        if search:
            key = serial_key(search)
            cond.append(or_(c.serial_key.contains(key, autoescape=True),
                            c.folio == search.strip()))
        return scoped.firearms(self.scope).where(*cond)

    def firearms(self, *, offset: int = 0, limit: int = 100, order: str = "serial",
                 **filters: Any) -> Page:
        stmt = self.firearms_query(**filters)
        total = self.conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        c = t.firearms.c
        orders = {"serial": c.serial_key, "make": c.make_key, "status": c.status,
                  "since": c.status_since, "calibre": c.calibre, "kind": c.kind}
        name = order.lstrip("-")
        column = orders.get(name, c.serial_key)
        # "since" lists the latest change first; a leading "-" reverses any order
        key = column.desc() if order.startswith("-") != (name == "since") else column
        rows = self.conn.execute(stmt.order_by(key, c.id).offset(offset).limit(limit))
        return Page([firearm_from_row(r) for r in rows], total, offset, limit)

    def status_counts(self) -> dict[tuple[int, str], int]:
        c = t.firearms.c
        rows = self.conn.execute(scoped.firearms(self.scope, c.agency_id, c.status, func.count())
                                 .group_by(c.agency_id, c.status))
        return {(r[0], r[1]): r[2] for r in rows}

    # --- loss reports and requests ---------------------------------------------------------------

    def open_loss_report(self, firearm_id: int) -> dict:
        c = t.loss_reports.c
        row = self.conn.execute(scoped.loss_reports(self.scope).where(
            c.firearm_id == firearm_id, c.recovered_at.is_(None))
            .order_by(c.id.desc())).first()
        if row is None:
            raise NotFound("no open loss or theft report for this firearm")
        return dict(row._mapping)

    def last_loss_report(self, firearm_id: int) -> dict:
        """The weapon's latest loss or theft report, recovered or not."""
        c = t.loss_reports.c
        row = self.conn.execute(scoped.loss_reports(self.scope).where(c.firearm_id == firearm_id)
                                .order_by(c.id.desc())).first()
        if row is None:
            raise NotFound("no loss or theft report for this firearm")
        return dict(row._mapping)

    def loss_reports(self, *, open_only: bool = False) -> list[dict]:
        c = t.loss_reports.c
        stmt = scoped.loss_reports(self.scope, t.loss_reports, t.firearms.c.serial,
                                   t.firearms.c.make)
        if open_only:
            stmt = stmt.where(c.recovered_at.is_(None))
        return [dict(r._mapping) for r in self.conn.execute(stmt.order_by(c.id))]

    def pending_request(self, firearm_id: int, kind: str) -> dict:
        c = t.requests.c
        row = self.conn.execute(scoped.requests(self.scope, side="from").where(
            c.firearm_id == firearm_id, c.kind == kind, c.state == "pending")).first()
        if row is None:
            raise NotFound(f"no pending {kind} request for this firearm")
        return dict(row._mapping)

    def requests(self, state: str | None = "pending") -> list[dict]:
        c = t.requests.c
        stmt = scoped.requests(self.scope, t.requests, t.firearms.c.serial, t.firearms.c.make)
        if state:
            stmt = stmt.where(c.state == state)
        return [dict(r._mapping) for r in self.conn.execute(stmt.order_by(c.id))]

    # --- ammunition -------------------------------------------------------------------------------

    def ammo_balance(self, location_id: int, calibre: str, lot: str) -> int:
        c = t.ammo_stock.c
        value = self.conn.execute(select(c.quantity).where(
            c.location_id == location_id, c.calibre == calibre, c.lot == lot)).scalar_one_or_none()
        return int(value or 0)

    def ammo_outstanding(self, officer_id: int, calibre: str, lot: str) -> int:
        c = t.ammo_out.c
        value = self.conn.execute(select(c.quantity).where(
            c.officer_id == officer_id, c.calibre == calibre, c.lot == lot)).scalar_one_or_none()
        return int(value or 0)

    def ammo_stock(self, agency_id: int | None = None) -> list[dict]:
        s, loc = t.ammo_stock.c, t.locations.c
        stmt = (scoped.locations(self.scope, loc.agency_id, loc.code.label("location"),
                                 s.calibre, s.lot, s.quantity)
                .join(t.ammo_stock, loc.id == s.location_id)
                .where(s.quantity != 0)
                .order_by(loc.agency_id, loc.code, s.calibre, s.lot))
        if agency_id is not None:
            stmt = stmt.where(loc.agency_id == agency_id)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def ammo_held(self, agency_id: int | None = None) -> list[dict]:
        a, o = t.ammo_out.c, t.officers.c
        stmt = (scoped.officers(self.scope, o.agency_id, o.badge, a.calibre, a.lot, a.quantity)
                .join(t.ammo_out, o.id == a.officer_id)
                .where(a.quantity != 0)
                .order_by(o.agency_id, o.badge))
        if agency_id is not None:
            stmt = stmt.where(o.agency_id == agency_id)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    # --- alert candidates ---------------------------------------------------------------------------

    def unnotified_losses(self) -> list[dict]:
        c, f, o = t.loss_reports.c, t.firearms.c, t.organizations.c
        stmt = (scoped.loss_reports(self.scope, c.id, c.agency_id, o.code.label("agency"),
                                    f.serial, f.make, c.stolen, c.reported_at)
                .join(t.organizations, o.id == c.agency_id)
                .where(c.notified_at.is_(None), c.recovered_at.is_(None)))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def issued_weapons(self) -> list[dict]:
        f, of, o = t.firearms.c, t.officers.c, t.organizations.c
        stmt = (scoped.firearms(self.scope, f.id.label("firearm_id"), f.agency_id,
                                o.code.label("agency"), f.serial, f.make, of.badge,
                                of.name.label("officer_name"), of.status.label("officer_status"),
                                of.credential_expiry, of.qualification_expiry,
                                f.status_since.label("issued_at"))
                .join(t.officers, of.id == f.custodian_id)
                .join(t.organizations, o.id == f.agency_id)
                .where(f.status == "issued"))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def acknowledged(self) -> set[str]:
        return {r[0] for r in self.conn.execute(select(t.alert_acks.c.alert_key))}

    # --- users ------------------------------------------------------------------------------------------

    def user_row(self, username: str) -> Any:
        return self.conn.execute(select(t.users).where(t.users.c.username == username)).first()

    def actor_for(self, username: str) -> Actor:
        row = self.raw.first(
            "SELECT u.id, u.username, u.role, u.active, u.kind AS account_kind, o.id AS org_id,"
            " o.code, o.name, o.kind, o.parent_id, o.path"
            " FROM users u JOIN organizations o ON o.id = u.scope_id"
            " WHERE u.username = ?", (username,))
        if row is None or not row.active:
            raise NotFound(f"user {username} not found or disabled", user=username)
        scope = Organization(id=row.org_id, code=row.code, name=row.name, kind=OrgKind(row.kind),
                             parent_id=row.parent_id, path=row.path)
        role = Role(row.role)
        overseen = self.overseen_by(scope) if role in OVERSIGHT_ROLES else ()
        return Actor(user_id=row.id, username=row.username, role=role, scope=scope,
                     overseen=overseen, kind=row.account_kind)

    def overseen_by(self, scope: Organization) -> tuple[Organization, ...]:
        """Agencies overseen by ``scope`` or an authority below it (outside its own tree)."""
        # every request of an oversight role asks this (``actor_for``): one plain statement
        # on the driver's cursor, not an expression built and compiled each time
        below = scope.path + "%"
        return tuple(org_from_row(r) for r in self.raw.rows(_OVERSEEN, (below, below)))

    def oversight(self, agency_id: int) -> list[Organization]:
        """The authorities that oversee an agency (any scope: callers check the agency's)."""
        o, ov = t.organizations.c, t.oversight.c
        rows = self.conn.execute(select(t.organizations).join(t.oversight, ov.overseer_id == o.id)
                                 .where(ov.agency_id == agency_id).order_by(o.code))
        return [org_from_row(r) for r in rows]

    def users(self) -> list[dict]:
        u, o = t.users.c, t.organizations.c
        stmt = (select(u.id, u.username, u.display_name, u.role, o.code.label("scope"), u.active,
                       u.created_at, u.kind)
                .join(t.organizations, o.id == u.scope_id)
                .where(self.in_scope(u.scope_id)).order_by(u.username))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def insert_user(self, *, username: str, display_name: str, password_hash: str, role: str,
                    scope_id: int, created_at: str, kind: str = "person") -> int:
        result = self.conn.execute(t.users.insert().values(
            username=username, display_name=display_name, password_hash=password_hash,
            role=role, scope_id=scope_id, active=True, failed_logins=0, created_at=created_at,
            kind=kind))
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.conn.execute(t.users.update().where(t.users.c.id == user_id).values(
            password_hash=password_hash, failed_logins=0, locked_until=None))

    def store_acta(self, inspection_id: int, lang: str, sha256: str, pdf: bytes) -> None:
        self.conn.execute(t.inspection_actas.insert().values(
            inspection_id=inspection_id, lang=lang, sha256=sha256, pdf=pdf))

    def acta(self, inspection_id: int) -> tuple[bytes, str]:
        """The stored acta and the hash recorded by the closing entry."""
        i, a = t.inspections.c, t.inspection_actas.c
        row = self.conn.execute(scoped.inspections(self.scope, a.pdf, i.acta_sha256)
                                .join(t.inspection_actas, a.inspection_id == i.id)
                                .where(i.id == inspection_id)).one()
        return bytes(row.pdf), row.acta_sha256
