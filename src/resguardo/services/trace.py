"""Trace: from a serial read off a recovered weapon to its agency and the officer who held it.

A trace runs in four steps:

1. **Match** the query against every registered serial with the deployment's
   :mod:`trace index <resguardo.services.trace_index>` (weighted distance of
   :mod:`resguardo.domain.trace`: look-alike 0.5, ``?`` 0.1, any other edit 1;
   exact matches first), restricted to the make when one is given.
2. **Scope**: only firearms whose agency lies in the caller's scope survive,
   then the calibre, kind and agency (any organization: an agency, or a state
   for all its agencies) filters. An investigator of one state never sees
   another state's weapons, not even as a count. When scope or filters remove
   candidates the index is asked for more (up to ``MAX_WINDOW`` system-wide),
   so the ranking is the one a full scan of the caller's scope would give.
3. **Custody on the date**: who held each candidate or where it was stored on
   the date asked about (now when none is given), by the rules of
   :mod:`resguardo.domain.trace_custody`, and the custody entries around that
   moment (:func:`custody_window`: the last ``CUSTODY_BEFORE`` at or before it,
   the first ``CUSTODY_AFTER`` after it, read without the rest of the history,
   with ``custody_total`` and ``custody_complete``), or, with ``full_custody``,
   the whole chain replayed from the registration; with loss and theft reports
   (place, date, complaint number, whether and when the military authority was
   notified).
4. **Record**: every trace appends ``access.trace`` (who, the query, its
   filters and the candidates returned) in the caller's transaction; the
   entry point commits it with the answer. Investigators read back their own
   traces, auditors every trace in their scope (:func:`trace_log`).

The answer has the shape of docs/formats.md ("Trace"): ``query`` and
``candidates`` with serial, make, model, calibre, distance, agency, status,
``custodian_on_date`` ({badge, name} or null) and ``custody`` ({at, event,
officer, location}), ``custody_total`` and ``custody_complete``, ``firearm_id``;
each candidate also carries ``former_serial`` (the
serial it was once recorded under that the query matched, before a correction;
null when its serial now matched), ``kind``,
``status_on_date`` and ``location_on_date`` (where it was stored),
``officer_of_record_on_date`` ({badge, name} or null: whose weapon of record it
was, apart from who held it), and
custody entries carry the details of their kind (``to_agency``, ``shop``,
loss ``place``/``occurred_on``/``complaint_number``/``notified_at``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from resguardo.domain.calibres import known as known_calibre
from resguardo.domain.corrections import apply_corrections
from resguardo.domain.entities import NewEvent, Organization
from resguardo.domain.errors import T_, NotFound, PermissionDenied, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize, may
from resguardo.domain.registry import parse_kind
from resguardo.domain.timefmt import DEFAULT_ZONE
from resguardo.domain.trace import (
    DEFAULT_LIMIT,
    DEFAULT_MAX_DISTANCE,
    MAX_MAX_DISTANCE,
    Candidate,
    TraceQuery,
    differences,
    parse_query,
)
from resguardo.domain.trace_custody import (
    CUSTODY_AFTER,
    CUSTODY_BEFORE,
    CUSTODY_EVENTS,
    NOT_CUSTODY,
    UNKNOWN_STATE,
    CustodyOnDate,
    CustodyState,
    TraceMoment,
    custody_on,
    moment_at,
    parse_moment,
    setters,
    unknown_columns,
)
from resguardo.services import trace_index
from resguardo.storage import trace_queries as q
from resguardo.storage.repositories import Repositories
from resguardo.storage.uow import UnitOfWork

#: Most candidates one trace returns.
MAX_LIMIT = 100
#: Most system-wide candidates examined for one trace before scope and filters.
MAX_WINDOW = 40_000
LOSS_TYPES = ("firearm.reported_lost", "firearm.reported_stolen")
_CALIBRE_SEPARATORS = re.compile(r"[\s.,_-]+")


@dataclass(frozen=True)
class TraceInput:
    """One trace question: the serial as read and the optional filters."""

    serial: str
    make: str | None = None
    calibre: str | None = None
    kind: str | None = None
    agency: str | None = None
    date: str | None = None
    max_distance: float = DEFAULT_MAX_DISTANCE
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class _Plan:
    ask: TraceInput
    query: TraceQuery
    moment: TraceMoment
    kind: str | None
    calibre: str | None
    within: Organization | None


def calibre_key(calibre: str) -> str:
    """Calibre compared as the vocabulary names it (``9 mm Luger`` = ``9x19mm``), or, for a
    spelling it does not know (a value recorded before calibres were a list), without case,
    spaces, dots or hyphens (``9 x 19 mm`` = ``9x19MM``)."""
    canonical = known_calibre(calibre)
    return _CALIBRE_SEPARATORS.sub("", canonical or calibre).upper()


def may_trace(uow: UnitOfWork) -> None:
    """Refuse a caller whose role may not trace."""
    if uow.actor is not None:
        authorize(uow.actor, Action.TRACE)



def _plan(uow: UnitOfWork, ask: TraceInput) -> _Plan:
    """Validate one question (nothing is searched or recorded when any part is wrong)."""
    if not 1 <= ask.limit <= MAX_LIMIT:
        raise ValidationFailed(T_("%(field)s must be between %(low)s and %(high)s"), field="limit",
                               value=ask.limit, low=1, high=MAX_LIMIT)
    query = parse_query(ask.serial)
    if not 0.0 <= ask.max_distance <= MAX_MAX_DISTANCE:  # also refuses NaN
        raise ValidationFailed(T_("%(field)s must be between %(low)s and %(high)s"),
                               field="max_distance", value=ask.max_distance, low=0,
                               high=f"{MAX_MAX_DISTANCE:g}")
    moment = parse_moment(ask.date) if ask.date else moment_at(uow.now())
    kind = parse_kind(ask.kind).value if ask.kind else None
    calibre = calibre_key(ask.calibre) if ask.calibre and ask.calibre.strip() else None
    within = None
    if ask.agency:
        try:
            within = uow.repo.org(ask.agency.strip())
        except NotFound:
            raise NotFound("organization not found") from None
    return _Plan(ask, query, moment, kind, calibre, within)


def validate(uow: UnitOfWork, ask: TraceInput) -> None:
    """Refuse a question as a trace would, without searching or recording anything."""
    may_trace(uow)
    _plan(uow, ask)


def trace(uow: UnitOfWork, ask: TraceInput, *, reason: str | None = None,
          full_custody: bool = False) -> dict[str, Any]:
    """Candidates for one serial, in the docs/formats.md trace shape; the trace is recorded."""
    return trace_many(uow, [ask], reason=reason, full_custody=full_custody)[0]


def trace_many(uow: UnitOfWork, asks: Sequence[TraceInput], *,
               reason: str | None = None, full_custody: bool = False) -> list[dict[str, Any]]:
    """One answer per question, in order; each question is recorded as its own entry.

    Each candidate's ``custody`` is the window around the moment asked about
    (:func:`custody_window`), or its whole chain with ``full_custody``.
    """
    may_trace(uow)
    plans = [_plan(uow, ask) for ask in asks]
    found = _search(uow, plans)
    answers = []
    for plan, hits in zip(plans, found, strict=True):
        answer = {"query": plan.ask.serial,
                  "candidates": trace_candidates(uow, hits, plan, full_custody=full_custody)}
        uow.append(_record(uow, plan, hits, reason))
        answers.append(answer)
    return answers


def trace_candidates(uow: UnitOfWork, hits: list[dict[str, Any]], plan: _Plan, *,
               full_custody: bool = False) -> list[dict[str, Any]]:
    """The answer's candidates: each hit with its custody on the date and its chain."""
    if full_custody:
        histories = q.firearm_entries(uow.repo, [h["id"] for h in hits])
        views = {h["id"]: _full_view(histories.get(h["id"], []), plan.moment) for h in hits}
    else:
        dated = plan.ask.date is not None
        through = (q.last_position_through_unscoped(uow.conn, plan.moment.includes) if dated
                   else q.head_position_unscoped(uow.conn))
        views = {h["id"]: custody_window(uow, h, plan.moment, through=through, dated=dated)
                 for h in hits}
    names = _Names(uow, [v.entries for v in views.values()],
                   [h.get(k) for h in hits for k in ("custodian_id", "record_officer_id")],
                   [h.get("location_id") for h in hits])
    former = q.former_identities_unscoped(uow.conn, [h["id"] for h in hits if h["former_key"]])
    return [_candidate(hit, views[hit["id"]], names, plan.query, former.get(hit["id"], []))
            for hit in hits]


