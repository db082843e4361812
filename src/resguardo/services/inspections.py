"""Inspections: plan, open (the freeze), scan (blind), reveal, close with the acta,
answer findings (the agency) and review them (the overseer). Sealed inspections
stay invisible to the agency's own staff and every read of them is recorded; an
open one's count is blind to them. The freeze itself is enforced where entries
are appended (``UnitOfWork.append``); this module lists what it refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from resguardo.domain import inspections as rules
from resguardo.domain.alerts import Alert, AlertKind
from resguardo.domain.codes import OrgKind
from resguardo.domain.entities import NewEvent, Organization
from resguardo.domain.errors import T_, DomainError, InvalidTransition, NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.inspections import Inspection, InspectionState
from resguardo.domain.people import parse_people
from resguardo.domain.policy import Action, authorize
from resguardo.domain.reconcile import reconcile
from resguardo.domain.reconciliation import RegistryEntry, Scan
from resguardo.domain.serials import serial_key
from resguardo.domain.timefmt import end_of_day, iso, parse_instant
from resguardo.ledger import tree_root
from resguardo.services import accounts
from resguardo.services.ledger import b64 as ledger_b64
from resguardo.storage import inspection_queries as q
from resguardo.storage.import_batch import log_position
from resguardo.storage.ledger_store import DbNodeStore
from resguardo.storage.uow import UnitOfWork

BLIND_LAST = 10


def _authorize(uow: UnitOfWork, action: Action, path: str | None = None) -> None:
    if uow.actor is not None:
        authorize(uow.actor, action, path, "inspection")


def _record_read(uow: UnitOfWork, inspection: Inspection, what: str) -> None:
    """Every read of a sealed inspection is an access event naming the reader."""
    if inspection.under_seal:
        uow.append(NewEvent("access.inspection_read", {"inspection_id": inspection.id,
                                                        "what": what},
                            org_id=inspection.agency_id, subject_type="inspection",
                            subject_id=inspection.id))


def load(uow: UnitOfWork, inspection_id: int, what: str = "show") -> Inspection:
    """The inspection if the actor may see it (recording the read when sealed)."""
    found = q.get(uow.repo, inspection_id)
    if found is None:
        raise NotFound(T_("inspection %(inspection)s not found"), inspection=inspection_id)
    rules.require_visible(uow.actor, found)
    _record_read(uow, found, what)
    return found


def plan(uow: UnitOfWork, agency_code: str, planned_on: date, *, sealed: bool = False,
         locations: Iterable[str] = (),
         people: Iterable[str | dict[str, Any]] = ()) -> Event:
    """Plan a revista; ``people`` (optional here) as ``name | post | identification``
    lines or objects (``domain.people``)."""
    uow.lock()
    agency = uow.repo.org(agency_code)
    _authorize(uow, Action.INSPECTION_ORDER, agency.path)
    codes = [_planned_location(uow, agency, ref) for ref in locations if ref.strip()]
    authority = uow.actor.scope if uow.actor is not None else uow.repo.org_unscoped(agency.id)
    return uow.append(rules.plan(authority, agency, codes, planned_on, sealed,
                                 uow.today(agency.id), parse_people(people)))


def _planned_location(uow: UnitOfWork, agency: Organization, ref: str) -> str:
    """The code of a location to count, given as ``CODE`` or ``AGENCY:CODE``.

    A location of another agency is refused by name, never dropped: dropping it
    would silently widen the revista to all of the agency's locations."""
    ref = ref.strip()
    owner, _, code = ref.rpartition(":")
    mismatch = ValidationFailed(T_("location %(location)s belongs to another agency than %(agency)s"),
                                field="locations", location=ref, agency=agency.code)
    if owner and owner.strip().upper() != agency.code.upper():
        raise mismatch
    code = code.strip()
    try:
        uow.repo.location(agency.id, code)
    except NotFound:
        if any(loc.code == code for loc in uow.repo.locations()):
            raise mismatch from None
        raise  # names an unknown location
    return code


def open_(uow: UnitOfWork, inspection_id: int,
          people: Iterable[str | dict[str, Any]] = ()) -> Event:
    uow.lock()
    inspection = load(uow, inspection_id, "open")
    _authorize(uow, Action.INSPECTION_CONDUCT, inspection.agency_path)
    already = q.open_at(uow.repo, inspection.agency_id)
    if already is not None:
        raise ValidationFailed(T_("inspection %(n)s is already open at this agency"),
                               field="inspection", n=already.id)
    return uow.append(rules.open_(inspection, parse_people(people)))


