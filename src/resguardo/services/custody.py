"""Custody operations: issue, return, move, repair, transfer, loss, recovery,
decommission, overrides and corrections. Each takes the writer's lock first,
loads the current state, asks the domain and appends the event.

An open inspection's freeze is not checked here: the unit of work refuses every
entry it covers when it is appended (``UnitOfWork.append``), whichever path asks."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta

from resguardo.domain import corrections, custody, movements, requests
from resguardo.domain.entities import Firearm, Location, Officer, Override
from resguardo.domain.errors import NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.timefmt import iso
from resguardo.storage.uow import UnitOfWork


def _authorize(uow: UnitOfWork, action: Action, agency_id: int) -> None:
    if uow.actor is not None:
        authorize(uow.actor, action, uow.repo.org_unscoped(agency_id).path, "firearm")


def _load(uow: UnitOfWork, serial: str, make: str | None, action: Action) -> Firearm:
    uow.lock()
    firearm = uow.repo.firearm(serial, make)
    _authorize(uow, action, firearm.agency_id)
    return firearm


def _location(uow: UnitOfWork, firearm: Firearm, code: str) -> Location:
    return uow.repo.location(firearm.agency_id, code)


def record_holder(uow: UnitOfWork, firearm: Firearm) -> Officer | None:
    """The officer whose weapon of record ``firearm`` is (None for a pool weapon)."""
    if firearm.record_officer_id is None:
        return None
    return uow.repo.officers_by_id([firearm.record_officer_id]).get(firearm.record_officer_id)


def override_for(uow: UnitOfWork, officer: Officer, now: datetime, *, single_use: bool = True,
                 spent: Collection[int] = ()) -> Override | None:
    """The chief's override an issue to ``officer`` at ``now`` would go under, or None (he
    needs none, or has none left): the one look-up of the override, for a weapon at the
    desk or by command, in an import (``spent``: overrides its earlier rows used) and for
    rounds (``single_use=False``). Storage reads the officer's overrides that have not
    expired; ``domain.custody.override_to_use`` picks one, and the decision that issues
    (``custody.issue``, ``ammunition.issue``) says whether it covers him. Eligibility is
    of the officer's agency's day at ``now`` (``UnitOfWork.today``)."""
    if not custody.eligibility_problems(officer, uow.today(officer.agency_id, now)):
        return None
    return custody.override_to_use(officer, now, uow.repo.overrides_of(officer.id, iso(now)),
                                   single_use=single_use, spent=spent)


def issue(uow: UnitOfWork, serial: str, badge: str, *, make: str | None = None) -> Event:
    """Issue a weapon from storage to an officer of the same agency."""
    firearm = _load(uow, serial, make, Action.CUSTODY_ISSUE)
    officer = uow.repo.officer(firearm.agency_id, badge)
    now = uow.now()
    return uow.append(custody.issue(firearm, officer, now, override_for(uow, officer, now),
                                    record_holder=record_holder(uow, firearm),
                                    today=uow.today(firearm.agency_id, now)))


def return_(uow: UnitOfWork, serial: str, location_code: str, *, make: str | None = None,
            received_by: str | None = None) -> Event:
    """Take an issued weapon back into storage. ``received_by="armorer"`` records that
    the armorer received it without the officer's confirmation (the shift desk)."""
    firearm = _load(uow, serial, make, Action.CUSTODY_RETURN)
    decided = custody.return_(firearm, _location(uow, firearm, location_code))
    if received_by is not None:
        decided = dataclasses.replace(decided, payload={**decided.payload,
                                                        "received_by": received_by})
    return uow.append(decided)


def perform(uow: UnitOfWork, action: str, serial: str, values: Mapping[str, str | None], *,
            make: str | None = None) -> Event:
    """Record a movement of the domain's table (``domain.movements``) from the fields as
    typed (``values``: field name -> text): the one use case of every movement there, so a
    new one needs no function here. The weapon and its locations are looked up in the
    actor's scope, the movement's permission is checked where the weapon is, and
    ``custody.perform`` decides."""
    movement = movements.find(action)
    firearm = _load(uow, serial, make, movement.permission)
    given: dict[str, Location | str | None] = {}
    for field in movement.inputs:
        value = values.get(field.name)
        if field.kind == movements.LOCATION:
            given[field.name] = _location(uow, firearm, value) if value else None
        else:
            given[field.name] = value
    return uow.append(custody.perform(movement, firearm, given))


def move(uow: UnitOfWork, serial: str, location_code: str, *, make: str | None = None,
         reason: str | None = None) -> Event:
    return perform(uow, "move", serial, {"location": location_code, "reason": reason}, make=make)


def send_to_repair(uow: UnitOfWork, serial: str, shop: str, *, make: str | None = None,
                   reason: str | None = None) -> Event:
    return perform(uow, "repair_send", serial, {"shop": shop, "reason": reason}, make=make)


def return_from_repair(uow: UnitOfWork, serial: str, location_code: str, *,
                       make: str | None = None) -> Event:
    return perform(uow, "repair_return", serial, {"location": location_code}, make=make)