@dataclass(frozen=True)
class _View:
    """What a trace shows of one candidate's history."""

    on_date: CustodyOnDate
    custody: list[Event]  # the custody entries shown, in log order
    total: int  # custody entries in its whole history
    entries: list[Event]  # every entry read (custody, and corrections of loss reports)


def _full_view(events: list[Event], moment: TraceMoment) -> _View:
    custody = [ev for ev in events if ev.type in CUSTODY_EVENTS]
    on_date = custody_on(((ev.type, ev.at, ev.payload) for ev in custody), moment)
    return _View(on_date, custody, len(custody), events)


def custody_window(uow: UnitOfWork, hit: dict[str, Any], moment: TraceMoment, *,
                   through: int, dated: bool) -> _View:
    """One candidate's custody around the moment, read without its whole history.

    - ``through``: the last position the moment includes (the head for a trace
      of now). The window is the last ``CUSTODY_BEFORE`` custody entries at or
      before it and the first ``CUSTODY_AFTER`` after it, each read through the
      weapon's index from that position.
    - The state at the moment: for a trace of now, the projection's row (the
      state after every entry, which the projector folds with the same rules);
      for a dated trace, the entries before the moment replayed from an unknown
      state (:data:`~resguardo.domain.trace_custody.UNKNOWN_STATE`); a column
      they leave unknown is looked for further back, as the last entry that may
      set it (``setters``), until every shown column is told. The answer is
      the one the replay of the whole history gives.
    - The chain's length: the weapon's entries counted from its index, less
      those that are not custody.
    """
    firearm_id = int(hit["id"])
    conn = uow.conn
    before = q.custody_before(uow.repo, firearm_id, CUSTODY_EVENTS, through=through,
                              limit=CUSTODY_BEFORE)[::-1]
    after = (q.custody_after(uow.repo, firearm_id, CUSTODY_EVENTS, after=through,
                             limit=CUSTODY_AFTER) if dated else [])
    if dated:
        on_date = _on_date(uow.repo, firearm_id, before, moment)
    else:
        state = CustodyState(status=hit["status"], location_id=hit["location_id"],
                             custodian_id=hit["custodian_id"],
                             record_officer_id=hit["record_officer_id"])
        on_date = CustodyOnDate(state, state.custodian_id)
    total, other = q.entry_counts_unscoped(conn, firearm_id, NOT_CUSTODY)
    shown = before + after
    entries = list(shown)
    if any(ev.type in LOSS_TYPES for ev in shown):  # their corrections and notification
        entries += q.firearm_entries_of_types(uow.repo, firearm_id,
                                              ("entry.corrected", "firearm.loss_notified"))
    return _View(on_date, shown, total - other, entries)


