"""The one scoped base query of each aggregate: every read of it starts here.

A read of a weapon, an officer, a loss or theft report or a request begins with
``firearms(scope, ...)``, ``officers(scope, ...)``, ``loss_reports(scope, ...)``,
``requests(scope, ...)``, ``inspections(scope, ...)``, ``locations(scope, ...)`` or
``licences(scope, ...)`` and narrows that statement; so does a read of the log's
entries (``entries``), of a revista's count and findings (``scans``, ``rounds``,
``findings``) and of a licence's covered agencies (``licence_agencies``). None writes
its own ``select`` over the table, so no read can forget the actor's scope.
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

from sqlalchemy import ColumnElement, Table, and_, bindparam, false, or_, select, true
from sqlalchemy.sql import Select

from resguardo.domain.codes import OrgKind
from resguardo.domain.entities import Actor
from resguardo.domain.visibility import OWN_RECORDS, hidden_kinds, is_national
from resguardo.storage import tables as t

#: How a scope reaches organizations: everything, one agency, a tree, or a tree and the
#: agencies its authorities oversee.
ScopeKind = Literal["all", "agency", "tree", "tree+overseen"]


class Scope:
    """The organizations one actor may read, as SQL (a clause, bound parameters, or the
    plain-SQL fragment of the custody hot path)."""

    __slots__ = ("actor", "args", "clauses", "kind", "params", "sql")

    def __init__(self, actor: Actor | None) -> None:
        self.actor = actor
        #: the WHERE clauses of a base, built once per scope (``entries``): a unit of work
        #: reads many entries, and building the clauses costs more than running the read
        self.clauses: dict[str, tuple[ColumnElement[bool], ...]] = {}
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
        """A clause true for rows whose organization lies in the scope (built once per
        column and scope: the clauses are immutable, every statement may share them)."""
        table = getattr(org_col, "table", None)
        if not isinstance(table, Table):   # an alias or a subquery's column: not kept
            return self._of(org_col)
        key = f"of:{table.name}.{getattr(org_col, 'key', '')}"
        cached = self.clauses.get(key)
        if cached is None:
            cached = self.clauses[key] = (self._of(org_col),)
        return cached[0]

    def _of(self, org_col: ColumnElement) -> ColumnElement[bool]:
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
    stmt = select(*(columns or (i, o.c.path))).select_from(i).join(o, o.c.id == i.c.agency_id)
    clauses = scope.clauses.get("inspections")
    if clauses is None:
        clauses = (scope.of(i.c.agency_id),)
        actor = scope.actor
        if actor is not None:
            clauses += (~and_(i.c.sealed.is_(True), i.c.state == "planned",
                              i.c.agency_id == actor.scope.id),)
        scope.clauses["inspections"] = clauses
    return stmt.where(*clauses)


def count_hidden_from(scope: Scope) -> ColumnElement[bool]:
    """True for the revistas (rows of ``t.inspections``) whose count the scope's actor may
    not follow: an agency's own staff, while its revista is not closed (DESIGN: "nor
    follow its count while it is open"); ``domain.inspections.count_visible_to`` is the
    same rule in Python."""
    actor = scope.actor
    if actor is None:
        return false()
    i = t.inspections.c
    return and_(i.agency_id == actor.scope.id, i.state != "closed")


def scans(scope: Scope, *columns: Any) -> Select:
    """The scans of revistas the actor may know (``inspections``) and whose count the
    actor may follow (``count_hidden_from``): every read of a revista's scans starts here."""
    s, i = t.inspection_scans, t.inspections
    return (inspections(scope, *(columns or (s,))).join(s, s.c.inspection_id == i.c.id)
            .where(~count_hidden_from(scope)))


def rounds(scope: Scope, *columns: Any) -> Select:
    """The rounds a revista counted, as ``scans``: every read of them starts here."""
    r, i = t.inspection_rounds, t.inspections
    return (inspections(scope, *(columns or (r,))).join(r, r.c.inspection_id == i.c.id)
            .where(~count_hidden_from(scope)))


