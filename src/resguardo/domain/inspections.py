"""Inspections (revistas): a physical count of an agency's weapons by an authority.

Lifecycle: planned -> open (the freeze: nothing the count is checked against may
change at the agency, only losses may be reported) -> closed (findings frozen;
never reopened). A *sealed* inspection is a surprise: while it is planned, the
target agency's own staff cannot see that it exists, and every read of it by
anyone is recorded, so a tip-off can be traced. While it is open the count is
blind to the agency: its staff see that a revista is open, nothing of the count.

Findings are work after closing: the agency answers (with evidence), the
overseeing inspector reviews (open -> answered -> closed, or reopened and
answered again); a weapon the inspector scans after closing closes its finding.
A weapon recorded as issued and not seen is "to present" until the deadline the
inspector set, then missing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from resguardo.domain.entities import Actor, NewEvent, Organization
from resguardo.domain.errors import T_, InvalidTransition, Lockdown, NotFound, ValidationFailed
from resguardo.domain.people import Person
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


class FindingState(StrEnum):
    """Where a finding stands: the agency answers, the overseer reviews."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"


#: A weapon recorded as issued and not seen when the count closed: in service, to be
#: presented by the inspector's deadline (then it counts as missing).
TO_PRESENT = "to_present"
#: Hours the officers have to present their weapons when the inspector sets no deadline.
DEFAULT_PRESENT_HOURS = 72

#: Finding kinds that become work for the agency when the inspection closes.
ACTIONABLE = frozenset({"missing", TO_PRESENT, "unregistered", "foreign", "status_conflict",
                        "mislocated", "custody_mismatch", "ammunition_difference"})
#: Findings about a weapon on the books, which a scan after closing can settle.
VERIFIABLE = frozenset({"missing", TO_PRESENT, "mislocated", "custody_mismatch"})