def _on_date(repo: Repositories, firearm_id: int, recent: list[Event],
             moment: TraceMoment) -> CustodyOnDate:
    """The state at the moment from the last entries at or before it, looking further
    back only for what they leave unknown."""
    entries = list(recent)
    while True:
        on_date = custody_on(((ev.type, ev.at, ev.payload) for ev in entries), moment,
                             start=UNKNOWN_STATE if entries else CustodyState())
        missing = unknown_columns(on_date)
        if not missing:
            return on_date
        oldest = entries[0].position if entries else None
        found = (q.custody_before(repo, firearm_id, setters(missing), through=oldest - 1,
                                  limit=1) if oldest is not None else [])
        if not found:  # nothing before: the history starts here (as a full replay would)
            return custody_on(((ev.type, ev.at, ev.payload) for ev in entries), moment)
        entries.insert(0, found[0])


def _search(uow: UnitOfWork, plans: list[_Plan]) -> list[list[dict[str, Any]]]:
    """Each plan's candidates in scope, ranked, with their firearm rows."""
    rows: dict[int, dict[str, Any]] = {}  # firearms in scope, among those looked up
    looked: set[int] = set()

    def look_up(hits: list[Candidate]) -> None:
        fresh = {_id(hit) for hit in hits} - looked
        rows.update(q.candidate_rows(uow.repo, sorted(fresh)))  # one query for many plans
        looked.update(fresh)

    results = []
    with trace_index.current(uow) as entry:
        windows = [plan.ask.limit * 4 + 16 for plan in plans]
        first = [entry.index.search(plan.query, max_distance=plan.ask.max_distance,
                                    make=plan.ask.make, limit=window)
                 for plan, window in zip(plans, windows, strict=True)]
        look_up([hit for hits in first for hit in hits])
        for plan, window, hits in zip(plans, windows, first, strict=True):
            limit = plan.ask.limit
            kept = _keep(plan, hits, rows)
            # Every serial past the window is at least as far as the last one in it, so
            # the kept ones are the nearest in scope; when scope or filters left too few,
            # look further (a bounded number of times: a one-letter prefix matches all).
            while len(kept) < limit and len(hits) == window and window < MAX_WINDOW:
                window = min(window * 16, MAX_WINDOW)
                hits = entry.index.search(plan.query, max_distance=plan.ask.max_distance,
                                          make=plan.ask.make, limit=window)
                look_up(hits)
                kept = _keep(plan, hits, rows)
            results.append(kept[:limit])
    return results