def report_missing(uow: UnitOfWork, serial: str, *, stolen: bool, occurred_on: date, place: str,
                   on_duty: bool | None, complaint_number: str | None,
                   complaint_authority: str | None, notified_at: datetime | None = None,
                   make: str | None = None, reason: str | None = None) -> Event:
    """Report a loss or theft (always possible, even while an inspection is open)."""
    firearm = _load(uow, serial, make, Action.FIREARM_REPORT_LOSS)
    return uow.append(custody.report_missing(
        firearm, stolen=stolen, occurred_on=occurred_on, place=place, on_duty=on_duty,
        complaint_number=complaint_number, complaint_authority=complaint_authority,
        notified_at=notified_at, now=uow.now(), today=uow.today(firearm.agency_id),
        reason=reason))


def record_notification(uow: UnitOfWork, serial: str, notified_at: datetime, *,
                        reference: str | None = None, make: str | None = None) -> Event:
    firearm = _load(uow, serial, make, Action.FIREARM_NOTIFY_LOSS)
    report = uow.repo.open_loss_report(firearm.id)
    return uow.append(custody.record_notification(report["id"], firearm, notified_at, uow.now(),
                                                  reference, notified_before=report["notified_at"]))


def determine_negligence(uow: UnitOfWork, serial: str, negligent: bool, reason: str, *,
                         make: str | None = None) -> Event:
    """A chief records whether the weapon's latest loss or theft came of negligence."""
    firearm = _load(uow, serial, make, Action.NEGLIGENCE_DETERMINE)
    report = uow.repo.last_loss_report(firearm.id)
    determiner = uow.actor.user_id if uow.actor else None
    return uow.append(custody.determine_negligence(
        report["id"], report["reported_by"], firearm, negligent,
        report["negligent"] is not None, determiner, reason))


def recover(uow: UnitOfWork, serial: str, held_by: str, circumstances: str, *,
            make: str | None = None) -> Event:
    """A lost or stolen weapon is found; it is held as evidence until released."""
    firearm = _load(uow, serial, make, Action.FIREARM_RECOVER)
    return uow.append(custody.recover(firearm, held_by, circumstances))


def release(uow: UnitOfWork, serial: str, location_code: str, reference: str, *,
            make: str | None = None) -> Event:
    """A chief records that the authority gave back a weapon held as evidence."""
    return perform(uow, "release", serial, {"location": location_code, "reference": reference},
                   make=make)


def request_decommission(uow: UnitOfWork, serial: str, reason: str, *,
                         make: str | None = None) -> Event:
    firearm = _load(uow, serial, make, Action.DECOMMISSION_REQUEST)
    return uow.append(custody.request_decommission(
        firearm, reason, pending=_pending(uow, firearm.id, "decommission")))


def _pending(uow: UnitOfWork, firearm_id: int, kind: str) -> bool:
    """Whether a request of this kind already waits for the weapon (the fact the domain's
    ``requests.refuse_if_pending`` judges)."""
    try:
        uow.repo.pending_request(firearm_id, kind)
    except NotFound:
        return False
    return True


def approve_decommission(uow: UnitOfWork, serial: str, *, make: str | None = None) -> Event:
    firearm = _load(uow, serial, make, Action.DECOMMISSION_APPROVE)
    request = uow.repo.pending_request(firearm.id, "decommission")
    approver = uow.actor.user_id if uow.actor else None
    return uow.append(custody.decommission(firearm, request["id"], request["requested_by"],
                                           approver))


#: Who decides a pending request, by its kind.
APPROVERS = {"decommission": Action.DECOMMISSION_APPROVE, "transfer": Action.TRANSFER_APPROVE,
             "correction": Action.CORRECTION_APPROVE}


def reject_request(uow: UnitOfWork, serial: str, kind: str, reason: str, *,
                   make: str | None = None) -> Event:
    if kind not in APPROVERS:
        raise ValidationFailed("the kind of request is decommission, transfer or correction",
                               field="kind")
    firearm = _load(uow, serial, make, APPROVERS[kind])
    request = uow.repo.pending_request(firearm.id, kind)
    return uow.append(requests.reject(request["id"], firearm, kind, reason))


def request_transfer(uow: UnitOfWork, serial: str, to_agency_code: str, reason: str, *,
                     make: str | None = None) -> Event:
    firearm = _load(uow, serial, make, Action.TRANSFER_REQUEST)
    # the receiving agency may lie outside the armorer's scope: look it up system-wide
    to_agency = _org_anywhere(uow, to_agency_code)
    return uow.append(custody.request_transfer(firearm, to_agency, reason,
                                               pending=_pending(uow, firearm.id, "transfer")))


def _org_anywhere(uow: UnitOfWork, code: str):  # type: ignore[no-untyped-def]
    from resguardo.storage.repositories import Repositories
    return Repositories(uow.conn, None).org(code)