def _conducting(uow: UnitOfWork, inspection_id: int, what: str) -> Inspection:
    uow.lock()
    inspection = load(uow, inspection_id, what)
    _authorize(uow, Action.INSPECTION_CONDUCT, inspection.agency_path)
    return inspection


def scan(uow: UnitOfWork, inspection_id: int, serial: str, *, location: str | None = None,
         holder: str | None = None, make: str | None = None, note: str | None = None,
         source: str = "typed") -> dict[str, Any]:
    """Record one observation; returns the blind view (running count and last scans)."""
    inspection = _conducting(uow, inspection_id, "scan")
    uow.append(rules.scan(inspection, serial, location=location, holder=holder, make=make,
                          note=note, source=source, observed_at=uow.now()))
    return blind_view(uow, inspection)


def scan_file(uow: UnitOfWork, inspection_id: int, path: str | Path, *,
              month_first: bool = False, sheet: str | None = None) -> dict[str, Any]:
    """Record every row of a count sheet, all or nothing (a bad row names its line)."""
    from resguardo.sheets import read_count
    inspection = _conducting(uow, inspection_id, "scan")
    errors: list[ValidationFailed] = []
    rows = list(read_count(str(path), sheet_name=sheet, month_first=month_first, errors=errors))
    if errors:
        first = errors[0]
        raise ValidationFailed(f"{len(errors)} row(s) of {Path(path).name} cannot be read; "
                               f"first: {first.message}", **first.details)
    name = Path(path).name
    for row in rows:
        uow.append(rules.scan(inspection, row.serial, location=row.location, holder=row.holder,
                              make=row.make, note=row.note or f"{name} line {row.order}",
                              source="file", observed_at=uow.now()))
    view = blind_view(uow, inspection)
    view["imported"] = len(rows)
    return view


def count_rounds(uow: UnitOfWork, inspection_id: int, location: str, calibre: str, lot: str,
                 quantity: int) -> Event:
    inspection = _conducting(uow, inspection_id, "count_rounds")
    return uow.append(rules.count_rounds(inspection, location, calibre, lot, quantity))


def blind_view(uow: UnitOfWork, inspection: Inspection) -> dict[str, Any]:
    scans, weapons = q.scan_counts(uow.repo, inspection.id)
    return {"inspection": inspection.id, "state": inspection.state.value, "scans": scans,
            "weapons_seen": weapons,
            "last": [{"serial": s["serial"], "location": s["location"], "holder": s["holder"],
                      "at": s["observed_at"]} for s in q.scans(uow.repo, inspection.id,
                                                               last=BLIND_LAST)]}


def reveal(uow: UnitOfWork, inspection_id: int, reason: str) -> dict[str, Any]:
    inspection = _conducting(uow, inspection_id, "reveal")
    uow.append(rules.reveal(inspection, reason))
    return {"expected": [{"serial": e.serial, "make": e.make, "status": e.status.value,
                          "location": e.location, "custodian": e.custodian}
                         for e in q.registry_for(uow.repo, inspection)]}


def _reconcile(uow: UnitOfWork, inspection: Inspection) -> Any:
    scans = [Scan(serial=s["serial"], location=s["location"], holder=s["holder"],
                  make=s["make"], observed_at=parse_instant(s["observed_at"]), note=s["note"],
                  order=n) for n, s in enumerate(q.scans(uow.repo, inspection.id), 1)]
    books: list[RegistryEntry] = q.registry_for(uow.repo, inspection)
    known = {serial_key(e.serial) for e in books}
    others = q.others_with_keys_unscoped(uow.repo, inspection.agency_id,
                                         {serial_key(s.serial) for s in scans} - known)
    agency = uow.repo.org_unscoped(inspection.agency_id).code
    return reconcile(books + others, scans, agency=agency)


