"""The one scoped base query of each aggregate: every read of it starts here.

A read of a weapon, an officer, a loss or theft report or a request begins with
``firearms(scope, ...)``, ``officers(scope, ...)``, ``loss_reports(scope, ...)``,
``requests(scope, ...)``, ``inspections(scope, ...)``, ``locations(scope, ...)`` or
``licences(scope, ...)`` and narrows that statement; none writes its own
``select`` over the aggregate's table, so no read can forget the actor's scope.
The few reads that deliberately ignore scope are named ``..._unscoped`` (or live
in a module that is the system's own: the projector, the ledger, the import's
batch writer) and are listed, each with its reason, in docs/architecture.md
("Scoped reads"). ``tests/unit/test_scoped_reads.py`` keeps it so.

``Scope`` is the actor's reach: its organization and everything below it in the
state/agency tree, and the agencies its authorities oversee (``Actor.in_scope``
is the same rule in Python). ``actor=None`` is the system itself (init, demo,
replay) and reaches everything.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, true
from sqlalchemy.sql import Select

from resguardo.domain.codes import OrgKind
from resguardo.domain.entities import Actor
from resguardo.storage import tables as t

#: How a scope reaches organizations: everything, one agency, a tree, or a tree and the
#: agencies its authorities oversee.
ScopeKind = Literal["all", "agency", "tree", "tree+overseen"]


class Scope:
    """The organizations one actor may read, as SQL (a clause, bound parameters, or the
    plain-SQL fragment of the custody hot path)."""

    __slots__ = ("actor", "args", "kind", "params", "sql")

    def __init__(self, actor: Actor | None) -> None:
        self.actor = actor
        self.kind: ScopeKind
        self.params: dict[str, Any]
        self.args: tuple[Any, ...]
        if actor is None:
            self.kind, self.params = "all", {}
            self.sql, self.args = "", ()
            return
        if actor.scope.kind == OrgKind.AGENCY:
            self.kind, self.params = "agency", {"scope_id": actor.scope.id}
            self.sql, self.args = " AND agency_id = ?", (actor.scope.id,)
            return
        like = actor.scope.path + "%"
        tree = "agency_id IN (SELECT id FROM organizations WHERE path LIKE ?)"
        overseen = actor.overseen_ids
        if overseen:
            self.kind = "tree+overseen"
            self.params = {"scope_like": like, "overseen_ids": list(overseen)}
            marks = ", ".join("?" * len(overseen))
            self.sql = f" AND ({tree} OR agency_id IN ({marks}))"
        else:
            self.kind, self.params = "tree", {"scope_like": like}
            self.sql = f" AND {tree}"
        self.args = (like, *overseen)

    def of(self, org_col: ColumnElement) -> ColumnElement[bool]:
        """A clause true for rows whose organization lies in the scope."""
        actor = self.actor
        if actor is None:
            return true()
        if actor.scope.kind == OrgKind.AGENCY:
            return org_col == actor.scope.id
        sub = select(t.organizations.c.id).where(t.organizations.c.path.startswith(actor.scope.path))
        if actor.overseen:
            return or_(org_col.in_(sub), org_col.in_(actor.overseen_ids))
        return org_col.in_(sub)



class BoundScope(Scope):
    """A scope of one ``kind`` as named bound parameters, for a statement built once per
    kind and kept (SQLAlchemy's compiled cache then serves every actor of that kind):
    execute it with the actor's ``Scope.params``."""

    def __init__(self, kind: ScopeKind) -> None:
        super().__init__(None)
        self.kind = kind

    def of(self, org_col: ColumnElement) -> ColumnElement[bool]:
        kind = self.kind
        if kind == "all":
            return true()
        if kind == "agency":
            return org_col == bindparam("scope_id")
        orgs = t.organizations.c
        sub = select(orgs.id).where(orgs.path.like(bindparam("scope_like")))
        if kind == "tree+overseen":
            return or_(org_col.in_(sub), org_col.in_(bindparam("overseen_ids", expanding=True)))
        return org_col.in_(sub)


# --- the bases -----------------------------------------------------------------------------


def firearms(scope: Scope, *columns: Any) -> Select:
    """Weapons in scope (whole rows, or ``columns``): every read of a weapon starts here."""
    f = t.firearms
    return select(*(columns or (f,))).select_from(f).where(scope.of(f.c.agency_id))


def firearms_sql(scope: Scope, where: str, args: tuple = ()) -> tuple[str, tuple]:
    """``firearms`` in plain SQL for the custody hot path (``fast.Raw``): whole rows of
    weapons in scope matching ``where`` (``?`` placeholders, bound to ``args``)."""
    return f"SELECT * FROM firearms WHERE {where}{scope.sql}", (*args, *scope.args)


def officers(scope: Scope, *columns: Any) -> Select:
    """Officers in scope (whole rows, or ``columns``): every read of an officer starts here."""
    o = t.officers
    return select(*(columns or (o,))).select_from(o).where(scope.of(o.c.agency_id))


def officers_sql(scope: Scope, where: str, args: tuple = ()) -> tuple[str, tuple]:
    """``officers`` in plain SQL for the custody hot path (see ``firearms_sql``)."""
    return f"SELECT * FROM officers WHERE {where}{scope.sql}", (*args, *scope.args)


def locations(scope: Scope, *columns: Any) -> Select:
    """Locations (armories, posts, repair shops) of agencies in scope: every read of a
    location starts here."""
    loc = t.locations
    return select(*(columns or (loc,))).select_from(loc).where(scope.of(loc.c.agency_id))


def locations_sql(scope: Scope, where: str, args: tuple = ()) -> tuple[str, tuple]:
    """``locations`` in plain SQL for the custody hot path (see ``firearms_sql``)."""
    return f"SELECT * FROM locations WHERE {where}{scope.sql}", (*args, *scope.args)


def licences(scope: Scope, *columns: Any) -> Select:
    """Collective licences (LOC) in scope: held by an organization in scope, or covering
    an agency in scope (an agency's armorer sees the state's LOC it carries under).
    Every read of a licence starts here."""
    lic, la = t.licences, t.licence_agencies
    covers = select(la.c.licence_id).where(scope.of(la.c.agency_id))
    return (select(*(columns or (lic,))).select_from(lic)
            .where(or_(scope.of(lic.c.holder_id), lic.c.id.in_(covers))))


def loss_reports(scope: Scope, *columns: Any) -> Select:
    """Loss and theft reports of agencies in scope, joined to their weapon (``columns``
    may name the weapon's): every read of a report starts here."""
    r, f = t.loss_reports, t.firearms
    return (select(*(columns or (r,))).select_from(r).join(f, f.c.id == r.c.firearm_id)
            .where(scope.of(r.c.agency_id)))


#: Which end of a request must lie in scope: the sending agency, the receiving one, or
#: either (a transfer is the business of both).
Side = Literal["from", "to", "either"]


def requests(scope: Scope, *columns: Any, side: Side = "either") -> Select:
    """Two-person requests (transfers, decommissions) in scope, joined to their weapon
    (``columns`` may name the weapon's): every read of a request starts here."""
    r, f = t.requests, t.firearms
    if side == "from":
        cond = scope.of(r.c.agency_id)
    elif side == "to":
        cond = scope.of(r.c.to_agency_id)
    else:
        cond = or_(scope.of(r.c.agency_id), scope.of(r.c.to_agency_id))
    return (select(*(columns or (r,))).select_from(r).join(f, f.c.id == r.c.firearm_id)
            .where(cond))


def inspections(scope: Scope, *columns: Any) -> Select:
    """Revistas at agencies in scope, joined to their agency (``columns`` may name its
    ``path``; whole rows come with it): every read of an inspection starts here.

    A sealed revista not yet open is not there for the inspected agency's own staff
    (``domain.inspections.visible_to``): the agency must not learn of it before the
    inspectors arrive."""
    i, o = t.inspections, t.organizations
    stmt = (select(*(columns or (i, o.c.path))).select_from(i).join(o, o.c.id == i.c.agency_id)
            .where(scope.of(i.c.agency_id)))
    actor = scope.actor
    if actor is not None:
        stmt = stmt.where(~and_(i.c.sealed.is_(True), i.c.state == "planned",
                                i.c.agency_id == actor.scope.id))
    return stmt


#: aggregate -> its table and its base; what ``tests/unit/test_scoped_reads.py`` checks
BASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "firearms": ("firearms", ("firearms", "firearms_sql")),
    "officers": ("officers", ("officers", "officers_sql")),
    "loss_reports": ("loss_reports", ("loss_reports",)),
    "requests": ("requests", ("requests",)),
    "inspections": ("inspections", ("inspections",)),
    "locations": ("locations", ("locations", "locations_sql")),
    "licences": ("licences", ("licences",)),
    # no person reads a sliced import's row (one sees its entries and its weapons): every
    # read of it is the system's own and says ``_unscoped`` (``storage.import_queries``)
    "imports": ("imports", ()),
}
