"""Rounds follow the weapons' eligibility rule: refused to an officer who may not hold a
weapon, allowed under the chief's written override (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from resguardo.domain.errors import OfficerNotEligible
from resguardo.domain.registry import OfficerInput
from resguardo.services import ammunition, custody, registry

from world import do, look

ROUNDS = ("MUN1", "ARM1")


@pytest.fixture
def app(world):  # type: ignore[no-untyped-def]
    do(world, "armero1", ammunition.receive, *ROUNDS, "9x19mm", "L-1", 500, "DCAM")
    return world


def issue_rounds(app, badge: str, quantity: int = 30):  # type: ignore[no-untyped-def]
    return do(app, "armero1", ammunition.issue, *ROUNDS, badge, "9x19mm", "L-1", quantity)


def held(app, badge: str) -> int:  # type: ignore[no-untyped-def]
    def count(uow):  # type: ignore[no-untyped-def]
        officer = uow.repo.officer(uow.repo.org("MUN1").id, badge)
        return uow.repo.ammo_outstanding(officer.id, "9x19mm", "L-1")
    return look(app, None, count)


def test_rounds_to_a_suspended_officer_are_refused_and_nothing_is_recorded(app):
    do(app, "jefe1", registry.suspend_officer, "MUN1", "P1", "Investigación interna")
    size = look(app, None, lambda uow: uow.repo.log_size())
    with pytest.raises(OfficerNotEligible, match="cannot issue 30 rounds of 9x19mm to P1 .*"
                                                 "suspended"):
        issue_rounds(app, "P1")
    assert look(app, None, lambda uow: uow.repo.log_size()) == size
    assert held(app, "P1") == 0


def test_rounds_to_an_officer_whose_credential_or_qualification_expired_are_refused(app):
    do(app, "jefe1", registry.add_officer, "MUN1", OfficerInput(
        "P8", "Juan Gil", credential_expiry=date(2025, 1, 1),
        qualification_expiry=date(2030, 1, 1)))
    do(app, "jefe1", registry.add_officer, "MUN1", OfficerInput(
        "P9", "Iris Vega", credential_expiry=date(2030, 1, 1),
        qualification_expiry=date(2024, 6, 30)))
    with pytest.raises(OfficerNotEligible, match="credential expired on 2025-01-01"):
        issue_rounds(app, "P8")
    with pytest.raises(OfficerNotEligible, match="qualification expired on 2024-06-30"):
        issue_rounds(app, "P9")


def test_rounds_to_a_separated_officer_are_refused(app):
    do(app, "jefe1", registry.separate_officer, "MUN1", "P3", "Baja voluntaria")
    with pytest.raises(OfficerNotEligible, match="separated"):
        issue_rounds(app, "P3")


def test_the_chiefs_override_covers_the_weapon_and_its_rounds(app):
    do(app, "jefe1", registry.suspend_officer, "MUN1", "P1", "Pendiente de dictamen")
    grant = do(app, "jefe1", custody.grant_override, "MUN1", "P1", "Operativo especial autorizado")
    # the rounds go out under the override, recorded, and do not use it up ...
    rounds = issue_rounds(app, "P1")
    assert rounds.type == "ammunition.issued" and rounds.payload["override_id"] == grant.position
    # ... so the weapon it was granted for still goes out
    weapon = do(app, "armero1", custody.issue, "GLK-A100", "P1")
    assert weapon.payload["override_id"] == grant.position
    # and rounds after the weapon, while the override lasts
    assert issue_rounds(app, "P1", 10).payload["override_id"] == grant.position
    assert held(app, "P1") == 40


def test_an_expired_override_covers_no_rounds(app, clock):
    do(app, "jefe1", registry.suspend_officer, "MUN1", "P1", "Pendiente de dictamen")
    do(app, "jefe1", custody.grant_override, "MUN1", "P1", "Operativo especial autorizado", 2)
    clock.advance(hours=3)
    with pytest.raises(OfficerNotEligible, match="suspended"):
        issue_rounds(app, "P1")


def test_rounds_to_an_eligible_officer_carry_no_override(app):
    assert "override_id" not in issue_rounds(app, "P2").payload