def approve_transfer(uow: UnitOfWork, serial: str, *, make: str | None = None) -> Event:
    """Chief (sending agency) or supervisor approves: the weapon leaves, in transit."""
    firearm = _load(uow, serial, make, Action.TRANSFER_APPROVE)
    request = uow.repo.pending_request(firearm.id, "transfer")
    approver = uow.actor.user_id if uow.actor else None
    return uow.append(custody.send_transfer(firearm, request["id"], request["to_agency_id"],
                                            request["requested_by"], approver))


def receive_transfer(uow: UnitOfWork, serial: str, location_code: str, *,
                     make: str | None = None) -> Event:
    """The receiving agency (armorer) or a supervisor books the weapon in."""
    from resguardo.storage.repositories import Repositories
    uow.lock()
    system = Repositories(uow.conn, None)
    firearm = system.firearm(serial, make)
    request = _last_transfer(uow, firearm)
    to_agency = system.org_unscoped(request["to_agency_id"])
    if uow.actor is not None:
        authorize(uow.actor, Action.TRANSFER_RECEIVE, to_agency.path, "firearm")
    location = system.location(to_agency.id, location_code)
    return uow.append(custody.receive_transfer(firearm, to_agency.id, location))


def _last_transfer(uow: UnitOfWork, firearm: Firearm) -> dict:
    from resguardo.storage.repositories import Repositories
    for req in reversed(Repositories(uow.conn, None).requests(state="approved")):
        if req["firearm_id"] == firearm.id and req["kind"] == "transfer":
            return req
    raise NotFound(f"firearm {firearm.serial} not found", serial=firearm.serial)


def grant_override(uow: UnitOfWork, agency_code: str, badge: str, reason: str,
                   hours: float = 12.0) -> Event:
    agency = uow.repo.org(agency_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.OVERRIDE_GRANT, agency.path, "organization")
    uow.lock()
    officer = uow.repo.officer(agency.id, badge)
    now = uow.now()
    if not 0 < hours <= 72:
        raise ValidationFailed("an override lasts between a moment and 72 hours", field="hours")
    return uow.append(custody.grant_override(officer, reason, now, now + timedelta(hours=hours)))


def correct(uow: UnitOfWork, position: int, changes: dict[str, str], reason: str) -> Event:
    """Correct fields recorded by an earlier entry; the entry itself stays as it was.

    A weapon's serial, make, kind and calibre are asked for (the answer is the
    ``entry.correction_requested``; a chief approves it with :func:`approve_correction`);
    any other field given with them is corrected at once, in an entry just before.
    """
    uow.lock()
    target = uow.repo.event(position)
    if target.org_id is not None:
        _authorize(uow, Action.CORRECT, target.org_id)
    elif uow.actor is not None:
        raise NotFound(f"entry {position} not found")
    current = corrections.apply_corrections(
        target.payload, [c.payload for c in uow.repo.corrections_of([position]).get(position, [])])
    decided = corrections.correct(position, target.type, current, changes, reason,
                                  target.subject_type, target.subject_id, target.org_id)
    for new in decided:  # everything is checked before anything is recorded
        _identity_free(uow, new.payload["changes"], current)
        if new.type == corrections.REQUESTED:
            _no_pending_correction(uow, int(target.subject_id or 0))
    # other fields are corrected at once; the identity request, if any, comes last
    return [uow.append(new) for new in decided][-1]


def _identity_free(uow: UnitOfWork, changes: dict, current: dict) -> None:
    """Refuse a corrected make and serial that another weapon is registered under."""
    if "serial_key" in changes or "make_key" in changes:
        mk = changes["make_key"] if "make_key" in changes else current["make_key"]
        sk = changes["serial_key"] if "serial_key" in changes else current["serial_key"]
        if (mk, sk) == (current["make_key"], current["serial_key"]):
            return  # only how it is written changes (GLK A100 -> GLK-A100): the same weapon
        holder = uow.repo.firearm_holder_unscoped(mk, sk)
        if holder is not None:
            from resguardo.domain.errors import DuplicateSerial
            raise DuplicateSerial("the corrected make and serial are already registered")


def _no_pending_correction(uow: UnitOfWork, firearm_id: int) -> None:
    if _pending(uow, firearm_id, "correction"):
        requests.refuse_if_pending("correction", uow.repo.firearm_by_id(firearm_id).serial,
                                   True)


def approve_correction(uow: UnitOfWork, serial: str, *, make: str | None = None) -> Event:
    """A second person approves a pending identity correction: it applies now."""
    firearm = _load(uow, serial, make, Action.CORRECTION_APPROVE)
    request = uow.repo.pending_request(firearm.id, "correction")
    asked = uow.repo.event(int(request["id"]))
    position = int(asked.payload["corrects"])
    target = uow.repo.event(position)
    current = corrections.apply_corrections(
        target.payload, [c.payload for c in uow.repo.corrections_of([position]).get(position, [])])
    approver = uow.actor.user_id if uow.actor else None
    new = corrections.approve_identity(asked.payload, current, int(request["id"]),
                                       request["requested_by"], approver, asked.reason,
                                       firearm.agency_id, firearm.id)
    _identity_free(uow, new.payload["changes"], current)
    return uow.append(new)
