"""Exports: the registry, roster, locations, custody and findings as tables, now or as of a date.

A table is a header row (Spanish or English) and a stream of rows; the
entry points write it as CSV, XLSX or JSON (``reports.spreadsheets``). The
headers and values are the ones the import reads back, so an exported
registry re-imports to the same registry. ``as_of`` replays the log up to
the end of that day into a scratch projection and reads from it: the
registry as it stood then. The day is each agency's own (its time zone): 23:30
on the 6th in Hermosillo is in the registry as of the 6th, though UTC's 7th
had begun; agencies in different zones are read from a replay each.

JSON rows use stable field names and codes (``in_storage``, ``pistol``);
the spreadsheets use words in the chosen language (``en armería``).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from resguardo.domain.codes import OrgKind
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import (
    DEFAULT_ZONE,
    end_of_day,
    in_zone,
    iso,
    parse_date,
    parse_instant,
)
from resguardo.domain.vocabulary import parse_status
from resguardo.reports.licence import LicenceMovements, LossFacts, Movement
from resguardo.reports.reconciliation import kind_label
from resguardo.reports.vocabulary import (
    KIND_WORDS,
    LOCATION_KIND_WORDS,
    OFFICER_STATUS_WORDS,
    STATUS_WORDS,
)
from resguardo.sheets.roster import parse_officer_status
from resguardo.storage import export_queries as q
from resguardo.storage.rebuild import replay
from resguardo.storage.repositories import Repositories
from resguardo.storage.uow import UnitOfWork

EXPORTS = ("firearms", "officers", "locations", "custody", "findings")

RESOLUTION_WORDS = {"es": {"": "pendiente"}, "en": {"": "open"}}

# key, Spanish header, English header (the Spanish and English headers are import aliases)
COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "firearms": (
        ("agency", "Corporación", "Agency"), ("serial", "No. de serie", "Serial"),
        ("make", "Marca", "Make"), ("model", "Modelo", "Model"),
        ("calibre", "Calibre", "Calibre"), ("kind", "Tipo", "Kind"),
        ("folio", "Folio", "Folio"), ("status", "Estatus", "Status"),
        ("location", "Ubicación", "Location"), ("custodian", "Resguardante", "Custodian"),
        ("acquired", "Fecha de alta", "Acquired"),
        ("barrel_serial", "Serie del cañón", "Barrel serial"),
        ("ballistic_id", "Huella balística", "Ballistic ID"),
        ("licence", "Licencia", "Licence"), ("supplier", "Proveedor", "Supplier"),
        ("purchase_ref", "Referencia de compra", "Purchase reference"),
    ),
    "officers": (
        ("agency", "Corporación", "Agency"), ("badge", "Placa", "Badge"),
        ("name", "Nombre", "Name"), ("cuip", "CUIP", "CUIP"),
        ("status", "Estatus", "Status"),
        ("credential_folio", "Folio de credencial", "Credential folio"),
        ("credential_expiry", "Vigencia de credencial", "Credential expiry"),
        ("qualification_expiry", "Vigencia de evaluación", "Qualification expiry"),
        ("licence", "Licencia", "Licence"),
    ),
    "locations": (
        ("agency", "Corporación", "Agency"), ("code", "Código", "Code"),
        ("name", "Nombre", "Name"), ("kind", "Tipo", "Kind"),
    ),
    "custody": (
        ("agency", "Corporación", "Agency"), ("serial", "No. de serie", "Serial"),
        ("make", "Marca", "Make"), ("model", "Modelo", "Model"),
        ("calibre", "Calibre", "Calibre"), ("status", "Estatus", "Status"),
        ("location", "Ubicación", "Location"), ("custodian", "Resguardante", "Custodian"),
        ("custodian_name", "Nombre del resguardante", "Custodian name"),
        ("since", "Desde", "Since"),
    ),
    "findings": (
        ("agency", "Corporación", "Agency"), ("inspection", "Revista", "Inspection"),
        ("closed", "Cierre", "Closed"), ("kind", "Hallazgo", "Finding"),
        ("serial", "No. de serie", "Serial"), ("make", "Marca", "Make"),
        ("recorded_status", "Estatus en registro", "Recorded status"),
        ("recorded_location", "Ubicación en registro", "Recorded location"),
        ("recorded_custodian", "Resguardante en registro", "Recorded custodian"),
        ("seen_location", "Ubicación observada", "Seen at"),
        ("seen_holder", "Portador observado", "Seen with"),
        ("suggested", "Posible coincidencia", "Possible match"),
        ("resolution", "Respuesta", "Answer"),
    ),
}


@dataclass(frozen=True)
class ExportOptions:
    agency: str | None = None
    status: str | None = None
    as_of: date | None = None
    lang: str = "es"


@dataclass
class Export:
    """One table: its name, keys, headers in the chosen language and a stream of rows."""

    what: str
    keys: tuple[str, ...]
    headers: tuple[str, ...]
    rows: Iterator[dict[str, Any]]
    """Rows keyed by ``keys``, with codes (``in_storage``) and dates as ``date``."""
    lang: str
    as_of: date | None

    def cells(self) -> Iterator[list[Any]]:
        """Rows for a spreadsheet: codes as words in the table's language."""
        words = _WORDS.get(self.what, {})
        lang = self.lang
        for row in self.rows:
            out = []
            for key in self.keys:
                value = row.get(key)
                table = words.get(key)
                if table is not None and value is not None:
                    value = table(value, lang)
                out.append(value)
            yield out

    def records(self) -> Iterator[dict[str, Any]]:
        """Rows for JSON: stable keys and codes, dates as ISO text."""
        for row in self.rows:
            yield {k: (v.isoformat() if isinstance(v, date | datetime) else v)
                   for k, v in ((key, row.get(key)) for key in self.keys)}