def close(uow: UnitOfWork, inspection_id: int, *, lang: str = "es",
          present_by: datetime | date | None = None) -> dict[str, Any]:
    """Freeze the findings, render the acta and record its SHA-256 with the closing event.

    Weapons recorded as issued and not seen are "to present" by ``present_by``
    (default: 72 hours after closing), not missing. A ``date`` is the end of that day
    (23:59:59) in the inspected agency's time zone; an instant is taken as it is.
    """
    from resguardo.reports import acta as acta_report
    inspection = _conducting(uow, inspection_id, "close")
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition(T_("inspection %(n)s is %(state)s; only an open inspection can be "
                                   "closed (a closed one is never reopened: plan a new one)"),
                                n=inspection.id, state=inspection.state.value)
    closed_at = uow.now()
    place = uow.repo.place(inspection.agency_id)
    if isinstance(present_by, date) and not isinstance(present_by, datetime):
        try:
            present_by = end_of_day(present_by, uow.zone_of(inspection.agency_id))
        except OverflowError:  # 9999-12-31 west of UTC ends in year 10000
            raise ValidationFailed(T_("%(field)s is out of range"),
                                   field="present_by") from None
    deadline = rules.present_by(closed_at, present_by)
    result = _reconcile(uow, inspection)
    rounds = rules.rounds_differences(q.expected_rounds(uow.repo, inspection.agency_id),
                                      q.counted_rounds(uow.repo, inspection.id))
    findings, summary = rules.in_service([f.as_dict() for f in result.findings],
                                         dict(result.summary), deadline)
    findings += [r.as_dict() for r in rounds]
    row = q.details(uow.repo, inspection.id)
    record = _record(uow, inspection, closing=True)
    # the log as the count left it (the closing entry comes next): printed on the acta, so
    # that a paper copy can be held against any later checkpoint by a consistency proof
    log_size = log_position(uow)
    log_root = ledger_b64(tree_root(DbNodeStore(uow.conn), log_size))
    data = acta_report.ActaData(
        inspection_id=inspection.id,
        authority=_org_label(uow, inspection.authority_id),
        agency=_org_label(uow, inspection.agency_id), locations=list(inspection.locations),
        sealed=inspection.sealed, planned_on=inspection.planned_on.isoformat(),
        opened_at=row["opened_at"], closed_at=closed_at, people=list(inspection.people),
        summary=summary, findings=findings,
        refused_movements=int(row["refused_movements"]), present_by=deadline,
        changes=record["changes"], refusals=record["refusals"], losses=record["losses"],
        identity=[_identity_row(c) for c in record["identity"]],
        log_size=log_size, log_root=log_root,
        time_zone=str(place["time_zone"]), city=place["city"], address=place["address"],
        licences=[f"{r['number']} ({r['valid_from']} – {r['valid_to']})"
                  for r in q.agency_licences(uow.repo, inspection.agency_id)],
        annex=_annex(uow, inspection),
        inspector=accounts.signer(uow, uow.actor.username if uow.actor else None))
    pdf = acta_report.render(data, lang)
    digest = hashlib.sha256(pdf).hexdigest()
    ev = uow.append(rules.close(inspection, summary, findings, digest, closed_at, deadline))
    uow.repo.store_acta(inspection.id, lang, digest, pdf)
    return {"inspection": inspection.id, "entry": ev.position, "acta_sha256": digest,
            "summary": summary, "findings": findings, "present_by": iso(deadline),
            "authority": uow.repo.org_unscoped(inspection.authority_id).code,
            "log_size": log_size, "log_root": log_root}


