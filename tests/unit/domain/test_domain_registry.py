"""Registering things (``domain.registry``): bad input is refused with the field named,
whatever was typed; good input comes back normalized."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date

import pytest
from domain_facts import ANA, MUN1, MUN2, NATIONAL, STATE
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain import registry
from resguardo.domain.codes import OrgKind
from resguardo.domain.errors import ValidationFailed
from resguardo.domain.registry import (
    FIREARM_TEXT_LIMITS,
    FirearmInput,
    OfficerInput,
    validate_firearm,
)

TODAY = date(2025, 3, 3)
GOOD = FirearmInput(serial="GLK-A100", make="Glock", calibre="9mm", kind="pistol",
                    model="17", folio="F-1", acquired_on=date(2024, 5, 1))


def field_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        call()
    return str(refused.value.details["field"])


def test_a_good_firearm_comes_back_normalized():
    event = registry.register_firearm(MUN1, replace(GOOD, serial="  glk a100 ", kind="Pistol"),
                                      7, TODAY)
    payload = event.payload
    assert (payload["serial"], payload["serial_key"], payload["make_key"]) == (
        "GLKA100", "GLKA100", "GLOCK")
    assert payload["serial_as_typed"] == "glk a100"  # the shown form; the typed one kept
    assert (payload["calibre"], payload["kind"], payload["acquired_on"]) == (
        "9x19mm", "pistol", "2024-05-01")


@pytest.mark.parametrize(("change", "field"), [
    ({"serial": ""}, "serial"),
    ({"serial": "  "}, "serial"),
    ({"serial": "--/--"}, "serial"),           # no letter or digit: nothing to match it by
    ({"make": ""}, "make"),
    ({"calibre": ""}, "calibre"),
    ({"calibre": "calibre raro"}, "calibre"),
    ({"kind": "lanzacohetes"}, "kind"),
    ({"model": "x" * 61}, "model"),
    ({"supplier": "Proveedor\x00oculto"}, "supplier"),
    ({"folio": "F\n1"}, "folio"),
    ({"acquired_on": date(2025, 3, 4)}, "acquired"),
], ids=lambda v: str(v) if not isinstance(v, dict) else "-".join(v))
def test_each_bad_firearm_field_is_refused_by_name(change, field):
    assert field_of(lambda: validate_firearm(replace(GOOD, **change), TODAY)) == field


@pytest.mark.parametrize("name", sorted(FIREARM_TEXT_LIMITS))
def test_every_text_field_holds_up_to_its_limit_and_not_one_character_more(name):
    limit = FIREARM_TEXT_LIMITS[name]
    fits = "A" * limit if name != "calibre" else "9x19mm"
    validate_firearm(replace(GOOD, **{name: fits}), TODAY)
    assert field_of(lambda: validate_firearm(replace(GOOD, **{name: "A" * (limit + 1)}),
                                             TODAY)) == name


def test_a_weapon_is_registered_into_an_agency_only():
    assert field_of(lambda: registry.register_firearm(STATE, GOOD, 7, TODAY)) == "agency"
    ev = registry.register_firearm(MUN1, GOOD, 7, TODAY)
    assert (ev.type, ev.org_id, ev.payload["status"], ev.payload["location_id"]) == (
        "firearm.registered", MUN1.id, "in_storage", 7)


TEXT_FIELDS = [f.name for f in fields(FirearmInput) if f.name in FIREARM_TEXT_LIMITS]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(TEXT_FIELDS), st.text(max_size=80))
def test_whatever_is_typed_into_a_field_is_accepted_or_refused_naming_a_field(name, typed):
    """No input makes the check fail any other way than a ValidationFailed naming the
    field (a text typed into the calibre may name the calibre; nothing else)."""
    try:
        payload = validate_firearm(replace(GOOD, **{name: typed}), TODAY)
    except ValidationFailed as refused:
        assert refused.details["field"] == name
        return
    if name in ("serial", "make"):
        assert payload[name] == typed.strip()
    elif name != "calibre":
        assert payload[name] == (typed.strip() or None)


# --- officers -------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "field"), [
    (OfficerInput("", "Ana Ruiz"), "badge"),
    (OfficerInput("P" * 33, "Ana Ruiz"), "badge"),
    (OfficerInput("P1", " "), "name"),
    (OfficerInput("P1", "Ana Ruiz", cuip="C" * 33), "cuip"),
    (OfficerInput("P1", "Ana Ruiz", credential_folio="F" * 65), "credential_folio"),
])
def test_each_bad_officer_field_is_refused_by_name(data, field):
    assert field_of(lambda: registry.register_officer(MUN1, data)) == field


def test_an_officer_is_registered_in_an_agency_with_the_badge_upper_case():
    assert field_of(lambda: registry.register_officer(
        STATE, OfficerInput("P1", "Ana Ruiz"))) == "agency"
    ev = registry.register_officer(MUN1, OfficerInput(" p1 ", "Ana Ruiz"))
    assert ev.payload["badge"] == "P1"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"credential_expiry": date(2025, 3, 2)}, "credential_expiry"),
    ({"qualification_expiry": date(2025, 3, 2)}, "qualification_expiry"),
    ({"credential_issued": date(2025, 3, 4), "credential_expiry": date(2027, 1, 1)},
     "credential_issued"),
    ({"credential_issued": date(2025, 3, 1), "credential_expiry": date(2025, 3, 1),
      "qualification_expiry": date(2026, 1, 1)}, "credential_expiry"),
    ({}, "credential_expiry"),
])
def test_a_renewal_that_cannot_be_right_names_the_field(kwargs, field):
    assert field_of(lambda: registry.renew_officer(ANA, TODAY, **kwargs)) == field


# --- organizations, locations, licences -------------------------------------------------

def test_organizations_locations_and_licences_name_what_is_wrong():
    assert field_of(lambda: registry.create_organization(
        "MUN9", "Policía 9", OrgKind.AGENCY, None)) == "parent"
    assert field_of(lambda: registry.create_organization(
        "MUN9", "Policía 9", OrgKind.AGENCY, MUN1)) == "parent"
    assert field_of(lambda: registry.create_organization(
        "MUN 9", "Policía 9", OrgKind.AGENCY, STATE)) == "code"
    assert field_of(lambda: registry.create_organization(
        "MUN9", "Policía 9", OrgKind.AGENCY, STATE, time_zone="Hora del Pacífico")) == "time_zone"
    assert field_of(lambda: registry.create_location(MUN1, "ARM9", "Armería", "cueva")) == "kind"
    assert field_of(lambda: registry.create_location(STATE, "ARM9", "Armería", "armory")) == \
        "agency"
    assert field_of(lambda: registry.create_licence(
        "LOC-1", STATE, [MUN1], date(2025, 1, 1), date(2024, 1, 1))) == "valid_to"
    assert field_of(lambda: registry.create_licence(
        "LOC-1", MUN1, [MUN2], date(2025, 1, 1), date(2026, 1, 1))) == "agencies"
    assert field_of(lambda: registry.add_oversight(NATIONAL, MUN1, False)) == "agency"