def _table(words: dict[str, dict[str, str]]) -> Callable[[Any, str], Any]:
    def word(value: Any, lang: str) -> Any:
        return words.get(lang, words["en"]).get(str(value), value)
    return word


_WORDS: dict[str, dict[str, Callable[[Any, str], Any]]] = {
    "firearms": {"kind": _table(KIND_WORDS), "status": _table(STATUS_WORDS)},
    "officers": {"status": _table(OFFICER_STATUS_WORDS)},
    "locations": {"kind": _table(LOCATION_KIND_WORDS)},
    "custody": {"status": _table(STATUS_WORDS)},
    "findings": {"kind": lambda v, lang: kind_label(v, lang),
                 "recorded_status": _table(STATUS_WORDS),
                 "resolution": _table(RESOLUTION_WORDS)},
}


def headers(what: str, lang: str) -> tuple[str, ...]:
    column = 1 if lang == "es" else 2
    return tuple(c[column] for c in COLUMNS[what])


@contextmanager
def open_export(uow: UnitOfWork, what: str,
                options: ExportOptions | None = None) -> Iterator[Export]:
    """The table ``what`` in the acting user's scope (read it before the block ends)."""
    options = options or ExportOptions()
    if what not in EXPORTS:
        raise ValidationFailed(f"unknown export {what!r}; use one of {', '.join(EXPORTS)}",
                               field="what")
    if options.lang not in ("es", "en"):
        raise ValidationFailed("the language is es or en", field="lang")
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    agency_id = uow.repo.org(options.agency).id if options.agency else None
    status = _status(what, options.status)
    keys = tuple(c[0] for c in COLUMNS[what])
    with _projections(uow, options.as_of, agency_id) as parts:
        rows = _merged([_rows_of(_ROWS[what](repo, agency_id, status), codes)
                        for repo, codes in parts])
        yield Export(what, keys, headers(what, options.lang), rows, options.lang,
                     options.as_of)


