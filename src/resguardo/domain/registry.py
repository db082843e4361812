"""Decisions that add things to the registry: organizations, locations,
licences, officers and firearms. Each validates its input and returns the event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from resguardo.domain.calibres import parse_calibre
from resguardo.domain.codes import FirearmKind, FirearmStatus, LocationKind, OrgKind
from resguardo.domain.entities import NewEvent, Officer, Organization
from resguardo.domain.errors import T_, ValidationFailed
from resguardo.domain.serials import make_key, serial_display, serial_key
from resguardo.domain.timefmt import iso_date, zone_named

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TEXT = 200


def _text(value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed(T_("%(field)s is required"), field=field)
        return None
    if len(text) > limit:
        raise ValidationFailed(T_("%(field)s is longer than %(limit)s characters"), field=field,
                               limit=limit)
    if not text.isprintable() and any(ord(c) < 32 for c in text):  # printable: the fast case
        raise ValidationFailed(T_("%(field)s contains control characters"), field=field)
    return text


def _code(value: str, field: str = "code") -> str:
    code = (value or "").strip()
    if not _CODE.match(code):
        raise ValidationFailed(
            T_("%(field)s must be 1-64 letters, digits, dots, hyphens or underscores"),
            field=field
        )
    return code


def create_organization(code: str, name: str, kind: OrgKind, parent: Organization | None,
                        time_zone: str | None = None, city: str | None = None,
                        address: str | None = None) -> NewEvent:
    if kind != OrgKind.NATIONAL and parent is None:
        raise ValidationFailed("every organization but the national authority needs a parent",
                               field="parent")
    if parent is not None and parent.kind == OrgKind.AGENCY:
        raise ValidationFailed("an agency cannot have organizations below it", field="parent")
    return NewEvent(
        "organization.created",
        {"code": _code(code), "name": _text(name, "name", required=True), "kind": kind.value,
         "parent_id": parent.id if parent else None,
         **_place_fields(time_zone, city, address)},
        org_id=parent.id if parent else None, subject_type="organization",
    )


def _place_fields(time_zone: str | None, city: str | None,
                  address: str | None) -> dict[str, str]:
    """The given parts of an organization's place, checked (absent ones left out)."""
    out: dict[str, str] = {}
    if time_zone is not None and time_zone.strip():
        zone_named(time_zone)
        out["time_zone"] = time_zone.strip()
    if city is not None and city.strip():
        out["city"] = _text(city, "city", limit=200) or ""
    if address is not None and address.strip():
        out["address"] = _text(address, "address", limit=400) or ""
    return out


def set_place(org: Organization, time_zone: str | None, city: str | None,
              address: str | None) -> NewEvent:
    """Set an organization's time zone (its documents print times in it) and the city and
    address of its armory (the place an acta names); parts not given stay as they are."""
    fields = _place_fields(time_zone, city, address)
    if not fields:
        raise ValidationFailed("give the time zone, the city or the address to set",
                               field="time_zone")
    return NewEvent("organization.place_set", {"org_id": org.id, **fields},
                    org_id=org.id, subject_type="organization", subject_id=org.id)


def add_oversight(overseer: Organization, agency: Organization,
                  already: bool) -> NewEvent:
    """``overseer`` oversees ``agency`` (the military zone over an agency under its LOC)."""
    if not agency.holds_weapons:
        raise ValidationFailed(T_("%(code)s is not an agency; only agencies are overseen"),
                               field="agency", code=agency.code)
    if overseer.holds_weapons:
        raise ValidationFailed(T_("%(code)s is an agency; an agency oversees no other"),
                               field="overseer", code=overseer.code)
    if overseer.contains(agency.path):
        raise ValidationFailed(T_("%(agency)s already lies below %(overseer)s"),
                               field="agency", agency=agency.code, overseer=overseer.code)
    if already:
        raise ValidationFailed(T_("%(overseer)s already oversees %(agency)s"), field="agency",
                               overseer=overseer.code, agency=agency.code)
    return NewEvent("organization.oversight_added",
                    {"overseer_id": overseer.id, "agency_id": agency.id},
                    org_id=agency.id, subject_type="organization", subject_id=agency.id)


def remove_oversight(overseer: Organization, agency: Organization, present: bool,
                     reason: str) -> NewEvent:
    if not present:
        raise ValidationFailed(T_("%(overseer)s does not oversee %(agency)s"),
                               field="agency", overseer=overseer.code, agency=agency.code)
    if len(reason.strip()) < 5:
        raise ValidationFailed("say why the oversight ends", field="reason")
    return NewEvent("organization.oversight_removed",
                    {"overseer_id": overseer.id, "agency_id": agency.id},
                    reason=reason.strip(), org_id=agency.id, subject_type="organization",
                    subject_id=agency.id)


