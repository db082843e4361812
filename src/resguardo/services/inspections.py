"""Inspections: plan, open (lockdown), scan (blind), reveal, close with the acta,
answer findings. Sealed inspections stay invisible to the agency's own staff
and every read of them is recorded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from resguardo.domain import inspections as rules
from resguardo.domain.alerts import Alert, AlertKind
from resguardo.domain.entities import NewEvent
from resguardo.domain.errors import InvalidTransition, Lockdown, NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.inspections import Inspection, InspectionState
from resguardo.domain.policy import Action, authorize
from resguardo.domain.reconcile import reconcile
from resguardo.domain.reconciliation import RegistryEntry, Scan
from resguardo.domain.serials import serial_key
from resguardo.domain.timefmt import parse_instant
from resguardo.services import alerts as alert_service
from resguardo.services import custody
from resguardo.storage import inspection_queries as q
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
        raise NotFound(f"inspection {inspection_id} not found")
    rules.require_visible(uow.actor, found)
    _record_read(uow, found, what)
    return found


def plan(uow: UnitOfWork, agency_code: str, planned_on: date, *, sealed: bool = False,
         locations: Iterable[str] = (), people: Iterable[str] = ()) -> Event:
    uow.lock()
    agency = uow.repo.org(agency_code)
    _authorize(uow, Action.INSPECTION_ORDER, agency.path)
    codes = [c.strip() for c in locations if c.strip()]
    for code in codes:
        uow.repo.location(agency.id, code)  # NotFound names an unknown location
    authority = uow.actor.scope if uow.actor is not None else uow.repo.org_unscoped(agency.id)
    return uow.append(rules.plan(authority, agency, codes, planned_on, sealed, uow.now().date(),
                                 list(people)))


def open_(uow: UnitOfWork, inspection_id: int, people: Iterable[str] = ()) -> Event:
    uow.lock()
    inspection = load(uow, inspection_id, "open")
    _authorize(uow, Action.INSPECTION_CONDUCT, inspection.agency_path)
    already = q.open_at(uow.repo, inspection.agency_id)
    if already is not None:
        raise ValidationFailed(f"inspection {already.id} is already open at this agency",
                               field="inspection")
    return uow.append(rules.open_(inspection, list(people)))


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
    others = q.others_with_keys(uow.repo, inspection.agency_id,
                                {serial_key(s.serial) for s in scans} - known)
    agency = uow.repo.org_unscoped(inspection.agency_id).code
    return reconcile(books + others, scans, agency=agency)


def close(uow: UnitOfWork, inspection_id: int, *, lang: str = "es") -> dict[str, Any]:
    """Freeze the findings, render the acta and record its SHA-256 with the closing event."""
    from resguardo.reports import acta as acta_report
    inspection = _conducting(uow, inspection_id, "close")
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition(f"inspection {inspection.id} is {inspection.state.value}; only an "
                                "open inspection can be closed (a closed one is never reopened: "
                                "plan a new one)")
    result = _reconcile(uow, inspection)
    rounds = rules.rounds_differences(q.expected_rounds(uow.repo, inspection.agency_id),
                                      q.counted_rounds(uow.repo, inspection.id))
    closed_at = uow.now()
    row = q.details(uow.repo, inspection.id)
    data = acta_report.ActaData(
        inspection_id=inspection.id,
        authority=_org_label(uow, inspection.authority_id),
        agency=_org_label(uow, inspection.agency_id), locations=list(inspection.locations),
        sealed=inspection.sealed, planned_on=inspection.planned_on.isoformat(),
        opened_at=row["opened_at"], closed_at=closed_at, people=list(inspection.people),
        summary=dict(result.summary),
        findings=[f.as_dict() for f in result.findings] + [r.as_dict() for r in rounds],
        refused_movements=int(row["refused_movements"]))
    pdf = acta_report.render(data, lang)
    digest = hashlib.sha256(pdf).hexdigest()
    ev = uow.append(rules.close(inspection, result, rounds, digest, closed_at))
    uow.repo.store_acta(inspection.id, lang, digest, pdf)
    return {"inspection": inspection.id, "entry": ev.position, "acta_sha256": digest,
            "summary": dict(result.summary), "findings": data.findings}


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


def show(uow: UnitOfWork, inspection_id: int) -> dict[str, Any]:
    """What the actor may know: blind view while open, findings once closed."""
    inspection = load(uow, inspection_id, "show")
    row = q.details(uow.repo, inspection.id)
    data: dict[str, Any] = {
        "id": inspection.id, "agency": uow.repo.org_unscoped(inspection.agency_id).code,
        "authority": uow.repo.org_unscoped(inspection.authority_id).code,
        "state": inspection.state.value, "sealed": inspection.sealed,
        "planned_on": inspection.planned_on.isoformat(), "locations": list(inspection.locations),
        "people": list(inspection.people), "opened_at": row["opened_at"],
        "closed_at": row["closed_at"], "refused_movements": row["refused_movements"],
        "revealed": inspection.revealed,
    }
    if inspection.state == InspectionState.OPEN:
        data["count"] = blind_view(uow, inspection)
    if inspection.state == InspectionState.CLOSED:
        data["summary"] = json.loads(row["summary"])
        data["acta_sha256"] = row["acta_sha256"]
        data["findings"] = [
            {"id": f["seq"], **json.loads(f["details"]), "resolution": f["resolution"],
             "answered_by": f["answered_by"]} for f in q.findings(uow.repo, inspection.id)]
    return data


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


def answer(uow: UnitOfWork, inspection_id: int, finding_id: int, resolution: str,
           reason: str) -> Event:
    """The agency's answer to a finding (found, reported lost, corrected, registered...)."""
    uow.lock()
    inspection = load(uow, inspection_id, "answer")
    _authorize(uow, Action.FINDING_ANSWER, inspection.agency_path)
    found = {f["seq"]: f for f in q.findings(uow.repo, inspection.id)}
    if finding_id not in found:
        raise NotFound(f"finding {finding_id} not found in inspection {inspection_id}")
    finding = found[finding_id]
    return uow.append(rules.answer(inspection.id, inspection.agency_id, finding_id,
                                   finding["kind"], resolution, reason,
                                   finding["resolution"] is not None))