def _rows_of(rows: Iterator[dict[str, Any]],
             codes: frozenset[str] | None) -> Iterator[dict[str, Any]]:
    """The rows of the agencies ``codes`` (all of them when None)."""
    if codes is None:
        return rows
    return (r for r in rows if r["agency"] in codes)


def _merged(parts: list[Iterator[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """Rows of several projections in the order one would give (every export is ordered
    by agency code first, and an agency's rows all come from one projection)."""
    if len(parts) == 1:
        return parts[0]
    return heapq.merge(*parts, key=lambda r: str(r["agency"]))


def _status(what: str, text: str | None) -> str | None:
    if not text:
        return None
    if what in ("firearms", "custody"):
        return parse_status(text).value
    if what == "officers":
        return parse_officer_status(text).value
    if what == "findings":
        folded = text.strip().lower()
        return "open" if folded in ("open", "pendiente", "pending") else folded
    raise ValidationFailed(f"--status does not apply to {what}", field="status")


def cutoff(as_of: date, zone: str = "UTC") -> str:
    """The first instant after the day ``as_of`` on ``zone``'s calendar, as the log writes
    instants (the end of the 6th in Guadalajara is 06:00 UTC on the 7th)."""
    try:
        end = end_of_day(as_of, zone)
    except OverflowError:  # 9999-12-31 west of UTC ends in year 10000: the log's end
        return "9999-12-31T23:59:59.999999Z"
    return iso(end + timedelta(seconds=1))


@contextmanager
def _projections(uow: UnitOfWork, as_of: date | None, agency_id: int | None
                 ) -> Iterator[list[tuple[Repositories, frozenset[str] | None]]]:
    """Where to read the export from: the live projection, or, ``as_of`` a day, the log
    replayed to the end of that day where each agency is (one replay per time zone among
    the agencies exported, each read for its own agencies' rows)."""
    if as_of is None:
        yield [(uow.repo, None)]
        return
    agencies = ([uow.repo.org_unscoped(agency_id)] if agency_id is not None
                else uow.repo.orgs(OrgKind.AGENCY))
    if not agencies and uow.actor is not None:
        agencies = [uow.actor.scope]
    now = uow.now()
    by_zone: dict[str, set[str]] = {}
    uow.zones_of(a.id for a in agencies)
    for agency in agencies:
        by_zone.setdefault(uow.zone_of(agency.id), set()).add(agency.code)
    if not by_zone:
        by_zone[DEFAULT_ZONE] = set()
    if all(as_of > in_zone(now, zone).date() for zone in by_zone):
        raise ValidationFailed("--as-of is in the future", field="as_of")
    with ExitStack() as stack:
        parts: list[tuple[Repositories, frozenset[str] | None]] = []
        for zone, codes in sorted(by_zone.items()):
            scratch = replay(q.events_before_unscoped(uow.conn, cutoff(as_of, zone)))
            stack.callback(scratch.engine.dispose)
            stack.callback(scratch.close)
            parts.append((Repositories(scratch, uow.actor),
                          frozenset(codes) if len(by_zone) > 1 else None))
        yield parts


def _firearms(repo: Repositories, agency_id: int | None,
              status: str | None) -> Iterator[dict[str, Any]]:
    for r in q.firearm_rows(repo, agency_id=agency_id, status=status):
        r["acquired"] = parse_date(r["acquired_on"])
        yield r


def _officers(repo: Repositories, agency_id: int | None,
              status: str | None) -> Iterator[dict[str, Any]]:
    for r in q.officer_rows(repo, agency_id=agency_id, status=status):
        r["credential_expiry"] = parse_date(r["credential_expiry"])
        r["qualification_expiry"] = parse_date(r["qualification_expiry"])
        yield r


def _locations(repo: Repositories, agency_id: int | None,
               status: str | None) -> Iterator[dict[str, Any]]:
    yield from q.location_rows(repo, agency_id=agency_id)


def _custody(repo: Repositories, agency_id: int | None,
             status: str | None) -> Iterator[dict[str, Any]]:
    for r in q.firearm_rows(repo, agency_id=agency_id, status=status):
        r["since"] = _instant(r["status_since"])
        yield r


def _findings(repo: Repositories, agency_id: int | None,
              status: str | None) -> Iterator[dict[str, Any]]:
    for r in q.finding_rows(repo, agency_id=agency_id, resolution=status):
        details = json.loads(r["details"])
        recorded = details.get("registry") or {}
        seen = details.get("observed") or {}
        suggested = details.get("suggested_match") or {}
        yield {
            "agency": r["agency"], "inspection": r["inspection_id"],
            "closed": _instant(r["closed_at"]), "kind": r["kind"], "serial": r["serial"],
            "make": r["make"], "recorded_status": recorded.get("status"),
            "recorded_location": recorded.get("location"),
            "recorded_custodian": recorded.get("custodian"),
            "seen_location": seen.get("location"), "seen_holder": seen.get("holder"),
            "suggested": suggested.get("serial"), "resolution": r["resolution"] or "",
        }


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return parse_instant(text).replace(tzinfo=None, microsecond=0)


_ROWS: dict[str, Callable[[Repositories, int | None, str | None], Iterator[dict[str, Any]]]] = {
    "firearms": _firearms, "officers": _officers, "locations": _locations,
    "custody": _custody, "findings": _findings,
}


# --- licences -------------------------------------------------------------------------------


#: Log entries that take a weapon off the licence it stands on, and the word for why.
_WEAPON_REMOVALS = {
    "firearm.decommissioned": "decommissioned", "firearm.reported_lost": "lost",
    "firearm.reported_stolen": "stolen", "firearm.transfer_sent": "transferred",
}


def licence_movements(uow: UnitOfWork, number: str, start: date,
                      end: date) -> LicenceMovements:
    """Weapons and officers added to or removed from a licence between two dates (inclusive).

    The log is read from its start, so each weapon's and officer's standing on the
    licence is known at every entry: an addition is an entry that puts one on the
    licence (registered with it, attached to it, or released by the authority after a
    loss took it off), a removal one that takes it off (lost, stolen, decommissioned,
    transferred, detached or moved to another licence). A recovery is neither: the
    weapon is held as evidence until the authority releases it, and the release is the
    addition. An entry that leaves the standing as it was is no movement.
    """
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    if end < start:
        raise ValidationFailed("the period ends before it starts", field="to")
    info = q.licence(uow.repo, number)
    licence_id = info["id"]
    # the period is of local days: read a day past its UTC end (no agency is a whole day
    # behind UTC) and keep each entry whose day, where its agency is, falls in the period
    # (a period to 9999-12-31 reads to the log's end: nothing is recorded in year 9999)
    read_to = min(end, date.max - timedelta(days=2)) + timedelta(days=1)
    events = list(q.licence_events(uow.repo, "", cutoff(read_to)))
    weapons = q.firearms_by_id(uow.repo, [e.subject_id for e in events
                                          if e.subject_type == "firearm" and e.subject_id])
    people = q.officers_by_id(uow.repo, [e.subject_id for e in events
                                         if e.subject_type == "officer" and e.subject_id])
    orgs = uow.repo.org_names([w["agency_id"] for w in weapons.values()]
                              + [o["agency_id"] for o in people.values()]
                              + [e.payload["to_agency_id"] for e in events
                                 if e.type == "firearm.transfer_sent"])
    numbers = q.licence_numbers_unscoped(uow.repo, [
        e.payload["licence_id"] for e in events
        if e.type.startswith("licence.") and e.payload.get("licence_id")])
    # Each loss or theft by its entry: the complaint, its authority, on duty, negligence
    # (as corrected and as a chief determined it since).
    losses = {r["id"]: r for r in uow.repo.loss_reports()}
    zones: dict[int, str] = {}

    def local_at(instant: str, agency_id: int) -> datetime:
        """An entry's instant on its agency's clock (naive: the wall-clock time there)."""
        if agency_id not in zones:
            zones[agency_id] = str(uow.repo.place(agency_id)["time_zone"])
        return in_zone(instant, zones[agency_id]).replace(tzinfo=None, microsecond=0)

    holder_zone = str(uow.repo.place(info["holder_id"])["time_zone"])
    out = LicenceMovements(number=info["number"], holder=info["holder"],
                           holder_name=info["holder_name"], agencies=info["agencies"],
                           valid_from=info["valid_from"], valid_to=info["valid_to"],
                           start=start, end=end, weapons_added=[], weapons_removed=[],
                           officers_added=[], officers_removed=[],
                           issued_at=uow.now(), time_zone=holder_zone)
    on: dict[int, bool] = {}
    """Whether each weapon or officer (by id; ids are positions, never shared) stands on
    the licence after the entries read so far."""
    attached: dict[int, bool] = {}
    """Whether a weapon's record names the licence (a loss takes it off the licence but
    not off the record: a release puts it back)."""
    for ev in events:
        subject = ev.subject_id or -1
        before = on.get(subject, False)
        now, change = _standing(ev, licence_id, before, attached, numbers)
        on[subject] = now
        if now == before:
            continue
        if ev.subject_type == "firearm":
            weapon = weapons.get(subject)
            if weapon is None:
                continue
            at = local_at(ev.at, weapon["agency_id"])
            if not start <= at.date() <= end:
                continue
            if ev.type == "firearm.transfer_sent":
                change = f"transferred:{orgs.get(ev.payload.get('to_agency_id', -1), '')}"
            loss = losses.get(ev.position) if change in ("lost", "stolen") else None
            move = Movement(at, ev.position, change, orgs.get(weapon["agency_id"], ""), {
                "serial": weapon["serial"], "make": weapon["make"], "model": weapon["model"],
                "calibre": weapon["calibre"], "kind": weapon["kind"], "folio": weapon["folio"]},
                note=ev.reason or "", loss=None if loss is None else LossFacts(
                    loss["complaint_number"], loss["complaint_authority"],
                    bool(loss["on_duty"]),
                    None if loss["negligent"] is None else bool(loss["negligent"])))
            (out.weapons_added if now else out.weapons_removed).append(move)
        else:
            person = people.get(subject)
            if person is None:
                continue
            at = local_at(ev.at, person["agency_id"])
            if not start <= at.date() <= end:
                continue
            move = Movement(at, ev.position, change, orgs.get(person["agency_id"], ""), {
                "badge": person["badge"], "name": person["name"], "cuip": person["cuip"],
                "credential_folio": person["credential_folio"]}, note=ev.reason or "")
            (out.officers_added if now else out.officers_removed).append(move)
    return out


def _standing(ev: Event, licence_id: int, before: bool, attached: dict[int, bool],
              numbers: dict[int, str]) -> tuple[bool, str]:
    """(on the licence after ``ev``, the word for the change)."""
    subject = ev.subject_id or -1
    p = ev.payload
    if ev.type in ("firearm.registered", "officer.registered"):
        attached[subject] = p.get("licence_id") == licence_id
        return attached[subject], "registered"
    if ev.type in ("licence.firearm_attached", "licence.officer_attached"):
        target = p.get("licence_id")
        attached[subject] = target == licence_id
        if target == licence_id:
            return True, "attached"
        if target is None:
            return False, "detached"
        return False, f"moved:{numbers.get(target, '')}"
    if ev.type == "firearm.released":
        return before or attached.get(subject, False), "released"
    if ev.type == "officer.separated":
        return False, "separated"
    if ev.type == "firearm.decommissioned" or ev.type == "firearm.transfer_sent":
        attached[subject] = False
    return False, _WEAPON_REMOVALS.get(ev.type, "detached")