def _annex(uow: UnitOfWork, inspection: Inspection) -> list[dict[str, Any]]:
    """Every weapon the revista reviewed, as the acta's annex lists it: each weapon on the
    books for the count (seen or not) and each serial seen that is not on them, with how it
    was counted (the source of its first reading, how many readings) or why it was not."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for s in q.scans(uow.repo, inspection.id):
        seen.setdefault(serial_key(s["serial"]), []).append(s)
    out: list[dict[str, Any]] = []
    for w in q.annex_books(uow.repo, inspection):
        readings = seen.pop(w["serial_key"], [])
        holder = " ".join(x for x in (w["badge"], w["holder"]) if x)
        out.append({"serial": w["serial"], "kind": w["kind"], "make": w["make"],
                    "model": w["model"], "calibre": w["calibre"], "folio": w["folio"],
                    "status": w["status"], "where": w["location"] or holder or "",
                    "how": _how(readings, w["status"]), "readings": len(readings),
                    "on_books": True})
    for readings in seen.values():
        first = readings[0]
        out.append({"serial": first["serial"], "kind": None, "make": first["make"] or "",
                    "model": None, "calibre": None, "folio": None, "status": None,
                    "where": first["location"] or first["holder"] or "",
                    "how": _how(readings, None), "readings": len(readings),
                    "on_books": False})
    return out


def _how(readings: list[dict[str, Any]], status: str | None) -> str:
    """How a weapon was counted: ``scanner``, ``typed``, ``camera``, ``file`` (its first
    reading); ``to_present`` (issued, not seen) or ``not_seen``."""
    if readings:
        return str(readings[0]["source"])
    return "to_present" if status == "issued" else "not_seen"


def witness_closing(app: Any, closed: dict[str, Any], *,
                    transport: Any = None) -> dict[str, Any]:
    """After the closing committed: the overseeing authority's witness cosigns a checkpoint
    that covers the closing entry (and so the acta's SHA-256 in it); recorded as an
    ``inspection.witnessed`` entry. A witness that refuses or cannot be reached is said,
    not fatal: the closing stands, and the refusal is an alert like any other."""
    from resguardo.services import witnessing
    kwargs = {"transport": transport} if transport is not None else {}
    try:
        seen = witnessing.witness_revista(app, closed["entry"], closed["authority"], **kwargs)
    except DomainError as exc:
        # no checkpoint could be signed (no key, a refusing signer): the closing stands,
        # `ledger verify` and the alerts say why; the caller tells the inspector
        return {"checkpoint_id": None, "size": None, "root": None, "witness": "",
                "cosigned": False, "detail": exc.message}
    result = {"checkpoint_id": seen.checkpoint_id, "size": seen.size, "root": seen.root,
              "witness": seen.witness, "cosigned": seen.cosigned, "detail": seen.detail}
    with app.work(None) as uow:
        inspection = q.get(uow.repo, closed["inspection"])
        assert inspection is not None
        uow.append(rules.witnessed(inspection, result))
        uow.commit()
    return result


#: What the agency recorded about its weapons that the inspector is shown, from the
#: plan on: registrations, corrections, losses, recoveries, transfers, decommissions.
_CHANGE_TYPES = ("firearm.registered", "entry.corrected", "entry.correction_requested",
                 "entry.correction_approved", "firearm.reported_lost",
                 "firearm.reported_stolen", "firearm.recovered", "firearm.transfer_requested",
                 "firearm.transfer_sent", "firearm.transfer_received",
                 "firearm.decommission_requested", "firearm.decommissioned", "import.completed",
                 "import.voided",
                 "location.created", "firearm.moved", "firearm.repair_sent",
                 "firearm.repair_returned", "firearm.released",
                 "firearm.negligence_determined")
_LOSS_TYPES = ("firearm.reported_lost", "firearm.reported_stolen")
#: Entries listed one by one in the record; the rest are counted.
RECORD_LIMIT = 200


def _entry_row(e: dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"]
    subject = (payload.get("serial") or payload.get("subject") or payload.get("file")
               or payload.get("code") or e.get("firearm_serial") or "")
    what = payload.get("action") if e["type"] == "inspection.lockdown_refused" else e["type"]
    return {"entry": int(e["position"]), "at": e["at"], "who": e["actor"], "what": what,
            "subject": subject, "reason": e.get("reason")}


#: How far back the inspector is shown identity corrections when the agency had no revista.
IDENTITY_LOOKBACK = timedelta(days=365)


def _identity_row(c: dict[str, Any]) -> dict[str, Any]:
    """An identity correction as the acta lists it (when, who asked, what, on which weapon)."""
    change = "; ".join(f"{k}: {c['previous'].get(k, '')} -> {v}" for k, v in c["changes"].items())
    decided = f" [{c['state']}" + (f", {c['decided_by']}" if c["decided_by"] else "") + "]"
    return {"at": c["requested_at"], "who": c["requested_by"], "what": change + decided,
            "subject": c["serial"] or ""}


def _identity_corrections(uow: UnitOfWork, inspection: Inspection) -> list[dict[str, Any]]:
    """Every correction of a weapon's serial, make, kind or calibre at the agency since its
    previous revista (a year when none): what a count is matched by, shown to the overseer
    with who asked and who approved."""
    from resguardo.services.corrections import identity_corrections
    row = q.details(uow.repo, inspection.id)
    end = parse_instant(row["closed_at"]) if row["closed_at"] else uow.now()
    before = [parse_instant(at) for iid, at in q.closed_before(uow.repo, inspection.agency_id,
                                                               inspection.id)]
    start = max(before) if before else parse_instant(row["planned_at"]) - IDENTITY_LOOKBACK
    if end <= start:
        return []
    return identity_corrections(uow, inspection.agency_id, start, end + timedelta(seconds=1))


def _record(uow: UnitOfWork, inspection: Inspection, *, closing: bool = False
            ) -> dict[str, Any]:
    """What the inspector is shown besides the count: the agency's changes between the
    plan and the opening, the losses reported while planned or open, and every attempt
    the freeze refused (who, what, when)."""
    opened = q.entry_position(uow.repo, inspection.id, "inspection.opened")
    closed = None if closing else q.entry_position(uow.repo, inspection.id, "inspection.closed")
    entries = q.agency_entries_unscoped
    agency = inspection.agency_id
    changes, n_changes = entries(uow.repo, agency, inspection.id, opened, _CHANGE_TYPES,
                                 limit=RECORD_LIMIT)
    losses, n_losses = entries(uow.repo, agency, inspection.id, closed, _LOSS_TYPES,
                               limit=RECORD_LIMIT)
    refusals, n_refusals = entries(uow.repo, agency, inspection.id, closed,
                                   ("inspection.lockdown_refused",), limit=RECORD_LIMIT)
    return {"identity": _identity_corrections(uow, inspection),
            "changes": [_entry_row(e) for e in changes], "changes_total": n_changes,
            "losses": [_entry_row(e) for e in losses], "losses_total": n_losses,
            "refusals": [_entry_row(e) for e in refusals
                         if json.loads(e["payload"])["inspection_id"] == inspection.id],
            "refusals_total": n_refusals}


def _org_label(uow: UnitOfWork, org_id: int) -> str:
    org = uow.repo.org_unscoped(org_id)
    return f"{org.name} ({org.code})"


def acta(uow: UnitOfWork, inspection_id: int) -> tuple[bytes, str]:
    """The acta exactly as signed, after checking its hash against the closing entry."""
    inspection = load(uow, inspection_id, "acta")
    if inspection.state != InspectionState.CLOSED:
        raise ValidationFailed("the acta exists once the inspection is closed", field="inspection")
    pdf, recorded = uow.repo.acta(inspection.id)
    if hashlib.sha256(pdf).hexdigest() != recorded:
        raise ValidationFailed("the stored acta does not match the hash in the ledger; "
                               "run `resguardo ledger verify`", field="acta")
    return pdf, recorded


def show(uow: UnitOfWork, inspection_id: int, *, findings: bool = True) -> dict[str, Any]:
    """What the actor may know. While open, the agency's own staff learn that the
    revista is open and its registry frozen, nothing of the count; the inspector sees
    the running count and what the agency recorded since the plan. Once closed: the
    findings (all of them unless ``findings`` is false: the web pages them)."""
    inspection = load(uow, inspection_id, "show")
    row = q.details(uow.repo, inspection.id)
    data: dict[str, Any] = {
        "id": inspection.id, "agency": uow.repo.org_unscoped(inspection.agency_id).code,
        "authority": uow.repo.org_unscoped(inspection.authority_id).code,
        "authority_name": uow.repo.org_unscoped(inspection.authority_id).name,
        "state": inspection.state.value, "sealed": inspection.sealed,
        "planned_on": inspection.planned_on.isoformat(), "locations": list(inspection.locations),
        "people": [p.as_dict() for p in inspection.people], "opened_at": row["opened_at"],
        "closed_at": row["closed_at"], "present_by": row["present_by"],
        "revealed": inspection.revealed,
    }
    overseer = not _agency_staff(uow, inspection)
    if inspection.state == InspectionState.OPEN:
        data["frozen"] = True
        if rules.count_visible_to(uow.actor, inspection):
            data["count"] = blind_view(uow, inspection)
    if overseer and inspection.state != InspectionState.PLANNED:
        data["refused_movements"] = row["refused_movements"]
        data["record"] = _record(uow, inspection)
    if inspection.state == InspectionState.CLOSED:
        data["summary"] = json.loads(row["summary"])
        data["acta_sha256"] = row["acta_sha256"]
        data["open_findings"] = q.finding_counts(uow.repo, inspection.id)
        data["witnessed"] = q.witness_record_unscoped(uow.repo, inspection.id)
        if findings:
            rows, _total = q.findings_page(uow.repo, inspection.id)
            data["findings"] = [finding_view(uow, inspection, f) for f in rows]
    return data


def _agency_staff(uow: UnitOfWork, inspection: Inspection) -> bool:
    return uow.actor is not None and rules.is_agency_staff(uow.actor, inspection.agency_id)


def finding_view(uow: UnitOfWork, inspection: Inspection, f: dict[str, Any]) -> dict[str, Any]:
    """A finding as its readers see it: "to present" past the deadline reads missing."""
    details = json.loads(f["details"])
    kind = rules.effective_kind(f["kind"], f["state"], inspection.present_by, uow.now())
    return {"id": f["seq"], **details, "kind": kind, "recorded_kind": f["kind"],
            "state": f["state"], "resolution": f["resolution"], "evidence": f["evidence"],
            "answered_by": f["answered_by"], "answered_at": f["answered_at"],
            "reviewed_by": f["reviewed_by"], "reviewed_at": f["reviewed_at"],
            "review_note": f["review_note"], "actionable": bool(f["actionable"])}


def findings(uow: UnitOfWork, inspection_id: int, *, state: str | None = None,
             kind: str | None = None, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """One page of a closed inspection's findings, filtered by state ("pending": open or
    reopened) and kind."""
    inspection = load(uow, inspection_id, "findings")
    if inspection.state != InspectionState.CLOSED:
        raise ValidationFailed("findings exist once the inspection is closed", field="inspection")
    states: tuple[str, ...] = (("open", "reopened") if state == "pending"
                               else (state,) if state else ())
    if any(st not in {s.value for s in rules.FindingState} for st in states):
        raise ValidationFailed("state must be pending, open, answered, closed or reopened",
                               field="state")
    rows, total = q.findings_page(uow.repo, inspection.id, states=states, kind=kind or None,
                                  offset=max(offset, 0), limit=min(max(limit, 1), 500))
    return {"total": total, "offset": offset, "limit": limit,
            "items": [finding_view(uow, inspection, f) for f in rows]}


def list_(uow: UnitOfWork, state: str | None = None) -> list[dict[str, Any]]:
    _authorize(uow, Action.READ)
    out = []
    for inspection in q.in_scope(uow.repo, state):
        if not rules.visible_to(uow.actor, inspection):
            continue
        _record_read(uow, inspection, "list")
        out.append({"id": inspection.id,
                    "agency": uow.repo.org_unscoped(inspection.agency_id).code,
                    "state": inspection.state.value, "sealed": inspection.sealed,
                    "planned_on": inspection.planned_on.isoformat(),
                    "locations": list(inspection.locations)})
    return out


def answer(uow: UnitOfWork, inspection_id: int, finding_ids: int | Iterable[int],
           resolution: str, reason: str, evidence: str) -> list[Event]:
    """The agency's answer to one or many findings (found, reported lost, corrected,
    registered...), with its evidence; each waits for the overseer's review."""
    uow.lock()
    inspection = load(uow, inspection_id, "answer")
    _authorize(uow, Action.FINDING_ANSWER, inspection.agency_path)
    found = _findings(uow, inspection, finding_ids)
    return [uow.append(rules.answer(inspection.id, inspection.agency_id, seq, f["kind"],
                                    f["state"], resolution, reason, evidence))
            for seq, f in found.items()]


