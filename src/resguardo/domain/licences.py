"""A collective licence (licencia oficial colectiva, LOC) as a working part: which weapons
and which officers it covers, and the rules for putting them on it or taking them off.

LFAFE art. 29: the holder of a LOC reports its weapons to the defence ministry,
correlated with its structure and its officers' credential folios. Reglamento
LFAFE art. 11: a weapon is declared within 30 days of its acquisition. A weapon
or an officer is put on a licence that covers its agency (``licence.firearm_attached``,
``licence.officer_attached``) or taken off it (the same entry with no licence);
the entry names the licence it leaves, so the additions and removals of a period
can be read from the log alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from resguardo.domain import firearm_state
from resguardo.domain.codes import FirearmStatus, OfficerStatus
from resguardo.domain.entities import Firearm, NewEvent, Officer
from resguardo.domain.errors import T_, Conflict, ValidationFailed

#: Reglamento de la LFAFE, art. 11: weapons are declared within 30 days of acquisition.
DECLARATION_DAYS = 30

#: A weapon in one of these is off every licence for good (the entry that put it there
#: was a removal); it is neither attached nor detached any more.
_FINAL = frozenset(FirearmStatus) - firearm_state.ALLOWED_FROM["licence.firearm_attached"]


@dataclass(frozen=True, slots=True)
class LicenceRef:
    """The licence asked for: its id, number and the agencies it covers."""

    id: int
    number: str
    agency_ids: frozenset[int]
    valid_to: date


def _check_covers(licence: LicenceRef, agency_id: int, agency_code: str) -> None:
    if agency_id not in licence.agency_ids:
        raise ValidationFailed(T_("licence %(number)s does not cover %(code)s"),
                               field="licence", number=licence.number, code=agency_code)


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("give the reason (the military zone's acknowledgement, the "
                               "purchase, the error corrected)", field="reason")
    if len(text) > 500:
        raise ValidationFailed(T_("%(field)s is longer than %(limit)s characters"), field="reason",
                               limit=500)
    return text


def attach_firearm(firearm: Firearm, agency_code: str, licence: LicenceRef | None,
                   reason: str, today: date) -> NewEvent:
    """Put a weapon on ``licence`` (an alta), or take it off its licence when ``None``
    (a baja by correction: the weapon stays in the registry)."""
    if firearm.status in _FINAL:
        raise Conflict(T_("firearm %(serial)s is %(status)s: it cannot go on or off a licence"),
                       field="serial", serial=firearm.serial, status=firearm.status.value)
    if licence is None:
        if firearm.licence_id is None:
            raise Conflict(T_("firearm %(serial)s is on no licence"), field="licence",
                           serial=firearm.serial)
    else:
        _check_covers(licence, firearm.agency_id, agency_code)
        if licence.valid_to < today:
            raise ValidationFailed(T_("licence %(number)s expired on %(date)s"), field="licence",
                                   number=licence.number, date=licence.valid_to.isoformat())
        if firearm.licence_id == licence.id:
            raise Conflict(T_("firearm %(serial)s is already on licence %(number)s"),
                           field="licence", serial=firearm.serial, number=licence.number)
    return NewEvent(
        "licence.firearm_attached",
        {"firearm_id": firearm.id, "serial": firearm.serial,
         "licence_id": licence.id if licence else None,
         "from_licence_id": firearm.licence_id},
        reason=_reason(reason), org_id=firearm.agency_id, subject_type="firearm",
        subject_id=firearm.id)


def attach_officer(officer: Officer, agency_code: str, licence: LicenceRef | None,
                   reason: str, today: date) -> NewEvent:
    """Put an officer on ``licence`` (an alta of personnel), or take him off when ``None``."""
    if officer.status == OfficerStatus.SEPARATED and licence is not None:
        raise Conflict(T_("officer %(badge)s is separated"), field="badge", badge=officer.badge)
    if licence is None:
        if officer.licence_id is None:
            raise Conflict(T_("officer %(badge)s is on no licence"), field="licence",
                           badge=officer.badge)
    else:
        _check_covers(licence, officer.agency_id, agency_code)
        if licence.valid_to < today:
            raise ValidationFailed(T_("licence %(number)s expired on %(date)s"), field="licence",
                                   number=licence.number, date=licence.valid_to.isoformat())
        if officer.licence_id == licence.id:
            raise Conflict(T_("officer %(badge)s is already on licence %(number)s"),
                           field="licence", badge=officer.badge, number=licence.number)
    return NewEvent(
        "licence.officer_attached",
        {"officer_id": officer.id, "badge": officer.badge,
         "licence_id": licence.id if licence else None,
         "from_licence_id": officer.licence_id},
        reason=_reason(reason), org_id=officer.agency_id, subject_type="officer",
        subject_id=officer.id)


def declaration_due(acquired_on: date) -> date:
    """The last day a weapon acquired on ``acquired_on`` may be declared."""
    return acquired_on + timedelta(days=DECLARATION_DAYS)