def create_location(agency: Organization, code: str, name: str, kind: str) -> NewEvent:
    if not agency.holds_weapons:
        raise ValidationFailed(T_("%(code)s is not an agency; locations belong to agencies"),
                               field="agency", code=agency.code)
    try:
        kind_code = LocationKind(kind).value
    except ValueError:
        raise ValidationFailed(
            f"unknown location kind {kind!r}; use one of "
            + ", ".join(k.value for k in LocationKind), field="kind") from None
    return NewEvent(
        "location.created",
        {"agency_id": agency.id, "code": _code(code), "name": _text(name, "name", required=True),
         "kind": kind_code},
        org_id=agency.id, subject_type="location",
    )


def create_licence(number: str, holder: Organization, agencies: list[Organization],
                   valid_from: date, valid_to: date) -> NewEvent:
    if valid_to < valid_from:
        raise ValidationFailed("the licence ends before it starts", field="valid_to")
    for agency in agencies:
        if not agency.holds_weapons:
            raise ValidationFailed(T_("%(code)s is not an agency"), field="agencies",
                                   code=agency.code)
        if not holder.contains(agency.path):
            raise ValidationFailed(T_("%(code)s is not below the holder %(holder)s"),
                                   field="agencies", code=agency.code, holder=holder.code)
    return NewEvent(
        "licence.created",
        {"number": _text(number, "number", required=True), "holder_id": holder.id,
         "agency_ids": sorted({a.id for a in agencies}),
         "valid_from": iso_date(valid_from), "valid_to": iso_date(valid_to)},
        org_id=holder.id, subject_type="licence",
    )


@dataclass(frozen=True, slots=True)
class OfficerInput:
    badge: str
    name: str
    cuip: str | None = None
    credential_folio: str | None = None
    credential_expiry: date | None = None
    qualification_expiry: date | None = None
    licence_id: int | None = None


def register_officer(agency: Organization, data: OfficerInput) -> NewEvent:
    if not agency.holds_weapons:
        raise ValidationFailed(T_("%(code)s is not an agency"), field="agency", code=agency.code)
    badge = _text(data.badge, "badge", required=True, limit=32)
    assert badge is not None
    return NewEvent(
        "officer.registered",
        {"agency_id": agency.id, "badge": badge.upper(), "name": _text(data.name, "name", required=True),
         "cuip": _text(data.cuip, "cuip", limit=32),
         "credential_folio": _text(data.credential_folio, "credential_folio", limit=64),
         "credential_expiry": iso_date(data.credential_expiry),
         "qualification_expiry": iso_date(data.qualification_expiry),
         "licence_id": data.licence_id},
        org_id=agency.id, subject_type="officer",
    )


def renew_officer(officer: Officer, today: date, *, credential_folio: str | None = None,
                  credential_expiry: date | None = None,
                  qualification_expiry: date | None = None,
                  credential_issued: date | None = None) -> NewEvent:
    """Record what a renewal changes, and only that: a field left empty or given
    as recorded keeps its value (a new expiry alone keeps the credential folio).

    A new expiry in the past, or a credential expiring before it was issued,
    cannot be right and is refused naming the field.
    """
    payload: dict = {"officer_id": officer.id}
    folio = _text(credential_folio, "credential_folio", limit=64)
    if folio is not None and folio != officer.credential_folio:
        payload["credential_folio"] = folio
    if credential_expiry is not None and credential_expiry != officer.credential_expiry:
        if credential_expiry < today:
            raise ValidationFailed("the new credential expiry is in the past",
                                   field="credential_expiry")
        payload["credential_expiry"] = iso_date(credential_expiry)
    if credential_issued is not None:
        if credential_issued > today:
            raise ValidationFailed("the credential issue date is in the future",
                                   field="credential_issued")
        expiry = credential_expiry or officer.credential_expiry
        if expiry is not None and expiry < credential_issued:
            raise ValidationFailed("the credential expires before its issue date",
                                   field="credential_expiry")
    if qualification_expiry is not None and qualification_expiry != officer.qualification_expiry:
        if qualification_expiry < today:
            raise ValidationFailed("the new qualification expiry is in the past",
                                   field="qualification_expiry")
        payload["qualification_expiry"] = iso_date(qualification_expiry)
    if len(payload) == 1:
        raise ValidationFailed("give a new credential expiry or qualification expiry",
                               field="credential_expiry")
    if credential_issued is not None:
        payload["credential_issued"] = iso_date(credential_issued)
    return NewEvent("officer.renewed", payload, org_id=officer.agency_id, subject_type="officer",
                    subject_id=officer.id)


@dataclass(frozen=True, slots=True)
class FirearmInput:
    serial: str
    make: str
    calibre: str
    kind: FirearmKind | str
    model: str | None = None
    folio: str | None = None
    barrel_serial: str | None = None
    ballistic_id: str | None = None
    licence_id: int | None = None
    acquired_on: date | None = None
    supplier: str | None = None
    purchase_ref: str | None = None
    notes: dict | None = None


def parse_kind(value: FirearmKind | str) -> FirearmKind:
    if isinstance(value, FirearmKind):
        return value
    key = (value or "").strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return FirearmKind(key)
    except ValueError:
        raise ValidationFailed(
            f"unknown kind {value!r}; use one of " + ", ".join(k.value for k in FirearmKind),
            field="kind") from None