#: Which answers fit which finding.
ANSWERS: dict[str, frozenset[Resolution]] = {
    "missing": frozenset({Resolution.FOUND, Resolution.REPORTED_LOST,
                          Resolution.REPORTED_STOLEN, Resolution.CORRECTED}),
    TO_PRESENT: frozenset({Resolution.FOUND, Resolution.REPORTED_LOST,
                           Resolution.REPORTED_STOLEN}),
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
    people: tuple[Person, ...] = field(default_factory=tuple)
    present_by: datetime | None = None

    @property
    def under_seal(self) -> bool:
        """Sealed and not yet open: hidden from the agency, every read recorded."""
        return self.sealed and self.state == InspectionState.PLANNED


#: What the count is checked against: entries of these kinds (prefixes) at an agency
#: are refused while an inspection is open there (the freeze).
FROZEN_PREFIXES = ("firearm.", "custody.issued", "custody.returned", "ammunition.", "entry.",
                   "location.", "import.", "licence.")
#: Kept possible while frozen: a loss or theft must always be reportable and notified,
#: and a chief's negligence finding on it changes nothing the count is checked against.
#: A failed import's weapons, never the registry's, are taken back (``import.voided``).
ALLOWED_WHILE_FROZEN = frozenset({"firearm.reported_lost", "firearm.reported_stolen",
                                  "firearm.loss_notified", "firearm.negligence_determined",
                                  "import.voided"})


def frozen_while_open(event_type: str) -> bool:
    """Whether an open inspection at the entry's agency refuses an entry of this type."""
    return (event_type.startswith(FROZEN_PREFIXES)
            and event_type not in ALLOWED_WHILE_FROZEN)


def refused_attempt(inspection_id: int, agency_id: int, what: str,
                    subject: str | None = None) -> NewEvent:
    """The record of an attempt the freeze refused (who and when are the entry's own)."""
    return NewEvent("inspection.lockdown_refused",
                    {"inspection_id": inspection_id, "action": what,
                     **({"subject": subject} if subject else {})},
                    org_id=agency_id, subject_type="inspection", subject_id=inspection_id)


def lockdown(inspection_id: int) -> Lockdown:
    return Lockdown(f"inspection {inspection_id} is open at this agency: the registry and "
                    "custody movements are frozen until it closes (a loss or theft can still "
                    "be reported)", inspection=inspection_id)


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


def count_visible_to(actor: Actor | None, inspection: Inspection) -> bool:
    """Whether ``actor`` may follow the revista's count (its scans and counted rounds):
    whoever may know the revista, except the inspected agency's own staff until it closes
    (DESIGN: they may not "follow its count while it is open"). In SQL:
    ``storage.scoped.count_hidden_from``, under ``scoped.scans`` and ``scoped.rounds``."""
    if actor is None:
        return True
    return visible_to(actor, inspection) and (
        inspection.state == InspectionState.CLOSED
        or not is_agency_staff(actor, inspection.agency_id))


def require_visible(actor: Actor | None, inspection: Inspection) -> None:
    """Answer exactly as for a missing inspection when the actor may not see it."""
    if not visible_to(actor, inspection):
        raise NotFound(T_("inspection %(inspection)s not found"), inspection=inspection.id)


def plan(authority: Organization, agency: Organization, location_codes: list[str],
         planned_on: date, sealed: bool, today: date,
         people: list[Person] | None = None) -> NewEvent:
    if not agency.holds_weapons:
        raise ValidationFailed(T_("%(code)s is not an agency that holds weapons"),
                               field="agency", code=agency.code)
    if planned_on < today:
        raise ValidationFailed("the planned date is in the past", field="planned_on")
    codes = sorted({c.strip() for c in location_codes if c.strip()})
    return NewEvent(
        "inspection.planned",
        {"authority_id": authority.id, "agency_id": agency.id, "locations": codes,
         "planned_on": planned_on.isoformat(), "sealed": bool(sealed),
         "people": [p.as_dict() for p in people or []]},
        org_id=agency.id, subject_type="inspection",
    )


def open_(inspection: Inspection, people: list[Person]) -> NewEvent:
    if inspection.state != InspectionState.PLANNED:
        raise InvalidTransition(T_("inspection %(n)s is %(state)s; only a planned inspection can "
                                   "be opened"), n=inspection.id, state=inspection.state.value)
    return NewEvent("inspection.opened",
                    {"inspection_id": inspection.id,
                     "people": [p.as_dict() for p in people]},
                    org_id=inspection.agency_id, subject_type="inspection",
                    subject_id=inspection.id)


def scan(inspection: Inspection, serial: str, *, location: str | None, holder: str | None,
         make: str | None, note: str | None, source: str, observed_at: datetime) -> NewEvent:
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition(T_("inspection %(n)s is %(state)s; scans are recorded only while "
                                   "it is open"), n=inspection.id, state=inspection.state.value)
    text = (serial or "").strip()
    if not serial_key(text):
        raise ValidationFailed("the scanned serial is empty", field="serial")
    if len(text) > 60:
        raise ValidationFailed("the scanned serial is longer than 60 characters", field="serial")
    if inspection.locations and location and location not in inspection.locations:
        raise ValidationFailed(T_("location %(location)s is outside this inspection's scope "
                                  "(%(locations)s)"), field="location", location=location,
                               locations=list(inspection.locations))
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
        raise InvalidTransition(T_("inspection %(n)s is not open"), n=inspection.id)
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


def close(inspection: Inspection, summary: dict[str, int], findings: list[dict[str, Any]],
          acta_sha256: str, closed_at: datetime, deadline: datetime) -> NewEvent:
    if inspection.state != InspectionState.OPEN:
        raise InvalidTransition(T_("inspection %(n)s is %(state)s; only an open inspection can be "
                                   "closed (a closed one is never reopened: plan a new one)"),
                                n=inspection.id, state=inspection.state.value)
    return NewEvent(
        "inspection.closed",
        {"inspection_id": inspection.id, "summary": dict(summary), "findings": findings,
         "acta_sha256": acta_sha256, "closed_at": iso_instant(closed_at),
         "present_by": iso_instant(deadline)},
        org_id=inspection.agency_id, subject_type="inspection", subject_id=inspection.id,
    )


def witnessed(inspection: Inspection, seen: dict[str, Any]) -> NewEvent:
    """The overseer's witness cosigned (or did not) a checkpoint covering the closing."""
    if inspection.state != InspectionState.CLOSED:
        raise InvalidTransition(T_("inspection %(n)s is not closed"), n=inspection.id)
    return NewEvent("inspection.witnessed", {"inspection_id": inspection.id, **seen},
                    org_id=inspection.agency_id, subject_type="inspection",
                    subject_id=inspection.id)


def present_by(closed_at: datetime, deadline: datetime | None) -> datetime:
    """When weapons in service must have been presented (the inspector's deadline)."""
    if deadline is None:
        return closed_at + timedelta(hours=DEFAULT_PRESENT_HOURS)
    if deadline <= closed_at:
        raise ValidationFailed("the deadline to present weapons in service must be after "
                               "the closing", field="present_by")
    return deadline


def in_service(findings: list[dict[str, Any]], summary: dict[str, int],
               deadline: datetime) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Missing weapons recorded as issued become "to present" by ``deadline``."""
    out, moved = [], 0
    for f in findings:
        if f["kind"] == "missing" and (f.get("registry") or {}).get("status") == "issued":
            f = {**f, "kind": TO_PRESENT, "present_by": iso_instant(deadline)}
            moved += 1
        out.append(f)
    counts = dict(summary)
    counts["missing"] = counts.get("missing", 0) - moved
    counts[TO_PRESENT] = moved
    return out, counts


def effective_kind(kind: str, state: str, deadline: datetime | None, now: datetime) -> str:
    """A weapon still to present after the deadline counts as missing."""
    if (kind == TO_PRESENT and deadline is not None and now > deadline
            and state != FindingState.CLOSED):
        return "missing"
    return kind


def answer(inspection_id: int, agency_id: int, finding_id: int, kind: str, state: str,
           resolution: str, reason: str, evidence: str) -> NewEvent:
    """The agency's answer; it waits for the overseer's review (``review``)."""
    if kind not in ACTIONABLE:
        raise ValidationFailed(T_("a %(kind)s finding needs no answer"), field="finding", kind=kind)
    if state == FindingState.ANSWERED:
        raise InvalidTransition(T_("finding %(n)s is already answered and awaits the "
                                   "inspector's review"), n=finding_id)
    if state == FindingState.CLOSED:
        raise InvalidTransition(T_("finding %(n)s is closed"), n=finding_id)
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
    if len(evidence.strip()) < 3:
        raise ValidationFailed("give the evidence of the answer (a complaint number, a "
                               "document, where the weapon is)", field="evidence")
    return NewEvent("inspection.finding_answered",
                    {"inspection_id": inspection_id, "finding_id": finding_id,
                     "resolution": res.value, "evidence": evidence.strip()},
                    reason=reason.strip(), org_id=agency_id, subject_type="inspection",
                    subject_id=inspection_id)


def review(inspection_id: int, agency_id: int, finding_id: int, state: str, accept: bool,
           note: str) -> NewEvent:
    """The overseer accepts an answer (the finding closes) or reopens the finding."""
    if state != FindingState.ANSWERED:
        raise InvalidTransition(T_("finding %(n)s is %(state)s; only an answered finding is "
                                   "reviewed"), n=finding_id, state=str(state))
    if not accept and len(note.strip()) < 5:
        raise ValidationFailed("say why the answer is not accepted", field="note")
    return NewEvent("inspection.finding_reviewed",
                    {"inspection_id": inspection_id, "finding_id": finding_id,
                     "accepted": bool(accept)},
                    reason=note.strip() or None, org_id=agency_id, subject_type="inspection",
                    subject_id=inspection_id)


def verify(inspection_id: int, agency_id: int, finding_id: int, kind: str, state: str,
           serial: str, holder: str | None, location: str | None,
           observed_at: datetime) -> NewEvent:
    """An inspector sees the weapon of a finding after closing: the finding closes."""
    if kind not in VERIFIABLE:
        raise ValidationFailed(f"a {kind} finding is not settled by a scan", field="finding")
    if state == FindingState.CLOSED:
        raise InvalidTransition(T_("finding %(n)s is already closed"), n=finding_id)
    return NewEvent("inspection.finding_verified",
                    {"inspection_id": inspection_id, "finding_id": finding_id,
                     "serial": serial.strip(), "holder": (holder or "").strip().upper() or None,
                     "location": (location or "").strip() or None,
                     "observed_at": iso_instant(observed_at)},
                    org_id=agency_id, subject_type="inspection", subject_id=inspection_id)


#: How soon a revista counts as "due soon" on the schedule.
DUE_SOON_DAYS = 30


def next_due(last_closed: date | None, months: int, today: date) -> date:
    """An agency's next revista: ``months`` after its last one; now if it never had one."""
    if last_closed is None:
        return today
    month = last_closed.month - 1 + months
    year, month = last_closed.year + month // 12, month % 12 + 1
    day = min(last_closed.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def schedule_status(due_on: date, today: date, planned: bool) -> str:
    """planned, overdue, due (within ``DUE_SOON_DAYS``) or ok."""
    if planned:
        return "planned"
    if due_on < today:
        return "overdue"
    if (due_on - today).days <= DUE_SOON_DAYS:
        return "due"
    return "ok"


def iso_instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