def review(uow: UnitOfWork, inspection_id: int, finding_ids: int | Iterable[int], *,
           accept: bool, note: str = "") -> list[Event]:
    """The overseeing inspector accepts answers (the findings close) or reopens them."""
    uow.lock()
    inspection = load(uow, inspection_id, "review")
    _authorize(uow, Action.INSPECTION_CONDUCT, inspection.agency_path)
    found = _findings(uow, inspection, finding_ids)
    return [uow.append(rules.review(inspection.id, inspection.agency_id, seq, f["state"],
                                    accept, note)) for seq, f in found.items()]


def verify(uow: UnitOfWork, inspection_id: int, serial: str, *, holder: str | None = None,
           location: str | None = None) -> list[Event]:
    """An inspector scans a weapon after closing (a follow-up count, an officer presenting
    his weapon): the findings about it close."""
    uow.lock()
    inspection = load(uow, inspection_id, "verify")
    _authorize(uow, Action.INSPECTION_CONDUCT, inspection.agency_path)
    if inspection.state != InspectionState.CLOSED:
        raise ValidationFailed("a weapon is verified against the findings once the inspection "
                               "is closed; while it is open, scan it", field="inspection")
    key = serial_key(serial or "")
    if not key:
        raise ValidationFailed("the scanned serial is empty", field="serial")
    matches = [f for f in q.findings_with_key(uow.repo, inspection.id, key)
               if f["kind"] in rules.VERIFIABLE and f["state"] != rules.FindingState.CLOSED]
    if not matches:
        raise NotFound(f"no open finding of inspection {inspection.id} is about {serial.strip()}",
                       serial=serial.strip())
    return [uow.append(rules.verify(inspection.id, inspection.agency_id, f["seq"], f["kind"],
                                    f["state"], serial, holder, location, uow.now()))
            for f in matches]