# --- lockdown and alerts -----------------------------------------------------------

def lockdown_guard(uow: UnitOfWork, agency_id: int, action: str) -> None:
    """While an inspection is open at the agency, no custody movement is accepted; the
    refused attempt itself is recorded (and kept: it is committed before refusing)."""
    from resguardo.storage.repositories import Repositories
    inspection = q.open_at(Repositories(uow.conn, None), agency_id)
    if inspection is None:
        return
    uow.append(NewEvent("inspection.lockdown_refused",
                        {"inspection_id": inspection.id, "action": action},
                        org_id=agency_id, subject_type="inspection", subject_id=inspection.id))
    uow.commit()
    raise Lockdown(f"inspection {inspection.id} is open at this agency: custody movements "
                   "are frozen until it closes", inspection=inspection.id)


def finding_alerts(uow: UnitOfWork) -> list[Alert]:
    out = []
    for f in q.open_findings(uow.repo):
        detail = json.loads(f["details"])
        subject = " ".join(x for x in (f["make"], f["serial"]) if x) or detail.get("lot", "")
        out.append(Alert(
            key=f"open_finding:{f['inspection_id']}:{f['seq']}", kind=AlertKind.OPEN_FINDING,
            agency_id=f["agency_id"], agency=f["agency"], subject=subject,
            message=f"{f['kind'].replace('_', ' ')} found by inspection {f['inspection_id']}; "
                    "the agency must answer it",
            since=parse_instant(f["closed_at"])))
    return out


custody.CUSTODY_GUARDS.append(lockdown_guard)
alert_service.ALERT_SOURCES.append(finding_alerts)


def planned_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("the planned date must be YYYY-MM-DD", field="planned_on") from None

