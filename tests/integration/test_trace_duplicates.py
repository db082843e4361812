"""``check duplicates``: the same weapon registered twice, and look-alike serials of one make."""

from __future__ import annotations

import pytest

from resguardo.domain.errors import PermissionDenied
from resguardo.domain.registry import FirearmInput
from resguardo.services import duplicates, registry

from world import do, look


def register(app, user, agency, serial, make):  # type: ignore[no-untyped-def]
    do(app, user, registry.register_firearm, agency, "ARM1", FirearmInput(
        serial=serial, make=make, calibre="9x19mm", kind="pistol"))


def pairs(result):  # type: ignore[no-untyped-def]
    return [(f["kind"], f["first"]["serial"], f["first"]["agency"], f["second"]["serial"],
             f["second"]["agency"]) for f in result["findings"]]


def test_a_clean_registry_has_no_findings(world):
    result = look(world, "auditor", duplicates.check_duplicates)
    assert result == {"summary": {"firearms": 7, "two_agencies": 0, "registered_twice": 0,
                                  "lookalike": 0, "former_serial": 0}, "findings": []}


def test_the_same_weapon_under_another_spelling_of_its_make_is_found(world):
    register(world, "armero2", "MUN2", "GLK A100", "GLOCK-")  # the registry saw a new make
    register(world, "armero1", "MUN1", "BER.B100", "Beretta S.p.A")  # no: another make
    register(world, "armero1", "MUN1", "GLK-A200", "Glock.")
    result = look(world, "supervisor", duplicates.check_duplicates)
    assert pairs(result) == [
        ("two_agencies", "GLK-A100", "MUN1", "GLKA100", "MUN2"),  # "GLK A100" as recorded
        ("registered_twice", "GLK-A200", "MUN1", "GLK-A200", "MUN1"),
    ]
    assert result["summary"]["two_agencies"] == 1 and result["summary"]["registered_twice"] == 1


def test_serials_one_look_alike_apart_for_the_same_make_are_likely_typing_errors(world):
    register(world, "armero2", "MUN2", "GLK-A1O0", "Glock")   # O for 0
    register(world, "armero1", "MUN1", "GLK-A3OO", "Glock")   # two look-alikes: not reported
    register(world, "armero1", "MUN1", "GLK-A4O0", "Colt")    # another make: not reported
    register(world, "armero1", "MUN1", "GLK-A7O0", "Glock")   # 7 is no look-alike of anything
    result = look(world, "supervisor", duplicates.check_duplicates)
    assert pairs(result) == [("lookalike", "GLK-A100", "MUN1", "GLK-A1O0", "MUN2")]
    assert duplicates.csv_rows(result) == [
        ("lookalike", "Glock", "GLK-A100", "MUN1", "in_storage", "GLK-A1O0", "Glock", "MUN2",
         "in_storage", "")]


def test_only_weapons_in_scope_are_compared(world):
    register(world, "armero3", "MUN3", "GLK-AI00", "Glock")  # SSP2: beside MUN1's GLK-A100
    assert pairs(look(world, "supervisor", duplicates.check_duplicates)) == []
    assert pairs(look(world, "armero3", duplicates.check_duplicates)) == []
    assert pairs(look(world, "auditor", duplicates.check_duplicates)) == [
        ("lookalike", "GLK-A100", "MUN1", "GLK-AI00", "MUN3")]


def test_a_role_that_cannot_read_the_registry_cannot_check_it(world, monkeypatch):
    from resguardo.domain import policy
    from resguardo.domain.codes import Role
    monkeypatch.setitem(policy.PERMISSIONS, Role.INVESTIGATOR,
                        frozenset({policy.Action.TRACE}))
    with pytest.raises(PermissionDenied):
        look(world, "investigador", duplicates.check_duplicates)


def test_makes_compare_without_punctuation_and_with_and_for_ampersand():
    assert duplicates.loose_make("SMITH & WESSON") == duplicates.loose_make("SMITH AND WESSON")
    assert duplicates.loose_make("SIG-SAUER") == duplicates.loose_make("SIG SAUER")
    assert duplicates.loose_make("COLT") != duplicates.loose_make("COLT'S MFG")
