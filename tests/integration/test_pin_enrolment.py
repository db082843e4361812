"""Officers' desk PINs an agency can run: a first PIN set at the desk with the
armorer's confirmation, and PIN slips a chief prints for everyone without one.
Written as the insider's attacks first: an armorer setting or resetting a PIN to
book weapons out in someone else's name."""

from __future__ import annotations

import pytest

from resguardo.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from resguardo.services import custody, pins
from resguardo.storage.web_tables import WebStore

from world import do, look


def officer(app, agency, badge):  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.officer(uow.repo.org(agency).id, badge))


def pin_row(app, agency, badge):  # type: ignore[no-untyped-def]
    o = officer(app, agency, badge)
    return look(app, None, lambda uow: WebStore(uow.conn).pin(o.id))


def pin_entries(app):  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: [e for e in uow.repo.iter_events(0)
                                        if e.type == "auth.pin_set"])


# --- the insider's attacks ------------------------------------------------------------------

def test_an_armorer_cannot_set_a_pin_for_an_officer_of_another_agency(world):
    with pytest.raises(NotFound):  # outside the armorer's scope: as if it did not exist
        do(world, "armero1", pins.set_first_pin, "MUN2", "Q1", "4821", identity_checked=True)
    assert pin_row(world, "MUN2", "Q1") is None
    assert pin_entries(world) == []


def test_an_armorer_cannot_reset_an_officers_existing_pin(world):
    do(world, "jefe1", pins.set_pin, "MUN1", "P1", "4821")
    before = pin_row(world, "MUN1", "P1")["pin_hash"]
    with pytest.raises(Conflict, match="only a chief can replace it"):
        do(world, "armero1", pins.set_first_pin, "MUN1", "P1", "1357", identity_checked=True)
    with pytest.raises(PermissionDenied):  # nor through the chief's own operation
        do(world, "armero1", pins.set_pin, "MUN1", "P1", "1357")
    assert pin_row(world, "MUN1", "P1")["pin_hash"] == before
    # so the armorer still cannot issue in P1's name with a PIN of their own choosing
    with world.work("armero1") as uow, pytest.raises(pins.PinRejected):
        pins.verify_pin(uow, uow.repo.officer(uow.repo.org("MUN1").id, "P1"), "1357")


def test_an_armorer_cannot_print_pin_slips(world):
    with pytest.raises(PermissionDenied):
        do(world, "armero1", pins.issue_slips, "MUN1")
    assert pin_entries(world) == []


def test_a_chief_cannot_print_slips_for_another_agency(world):
    with pytest.raises(NotFound):
        do(world, "jefe1", pins.issue_slips, "MUN2")
    assert pin_row(world, "MUN2", "Q1") is None


def test_the_first_pin_needs_the_armorers_word_that_identity_was_checked(world):
    with pytest.raises(ValidationFailed) as err:
        do(world, "armero1", pins.set_first_pin, "MUN1", "P2", "4821", identity_checked=False)
    assert err.value.details["field"] == "identity_checked"
    assert pin_row(world, "MUN1", "P2") is None


# --- what works -----------------------------------------------------------------------------

def test_an_officer_sets_a_first_pin_at_the_desk_and_it_is_recorded(world):
    ev = do(world, "armero1", pins.set_first_pin, "MUN1", "P2", "2468", identity_checked=True)
    assert ev.type == "auth.pin_set" and ev.actor == "armero1"
    assert ev.payload["first"] is True and ev.payload["confirmed_by"] == "armorer"
    row = pin_row(world, "MUN1", "P2")
    assert row["pin_hash"].startswith("$argon2") and "2468" not in row["pin_hash"]
    with world.work("armero1") as uow:
        pins.verify_pin(uow, uow.repo.officer(uow.repo.org("MUN1").id, "P2"), "2468")


def test_a_weak_first_pin_is_refused(world):
    with pytest.raises(ValidationFailed, match="4 to 8 digits"):
        do(world, "armero1", pins.set_first_pin, "MUN1", "P2", "12a4", identity_checked=True)
    with pytest.raises(ValidationFailed, match="repeat one digit"):
        do(world, "armero1", pins.set_first_pin, "MUN1", "P2", "7777", identity_checked=True)


def test_slips_give_a_random_pin_to_each_active_officer_without_one(world):
    do(world, "jefe1", pins.set_pin, "MUN1", "P1", "4821")
    kept = pin_row(world, "MUN1", "P1")["pin_hash"]
    slips = do(world, "jefe1", pins.issue_slips, "MUN1")
    assert [s.officer.badge for s in slips] == ["P2", "P3"]  # P1 keeps the PIN it has
    assert all(len(s.pin) == 6 and s.pin.isdigit() for s in slips)
    assert pin_row(world, "MUN1", "P1")["pin_hash"] == kept
    for slip in slips:  # each PIN works, and only the hash is kept
        assert slip.pin not in pin_row(world, "MUN1", slip.officer.badge)["pin_hash"]
        with world.work("armero1") as uow:
            pins.verify_pin(uow, slip.officer, slip.pin)
    entries = [e for e in pin_entries(world) if e.payload.get("slip")]
    assert sorted(e.payload["badge"] for e in entries) == ["P2", "P3"]
    assert all(s.pin not in str(e.payload) for s in slips for e in entries)
    with pytest.raises(ValidationFailed, match="already has a PIN"):  # never printed twice
        do(world, "jefe1", pins.issue_slips, "MUN1")


def test_slips_for_named_officers_refuse_one_who_has_a_pin(world):
    do(world, "jefe1", pins.set_pin, "MUN1", "P1", "4821")
    with pytest.raises(Conflict, match="P1"):
        do(world, "jefe1", pins.issue_slips, "MUN1", ["P1", "P2"])
    assert pin_row(world, "MUN1", "P2") is None  # nothing half-done
    slips = do(world, "jefe1", pins.issue_slips, "MUN1", ["P2"])
    assert [s.officer.badge for s in slips] == ["P2"]


def test_a_pin_from_a_slip_confirms_an_issue(world):
    slips = do(world, "jefe1", pins.issue_slips, "MUN1", ["P3"])
    with world.work("armero1") as uow:
        pins.verify_pin(uow, slips[0].officer, slips[0].pin)
        custody.issue(uow, "GLK-A100", "P3")
        uow.commit()
