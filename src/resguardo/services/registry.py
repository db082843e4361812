"""Adding organizations, locations, licences, officers and firearms."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from resguardo.domain import custody, licences, registry
from resguardo.domain.codes import OrgKind
from resguardo.domain.entities import Organization
from resguardo.domain.errors import T_, Conflict, DuplicateSerial, NotFound, ValidationFailed
from resguardo.domain.events import Event
from resguardo.domain.policy import Action, authorize
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.storage.uow import UnitOfWork


def _check(uow: UnitOfWork, action: Action, org: Organization | None, what: str = "object") -> None:
    if uow.actor is not None:
        authorize(uow.actor, action, org.path if org else None, what)


def add_organization(uow: UnitOfWork, code: str, name: str, kind: OrgKind | str,
                     parent_code: str | None, *, time_zone: str | None = None,
                     city: str | None = None, address: str | None = None) -> Event:
    parent = uow.repo.org(parent_code) if parent_code else None
    _check(uow, Action.ORG_MANAGE, parent, "organization")
    if uow.actor is not None and parent is None:
        authorize(uow.actor, Action.ORG_MANAGE, "/", "organization")
    uow.lock()
    if uow.repo.org_code_taken(code.strip()):
        raise Conflict(T_("organization code %(code)s is already in use"), field="code", code=code)
    try:
        kind = OrgKind(kind)
    except ValueError:
        raise ValidationFailed("kind must be one of " + ", ".join(k.value for k in OrgKind),
                               field="kind") from None
    return uow.append(registry.create_organization(code, name, kind, parent, time_zone, city,
                                                   address))


def set_place(uow: UnitOfWork, code: str, *, time_zone: str | None = None,
              city: str | None = None, address: str | None = None) -> Event:
    """An organization's time zone and the city and address of its armory (admin)."""
    org = uow.repo.org(code)
    _check(uow, Action.ORG_MANAGE, org, "organization")
    uow.lock()
    return uow.append(registry.set_place(org, time_zone, city, address))


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
        raise Conflict(T_("location %(code)s already exists in %(agency)s"), field="code", code=code,
                       agency=agency.code)
    except NotFound:
        pass
    return uow.append(registry.create_location(agency, code, name, kind))


def add_licence(uow: UnitOfWork, number: str, holder_code: str, agency_codes: list[str],
                valid_from: date, valid_to: date) -> Event:
    holder = uow.repo.org(holder_code)
    _check(uow, Action.LICENCE_MANAGE, holder, "organization")
    agencies = [uow.repo.org(code) for code in agency_codes]
    uow.lock()
    if uow.repo.licence_taken_unscoped(number.strip()):
        raise Conflict(T_("licence %(number)s already exists"), field="number", number=number)
    return uow.append(registry.create_licence(number, holder, agencies, valid_from, valid_to))


def _covering(uow: UnitOfWork, number: str, agency: Organization) -> int:
    """The licence ``number`` in scope, refused unless it covers ``agency``."""
    ref = uow.repo.licence_ref(number)
    if agency.id not in ref.agency_ids:
        raise ValidationFailed(T_("licence %(number)s does not cover %(code)s"),
                               field="licence", number=ref.number, code=agency.code)
    return ref.id


def add_officer(uow: UnitOfWork, agency_code: str, data: OfficerInput,
                licence_number: str | None = None) -> Event:
    agency = uow.repo.org(agency_code)
    _check(uow, Action.OFFICER_MANAGE, agency, "organization")
    if licence_number:
        data = dataclasses.replace(data, licence_id=_covering(uow, licence_number, agency))
    uow.lock()
    if uow.repo.badge_taken(agency.id, data.badge):
        raise Conflict(T_("badge %(badge)s is already registered in %(agency)s"), field="badge",
                       badge=data.badge, agency=agency.code)
    return uow.append(registry.register_officer(agency, data))


def add_officers(uow: UnitOfWork, agency_code: str, items: Sequence[OfficerInput]) -> list[Event]:
    """Register many officers of one agency at once (a roster import): each decided and
    checked as ``add_officer`` decides and checks one (no licence: a row naming one goes
    through ``add_officer``), appended together (``UnitOfWork.append_many``). A badge
    already registered in the agency, or given twice, refuses the whole call naming it."""
    agency = uow.repo.org(agency_code)
    _check(uow, Action.OFFICER_MANAGE, agency, "organization")
    news = [registry.register_officer(agency, data) for data in items]
    for data in items:
        if data.licence_id is not None:
            raise ValidationFailed("add_officers registers officers without a licence; "
                                   "use add_officer", field="licence")
    badges = [new.payload["badge"] for new in news]
    seen: set[str] = set()
    for badge in badges:
        if badge in seen:
            raise Conflict(f"badge {badge} is given twice", field="badge")
        seen.add(badge)
    uow.lock()
    taken = uow.repo.badges_taken(agency.id, badges)
    if taken:
        badge = min(taken)
        raise Conflict(f"badge {badge} is already registered in {agency.code}", field="badge")
    return uow.append_many(news)


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
        officer, uow.today(officer.agency_id), credential_folio=credential_folio,
        credential_expiry=credential_expiry, qualification_expiry=qualification_expiry,
        credential_issued=credential_issued))


def register_firearm(uow: UnitOfWork, agency_code: str, location_code: str,
                     data: FirearmInput, licence_number: str | None = None) -> Event:
    """Register a weapon; (make, serial) must be new to the whole system."""
    agency = uow.repo.org(agency_code)
    _check(uow, Action.FIREARM_REGISTER, agency, "organization")
    location = uow.repo.location(agency.id, location_code)
    if licence_number:
        data = dataclasses.replace(data, licence_id=_covering(uow, licence_number, agency))
    new = registry.register_firearm(agency, data, location.id, uow.today(agency.id))
    uow.lock()
    holder = uow.repo.firearm_holder_unscoped(new.payload["make_key"], new.payload["serial_key"])
    if holder is not None:
        where = ("this agency" if holder == agency.id
                 else f"another agency ({uow.repo.org_unscoped(holder).code})")
        raise DuplicateSerial(
            f"{new.payload['make']} {new.payload['serial']} is already registered to {where}",
            serial=new.payload["serial"], make=new.payload["make"])
    return uow.append(new)


def attach_firearm(uow: UnitOfWork, serial: str, licence_number: str | None, reason: str,
                   make: str | None = None) -> Event:
    """Put a weapon on a collective licence that covers its agency (an alta), or take it
    off its licence when ``licence_number`` is ``None`` (a baja by correction)."""
    firearm = uow.repo.firearm(serial, make)
    agency = uow.repo.org_unscoped(firearm.agency_id)
    _check(uow, Action.LICENCE_DECLARE, agency, "firearm")
    ref = uow.repo.licence_ref(licence_number) if licence_number else None
    uow.lock()
    firearm = uow.repo.firearm(serial, make)
    return uow.append(licences.attach_firearm(firearm, agency.code, ref, reason,
                                              uow.today(agency.id)))


def attach_officer(uow: UnitOfWork, agency_code: str, badge: str, licence_number: str | None,
                   reason: str) -> Event:
    """Put an officer on a collective licence that covers his agency, or take him off it."""
    officer = _officer(uow, agency_code, badge)
    agency = uow.repo.org_unscoped(officer.agency_id)
    ref = uow.repo.licence_ref(licence_number) if licence_number else None
    return uow.append(licences.attach_officer(officer, agency.code, ref, reason,
                                              uow.today(agency.id)))
