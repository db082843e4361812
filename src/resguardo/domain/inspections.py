"""Inspections (revistas): a physical count of an agency's weapons by an authority.

Lifecycle: planned -> open (lockdown: no custody movement at the agency) ->
closed (findings frozen; never reopened). A *sealed* inspection is a surprise:
while it is planned, the target agency's own staff cannot see that it exists,
and every read of it by anyone is recorded, so a tip-off can be traced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from resguardo.domain.entities import Actor, NewEvent, Organization
from resguardo.domain.errors import InvalidTransition, NotFound, ValidationFailed
from resguardo.domain.reconciliation import Reconciliation
from resguardo.domain.serials import serial_key


class InspectionState(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class Resolution(StrEnum):
    """How the agency answers a finding after the inspection closes."""

    FOUND = "found"
    REPORTED_LOST = "reported_lost"
    REPORTED_STOLEN = "reported_stolen"
    CORRECTED = "corrected"
    REGISTERED = "registered"
    SEIZED = "seized"
    NO_ACTION = "no_action"


#: Finding kinds that become work for the agency when the inspection closes.
ACTIONABLE = frozenset({"missing", "unregistered", "foreign", "status_conflict", "mislocated",
                        "custody_mismatch", "ammunition_difference"})

#: Which answers fit which finding.
ANSWERS: dict[str, frozenset[Resolution]] = {
    "missing": frozenset({Resolution.FOUND, Resolution.REPORTED_LOST,
                          Resolution.REPORTED_STOLEN, Resolution.CORRECTED}),
    "unregistered": frozenset({Resolution.REGISTERED, Resolution.SEIZED}),
    "foreign": frozenset({Resolution.SEIZED, Resolution.CORRECTED}),
}
_DEFAULT_ANSWERS = frozenset({Resolution.CORRECTED, Resolution.NO_ACTION, Resolution.FOUND})


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    authority_id: int
    agency_id: int
    agency_path: str
    planned_on: date
    sealed: bool
    state: InspectionState
    locations: tuple[str, ...] = ()
    ordered_by: int | None = None
    revealed: bool = False
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    people: tuple[str, ...] = field(default_factory=tuple)

    @property
    def under_seal(self) -> bool:
        """Sealed and not yet open: hidden from the agency, every read recorded."""
        return self.sealed and self.state == InspectionState.PLANNED


def is_agency_staff(actor: Actor, agency_id: int) -> bool:
    """Users whose whole scope is the inspected agency itself."""
    return actor.scope.id == agency_id


def visible_to(actor: Actor | None, inspection: Inspection) -> bool:
    """Whether ``actor`` may know this inspection exists."""
    if actor is None:
        return True
    if not actor.in_scope(inspection.agency_path):
        return False
    return not (inspection.under_seal and is_agency_staff(actor, inspection.agency_id))


def require_visible(actor: Actor | None, inspection: Inspection) -> None:
    """Answer exactly as for a missing inspection when the actor may not see it."""
    if not visible_to(actor, inspection):
        raise NotFound(f"inspection {inspection.id} not found")


def plan(authority: Organization, agency: Organization, location_codes: list[str],
         planned_on: date, sealed: bool, today: date, people: list[str] | None = None) -> NewEvent:
    if not agency.holds_weapons:
        raise ValidationFailed(f"{agency.code} is not an agency that holds weapons",
                               field="agency")
    if planned_on < today:
        raise ValidationFailed("the planned date is in the past", field="planned_on")
    codes = sorted({c.strip() for c in location_codes if c.strip()})
    return NewEvent(
        "inspection.planned",
        {"authority_id": authority.id, "agency_id": agency.id, "locations": codes,
         "planned_on": planned_on.isoformat(), "sealed": bool(sealed),
         "people": [p.strip() for p in (people or []) if p.strip()]},
        org_id=agency.id, subject_type="inspection",
    )


def open_(inspection: Inspection, people: list[str]) -> NewEvent:
    if inspection.state != InspectionState.PLANNED:
        raise InvalidTransition(f"inspection {inspection.id} is {inspection.state.value}; "
                                "only a planned inspection can be opened")
    return NewEvent("inspection.opened",
                    {"inspection_id": inspection.id,
                     "people": [p.strip() for p in people if p.strip()]},
                    org_id=inspection.agency_id, subject_type="inspection",
                    subject_id=inspection.id)


def scan(inspection: Inspection, serial: str, *, location: str | None, holder: str | None,
         make: str | None, note: str | None, source: str, observed_at: datetime) -> NewEvent:
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition(f"inspection {inspection.id} is {inspection.state.value}; "
                                "scans are recorded only while it is open")
    text = (serial or "").strip()
    if not serial_key(text):
        raise ValidationFailed("the scanned serial is empty", field="serial")
    if len(text) > 60:
        raise ValidationFailed("the scanned serial is longer than 60 characters", field="serial")
    if inspection.locations and location and location not in inspection.locations:
        raise ValidationFailed(f"location {location} is outside this inspection's scope "
                               f"({', '.join(inspection.locations)})", field="location")
    return NewEvent(
        "inspection.scanned",
        {"inspection_id": inspection.id, "serial": text, "location": (location or "").strip() or None,
         "holder": (holder or "").strip().upper() or None, "make": (make or "").strip() or None,
         "note": (note or "").strip() or None, "source": source,
         "observed_at": observed_at.isoformat().replace("+00:00", "Z")},
        org_id=inspection.agency_id, subject_type="inspection", subject_id=inspection.id,
    )


def count_rounds(inspection: Inspection, location: str, calibre: str, lot: str,
                 quantity: int) -> NewEvent:
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition(f"inspection {inspection.id} is not open")
    if quantity < 0:
        raise ValidationFailed("quantity cannot be negative", field="quantity")
    if not calibre.strip() or not lot.strip() or not location.strip():
        raise ValidationFailed("location, calibre and lot are required", field="calibre")
    return NewEvent("inspection.rounds_counted",
                    {"inspection_id": inspection.id, "location": location.strip(),
                     "calibre": calibre.strip(), "lot": lot.strip(), "quantity": quantity},
                    org_id=inspection.agency_id, subject_type="inspection",
                    subject_id=inspection.id)


def reveal(inspection: Inspection, reason: str) -> NewEvent:
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition("expectations can be revealed only during an open inspection; "
                                "after closing they are in the findings")
    if len(reason.strip()) < 5:
        raise ValidationFailed("say why the blind count is revealed", field="reason")
    return NewEvent("inspection.revealed", {"inspection_id": inspection.id},
                    reason=reason.strip(), org_id=inspection.agency_id,
                    subject_type="inspection", subject_id=inspection.id)


@dataclass(frozen=True, slots=True)
class RoundsDifference:
    location: str
    calibre: str
    lot: str
    expected: int
    counted: int

    def as_dict(self) -> dict:
        return {"kind": "ammunition_difference", "location": self.location,
                "calibre": self.calibre, "lot": self.lot, "expected": self.expected,
                "counted": self.counted, "difference": self.counted - self.expected}


def rounds_differences(expected: dict[tuple[str, str, str], int],
                       counted: dict[tuple[str, str, str], int]) -> list[RoundsDifference]:
    """Lots whose counted rounds differ from the books (only lots that were counted,
    or that the books hold at a counted location)."""
    counted_locations = {k[0] for k in counted}
    keys = set(counted) | {k for k in expected if k[0] in counted_locations}
    return [RoundsDifference(*k, expected.get(k, 0), counted.get(k, 0))
            for k in sorted(keys) if expected.get(k, 0) != counted.get(k, 0)]


def close(inspection: Inspection, result: Reconciliation, rounds: list[RoundsDifference],
          acta_sha256: str, closed_at: datetime) -> NewEvent:
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition(f"inspection {inspection.id} is {inspection.state.value}; "
                                "only an open inspection can be closed (a closed one is never "
                                "reopened: plan a new one)")
    return NewEvent(
        "inspection.closed",
        {"inspection_id": inspection.id, "summary": dict(result.summary),
         "findings": [f.as_dict() for f in result.findings]
         + [r.as_dict() for r in rounds],
         "acta_sha256": acta_sha256, "closed_at": closed_at.isoformat().replace("+00:00", "Z")},
        org_id=inspection.agency_id, subject_type="inspection", subject_id=inspection.id,
    )


def answer(inspection_id: int, agency_id: int, finding_id: int, kind: str, resolution: str,
           reason: str, already: bool) -> NewEvent:
    if already:
        raise InvalidTransition(f"finding {finding_id} is already answered")
    if kind not in ACTIONABLE:
        raise ValidationFailed(f"a {kind} finding needs no answer", field="finding")
    try:
        res = Resolution(resolution)
    except ValueError:
        raise ValidationFailed("resolution must be one of "
                               + ", ".join(r.value for r in Resolution),
                               field="resolution") from None
    allowed = ANSWERS.get(kind, _DEFAULT_ANSWERS)
    if res not in allowed:
        raise ValidationFailed(f"a {kind} finding is answered with "
                               + " or ".join(sorted(r.value for r in allowed)),
                               field="resolution")
    if len(reason.strip()) < 5:
        raise ValidationFailed("explain the answer", field="reason")
    return NewEvent("inspection.finding_answered",
                    {"inspection_id": inspection_id, "finding_id": finding_id,
                     "resolution": res.value},
                    reason=reason.strip(), org_id=agency_id, subject_type="inspection",
                    subject_id=inspection_id)
