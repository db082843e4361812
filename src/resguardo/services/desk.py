"""The armory's shift desk: badge, then serial, then the officer's PIN (to take a
weapon; a return is confirmed by the armorer alone).

``plan`` works out what the two scans mean (issue a stored weapon, or take back
one the officer holds) and refuses early, with the same domain decisions the
operation itself makes, so the armorer sees the reason before asking for the
PIN. ``perform`` checks everything again under the writer's lock, verifies the
PIN and records the issue or return through ``services.custody``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from resguardo.domain import custody as rules
from resguardo.domain.codes import FirearmStatus
from resguardo.domain.entities import Firearm, Location, Officer, Organization
from resguardo.domain.errors import InvalidTransition, NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.services import custody, pins
from resguardo.storage.uow import UnitOfWork

ISSUE = "issue"
RETURN = "return"


@dataclass(frozen=True)
class OfficerCard:
    """What the armorer sees after scanning a badge."""

    officer: Officer
    held: list[Firearm]
    problems: list[str]
    has_pin: bool
    today: date
    override: bool = False
    of_record: list[Firearm] = field(default_factory=list)
    """The officer's weapons of record (arma de cargo), beside the pool weapons ``held``."""


@dataclass(frozen=True)
class DeskPlan:
    """What the two scans will do once the officer confirms."""

    action: str
    card: OfficerCard
    firearm: Firearm
    location: Location | None  # where it is kept now (issue) or goes back to (return)
    notes: list[str] = field(default_factory=list)


def desk_agency(uow: UnitOfWork) -> Organization:
    """The agency whose desk this is: the acting armorer's own agency."""
    actor = uow.actor
    if actor is None:
        raise ValidationFailed("the shift desk acts for a person", field="user")
    authorize(actor, Action.CUSTODY_ISSUE)
    if not actor.scope.holds_weapons:
        raise ValidationFailed("the shift desk works within one agency", field="scope")
    return actor.scope


def desk_locations(uow: UnitOfWork) -> list[Location]:
    """Where weapons come back to at this desk (armories first)."""
    agency = desk_agency(uow)
    found = uow.repo.locations(agency.id)
    return sorted(found, key=lambda loc: (loc.kind != "armory", loc.code))


def officer_card(uow: UnitOfWork, badge: str) -> OfficerCard:
    agency = desk_agency(uow)
    badge = (badge or "").strip()
    if not badge:
        raise ValidationFailed("scan or type the officer's badge", field="badge")
    officer = uow.repo.officer(agency.id, badge)
    now = uow.now()
    today = uow.today(agency.id, now)  # the desk's day: its evening is not UTC's tomorrow
    problems = rules.eligibility_problems(officer, today)
    override = custody.override_for(uow, officer, now) is not None
    return OfficerCard(officer=officer, held=uow.repo.weapons_held(officer.id),
                       problems=problems, has_pin=bool(pins.has_pin(uow, [officer.id])),
                       today=today, override=override,
                       of_record=uow.repo.weapons_of_record(officer.id))


def plan(uow: UnitOfWork, badge: str, serial: str, return_to: str | None = None) -> DeskPlan:
    """Refuse now, or say what confirming will do."""
    card = officer_card(uow, badge)
    serial = (serial or "").strip()
    if not serial:
        raise ValidationFailed("scan or type the weapon's serial", field="serial")
    firearm = uow.repo.firearm(serial)
    officer = card.officer
    if firearm.agency_id != officer.agency_id:
        raise NotFound(f"firearm {serial} not found", serial=serial)
    # refused (and the attempt recorded) before the officer types a PIN
    uow.refuse_if_frozen(firearm.agency_id,
                         "custody.returned" if firearm.status == FirearmStatus.ISSUED
                         else "custody.issued", firearm.serial)
    if firearm.status == FirearmStatus.ISSUED:
        if firearm.custodian_id != officer.id:
            holder = uow.repo.officers_by_id([firearm.custodian_id]).get(firearm.custodian_id or -1)
            raise InvalidTransition(
                f"firearm {firearm.serial} is issued to another officer",
                serial=firearm.serial, status="issued", action="custody.returned",
                holder=f"{holder.badge} {holder.name}" if holder else None)
        location = _return_location(uow, firearm, return_to)
        rules.return_(firearm, location)
        return DeskPlan(RETURN, card, firearm, location)
    now = uow.now()
    override = custody.override_for(uow, officer, now)
    rules.issue(firearm, officer, now, override,
                record_holder=custody.record_holder(uow, firearm),
                today=uow.today(firearm.agency_id, now))
    kept = (uow.repo.location_by_id(firearm.location_id)
            if firearm.location_id is not None else None)
    notes = ["override"] if override is not None else []
    return DeskPlan(ISSUE, card, firearm, kept, notes)


def _return_location(uow: UnitOfWork, firearm: Firearm, code: str | None) -> Location:
    if code:
        return uow.repo.location(firearm.agency_id, code)
    options = desk_locations(uow)
    if not options:
        raise ValidationFailed("this agency has no location to return weapons to",
                               field="location")
    return options[0]


def perform(uow: UnitOfWork, badge: str, serial: str, pin: str | None,
            return_to: str | None = None) -> tuple[DeskPlan, Event]:
    """Check again under the writer's lock, verify the PIN of an issue, and record the
    movement. A return needs no PIN: the armorer receives the weapon, and its entry
    says so (``received_by: "armorer"``), so a suspended officer's or a locked PIN's
    weapon comes back without the chief."""
    uow.lock()
    decided = plan(uow, badge, serial, return_to)
    if decided.action == ISSUE:
        if not (pin or "").strip():
            raise ValidationFailed("the officer types their PIN to take a weapon", field="pin")
        pins.verify_pin(uow, decided.card.officer, pin or "")
        ev = custody.issue(uow, decided.firearm.serial, decided.card.officer.badge,
                           make=decided.firearm.make)
    else:
        assert decided.location is not None
        ev = custody.return_(uow, decided.firearm.serial, decided.location.code,
                             make=decided.firearm.make, received_by="armorer")
    return decided, ev
