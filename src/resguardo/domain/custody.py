"""The custody state machine: which change is allowed from which status.

Every function here is a decision: it takes snapshots, refuses with a
``DomainError`` or returns the ``NewEvent`` that records the change. Storage
applies the event to the projection; nothing here writes anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime

from resguardo.domain import credential, firearm_state, movements, requests
from resguardo.domain.codes import GONE_STATUSES, FirearmStatus, OfficerStatus
from resguardo.domain.entities import Firearm, Location, NewEvent, Officer, Organization, Override
from resguardo.domain.errors import (
    T_,
    InvalidTransition,
    OfficerHoldsWeapons,
    OfficerNotEligible,
    Phrase,
    SeparationOfDuties,
    ValidationFailed,
)
from resguardo.domain.movements import LOCATION, REASON, Movement
from resguardo.domain.timefmt import iso, iso_date

S = FirearmStatus

#: event type -> statuses it may start from -> status it leads to (from ``firearm_state.RULES``)
TRANSITIONS = firearm_state.TRANSITIONS

_VERBS = {
    "custody.issued": "issued",
    "custody.returned": "returned",
    "firearm.moved": "moved",
    "firearm.repair_sent": "sent to repair",
    "firearm.repair_returned": "returned from repair",
    "firearm.transfer_requested": "put up for transfer",
    "firearm.transfer_sent": "sent on transfer",
    "firearm.transfer_received": "received on transfer",
    "firearm.reported_lost": "reported lost",
    "firearm.reported_stolen": "reported stolen",
    "firearm.recovered": "recovered",
    "firearm.released": "released from evidence",
    "firearm.decommission_requested": "put up for decommission",
    "firearm.decommissioned": "decommissioned",
}


def _verb(event_type: str) -> str:
    known = _VERBS.get(event_type)
    return known if known is not None else movements.BY_ENTRY[event_type].words["en"].verb


def check_transition(firearm: Firearm, event_type: str) -> FirearmStatus:
    """Refuse a change the state machine does not allow; return the status it leads to."""
    allowed_from, to = TRANSITIONS[event_type]
    if firearm.status not in allowed_from:
        why = ""
        if firearm.status in GONE_STATUSES:
            why = f"; it is recorded {firearm.status.value.replace('_', ' ')}"
        elif firearm.status == S.HELD_AS_EVIDENCE:
            why = "; a chief must record its release first"
        raise InvalidTransition(
            f"firearm {firearm.serial} ({firearm.make}) cannot be {_verb(event_type)} "
            f"while {firearm.status.value.replace('_', ' ')}{why}",
            serial=firearm.serial,
            status=firearm.status.value,
            action=event_type,
        )
    return to if to is not None else firearm.status


def eligibility_problems(officer: Officer, today: date) -> list[str]:
    """Why an officer may not receive a weapon today (empty when eligible)."""
    problems: list[str] = []
    if officer.status == OfficerStatus.SUSPENDED:
        problems.append(Phrase(T_("officer is suspended")))
    elif officer.status == OfficerStatus.SEPARATED:
        problems.append(Phrase(T_("officer is separated from the agency")))
    if officer.credential_expiry is None:
        problems.append(Phrase(T_("officer has no carry credential on record")))
    elif officer.credential_expiry < today:
        problems.append(Phrase(T_("carry credential expired on %(date)s"),
                               date=officer.credential_expiry.isoformat()))
    if officer.qualification_expiry is None:
        problems.append(Phrase(T_("officer has no firearms qualification on record")))
    elif officer.qualification_expiry < today:
        problems.append(Phrase(T_("qualification expired on %(date)s"),
                               date=officer.qualification_expiry.isoformat()))
    return problems


def covering_override(officer: Officer, now: datetime, override: Override | None, what: str,
                      *, today: date, single_use: bool = True) -> int | None:
    """The one eligibility rule of weapons and rounds: None when the officer may hold a
    weapon ``today`` (his agency's calendar day at ``now``: a credential valid through the
    6th serves until midnight there), the id of the chief's override that covers an officer
    who may not, and ``OfficerNotEligible`` otherwise (a separated officer is never covered).

    A weapon issue uses the override up (``single_use``); rounds go out under an override
    that has not expired, whether or not a weapon was already issued under it, and do not
    use it up: the rounds that go with the weapon the chief allowed.
    """
    problems = eligibility_problems(officer, today)
    if not problems:
        return None
    usable = (
        override is not None
        and not (single_use and override.used)
        and override.officer_id == officer.id
        and override.expires_at >= now
    )
    if officer.status == OfficerStatus.SEPARATED or not usable:
        raise OfficerNotEligible(
            f"cannot issue {what} to {officer.badge} {officer.name}: " + "; ".join(problems),
            badge=officer.badge,
            problems=problems,
        )
    assert override is not None
    return override.id


def override_to_use(officer: Officer, now: datetime, overrides: Iterable[Override], *,
                    single_use: bool = True, spent: Collection[int] = ()) -> Override | None:
    """Which of the chief's overrides an issue to ``officer`` at ``now`` goes under: the
    latest one granted to this officer that has not expired and, for a weapon
    (``single_use``), was not used by an earlier issue nor by an issue not yet recorded
    (``spent``: an import's earlier rows). None when none is left; whether it is needed
    at all, and whether it may cover this officer, is ``covering_override``'s decision.

    ``overrides`` are the facts storage found (any officer's, in any order)."""
    usable = [o for o in overrides
              if o.officer_id == officer.id and o.expires_at >= now
              and not (single_use and (o.used or o.id in spent))]
    return max(usable, key=lambda o: o.id, default=None)


def _same_agency(firearm: Firearm, other_agency_id: int, what: str) -> None:
    if firearm.agency_id != other_agency_id:
        raise ValidationFailed(f"{what} belongs to another agency", field=what)


def issue(
    firearm: Firearm,
    officer: Officer,
    now: datetime,
    override: Override | None = None,
    rounds: int = 0,
    record_holder: Officer | None = None,
    *,
    today: date,
) -> NewEvent:
    """Issue a stored weapon to an eligible officer (or one covered by a chief's override);
    a weapon of record only to its own officer (``record_holder`` names him). ``today`` is
    the agency's calendar day at ``now`` (``UnitOfWork.today``)."""
    check_transition(firearm, "custody.issued")
    _same_agency(firearm, officer.agency_id, "officer")
    credential.may_issue(firearm, officer, record_holder)
    payload: dict = {
        "firearm_id": firearm.id,
        "officer_id": officer.id,
        "from_location_id": firearm.location_id,
    }
    override_id = covering_override(officer, now, override, firearm.serial, today=today)
    if override_id is not None:
        payload["override_id"] = override_id
    return NewEvent(
        "custody.issued", payload, org_id=firearm.agency_id,
        subject_type="firearm", subject_id=firearm.id,
    )


def return_(firearm: Firearm, location: Location) -> NewEvent:
    """Return an issued weapon to storage at a location of its agency."""
    check_transition(firearm, "custody.returned")
    _same_agency(firearm, location.agency_id, "location")
    return NewEvent(
        "custody.returned",
        {"firearm_id": firearm.id, "officer_id": firearm.custodian_id, "location_id": location.id},
        org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id,
    )


def perform(movement: Movement, firearm: Firearm,
            given: Mapping[str, Location | str | None]) -> NewEvent:
    """The one decision of every movement of ``movements.MOVEMENTS``: the state machine
    allows it from the weapon's status, then each field in its order (a location of the
    weapon's agency, elsewhere when it must be; a required text not blank). ``given`` holds
    the locations the service found by their codes (None when none was given) and the
    texts as typed."""
    check_transition(firearm, movement.entry)
    payload: dict = {"firearm_id": firearm.id}
    if movement.from_location:
        payload["from_location_id"] = firearm.location_id
    reason = None
    for field in movement.inputs:
        value = given.get(field.name)
        if field.kind == LOCATION:
            if not isinstance(value, Location):
                if field.required:
                    raise ValidationFailed(T_("%(field)s is required"), field=field.name)
                payload[field.key or field.name] = None
                continue
            _same_agency(firearm, value.agency_id, field.name)
            if field.elsewhere and value.id == firearm.location_id:
                raise InvalidTransition(T_("firearm %(serial)s is already at %(location)s"),
                                        serial=firearm.serial, location=value.code)
            payload[field.key or field.name] = value.id
            continue
        text = value if isinstance(value, str) else ""
        if field.kind == REASON:
            if field.required and not text.strip():
                raise ValidationFailed(field.missing or T_("%(field)s is required"),
                                       field=field.name)
            reason = text or None
            continue
        if field.required and not text.strip():
            raise ValidationFailed(field.missing or T_("%(field)s is required"), field=field.name)
        payload[field.key or field.name] = text.strip() or None
    return NewEvent(movement.entry, payload, reason=reason, org_id=firearm.agency_id,
                    subject_type="firearm", subject_id=firearm.id)


def move(firearm: Firearm, location: Location, reason: str | None = None) -> NewEvent:
    return perform(movements.MOVEMENTS["move"], firearm, {"location": location, "reason": reason})


def send_to_repair(firearm: Firearm, shop: str, reason: str | None) -> NewEvent:
    return perform(movements.MOVEMENTS["repair_send"], firearm, {"shop": shop, "reason": reason})


def return_from_repair(firearm: Firearm, location: Location) -> NewEvent:
    return perform(movements.MOVEMENTS["repair_return"], firearm, {"location": location})


def report_missing(
    firearm: Firearm,
    *,
    stolen: bool,
    occurred_on: date,
    place: str,
    on_duty: bool | None,
    complaint_number: str | None,
    complaint_authority: str | None,
    notified_at: datetime | None,
    now: datetime,
    today: date,
    reason: str | None = None,
) -> NewEvent:
    """Report a loss or theft: date, place, on duty or off, and the complaint (denuncia)
    with the authority it was filed with, as the ministry's removal form (SEDENA-02-031)
    asks for a loss and a theft alike. ``occurred_on`` may not be after ``today``, the
    agency's calendar day at ``now``."""
    event_type = "firearm.reported_stolen" if stolen else "firearm.reported_lost"
    check_transition(firearm, event_type)
    if not place.strip():
        raise ValidationFailed("the place where it happened is required", field="place")
    if occurred_on > today:
        raise ValidationFailed("the date of the loss cannot be in the future", field="occurred_on")
    if on_duty is None:
        raise ValidationFailed("say whether it happened on duty or off duty", field="on_duty")
    if not (complaint_number or "").strip():
        raise ValidationFailed(
            "a loss or theft needs the complaint (denuncia) number", field="complaint_number")
    if not (complaint_authority or "").strip():
        raise ValidationFailed(
            "a loss or theft needs the authority the complaint was filed with",
            field="complaint_authority")
    if notified_at is not None and notified_at > now:
        raise ValidationFailed("the notification time cannot be in the future", field="notified_at")
    return NewEvent(
        event_type,
        {
            "firearm_id": firearm.id,
            "previous_status": firearm.status.value,
            "officer_id": firearm.custodian_id,
            "location_id": firearm.location_id,
            "occurred_on": iso_date(occurred_on),
            "place": place.strip(),
            "on_duty": on_duty,
            "complaint_number": (complaint_number or "").strip(),
            "complaint_authority": (complaint_authority or "").strip(),
            "notified_at": iso(notified_at) if notified_at else None,
        },
        reason=reason, org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id,
    )


def record_notification(report_id: int, firearm: Firearm, notified_at: datetime,
                        now: datetime, reference: str | None, *,
                        notified_before: str | None) -> NewEvent:
    """Record when the military authority was told of a loss or theft: once per report
    (``notified_before``: the time already recorded for it, if any)."""
    if notified_before is not None:
        raise ValidationFailed(T_("the military authority was already notified at %(when)s"),
                               field="notified_at", when=notified_before)
    if notified_at > now:
        raise ValidationFailed("the notification time cannot be in the future", field="notified_at")
    return NewEvent(
        "firearm.loss_notified",
        {"report_id": report_id, "firearm_id": firearm.id, "notified_at": iso(notified_at),
         "reference": reference},
        org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id,
    )


def determine_negligence(report_id: int, reported_by: int | None, firearm: Firearm,
                         negligent: bool, already: bool, determiner_id: int | None,
                         reason: str) -> NewEvent:
    """A chief's later finding of whether a loss or theft came of negligence; never by
    whoever reported it, once per report."""
    if reported_by is not None and reported_by == determiner_id:
        raise SeparationOfDuties(
            "the person who reported this loss cannot determine whether it was negligence")
    if already:
        raise ValidationFailed("negligence was already determined for this report",
                               field="negligent")
    if not reason.strip():
        raise ValidationFailed("a negligence determination needs a written reason", field="reason")
    return NewEvent(
        "firearm.negligence_determined",
        {"report_id": report_id, "firearm_id": firearm.id, "negligent": negligent},
        reason=reason.strip(), org_id=firearm.agency_id, subject_type="firearm",
        subject_id=firearm.id,
    )


def recover(firearm: Firearm, held_by: str, circumstances: str) -> NewEvent:
    """A lost or stolen weapon is found: it is held as evidence by the authority that
    secured it (asegurada / en resguardo ministerial) until a chief records its release.
    The report stays on record."""
    check_transition(firearm, "firearm.recovered")
    if not held_by.strip():
        raise ValidationFailed("name the authority that holds it as evidence", field="held_by")
    if not circumstances.strip():
        raise ValidationFailed("say how and where it was recovered", field="reason")
    return NewEvent(
        "firearm.recovered",
        {"firearm_id": firearm.id, "previous_status": firearm.status.value,
         "held_by": held_by.strip()},
        reason=circumstances.strip(), org_id=firearm.agency_id,
        subject_type="firearm", subject_id=firearm.id,
    )


def release(firearm: Firearm, location: Location, reference: str) -> NewEvent:
    """The authority gave the weapon back: it returns to storage at a location of its agency."""
    return perform(movements.MOVEMENTS["release"], firearm,
                   {"location": location, "reference": reference})


def request_decommission(firearm: Firearm, reason: str, *, pending: bool) -> NewEvent:
    """Ask for a weapon's decommission (``pending``: one is already waiting)."""
    requests.refuse_if_pending("decommission", firearm.serial, pending)
    check_transition(firearm, "firearm.decommission_requested")
    if not reason.strip():
        raise ValidationFailed("a decommission needs a written reason", field="reason")
    return NewEvent(
        "firearm.decommission_requested", {"firearm_id": firearm.id}, reason=reason.strip(),
        org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id,
    )


def approve(requested_by: int | None, approver_id: int | None, what: str) -> None:
    """Two-person rule: whoever asked for it cannot approve it."""
    if requested_by is not None and requested_by == approver_id:
        raise SeparationOfDuties(f"the person who requested this {what} cannot approve it")


def decommission(firearm: Firearm, request_id: int, requested_by: int | None,
                 approver_id: int | None) -> NewEvent:
    approve(requested_by, approver_id, "decommission")
    check_transition(firearm, "firearm.decommissioned")
    return NewEvent(
        "firearm.decommissioned", {"firearm_id": firearm.id, "request_id": request_id,
                                   "previous_status": firearm.status.value},
        org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id,
    )


def request_transfer(firearm: Firearm, to_agency: Organization, reason: str, *,
                     pending: bool) -> NewEvent:
    """Ask for a weapon's transfer to another agency (``pending``: one is already waiting)."""
    requests.refuse_if_pending("transfer", firearm.serial, pending)
    check_transition(firearm, "firearm.transfer_requested")
    if not to_agency.holds_weapons:
        raise ValidationFailed(T_("%(code)s is not an agency that holds weapons"),
                               field="to_agency", code=to_agency.code)
    if to_agency.id == firearm.agency_id:
        raise ValidationFailed("a transfer must go to another agency", field="to_agency")
    if not reason.strip():
        raise ValidationFailed("a transfer needs a written reason", field="reason")
    return NewEvent(
        "firearm.transfer_requested", {"firearm_id": firearm.id, "to_agency_id": to_agency.id},
        reason=reason.strip(), org_id=firearm.agency_id, subject_type="firearm",
        subject_id=firearm.id,
    )


def send_transfer(firearm: Firearm, request_id: int, to_agency_id: int,
                  requested_by: int | None, approver_id: int | None) -> NewEvent:
    approve(requested_by, approver_id, "transfer")
    check_transition(firearm, "firearm.transfer_sent")
    return NewEvent(
        "firearm.transfer_sent",
        {"firearm_id": firearm.id, "request_id": request_id, "from_agency_id": firearm.agency_id,
         "from_location_id": firearm.location_id, "to_agency_id": to_agency_id},
        org_id=firearm.agency_id, subject_type="firearm", subject_id=firearm.id,
    )


def receive_transfer(firearm: Firearm, to_agency_id: int, location: Location) -> NewEvent:
    check_transition(firearm, "firearm.transfer_received")
    if location.agency_id != to_agency_id:
        raise ValidationFailed("the receiving location must belong to the receiving agency",
                               field="location")
    return NewEvent(
        "firearm.transfer_received",
        {"firearm_id": firearm.id, "from_agency_id": firearm.agency_id,
         "to_agency_id": to_agency_id, "location_id": location.id},
        org_id=to_agency_id, subject_type="firearm", subject_id=firearm.id,
    )


def separate(officer: Officer, weapons_held: int, reason: str,
             weapons_of_record: int = 0) -> NewEvent:
    """Separate an officer; refused while any weapon is still issued to them or is still
    their weapon of record (its credential would go on naming them)."""
    if officer.status == OfficerStatus.SEPARATED:
        raise InvalidTransition(T_("officer %(badge)s is already separated"), badge=officer.badge)
    if weapons_held:
        raise OfficerHoldsWeapons(
            f"officer {officer.badge} still holds {weapons_held} issued weapon(s); "
            "the separation waits for their return",
            badge=officer.badge, weapons=weapons_held,
        )
    if weapons_of_record:
        raise OfficerHoldsWeapons(
            f"officer {officer.badge} still has {weapons_of_record} weapon(s) of record; "
            "a chief withdraws them before the separation",
            badge=officer.badge, weapons=weapons_of_record,
        )
    if not reason.strip():
        raise ValidationFailed("a separation needs a written reason", field="reason")
    return NewEvent("officer.separated", {"officer_id": officer.id}, reason=reason.strip(),
                    org_id=officer.agency_id, subject_type="officer", subject_id=officer.id)


def suspend(officer: Officer, reason: str) -> NewEvent:
    if officer.status != OfficerStatus.ACTIVE:
        raise InvalidTransition(T_("officer %(badge)s is %(status)s, not active"),
                                badge=officer.badge, status=officer.status.value)
    if not reason.strip():
        raise ValidationFailed("a suspension needs a written reason", field="reason")
    return NewEvent("officer.suspended", {"officer_id": officer.id}, reason=reason.strip(),
                    org_id=officer.agency_id, subject_type="officer", subject_id=officer.id)


def reinstate(officer: Officer, reason: str) -> NewEvent:
    if officer.status != OfficerStatus.SUSPENDED:
        raise InvalidTransition(T_("officer %(badge)s is %(status)s, not suspended"),
                                badge=officer.badge, status=officer.status.value)
    return NewEvent("officer.reinstated", {"officer_id": officer.id}, reason=reason.strip() or None,
                    org_id=officer.agency_id, subject_type="officer", subject_id=officer.id)


def grant_override(officer: Officer, reason: str, now: datetime, expires_at: datetime) -> NewEvent:
    """A chief's written permission to issue to an officer who is not eligible."""
    if officer.status == OfficerStatus.SEPARATED:
        raise OfficerNotEligible(T_("officer %(badge)s is separated: no override possible"),
                                 badge=officer.badge)
    if len(reason.strip()) < 10:
        raise ValidationFailed("an override needs a written reason (at least 10 characters)",
                               field="reason")
    if expires_at <= now:
        raise ValidationFailed("the override must expire in the future", field="expires_at")
    return NewEvent("custody.override_granted",
                    {"officer_id": officer.id, "expires_at": iso(expires_at)},
                    reason=reason.strip(), org_id=officer.agency_id,
                    subject_type="officer", subject_id=officer.id)
