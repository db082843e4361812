"""Ammunition: receive into a location, issue to and return from officers, consume."""

from __future__ import annotations

from resguardo.domain import ammunition
from resguardo.domain.entities import Location
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.services.custody import override_for
from resguardo.storage.uow import UnitOfWork


def _location(uow: UnitOfWork, agency_code: str, location_code: str) -> Location:
    agency = uow.repo.org(agency_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.AMMO_MANAGE, agency.path, "organization")
    uow.lock()
    return uow.repo.location(agency.id, location_code)


def receive(uow: UnitOfWork, agency_code: str, location_code: str, calibre: str, lot: str,
            quantity: int, source: str | None = None) -> Event:
    location = _location(uow, agency_code, location_code)
    return uow.append(ammunition.receive(location, calibre, lot, quantity, source))


def issue(uow: UnitOfWork, agency_code: str, location_code: str, badge: str, calibre: str,
          lot: str, quantity: int) -> Event:
    """Issue rounds to an officer who may hold a weapon (or whom a chief's override covers)."""
    location = _location(uow, agency_code, location_code)
    officer = uow.repo.officer(location.agency_id, badge)
    balance = uow.repo.ammo_balance(location.id, calibre.strip(), lot.strip())
    now = uow.now()
    # rounds go out under an override a weapon issue already used (the rounds of that weapon)
    override = override_for(uow, officer, now, single_use=False)
    return uow.append(ammunition.issue(location, officer, calibre, lot, quantity, balance, now,
                                       override, today=uow.today(location.agency_id, now)))


def give_back(uow: UnitOfWork, agency_code: str, location_code: str, badge: str, calibre: str,
              lot: str, returned: int, consumed: int = 0, justification: str | None = None,
              incident_number: str | None = None) -> Event:
    location = _location(uow, agency_code, location_code)
    officer = uow.repo.officer(location.agency_id, badge)
    outstanding = uow.repo.ammo_outstanding(officer.id, calibre.strip(), lot.strip())
    return uow.append(ammunition.give_back(location, officer, calibre, lot, returned, consumed,
                                           outstanding, justification, incident_number))


def consume(uow: UnitOfWork, agency_code: str, location_code: str, calibre: str, lot: str,
            quantity: int, justification: str, incident_number: str | None = None) -> Event:
    location = _location(uow, agency_code, location_code)
    balance = uow.repo.ammo_balance(location.id, calibre.strip(), lot.strip())
    return uow.append(ammunition.consume(location, calibre, lot, quantity, balance,
                                         justification, incident_number))
