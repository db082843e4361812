"""Read queries the web pages need beyond the shared repositories: an officer's
custody history, transfers on their way, ammunition movements. Each is one
bounded statement, starting from its scoped base (``storage.scoped``) like every read.

Pages of entries are fetched one row beyond the page, so a page knows whether
an older one exists without counting the whole log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, literal_column, select, text

from resguardo.domain.events import Event
from resguardo.storage import scoped
from resguardo.storage import tables as t
from resguardo.storage.event_queries import event_from_row
from resguardo.storage.repositories import Repositories
from resguardo.storage.scoped import Scope

CUSTODY_TYPES = ("custody.issued", "custody.returned")
AMMO_TYPES = ("ammunition.received", "ammunition.issued", "ammunition.returned",
              "ammunition.consumed")


def _page(rows: list[Any], limit: int) -> tuple[list[Event], bool]:
    events = [event_from_row(r) for r in rows[:limit]]
    return events, len(rows) > limit


#: The partial expression index an officer's custody history is read through (migration
#: 0007): the officer of each issue and return, and the entry's position.
CUSTODY_OFFICER_INDEX = "ix_events_custody_officer"
#: The officer inside a custody payload, as the index holds it and the query asks for it
#: (written as literals in both, so that the planner sees the same expression).
_OFFICER_EXPRESSION = {
    "sqlite": "json_extract(payload, '$.officer_id')",
    "postgresql": "((payload::jsonb) ->> 'officer_id')",
}
_CUSTODY_WHERE = "type IN ({})".format(", ".join(f"'{name}'" for name in CUSTODY_TYPES))


def officer_custody(repo: Repositories, officer_id: int, agency_id: int, *, offset: int = 0,
                    limit: int = 25) -> tuple[list[Event], bool]:
    """Issues to and returns by one officer, newest first, and whether older ones exist.

    The officer is in the payload (the entries are about the weapon); the
    ``CUSTODY_OFFICER_INDEX`` holds it for issues and returns, so the page reads
    its own rows newest first, however long the agency's log.
    """
    c = t.events.c
    dialect = repo.conn.dialect.name
    officer: ColumnElement[Any] = literal_column(_OFFICER_EXPRESSION[dialect])
    wanted = int(officer_id) if dialect == "sqlite" else str(int(officer_id))
    stmt = (scoped.entries(repo.scope)
            .where(text(_CUSTODY_WHERE), officer == wanted, c.org_id == agency_id)
            .order_by(c.position.desc()).offset(offset).limit(limit + 1))
    return _page(list(repo.conn.execute(stmt)), limit)


def ammunition_movements(repo: Repositories, agency_id: int | None = None, *, offset: int = 0,
                         limit: int = 50) -> tuple[list[Event], bool]:
    """Ammunition received, issued, returned and consumed, newest first."""
    c = t.events.c
    stmt = (scoped.entries(repo.scope).where(c.type.in_(AMMO_TYPES))
            .order_by(c.position.desc()).offset(offset).limit(limit + 1))
    if agency_id is not None:
        stmt = stmt.where(c.org_id == agency_id)
    return _page(list(repo.conn.execute(stmt)), limit)


def firearm_names_unscoped(repo: Repositories, ids: Sequence[int | None]) -> dict[int, dict]:
    """Serial, make and model of weapons named by entries the viewer may already read.

    Unscoped on purpose (reviewed): an officer's history names the weapons the officer
    held, and one may since have been transferred to another agency. Callers pass only
    ids taken from entries the viewer was allowed to read."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    f = t.firearms.c
    rows = repo.conn.execute(scoped.firearms(Scope(None), f.id, f.serial, f.make, f.model,
                                             f.calibre, f.agency_id).where(f.id.in_(wanted)))
    return {r.id: dict(r._mapping) for r in rows}


def transfers_in_transit(repo: Repositories, *, incoming: bool, limit: int = 200) -> list[dict]:
    """Approved transfers whose weapon has left and not yet arrived.

    ``incoming``: those addressed to an agency in the viewer's scope; otherwise
    those sent by one. The weapon still belongs to the sending agency until it
    is received, so this is the receiving side's only view of it.
    """
    r, f = t.requests.c, t.firearms.c
    latest = t.requests.alias("later")
    newer = (select(latest.c.id).where(latest.c.firearm_id == r.firearm_id,
                                       latest.c.kind == "transfer", latest.c.id > r.id)
             .exists())
    stmt = (scoped.requests(repo.scope, r.id, r.firearm_id, r.agency_id, r.to_agency_id,
                            r.reason, r.requested_at, r.decided_at, f.serial, f.make, f.model,
                            f.calibre, f.kind, side="to" if incoming else "from")
            .where(r.kind == "transfer", r.state == "approved", f.status == "in_transit",
                   f.agency_id == r.agency_id, ~newer)
            .order_by(r.decided_at, r.id).limit(limit))
    return [dict(row._mapping) for row in repo.conn.execute(stmt)]


def transfers_pending(repo: Repositories, limit: int = 200) -> list[dict]:
    """Transfer requests awaiting a second person, sent from or addressed to the viewer's scope."""
    r, f = t.requests.c, t.firearms.c
    stmt = (scoped.requests(repo.scope, r.id, r.firearm_id, r.agency_id, r.to_agency_id,
                            r.reason, r.requested_at, f.serial, f.make, f.model)
            .where(r.kind == "transfer", r.state == "pending")
            .order_by(r.requested_at, r.id).limit(limit))
    return [dict(row._mapping) for row in repo.conn.execute(stmt)]


def transfer_in_transit(repo: Repositories, firearm_id: int) -> dict | None:
    """The approved transfer a weapon in transit is on (None when it is not travelling),
    sent from or addressed to the viewer's scope."""
    r = t.requests.c
    row = repo.conn.execute(
        scoped.requests(repo.scope, r.id, r.agency_id, r.to_agency_id, r.decided_at)
        .where(r.firearm_id == firearm_id, r.kind == "transfer", r.state == "approved")
        .order_by(r.id.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)


def org_labels(repo: Repositories, ids: Sequence[int | None]) -> dict[int, dict]:
    """Code and name of the organizations at either end of entries the viewer may read."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    o = t.organizations.c
    rows = repo.conn.execute(select(o.id, o.code, o.name).where(o.id.in_(wanted)))
    return {r.id: {"code": r.code, "name": r.name} for r in rows}


def subject_events(repo: Repositories, subject_type: str, subject_id: int, *,
                   limit: int = 50) -> tuple[list[Event], bool]:
    """The latest entries about one subject the actor may read, newest first, and whether
    older ones exist."""
    c = t.events.c
    stmt = (scoped.entries(repo.scope).where(c.subject_type == subject_type, c.subject_id == subject_id)
            .order_by(c.position.desc()).limit(limit + 1))
    return _page(list(repo.conn.execute(stmt)), limit)


def agencies_anywhere(repo: Repositories, limit: int = 5000) -> list[dict]:
    """Code and name of every agency that holds weapons, to name a transfer's destination.

    A transfer may go outside the sender's scope, so this list is not scoped; it holds
    only what an armorer already types into the form.
    """
    o = t.organizations.c
    rows = repo.conn.execute(select(o.code, o.name).where(o.kind == "agency")
                             .order_by(o.code).limit(limit))
    return [dict(r._mapping) for r in rows]
