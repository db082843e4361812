"""Applies events to the projection tables.

The same code runs when an event is appended (in its transaction) and when
the log is replayed into a scratch database by the rebuild check, so the
projection can always be derived from the log alone. Handlers read nothing
but the event and the projection itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sqlalchemy import Connection, and_, select

from resguardo.domain import firearm_state
from resguardo.domain.events import AUDIT_PREFIXES, Event, canonical
from resguardo.storage import tables as t
from resguardo.storage.fast import Raw

Handler = Callable[[Connection, Event], None]
HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in types:
            HANDLERS[name] = fn
        return fn
    return register


def apply(conn: Connection, ev: Event) -> None:
    """Apply one event; audit-only events change nothing."""
    handler = HANDLERS.get(ev.type)
    if handler is not None:
        handler(conn, ev)
    elif not ev.type.startswith(AUDIT_PREFIXES):
        raise ValueError(f"no projection rule for event type {ev.type!r}")


def apply_many(conn: Connection, events: list[Event]) -> None:
    """Apply events in order, as ``apply`` does each; a run of ``officer.registered``
    events becomes one multi-row insert (the same rows ``apply`` writes one by one)."""
    officers: list[dict[str, object]] = []
    for ev in events:
        if ev.type == "officer.registered":
            officers.append(_officer_row(ev))
            continue
        if officers:
            conn.execute(t.officers.insert(), officers)
            officers = []
        apply(conn, ev)
    if officers:
        conn.execute(t.officers.insert(), officers)


@cache
def _firearm_update(columns: tuple[str, ...]) -> str:
    for name in columns:  # column names come from this module; refuse anything else
        if name not in t.firearms.c:
            raise ValueError(f"firearms has no column {name!r}")
    return f"UPDATE firearms SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"


def _firearm(conn: Connection, ev: Event) -> None:
    """Write what the entry does to its weapon's row, as ``domain.firearm_state`` says
    (on the driver's cursor: every custody operation runs this)."""
    rule = firearm_state.rule_for(ev.type, ev.payload)
    if rule is None or not rule.columns:
        return
    Raw(conn).execute(_firearm_update(rule.columns),
                      (*rule.values(ev.payload, ev.at, ev.position), ev.payload["firearm_id"]))


def row_only(event_type: str, payload: dict) -> bool:
    """Whether the entry changes nothing but its weapon's row (a movement without an
    override, a weapon of record, a licence): the bulk import folds such an entry into
    the row it writes for a weapon registered in the same batch."""
    handler = HANDLERS.get(event_type)
    return handler is _firearm or (handler is _issued and payload.get("override_id") is None)


# --- organizations -------------------------------------------------------------

@handles("organization.created")
def _org_created(conn: Connection, ev: Event) -> None:
    p = ev.payload
    parent_path = "/"
    if p["parent_id"] is not None:
        parent_path = conn.execute(
            select(t.organizations.c.path).where(t.organizations.c.id == p["parent_id"])
        ).scalar_one()
    conn.execute(t.organizations.insert().values(
        id=ev.position, code=p["code"], name=p["name"], kind=p["kind"],
        parent_id=p["parent_id"], path=f"{parent_path}{ev.position}/",
        time_zone=p.get("time_zone"), city=p.get("city"), address=p.get("address")))


@handles("organization.place_set")
def _org_place_set(conn: Connection, ev: Event) -> None:
    p = ev.payload
    values = {k: p[k] for k in ("time_zone", "city", "address") if k in p}
    conn.execute(t.organizations.update().where(t.organizations.c.id == p["org_id"])
                 .values(**values))


@handles("organization.oversight_added")
def _oversight_added(conn: Connection, ev: Event) -> None:
    conn.execute(t.oversight.insert().values(overseer_id=ev.payload["overseer_id"],
                                             agency_id=ev.payload["agency_id"], since=ev.at))


@handles("organization.oversight_removed")
def _oversight_removed(conn: Connection, ev: Event) -> None:
    o = t.oversight.c
    conn.execute(t.oversight.delete().where(o.overseer_id == ev.payload["overseer_id"],
                                            o.agency_id == ev.payload["agency_id"]))


@handles("location.created")
def _location_created(conn: Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(t.locations.insert().values(
        id=ev.position, agency_id=p["agency_id"], code=p["code"], name=p["name"], kind=p["kind"]))


@handles("licence.created")
def _licence_created(conn: Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(t.licences.insert().values(
        id=ev.position, number=p["number"], holder_id=p["holder_id"],
        valid_from=p["valid_from"], valid_to=p["valid_to"]))
    for agency_id in p["agency_ids"]:
        conn.execute(t.licence_agencies.insert().values(licence_id=ev.position, agency_id=agency_id))


@handles("licence.officer_attached")
def _officer_licence(conn: Connection, ev: Event) -> None:
    conn.execute(t.officers.update().where(t.officers.c.id == ev.payload["officer_id"])
                 .values(licence_id=ev.payload["licence_id"]))


# --- officers ------------------------------------------------------------------

def _officer_row(ev: Event) -> dict[str, object]:
    p = ev.payload
    return dict(
        id=ev.position, agency_id=p["agency_id"], badge=p["badge"], name=p["name"],
        cuip=p["cuip"], status="active", credential_folio=p["credential_folio"],
        credential_expiry=p["credential_expiry"], qualification_expiry=p["qualification_expiry"],
        licence_id=p["licence_id"])


@handles("officer.registered")
def _officer_registered(conn: Connection, ev: Event) -> None:
    conn.execute(t.officers.insert().values(**_officer_row(ev)))


def _officer_status(status: str) -> Handler:
    def handler(conn: Connection, ev: Event) -> None:
        conn.execute(t.officers.update().where(t.officers.c.id == ev.payload["officer_id"])
                     .values(status=status))
    return handler


HANDLERS["officer.suspended"] = _officer_status("suspended")
HANDLERS["officer.reinstated"] = _officer_status("active")
HANDLERS["officer.separated"] = _officer_status("separated")


@handles("officer.renewed")
def _officer_renewed(conn: Connection, ev: Event) -> None:
    # credential_issued is recorded in the entry only; the rest are columns
    values = {k: v for k, v in ev.payload.items()
              if k in ("credential_folio", "credential_expiry", "qualification_expiry")}
    conn.execute(t.officers.update().where(t.officers.c.id == ev.payload["officer_id"])
                 .values(**values))


@handles("custody.override_granted")
def _override(conn: Connection, ev: Event) -> None:
    conn.execute(t.overrides.insert().values(
        id=ev.position, officer_id=ev.payload["officer_id"], granted_by=ev.actor_id,
        reason=ev.reason or "", expires_at=ev.payload["expires_at"]))


# --- firearms and custody --------------------------------------------------------

#: The weapon's own columns, from the payload; the rest from ``firearm_state``'s rule.
_IDENTITY_COLUMNS = ("serial", "serial_key", "make", "make_key", "model", "calibre", "kind",
                     "folio", "barrel_serial", "ballistic_id", "acquired_on", "supplier",
                     "purchase_ref")
_REGISTERED = firearm_state.RULES["firearm.registered"]
_REGISTERED_COLUMNS = ("id", *_IDENTITY_COLUMNS, *_REGISTERED.columns, "import_id")
_REGISTERED_SQL = (f"INSERT INTO firearms ({', '.join(_REGISTERED_COLUMNS)}) "
                   f"VALUES ({', '.join('?' for _ in _REGISTERED_COLUMNS)})")


def registered_row(position: int, at: str, p: dict) -> tuple:
    """The firearms row a ``firearm.registered`` event (its position, time and payload)
    inserts, ``REGISTERED_SQL``'s parameters: the weapon's identity, then the columns the
    registration's rule (``firearm_state.RULES``) sets. The replay of a large registry
    inserts many at once with them."""
    return (position, *[p[c] for c in _IDENTITY_COLUMNS],
            *_REGISTERED.values(p, at, position), p.get("import_entry"))


REGISTERED_SQL = _REGISTERED_SQL
REGISTERED_COLUMNS = _REGISTERED_COLUMNS


def _registered_source(source: object, payload: str, at: str, position: str) -> str:
    if isinstance(source, firearm_state.Field):
        return f"json_extract({payload}, '$.{source.name}')"
    if source is firearm_state.AT:
        return at
    if source is firearm_state.POSITION:
        return position
    if source is None:
        return "NULL"
    if isinstance(source, int) and not isinstance(source, bool):
        return str(source)
    if isinstance(source, str):
        return "'" + source.replace("'", "''") + "'"
    raise ValueError(f"no SQL for a rule's source {source!r}")


def registered_select(payload: str, at: str, position: str) -> str:
    """``registered_row`` as SQLite expressions over an events row's columns (the names
    given), in ``REGISTERED_SQL``'s order: the replay of a large registry on SQLite
    inserts it with ``INSERT ... SELECT`` from the event rows, without a Python object per
    weapon. On the payloads the application writes (canonical JSON, every field there)
    ``json_extract`` gives the values ``registered_row`` gives, type for type."""
    sources = [position, *[_registered_source(firearm_state.Field(c), payload, at, position)
                           for c in _IDENTITY_COLUMNS],
               *[_registered_source(_REGISTERED.sets[c], payload, at, position)
                 for c in _REGISTERED.columns],
               f"json_extract({payload}, '$.import_entry')"]
    return ", ".join(sources)


@handles("firearm.registered")
def _registered(conn: Connection, ev: Event) -> None:
    # On the driver's cursor: an import or a replay of a large registry runs this per weapon,
    # and building the statement with SQLAlchemy costs ten times the insert itself.
    Raw(conn).execute(_REGISTERED_SQL, registered_row(ev.position, ev.at, ev.payload))


# --- imports written in slices (services.imports) ---------------------------------

@handles("import.started")
def _import_started(conn: Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(t.imports.insert().values(
        id=ev.position, agency_id=ev.org_id, kind=p["kind"], file=p["file"],
        sha256=p["sha256"], state="running", started_at=ev.at))


@handles("import.completed")
def _import_completed(conn: Connection, ev: Event) -> None:
    started = ev.payload.get("started")
    if started is not None:  # an import in one transaction has no row
        conn.execute(t.imports.update().where(t.imports.c.id == started)
                     .values(state="completed", ended_at=ev.at, ended_by=ev.position))


@handles("import.voided")
def _import_voided(conn: Connection, ev: Event) -> None:
    """Take back the weapons one slice of a failed import registered (positions
    ``first_position`` to ``last_position``): as if they had never been registered."""
    p = ev.payload
    started, first, last = p["started"], p["first_position"], p["last_position"]
    f = t.firearms.c
    mine = and_(f.import_id == started, f.id >= first, f.id <= last)
    # an override the import used is free again (its weapon never moved since: no entry
    # may touch a weapon of an unfinished import)
    conn.execute(t.overrides.update()
                 .where(t.overrides.c.used_by_event.in_(select(f.last_event).where(mine)))
                 .values(used_by_event=None))
    conn.execute(t.firearms.delete().where(mine))
    conn.execute(t.imports.update().where(t.imports.c.id == started).values(
        state="voided" if p["complete"] else "voiding", ended_at=ev.at, ended_by=ev.position))


@handles("custody.issued")
def _issued(conn: Connection, ev: Event) -> None:
    _firearm(conn, ev)
    if ev.payload.get("override_id") is not None:
        conn.execute(t.overrides.update().where(t.overrides.c.id == ev.payload["override_id"])
                     .values(used_by_event=ev.position))


def _open_request(kind: str) -> Handler:
    def handler(conn: Connection, ev: Event) -> None:
        agency_id = conn.execute(select(t.firearms.c.agency_id)
                                 .where(t.firearms.c.id == ev.payload["firearm_id"])).scalar_one()
        conn.execute(t.requests.insert().values(
            id=ev.position, kind=kind, firearm_id=ev.payload["firearm_id"], agency_id=agency_id,
            to_agency_id=ev.payload.get("to_agency_id"), requested_by=ev.actor_id,
            requested_at=ev.at, reason=ev.reason, state="pending"))
    return handler


HANDLERS["firearm.transfer_requested"] = _open_request("transfer")
HANDLERS["firearm.decommission_requested"] = _open_request("decommission")
HANDLERS["entry.correction_requested"] = _open_request("correction")


def _close_request(conn: Connection, ev: Event, state: str) -> None:
    conn.execute(t.requests.update().where(t.requests.c.id == ev.payload["request_id"])
                 .values(state=state, decided_by=ev.actor_id, decided_at=ev.at))


@handles("request.rejected")
def _rejected(conn: Connection, ev: Event) -> None:
    _close_request(conn, ev, "rejected")


@handles("firearm.transfer_sent", "firearm.decommissioned")
def _request_approved(conn: Connection, ev: Event) -> None:
    _firearm(conn, ev)
    _close_request(conn, ev, "approved")


@handles("firearm.reported_lost", "firearm.reported_stolen")
def _reported(conn: Connection, ev: Event) -> None:
    p = ev.payload
    stolen = ev.type == "firearm.reported_stolen"
    _firearm(conn, ev)
    agency_id = conn.execute(select(t.firearms.c.agency_id)
                             .where(t.firearms.c.id == p["firearm_id"])).scalar_one()
    if stolen and p["previous_status"] == "lost":
        # a loss later found to be a theft: the open report is superseded
        conn.execute(t.loss_reports.update().where(and_(
            t.loss_reports.c.firearm_id == p["firearm_id"],
            t.loss_reports.c.recovered_at.is_(None))).values(recovered_at=ev.at))
    conn.execute(t.loss_reports.insert().values(
        id=ev.position, firearm_id=p["firearm_id"], agency_id=agency_id, stolen=stolen,
        occurred_on=p["occurred_on"], place=p["place"], on_duty=p["on_duty"],
        complaint_number=p["complaint_number"],
        complaint_authority=p.get("complaint_authority"), officer_id=p["officer_id"],
        reported_by=ev.actor_id, reported_at=ev.at,
        notified_at=p["notified_at"]))


@handles("firearm.loss_notified")
def _notified(conn: Connection, ev: Event) -> None:
    conn.execute(t.loss_reports.update().where(t.loss_reports.c.id == ev.payload["report_id"])
                 .values(notified_at=ev.payload["notified_at"],
                         notification_ref=ev.payload.get("reference")))


@handles("firearm.negligence_determined")
def _negligence(conn: Connection, ev: Event) -> None:
    conn.execute(t.loss_reports.update().where(t.loss_reports.c.id == ev.payload["report_id"])
                 .values(negligent=ev.payload["negligent"], negligence_at=ev.at))


@handles("firearm.recovered")
def _recovered(conn: Connection, ev: Event) -> None:
    _firearm(conn, ev)
    conn.execute(t.loss_reports.update().where(and_(
        t.loss_reports.c.firearm_id == ev.payload["firearm_id"],
        t.loss_reports.c.recovered_at.is_(None))).values(recovered_at=ev.at))


# Every other entry of ``firearm_state.RULES`` changes the weapon's row and nothing else
# (a movement, a weapon of record, a licence); one that only asks for a change has its
# request's handler above.
for _type in firearm_state.ROW_EVENTS:
    HANDLERS.setdefault(_type, _firearm)


# --- ammunition --------------------------------------------------------------------

def _add(conn: Connection, table, keys: dict, delta: int) -> None:
    where = and_(*[table.c[k] == v for k, v in keys.items()])
    current = conn.execute(select(table.c.quantity).where(where)).scalar_one_or_none()
    if current is None:
        conn.execute(table.insert().values(**keys, quantity=delta))
    else:
        conn.execute(table.update().where(where).values(quantity=current + delta))


def _stock(ev: Event) -> dict:
    p = ev.payload
    return {"location_id": p["location_id"], "calibre": p["calibre"], "lot": p["lot"]}


def _out(ev: Event) -> dict:
    p = ev.payload
    return {"officer_id": p["officer_id"], "calibre": p["calibre"], "lot": p["lot"]}


@handles("ammunition.received")
def _ammo_received(conn: Connection, ev: Event) -> None:
    _add(conn, t.ammo_stock, _stock(ev), ev.payload["quantity"])


@handles("ammunition.issued")
def _ammo_issued(conn: Connection, ev: Event) -> None:
    _add(conn, t.ammo_stock, _stock(ev), -ev.payload["quantity"])
    _add(conn, t.ammo_out, _out(ev), ev.payload["quantity"])


@handles("ammunition.returned")
def _ammo_returned(conn: Connection, ev: Event) -> None:
    p = ev.payload
    _add(conn, t.ammo_out, _out(ev), -(p["returned"] + p["consumed"]))
    if p["returned"]:
        _add(conn, t.ammo_stock, _stock(ev), p["returned"])


@handles("ammunition.consumed")
def _ammo_consumed(conn: Connection, ev: Event) -> None:
    _add(conn, t.ammo_stock, _stock(ev), -ev.payload["quantity"])


# --- alerts and corrections ------------------------------------------------------------

@handles("alert.acknowledged")
def _acked(conn: Connection, ev: Event) -> None:
    conn.execute(t.alert_acks.insert().values(
        alert_key=ev.payload["alert_key"], acked_by=ev.actor_id, acked_at=ev.at,
        note=ev.reason))


_CORRECTION_TARGETS = {
    "firearm.registered": (t.firearms, lambda ev: ev.subject_id),
    "officer.registered": (t.officers, lambda ev: ev.subject_id),
    "firearm.reported_lost": (t.loss_reports, lambda ev: ev.corrects),
    "firearm.reported_stolen": (t.loss_reports, lambda ev: ev.corrects),
}


@handles("entry.corrected")
def _corrected(conn: Connection, ev: Event) -> None:
    table, key = _CORRECTION_TARGETS[ev.payload["corrected_type"]]
    conn.execute(table.update().where(table.c.id == key(ev)).values(**ev.payload["changes"]))
    if ev.payload.get("request_id") is not None:  # an approved identity correction
        _close_request(conn, ev, "approved")


# --- inspections ---------------------------------------------------------------------

@handles("inspection.planned")
def _inspection_planned(conn: Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(t.inspections.insert().values(
        id=ev.position, authority_id=p["authority_id"], agency_id=p["agency_id"],
        planned_on=p["planned_on"], sealed=p["sealed"], state="planned",
        locations=canonical(p["locations"]), people=canonical(p["people"]),
        ordered_by=ev.actor_id, planned_at=ev.at, revealed=False, refused_movements=0))


def _inspection(conn: Connection, ev: Event, **values: object) -> None:
    conn.execute(t.inspections.update().where(t.inspections.c.id == ev.payload["inspection_id"])
                 .values(**values))


@handles("inspection.opened")
def _inspection_opened(conn: Connection, ev: Event) -> None:
    people = ev.payload["people"]
    if people:
        _inspection(conn, ev, state="open", opened_at=ev.at, people=canonical(people))
    else:
        _inspection(conn, ev, state="open", opened_at=ev.at)


@handles("inspection.scanned")
def _inspection_scanned(conn: Connection, ev: Event) -> None:
    p = ev.payload
    from resguardo.domain.serials import serial_key
    conn.execute(t.inspection_scans.insert().values(
        id=ev.position, inspection_id=p["inspection_id"], serial=p["serial"],
        serial_key=serial_key(p["serial"]), make=p["make"], location=p["location"],
        holder=p["holder"], note=p["note"], source=p["source"], observed_at=p["observed_at"],
        scanned_by=ev.actor))


@handles("inspection.rounds_counted")
def _rounds_counted(conn: Connection, ev: Event) -> None:
    p = ev.payload
    keys = {"inspection_id": p["inspection_id"], "location": p["location"],
            "calibre": p["calibre"], "lot": p["lot"]}
    where = and_(*[t.inspection_rounds.c[k] == v for k, v in keys.items()])
    if conn.execute(select(t.inspection_rounds.c.quantity).where(where)).first() is None:
        conn.execute(t.inspection_rounds.insert().values(**keys, quantity=p["quantity"]))
    else:
        conn.execute(t.inspection_rounds.update().where(where).values(quantity=p["quantity"]))


@handles("inspection.witnessed")
def _witnessed(conn: Connection, ev: Event) -> None:
    """Nothing to project: the witness's answer is read from the entry itself."""


@handles("inspection.revealed")
def _revealed(conn: Connection, ev: Event) -> None:
    _inspection(conn, ev, revealed=True)


@handles("inspection.lockdown_refused")
def _lockdown_refused(conn: Connection, ev: Event) -> None:
    conn.execute(t.inspections.update().where(t.inspections.c.id == ev.payload["inspection_id"])
                 .values(refused_movements=t.inspections.c.refused_movements + 1))


@handles("inspection.closed")
def _inspection_closed(conn: Connection, ev: Event) -> None:
    from resguardo.domain.inspections import ACTIONABLE
    p = ev.payload
    _inspection(conn, ev, state="closed", closed_at=p["closed_at"],
                summary=canonical(p["summary"]), acta_sha256=p["acta_sha256"],
                present_by=p.get("present_by"))
    for seq, finding in enumerate(p["findings"], 1):
        actionable = finding["kind"] in ACTIONABLE
        conn.execute(t.inspection_findings.insert().values(
            inspection_id=p["inspection_id"], seq=seq, agency_id=ev.org_id,
            kind=finding["kind"], serial=finding.get("serial"), make=finding.get("make"),
            details=canonical(finding), actionable=actionable,
            state="open" if actionable else "closed"))


def _finding(conn: Connection, ev: Event, **values: object) -> None:
    p, c = ev.payload, t.inspection_findings.c
    conn.execute(t.inspection_findings.update().where(and_(
        c.inspection_id == p["inspection_id"], c.seq == p["finding_id"])).values(**values))


@handles("inspection.finding_answered")
def _finding_answered(conn: Connection, ev: Event) -> None:
    _finding(conn, ev, resolution=ev.payload["resolution"], answered_at=ev.at,
             answered_by=ev.actor, evidence=ev.payload.get("evidence"), state="answered")


@handles("inspection.finding_reviewed")
def _finding_reviewed(conn: Connection, ev: Event) -> None:
    _finding(conn, ev, state="closed" if ev.payload["accepted"] else "reopened",
             reviewed_at=ev.at, reviewed_by=ev.actor, review_note=ev.reason)


@handles("inspection.finding_verified")
def _finding_verified(conn: Connection, ev: Event) -> None:
    _finding(conn, ev, state="closed", reviewed_at=ev.at, reviewed_by=ev.actor,
             review_note=None)