def _findings(uow: UnitOfWork, inspection: Inspection,
              finding_ids: int | Iterable[int]) -> dict[int, dict]:
    if inspection.state != InspectionState.CLOSED:
        raise ValidationFailed("findings exist once the inspection is closed", field="inspection")
    wanted = [finding_ids] if isinstance(finding_ids, int) else list(finding_ids)
    if not wanted:
        raise ValidationFailed("choose at least one finding", field="finding")
    found = q.findings_by_id(uow.repo, inspection.id, wanted)
    for seq in wanted:
        if seq not in found:
            raise NotFound(f"finding {seq} not found in inspection {inspection.id}")
    return {seq: found[seq] for seq in sorted(set(wanted))}


# --- alerts ------------------------------------------------------------------------

def finding_alerts(uow: UnitOfWork) -> list[Alert]:
    """One alert per closed revista with findings not yet closed (not one per weapon)."""
    now = uow.now()
    by_inspection: dict[int, dict[str, Any]] = {}
    for row in q.open_findings(uow.repo):
        entry = by_inspection.setdefault(row["inspection_id"], {**row, "counts": {}})
        deadline = parse_instant(row["present_by"]) if row["present_by"] else None
        kind = rules.effective_kind(row["kind"], row["state"], deadline, now)
        key = "answered" if row["state"] == rules.FindingState.ANSWERED else kind
        entry["counts"][key] = entry["counts"].get(key, 0) + int(row["n"])
    out = []
    for iid, entry in by_inspection.items():
        counts = entry["counts"]
        total = sum(counts.values())
        parts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items()))
        out.append(Alert(
            key=f"open_findings:{iid}", kind=AlertKind.OPEN_FINDING,
            agency_id=entry["agency_id"], agency=entry["agency"],
            subject=f"inspection {iid}",
            message=f"inspection {iid} has {total} finding(s) not closed ({parts}); the agency "
                    "answers them and the inspector reviews the answers",
            since=parse_instant(entry["closed_at"])))
    return out


