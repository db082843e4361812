"""Adding organizations, locations, licences, officers and firearms."""

from __future__ import annotations

import dataclasses
from datetime import date

from resguardo.domain import custody, registry
from resguardo.domain.codes import OrgKind
from resguardo.domain.entities import Organization
from resguardo.domain.errors import Conflict, DuplicateSerial, NotFound
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.storage.uow import UnitOfWork


def _check(uow: UnitOfWork, action: Action, org: Organization | None, what: str = "object") -> None:
    if uow.actor is not None:
        authorize(uow.actor, action, org.path if org else None, what)


def add_organization(uow: UnitOfWork, code: str, name: str, kind: OrgKind | str,
                     parent_code: str | None) -> Event:
    parent = uow.repo.org(parent_code) if parent_code else None
    _check(uow, Action.ORG_MANAGE, parent, "organization")
    if uow.actor is not None and parent is None:
        authorize(uow.actor, Action.ORG_MANAGE, "/", "organization")
    uow.lock()
    if uow.repo.org_code_taken(code.strip()):
        raise Conflict(f"organization code {code} is already in use", field="code")
    try:
        kind = OrgKind(kind)
    except ValueError:
        from resguardo.domain.errors import ValidationFailed
        raise ValidationFailed("kind must be one of " + ", ".join(k.value for k in OrgKind),
                               field="kind") from None
    return uow.append(registry.create_organization(code, name, kind, parent))


def add_oversight(uow: UnitOfWork, overseer_code: str, agency_code: str) -> Event:
    """``overseer`` (a military zone, say) oversees ``agency``: its inspectors and
    supervisors read and inspect it (admin, with both organizations in scope)."""
    overseer, agency = uow.repo.org(overseer_code), uow.repo.org(agency_code)
    _check(uow, Action.ORG_MANAGE, overseer, "organization")
    _check(uow, Action.ORG_MANAGE, agency, "organization")
    uow.lock()
    already = any(o.id == overseer.id for o in uow.repo.oversight(agency.id))
    return uow.append(registry.add_oversight(overseer, agency, already))


def remove_oversight(uow: UnitOfWork, overseer_code: str, agency_code: str,
                     reason: str) -> Event:
    overseer, agency = uow.repo.org(overseer_code), uow.repo.org(agency_code)
    _check(uow, Action.ORG_MANAGE, overseer, "organization")
    _check(uow, Action.ORG_MANAGE, agency, "organization")
    uow.lock()
    present = any(o.id == overseer.id for o in uow.repo.oversight(agency.id))
    return uow.append(registry.remove_oversight(overseer, agency, present, reason))


def add_location(uow: UnitOfWork, agency_code: str, code: str, name: str, kind: str) -> Event:
    agency = uow.repo.org(agency_code)
    _check(uow, Action.LOCATION_MANAGE, agency, "organization")
    uow.lock()
    try:
        uow.repo.location(agency.id, code.strip())
        raise Conflict(f"location {code} already exists in {agency.code}", field="code")
    except NotFound:
        pass
    return uow.append(registry.create_location(agency, code, name, kind))


def add_licence(uow: UnitOfWork, number: str, holder_code: str, agency_codes: list[str],
                valid_from: date, valid_to: date) -> Event:
    holder = uow.repo.org(holder_code)
    _check(uow, Action.LICENCE_MANAGE, holder, "organization")
    agencies = [uow.repo.org(code) for code in agency_codes]
    uow.lock()
    if uow.repo.licence_taken(number.strip()):
        raise Conflict(f"licence {number} already exists", field="number")
    return uow.append(registry.create_licence(number, holder, agencies, valid_from, valid_to))


def add_officer(uow: UnitOfWork, agency_code: str, data: OfficerInput,
                licence_number: str | None = None) -> Event:
    agency = uow.repo.org(agency_code)
    _check(uow, Action.OFFICER_MANAGE, agency, "organization")
    if licence_number:
        data = dataclasses.replace(data, licence_id=uow.repo.licence_id(licence_number))
    uow.lock()
    if uow.repo.badge_taken(agency.id, data.badge):
        raise Conflict(f"badge {data.badge} is already registered in {agency.code}", field="badge")
    return uow.append(registry.register_officer(agency, data))


def _officer(uow: UnitOfWork, agency_code: str, badge: str):  # type: ignore[no-untyped-def]
    agency = uow.repo.org(agency_code)
    _check(uow, Action.OFFICER_MANAGE, agency, "organization")
    uow.lock()
    return uow.repo.officer(agency.id, badge)


def suspend_officer(uow: UnitOfWork, agency_code: str, badge: str, reason: str) -> Event:
    return uow.append(custody.suspend(_officer(uow, agency_code, badge), reason))


def reinstate_officer(uow: UnitOfWork, agency_code: str, badge: str, reason: str) -> Event:
    return uow.append(custody.reinstate(_officer(uow, agency_code, badge), reason))


def separate_officer(uow: UnitOfWork, agency_code: str, badge: str, reason: str) -> Event:
    officer = _officer(uow, agency_code, badge)
    held = len(uow.repo.weapons_held(officer.id))
    return uow.append(custody.separate(officer, held, reason,
                                       len(uow.repo.weapons_of_record(officer.id))))


def renew_officer(uow: UnitOfWork, agency_code: str, badge: str, *,
                  credential_folio: str | None = None, credential_expiry: date | None = None,
                  qualification_expiry: date | None = None,
                  credential_issued: date | None = None) -> Event:
    """Record a renewal; fields left out, or given as recorded, keep their value."""
    officer = _officer(uow, agency_code, badge)
    return uow.append(registry.renew_officer(
        officer, uow.now().date(), credential_folio=credential_folio,
        credential_expiry=credential_expiry, qualification_expiry=qualification_expiry,
        credential_issued=credential_issued))


def register_firearm(uow: UnitOfWork, agency_code: str, location_code: str,
                     data: FirearmInput, licence_number: str | None = None) -> Event:
    """Register a weapon; (make, serial) must be new to the whole system."""
    agency = uow.repo.org(agency_code)
    _check(uow, Action.FIREARM_REGISTER, agency, "organization")
    location = uow.repo.location(agency.id, location_code)
    if licence_number:
        data = dataclasses.replace(data, licence_id=uow.repo.licence_id(licence_number))
    new = registry.register_firearm(agency, data, location.id, uow.now().date())
    uow.lock()
    holder = uow.repo.firearm_holder_anywhere(new.payload["make_key"], new.payload["serial_key"])
    if holder is not None:
        where = ("this agency" if holder == agency.id
                 else f"another agency ({uow.repo.org_unscoped(holder).code})")
        raise DuplicateSerial(
            f"{new.payload['make']} {new.payload['serial']} is already registered to {where}",
            serial=new.payload["serial"], make=new.payload["make"])
    return uow.append(new)