def _keep(plan: _Plan, hits: list[Candidate],
          rows: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    kept = []
    seen: set[int] = set()
    for hit in hits:
        firearm_id = _id(hit)
        row = rows.get(firearm_id)
        if row is None or firearm_id in seen:
            continue  # outside the caller's scope, or nearer under another of its serials
        seen.add(firearm_id)
        if plan.kind is not None and row["kind"] != plan.kind:
            continue
        if plan.calibre is not None and calibre_key(row["calibre"]) != plan.calibre:
            continue
        if plan.within is not None and not row["agency_path"].startswith(plan.within.path):
            continue
        former = hit.serial_key if isinstance(hit.id, tuple) else None
        kept.append({**row, "distance": hit.distance, "former_key": former})
    return kept


def _id(hit: Candidate) -> int:
    return trace_index.firearm_of(hit.id)


class _Names:
    """Officers, locations and organizations named by a set of entries, loaded at once."""

    def __init__(self, uow: UnitOfWork, histories: Iterable[list[Event]],
                 officer_ids: Iterable[Any] = (), location_ids: Iterable[Any] = ()) -> None:
        officers: set[int] = {i for i in officer_ids if isinstance(i, int)}
        locations: set[int] = {i for i in location_ids if isinstance(i, int)}
        orgs: set[int] = set()
        for events in histories:
            for ev in events:
                p = ev.payload
                for key, into in (("officer_id", officers), ("location_id", locations),
                                  ("from_location_id", locations), ("to_agency_id", orgs),
                                  ("agency_id", orgs)):
                    value = p.get(key)
                    if isinstance(value, int):
                        into.add(value)
        self.officers = uow.repo.officers_by_id_unscoped(sorted(officers))
        self.locations = uow.repo.location_codes_unscoped(sorted(locations))
        self.orgs = uow.repo.org_names(sorted(orgs))

    def officer(self, officer_id: int | None) -> dict[str, str] | None:
        found = self.officers.get(officer_id) if officer_id is not None else None
        return None if found is None else {"badge": found.badge, "name": found.name}

    def officer_text(self, officer_id: int | None) -> str | None:
        found = self.officer(officer_id)
        return None if found is None else f"{found['badge']} {found['name']}"

    def location(self, location_id: int | None) -> str | None:
        return self.locations.get(location_id) if location_id is not None else None

    def org(self, org_id: int | None) -> str | None:
        return self.orgs.get(org_id) if org_id is not None else None


def _former_serial(key: str | None, former: list[tuple[str, str, str, str]]) -> str | None:
    """The serial, as it was written, of the former serial key a candidate matched."""
    if key is None:
        return None
    for serial, serial_key, _make, _make_key in former:
        if serial_key == key:
            return serial
    return key


def _candidate(hit: dict[str, Any], view: _View, names: _Names, query: TraceQuery,
               former: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    told = differences(query, hit["former_key"] or hit["serial"])
    on_date = view.on_date
    chain = custody_chain(view.entries, names, shown=view.custody)
    return {
        "serial": hit["serial"], "make": hit["make"], "model": hit["model"],
        "calibre": hit["calibre"], "distance": hit["distance"], "agency": hit["agency"],
        "status": hit["status"],
        "custodian_on_date": names.officer(on_date.custodian_id),
        "custody": chain,
        "custody_total": view.total,
        "custody_complete": len(chain) == view.total,
        "former_serial": _former_serial(hit["former_key"], former),
        "kind": hit["kind"],
        "status_on_date": on_date.state.status,
        "location_on_date": names.location(on_date.state.location_id),
        "differences": {"unreadable": told.unreadable, "lookalike": told.lookalike,
                        "other": told.other},
        "officer_of_record_on_date": names.officer(on_date.state.record_officer_id),
        "import_running": hit.get("import_running"),
        "firearm_id": int(hit["id"]),
    }


def custody_chain(events: list[Event], names: _Names,
                  shown: list[Event] | None = None) -> list[dict[str, Any]]:
    """The custody entries of one firearm (``shown``, or all of ``events``), oldest first,
    loss reports as corrected (by the corrections and notifications among ``events``)."""
    fixes: dict[int, list[dict]] = {}
    notified: dict[int, str] = {}
    for ev in events:
        if ev.type == "entry.corrected" and ev.corrects is not None:
            fixes.setdefault(ev.corrects, []).append(ev.payload)
        elif ev.type == "firearm.loss_notified":
            notified.setdefault(int(ev.payload["report_id"]), ev.payload["notified_at"])
    chain = []
    for ev in (events if shown is None else shown):
        if ev.type not in CUSTODY_EVENTS:
            continue
        p = apply_corrections(ev.payload, fixes.get(ev.position, []))
        location = p.get("location_id", p.get("from_location_id"))
        entry: dict[str, Any] = {"at": ev.at, "event": ev.type,
                                 "officer": names.officer_text(p.get("officer_id")),
                                 "location": names.location(location)}
        if ev.type == "firearm.registered":
            entry["to_agency"] = names.org(p.get("agency_id"))
        elif ev.type in ("firearm.transfer_sent", "firearm.transfer_received"):
            entry["to_agency"] = names.org(p.get("to_agency_id"))
        elif ev.type == "firearm.repair_sent":
            entry["shop"] = p.get("shop")
        elif ev.type in LOSS_TYPES:
            when = p.get("notified_at") or notified.get(ev.position)
            entry.update({"occurred_on": p.get("occurred_on"), "place": p.get("place"),
                          "on_duty": p.get("on_duty"),
                          "complaint_number": p.get("complaint_number"),
                          "complaint_authority": p.get("complaint_authority"),
                          "notified": when is not None, "notified_at": when})
        elif ev.type == "firearm.loss_notified":
            entry.update({"notified_at": p.get("notified_at"), "reference": p.get("reference")})
        elif ev.type == "firearm.recovered" and p.get("held_by"):
            entry["held_by"] = p["held_by"]
        elif ev.type == "firearm.released":
            entry["reference"] = p.get("reference")
        elif ev.type in ("firearm.assigned_of_record", "firearm.unassigned_of_record"):
            entry["reason"] = ev.reason
        chain.append(entry)
    return chain


def _tenths(distance: float) -> int:
    """A distance as the whole tenths it is counted in (the log stores no floats)."""
    return round(distance * 10)


def _limit_tenths(max_distance: float) -> int:
    """The largest distance allowed, in whole tenths, as the matching counts it."""
    return math.floor(max_distance * 10 + 1e-9)


def _record(uow: UnitOfWork, plan: _Plan, hits: list[dict[str, Any]],
            reason: str | None) -> NewEvent:
    ask = plan.ask
    filters = {k: v for k, v in (("make", ask.make), ("calibre", ask.calibre),
                                 ("kind", plan.kind), ("agency", ask.agency),
                                 ("date", ask.date)) if v}
    payload = {
        "query": ask.serial, "filters": filters, "max_distance_tenths": _limit_tenths(ask.max_distance),
        "limit": ask.limit,
        "candidates": [{"firearm_id": h["id"], "serial": h["serial"], "make": h["make"],
                        "agency": h["agency"], "distance_tenths": _tenths(h["distance"])}
                       for h in hits],
    }
    actor = uow.actor
    return NewEvent("access.trace", payload, reason=(reason or "").strip() or None,
                    org_id=actor.scope.id if actor is not None else None)


# --- the access log of traces ------------------------------------------------------------------

def trace_log(uow: UnitOfWork, *, offset: int = 0, limit: int = 50,
              user: str | None = None) -> dict[str, Any]:
    """Recorded traces, newest first: an auditor's scope, or only an investigator's own."""
    actor = uow.actor
    actor_id = _user_id(uow, user) if user else None
    if actor is not None and not may(actor, Action.ACCESS_LOG_READ):
        authorize(actor, Action.TRACE)
        if user and user != actor.username:
            raise PermissionDenied("an investigator reads only their own traces",
                                   role=actor.role.value, action=Action.ACCESS_LOG_READ.value)
        actor_id = actor.user_id
    events, total = q.trace_log(uow.repo, actor_id=actor_id, offset=offset, limit=limit)
    return {"items": [log_entry(ev) for ev in events], "total": total, "offset": offset,
            "limit": limit}


def _user_id(uow: UnitOfWork, username: str) -> int:
    """The account's id, disabled or not (-1, matching nothing, when there is none)."""
    row = uow.repo.user_row(username.strip())
    return -1 if row is None else int(row.id)


def log_entry(ev: Event) -> dict[str, Any]:
    """A recorded trace as the access log shows it."""
    p = ev.payload
    return {"position": ev.position, "at": ev.at, "actor": ev.actor,
            "kind": "request" if ev.type == "access.trace_request" else "trace",
            "case_file": p.get("case_file"),
            "query": p.get("query") or p.get("serial") or "", "filters": p.get("filters", {}),
            "reason": ev.reason,
            "candidates": [{"firearm_id": c["firearm_id"], "serial": c["serial"],
                            "make": c["make"], "agency": c["agency"],
                            "distance": c["distance_tenths"] / 10}
                           for c in p.get("candidates", [])]}


# --- trace requests to a national tracing centre -----------------------------------------------

@dataclass(frozen=True)
class RecoveredFirearm:
    """What an investigator reads off a recovered weapon, for a national tracing centre."""

    serial: str = ""  # as read, '?' for each unreadable character; empty when fully obliterated
    obliterated: bool = False
    make: str | None = None
    model: str | None = None
    calibre: str | None = None
    kind: str | None = None
    country_of_origin: str | None = None
    importer: str | None = None
    markings: str | None = None
    recovered_place: str | None = None
    recovered_on: date | None = None


_REQUEST_TEXT = (("make", 60), ("model", 60), ("calibre", 40), ("country_of_origin", 80),
                 ("importer", 200), ("markings", 2000), ("recovered_place", 200))


def _request_fields(data: RecoveredFirearm) -> dict[str, Any]:
    fields: dict[str, Any] = {"serial": (data.serial or "").strip(),
                              "obliterated": bool(data.obliterated)}
    if len(fields["serial"]) > 40:
        raise ValidationFailed(T_("%(field)s is longer than %(limit)s characters"), field="serial",
                               limit=40)
    if not fields["serial"] and not data.obliterated:
        raise ValidationFailed("give the serial as read, or say it is obliterated",
                               field="serial")
    for name, limit in _REQUEST_TEXT:
        value = (getattr(data, name) or "").strip()
        if len(value) > limit:
            raise ValidationFailed(T_("%(field)s is longer than %(limit)s characters"), field=name,
                                   limit=limit)
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
            raise ValidationFailed(T_("%(field)s contains control characters"), field=name)
        fields[name] = value or None
    fields["kind"] = parse_kind(data.kind).value if data.kind else None
    fields["recovered_on"] = data.recovered_on.isoformat() if data.recovered_on else None
    return fields


#: A case file number (carpeta de investigación) as prosecutors' offices write them:
#: ``FED/JAL/GDL/0001234/2026``, ``CI-FGE-SON-0312/2026``, ``D-2026-000451``.
_CASE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /._()#-]{3,79}$")


def case_file_number(value: str | None) -> str:
    """The carpeta de investigación a trace request is made for: required, 4 to 80
    letters, digits and ``/ - . _ ( ) #`` with at least one digit."""
    text = " ".join((value or "").split())
    if not text:
        raise ValidationFailed("a trace request needs the case file number (carpeta de "
                               "investigación)", field="case_file")
    if not _CASE_FILE.match(text) or not any(ch.isdigit() for ch in text):
        raise ValidationFailed(f"case file {text[:40]!r} is not a case file number: 4 to 80 "
                               "letters, digits and / - . with at least one digit, such as "
                               "FED/JAL/GDL/0001234/2026", field="case_file")
    return text


def trace_request(uow: UnitOfWork, data: RecoveredFirearm, *, case_file: str | None,
                  reason: str | None = None,
                  max_distance: float = DEFAULT_MAX_DISTANCE) -> dict[str, Any]:
    """Record a trace request (``access.trace_request``) with this registry's own candidates,
    for a case file (carpeta de investigación), which it requires.

    When the serial has readable characters the registry is traced first (the
    caller's scope, the make given, custody on the recovery date), so the
    request says what was already searched and found here.
    """
    may_trace(uow)
    case = case_file_number(case_file)
    fields = _request_fields(data)
    hits: list[dict[str, Any]] = []
    shown: list[dict[str, Any]] = []
    if fields["serial"].replace("?", "").strip(" -./*"):
        plan = _plan(uow, TraceInput(fields["serial"], make=fields["make"],
                                     date=fields["recovered_on"], max_distance=max_distance,
                                     limit=10))
        hits = _search(uow, [plan])[0]
        shown = trace_candidates(uow, hits, plan)
    actor = uow.actor
    candidates = [{"firearm_id": h["id"], "serial": h["serial"], "make": h["make"],
                   "agency": h["agency"], "distance_tenths": _tenths(h["distance"])}
                  for h in hits]
    ev = uow.append(NewEvent(
        "access.trace_request", {**fields, "case_file": case,
                                 "max_distance_tenths": _limit_tenths(max_distance),
                                 "candidates": candidates},
        reason=(reason or "").strip() or None,
        org_id=actor.scope.id if actor is not None else None))
    from resguardo.services.accounts import signer
    zone = uow.repo.place(actor.scope.id)["time_zone"] if actor is not None else DEFAULT_ZONE
    return {"request": ev.position, "at": ev.at, "requested_by": ev.actor,
            "requested_by_name": signer(uow, ev.actor), "time_zone": zone,
            "case_file": case,
            "organization": actor.scope.name if actor is not None else None,
            "reason": ev.reason, **fields,
            "candidates": [{"serial": c["serial"], "make": c["make"], "agency": c["agency"],
                            "distance": c["distance"], "status": c["status"],
                            "custodian_on_date": c["custodian_on_date"],
                            "status_on_date": c["status_on_date"]}
                           for c in shown]}