def due(uow: UnitOfWork, months: int = 6) -> list[dict[str, Any]]:
    """Each agency in scope with its next revista: due ``months`` after the last closed one
    (agencies never inspected are due now), most overdue first. Planned revistas the actor
    may see are listed beside (a sealed one stays hidden from the agency's own staff)."""
    _authorize(uow, Action.READ)
    now = uow.now()
    last = q.last_closed(uow.repo)
    pending = q.planned_or_open(uow.repo)
    out = []
    agencies = uow.repo.orgs(OrgKind.AGENCY)
    uow.zones_of(a.id for a in agencies)  # read at once, not one agency at a time
    for agency in agencies:
        # the agency's calendar: a revista closed at 23:30 on 6 December in Hermosillo
        # was closed on the 6th there, and the 6th of June is its last day
        today = uow.today(agency.id, now)
        closed = last.get(agency.id)
        closed_on = uow.today(agency.id, parse_instant(closed)) if closed else None
        due_on = rules.next_due(closed_on, months, today)
        planned = [i.id for i in pending.get(agency.id, []) if rules.visible_to(uow.actor, i)]
        out.append({"agency": agency.code, "name": agency.name, "last_closed": closed,
                    "due_on": due_on.isoformat(), "planned": planned,
                    "status": rules.schedule_status(due_on, today, bool(planned))})
    return sorted(out, key=lambda r: (r["due_on"], r["agency"]))


def planned_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("the planned date must be YYYY-MM-DD", field="planned_on") from None