#: The most characters each text field of a firearm may hold.
FIREARM_TEXT_LIMITS = {"serial": 40, "make": 60, "calibre": 40, "model": 60, "folio": 64,
                       "barrel_serial": 40, "ballistic_id": 64, "supplier": MAX_TEXT,
                       "purchase_ref": 64}


def validate_firearm(data: FirearmInput, today: date) -> dict[str, Any]:
    """Check a firearm's fields; return them as ``registration_payload`` takes them
    (text stripped, empty text None, the calibre's word, the kind's code, the date ISO)."""
    def text(name: str, *, required: bool = False) -> str | None:
        return _text(getattr(data, name), name, required=required,
                     limit=FIREARM_TEXT_LIMITS[name])

    serial = text("serial", required=True)
    assert serial is not None
    if not serial_key(serial):
        raise ValidationFailed("serial has no letters or digits", field="serial")
    check_shown_serial(serial)
    make = text("make", required=True)
    assert make is not None
    calibre = parse_calibre(text("calibre", required=True) or "")
    if data.acquired_on is not None and data.acquired_on > today:
        raise ValidationFailed("the acquisition date is in the future", field="acquired")
    return {
        "serial": serial, "make": make, "model": text("model"), "calibre": calibre,
        "kind": parse_kind(data.kind).value, "folio": text("folio"),
        "barrel_serial": text("barrel_serial"), "ballistic_id": text("ballistic_id"),
        "licence_id": data.licence_id, "acquired_on": iso_date(data.acquired_on),
        "supplier": text("supplier"), "purchase_ref": text("purchase_ref"),
        "notes": {str(k): str(v) for k, v in data.notes.items()} if data.notes else None,
    }


def check_shown_serial(serial: str) -> None:
    """Refuse a serial whose recorded form outgrows the limit (``"ß"`` is ``"SS"`` in upper
    case): the limit holds for what is recorded, not only for what was typed."""
    limit = FIREARM_TEXT_LIMITS["serial"]
    if len(serial_display(serial)) > limit:
        raise ValidationFailed(T_("%(field)s is longer than %(limit)s characters"),
                               field="serial", limit=limit)


#: The values of a ``firearm.registered`` payload that describe the weapon and its owner, in
#: the order ``registration_fields`` gives them (the ``firearms`` table's column order).
#: Besides them every registration payload has ``location_id`` and ``status``, and may have
#: ``serial_as_typed`` and ``notes`` (``registration_payload``).
REGISTRATION_FIELDS = ("serial", "serial_key", "make", "make_key", "model", "calibre", "kind",
                       "folio", "barrel_serial", "ballistic_id", "licence_id", "acquired_on",
                       "supplier", "purchase_ref", "agency_id")


def registration_fields(serial: str, make: str, model: str | None, calibre: str, kind: str,
                        folio: str | None, barrel_serial: str | None, ballistic_id: str | None,
                        licence_id: int | None, acquired_on: str | None, supplier: str | None,
                        purchase_ref: str | None, agency_id: int
                        ) -> tuple[tuple[Any, ...], str | None]:
    """The ``REGISTRATION_FIELDS`` values of a registration, and the serial as typed when the
    form it is recorded in differs from it (else None), from the fields as checked.

    The one place where a registration's derived values are decided: the serial recorded
    is its shown form (``serial_display``), the keys the duplicate check and trace match
    by are the typed serial's and make's. The bulk import's plain rows call it too
    (``services.import_plain``).
    """
    shown = serial_display(serial)
    return ((shown, serial_key(serial), make, make_key(make), model, calibre, kind, folio,
             barrel_serial, ballistic_id, licence_id, acquired_on, supplier, purchase_ref,
             agency_id), None if shown == serial else serial)


def registration_payload(fields: tuple[Any, ...], location_id: int,
                         serial_as_typed: str | None = None,
                         notes: dict[str, str] | None = None) -> dict[str, Any]:
    """The ``firearm.registered`` payload of a weapon into storage: the
    ``registration_fields`` values, the location, the status, and the serial as typed and
    the notes when there are any. ``storage.import_batch.registration_text`` writes its
    canonical text directly (checked against this when it is imported, and in the tests)."""
    payload = dict(zip(REGISTRATION_FIELDS, fields, strict=True))
    payload["location_id"] = location_id
    payload["status"] = FirearmStatus.IN_STORAGE.value
    if serial_as_typed is not None:
        payload["serial_as_typed"] = serial_as_typed
    if notes:
        payload["notes"] = dict(notes)
    return payload


def register_firearm(agency: Organization, data: FirearmInput, location_id: int,
                     today: date) -> NewEvent:
    """Register a weapon into storage at one of the agency's locations."""
    if not agency.holds_weapons:
        raise ValidationFailed(T_("%(code)s is not an agency that holds weapons"),
                               field="agency", code=agency.code)
    checked = validate_firearm(data, today)
    notes = checked.pop("notes")
    fields, as_typed = registration_fields(**checked, agency_id=agency.id)
    return NewEvent("firearm.registered",
                    registration_payload(fields, location_id, as_typed, notes),
                    org_id=agency.id, subject_type="firearm")