def findings(scope: Scope, *columns: Any) -> Select:
    """The findings of revistas the actor may know (``inspections``; findings exist once a
    revista is closed, when the agency answers them): every read of a finding starts here."""
    f, i = t.inspection_findings, t.inspections
    return inspections(scope, *(columns or (f,))).join(f, f.c.inspection_id == i.c.id)


def licence_agencies(scope: Scope, *columns: Any) -> Select:
    """The agencies each licence in scope (``licences``) covers, all of them: a licence's
    coverage is part of the licence. Every read of a licence's agencies starts here."""
    la = t.licence_agencies
    return (select(*(columns or (la,))).select_from(la)
            .where(la.c.licence_id.in_(licences(scope, t.licences.c.id))))


def entries(scope: Scope, *columns: Any) -> Select:
    """The log's entries the actor may read (whole rows, or ``columns``): every read of
    entries as history starts here, and narrows it (by subject, kind, position).

    An entry is readable when its kind is open to the actor's role (``domain.visibility``:
    inspections for the roles that order, conduct or audit them, reads of sealed
    revistas and traces for those that audit access, accounts for those and admins; a
    reader's own traces always) and it lies in scope:

    - its organization is in scope (an entry about no organization: national readers);
    - or its subject is a weapon in scope (``firearms``): a weapon's history follows it
      to the agency that holds it now, what its former agency recorded included;
    - and, when its subject is a revista, the revista is one the actor may know
      (``inspections``: a sealed revista not yet open is hidden from the inspected
      agency's own accounts, its entries with it).
    """
    e = t.events
    stmt = select(*(columns or (e,))).select_from(e)
    if scope.actor is None:
        return stmt
    clauses = scope.clauses.get("entries")
    if clauses is None:
        clauses = scope.clauses["entries"] = _entries_clauses(scope, scope.actor)
    return stmt.where(*clauses)


def _entries_clauses(scope: Scope, actor: Actor) -> tuple[ColumnElement[bool], ...]:
    c = t.events.c
    out = []
    hidden = hidden_kinds(actor.role)
    if hidden:
        closed = or_(*(and_(c.type.startswith(p, autoescape=True),
                            *(~c.type.startswith(o, autoescape=True) for o in opened))
                       for p, opened in hidden))
        own = false() if actor.user_id is None else and_(
            c.actor_id == actor.user_id,
            or_(*(c.type.startswith(p, autoescape=True) for p in OWN_RECORDS)))
        out.append(or_(~closed, own))
    place = [scope.of(c.org_id),
             and_(c.subject_type == "firearm",
                  c.subject_id.in_(firearms(scope, t.firearms.c.id)))]
    if is_national(actor):
        place.append(c.org_id.is_(None))
    out.append(or_(*place))
    out.append(or_(c.subject_type.is_(None), c.subject_type != "inspection",
                   c.subject_id.in_(inspections(scope, t.inspections.c.id))))
    return tuple(out)


#: aggregate -> its table and its base; what ``tests/unit/test_scoped_reads.py`` checks
BASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "firearms": ("firearms", ("firearms", "firearms_sql")),
    "officers": ("officers", ("officers", "officers_sql")),
    "loss_reports": ("loss_reports", ("loss_reports",)),
    "requests": ("requests", ("requests",)),
    "inspections": ("inspections", ("inspections",)),
    "locations": ("locations", ("locations", "locations_sql")),
    "licences": ("licences", ("licences",)),
    "entries": ("events", ("entries",)),
    "scans": ("inspection_scans", ("scans",)),
    "rounds": ("inspection_rounds", ("rounds",)),
    "findings": ("inspection_findings", ("findings",)),
    # a revista's signed acta is read with the revista, from its base
    "actas": ("inspection_actas", ("inspections",)),
    "licence_agencies": ("licence_agencies", ("licence_agencies",)),
    # no person reads a sliced import's row (one sees its entries and its weapons): every
    # read of it is the system's own and says ``_unscoped`` (``storage.import_queries``)
    "imports": ("imports", ()),
}
