"""The identity-correction rules of the pure core, without a database."""

from __future__ import annotations

import pytest

from resguardo.domain import corrections
from resguardo.domain.custody import covering_override, eligibility_problems
from resguardo.domain.errors import OfficerNotEligible, ValidationFailed

REGISTERED = {"serial": "GLK-A100", "serial_key": "GLKA100", "make": "Glock",
              "make_key": "GLOCK", "model": "17", "calibre": "9x19mm", "kind": "pistol",
              "folio": None}


def decide(changes: dict[str, str]) -> list:  # type: ignore[type-arg]
    return corrections.correct(7, "firearm.registered", REGISTERED, changes, "Dato erróneo",
                               "firearm", 7, 3)


def test_identity_fields_are_asked_for_and_the_rest_corrected_at_once():
    at_once, asked = decide({"model": "19", "serial": "ZZ1", "calibre": "9x19mm"})
    assert at_once.type == "entry.corrected" and at_once.payload["changes"] == {"model": "19"}
    assert asked.type == "entry.correction_requested"
    assert asked.payload["changes"] == {"serial": "ZZ1", "serial_key": "ZZ1"}
    assert asked.payload["previous"] == {"serial": "GLK-A100", "serial_key": "GLKA100"}
    assert asked.payload["firearm_id"] == 7 and asked.corrects is None


@pytest.mark.parametrize("field, value", [("make", "Beretta"), ("kind", "revolver"),
                                          ("calibre", ".40 S&W"), ("serial", "GLK A100")])
def test_each_identity_field_alone_is_a_request(field, value):
    (asked,) = decide({field: value})
    assert asked.type == "entry.correction_requested"


def test_a_correction_that_changes_nothing_is_refused():
    with pytest.raises(ValidationFailed, match="equal the recorded"):
        decide({"model": "17", "kind": "pistol"})


def test_officer_corrections_are_never_requests():
    officer = {"name": "Ana", "cuip": None}
    (ev,) = corrections.correct(9, "officer.registered", officer, {"name": "Ana Ruiz"},
                                "Nombre completo", "officer", 9, 3)
    assert ev.type == "entry.corrected"


def test_every_serial_a_weapon_was_recorded_under_in_order():
    fixes = [{"changes": {"serial": "ZZ1", "serial_key": "ZZ1"}},
             {"changes": {"model": "19"}},
             {"changes": {"make": "Beretta", "make_key": "BERETTA"}}]
    assert corrections.identities(REGISTERED, fixes) == [
        ("GLK-A100", "GLKA100", "Glock", "GLOCK"), ("ZZ1", "ZZ1", "Glock", "GLOCK"),
        ("ZZ1", "ZZ1", "Beretta", "BERETTA")]


def test_rounds_and_weapons_share_one_eligibility_rule():
    from datetime import UTC, date, datetime

    from resguardo.domain.codes import OfficerStatus
    from resguardo.domain.entities import Officer, Override
    officer = Officer(id=1, agency_id=3, badge="P1", name="Ana", status=OfficerStatus.SUSPENDED,
                      credential_expiry=date(2030, 1, 1), qualification_expiry=date(2030, 1, 1))
    now = datetime(2025, 3, 3, 8, tzinfo=UTC)
    assert eligibility_problems(officer, now.date()) == ["officer is suspended"]
    with pytest.raises(OfficerNotEligible, match="cannot issue 30 rounds of 9x19mm to P1"):
        covering_override(officer, now, None, "30 rounds of 9x19mm", single_use=False, today=now.date())
    used = Override(5, 1, 2, "Operativo", datetime(2025, 3, 3, 20, tzinfo=UTC), used=True)
    assert covering_override(officer, now, used, "rounds", single_use=False, today=now.date()) == 5
    with pytest.raises(OfficerNotEligible):
        covering_override(officer, now, used, "GLK-A100", today=now.date())  # a weapon needs an unused one
