"""The custody state machine, decision by decision: every change from every status is
allowed or refused as the table below says (written out here, not read from
``TRANSITIONS``, so a wrong table fails), and hypothesis drives whole sequences of
attempts through the real decision functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest
from domain_facts import (
    ANA,
    ARM1,
    ARM2,
    ARM_MUN2,
    ARMORER_ID,
    CHIEF_ID,
    GUN,
    MUN1,
    MUN2,
    NOW,
    RAUL,
    S,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from resguardo.domain import custody
from resguardo.domain.codes import GONE_STATUSES, OfficerStatus
from resguardo.domain.entities import Firearm, Location, NewEvent, Officer
from resguardo.domain.errors import (
    InvalidTransition,
    OfficerHoldsWeapons,
    OfficerNotEligible,
    SeparationOfDuties,
    ValidationFailed,
)

STORED_ANYWHERE = {S.IN_STORAGE, S.ISSUED, S.IN_REPAIR, S.IN_TRANSIT}
#: event type -> (statuses it may start from, status it leads to; None: stays)
SPEC: dict[str, tuple[set, S | None]] = {
    "custody.issued": ({S.IN_STORAGE}, S.ISSUED),
    "custody.returned": ({S.ISSUED}, S.IN_STORAGE),
    "firearm.moved": ({S.IN_STORAGE}, None),
    "firearm.repair_sent": ({S.IN_STORAGE}, S.IN_REPAIR),
    "firearm.repair_returned": ({S.IN_REPAIR}, S.IN_STORAGE),
    "firearm.transfer_requested": ({S.IN_STORAGE}, None),
    "firearm.transfer_sent": ({S.IN_STORAGE}, S.IN_TRANSIT),
    "firearm.transfer_received": ({S.IN_TRANSIT}, S.IN_STORAGE),
    "firearm.reported_lost": (STORED_ANYWHERE, S.LOST),
    "firearm.reported_stolen": (STORED_ANYWHERE | {S.LOST}, S.STOLEN),
    "firearm.recovered": ({S.LOST, S.STOLEN}, S.HELD_AS_EVIDENCE),
    "firearm.released": ({S.HELD_AS_EVIDENCE}, S.IN_STORAGE),
    "firearm.decommission_requested": ({S.IN_STORAGE, S.IN_REPAIR, S.LOST, S.STOLEN}, None),
    "firearm.decommissioned": ({S.IN_STORAGE, S.IN_REPAIR, S.LOST, S.STOLEN},
                               S.DECOMMISSIONED),
}


class Where:
    """The agency a weapon is at now: its officer, its two stores, where a transfer goes."""

    def __init__(self, officer: Officer, stores: tuple[Location, Location], other: int,
                 other_store: Location) -> None:
        self.officer, self.stores, self.other, self.other_store = (
            officer, stores, other, other_store)


ARM2_MUN2 = Location(11, MUN2.id, "ARM2", "Armería sur", "armory")
WHERE = {MUN1.id: Where(ANA, (ARM1, ARM2), MUN2.id, ARM_MUN2),
         MUN2.id: Where(RAUL, (ARM_MUN2, ARM2_MUN2), MUN1.id, ARM1)}
ORGS = {MUN1.id: MUN1, MUN2.id: MUN2}


def _missing(firearm: Firearm, stolen: bool) -> NewEvent:
    return custody.report_missing(
        firearm, stolen=stolen, occurred_on=date(2025, 3, 1), place="Col. Centro", on_duty=True,
        complaint_number="FGE/123/2025", complaint_authority="FGE Jalisco", notified_at=None,
        now=NOW, today=NOW.date())


def _elsewhere(firearm: Firearm) -> Location:
    here = WHERE[firearm.agency_id]
    return here.stores[1] if firearm.location_id == here.stores[0].id else here.stores[0]


#: event type -> the decision that records it, given a weapon (the other facts valid)
DECISIONS: dict[str, Callable[[Firearm], NewEvent]] = {
    "custody.issued": lambda f: custody.issue(f, WHERE[f.agency_id].officer, NOW, today=NOW.date()),
    "custody.returned": lambda f: custody.return_(f, WHERE[f.agency_id].stores[0]),
    "firearm.moved": lambda f: custody.move(f, _elsewhere(f)),
    "firearm.repair_sent": lambda f: custody.send_to_repair(f, "Taller Armas del Norte", None),
    "firearm.repair_returned": lambda f: custody.return_from_repair(f, WHERE[f.agency_id].stores[0]),
    "firearm.transfer_requested": lambda f: custody.request_transfer(
        f, ORGS[WHERE[f.agency_id].other], "Reasignación", pending=False),
    "firearm.transfer_sent": lambda f: custody.send_transfer(
        f, 5, WHERE[f.agency_id].other, ARMORER_ID, CHIEF_ID),
    "firearm.transfer_received": lambda f: custody.receive_transfer(
        f, WHERE[f.agency_id].other, WHERE[f.agency_id].other_store),
    "firearm.reported_lost": lambda f: _missing(f, stolen=False),
    "firearm.reported_stolen": lambda f: _missing(f, stolen=True),
    "firearm.recovered": lambda f: custody.recover(f, "FGE Jalisco", "Hallada en un cateo"),
    "firearm.released": lambda f: custody.release(f, WHERE[f.agency_id].stores[0], "Oficio 123/2025"),
    "firearm.decommission_requested": lambda f: custody.request_decommission(
        f, "Corredera fracturada", pending=False),
    "firearm.decommissioned": lambda f: custody.decommission(f, 5, ARMORER_ID, CHIEF_ID),
}


def weapon_in(status: S) -> Firearm:
    """The weapon as the projection shows it in ``status``."""
    return replace(GUN, status=status,
                   custodian_id=ANA.id if status == S.ISSUED else None,
                   location_id=ARM1.id if status == S.IN_STORAGE else None)


def test_the_spec_names_every_change_the_domain_knows():
    assert set(SPEC) == set(custody.TRANSITIONS) == set(DECISIONS)


PAIRS = [(event, status) for event in sorted(SPEC) for status in S]


@pytest.mark.parametrize(("event", "status"), PAIRS, ids=[f"{e}-from-{s.value}" for e, s in PAIRS])
def test_every_change_from_every_status_is_allowed_or_refused_as_the_spec_says(event, status):
    allowed, leads_to = SPEC[event]
    firearm = weapon_in(status)
    if status in allowed:
        decided = DECISIONS[event](firearm)
        assert (decided.type, decided.subject_type, decided.subject_id) == (
            event, "firearm", firearm.id)
        assert custody.check_transition(firearm, event) == (leads_to or status)
        return
    with pytest.raises(InvalidTransition) as refused:
        DECISIONS[event](firearm)
    assert refused.value.details == {"serial": GUN.serial, "status": status.value,
                                     "action": event}
    if status in GONE_STATUSES:
        assert f"recorded {status.value}" in str(refused.value)
    if status == S.HELD_AS_EVIDENCE:
        assert "a chief must record its release first" in str(refused.value)


def test_a_move_to_where_the_weapon_already_is_is_refused():
    with pytest.raises(InvalidTransition, match="already at ARM1"):
        custody.move(GUN, ARM1)


@pytest.mark.parametrize("decide", [
    lambda: custody.return_(weapon_in(S.ISSUED), ARM_MUN2),
    lambda: custody.move(GUN, ARM_MUN2),
    lambda: custody.return_from_repair(weapon_in(S.IN_REPAIR), ARM_MUN2),
    lambda: custody.release(weapon_in(S.HELD_AS_EVIDENCE), ARM_MUN2, "Oficio 1"),
    lambda: custody.issue(GUN, RAUL, NOW, today=NOW.date()),
], ids=["return", "move", "repair_return", "release", "issue"])
def test_a_weapon_never_goes_to_a_place_or_officer_of_another_agency(decide):
    with pytest.raises(ValidationFailed) as refused:
        decide()
    assert refused.value.details["field"] in ("location", "officer")


def test_a_transfer_is_received_only_at_a_store_of_the_receiving_agency():
    with pytest.raises(ValidationFailed) as refused:
        custody.receive_transfer(weapon_in(S.IN_TRANSIT), MUN2.id, ARM1)
    assert refused.value.details["field"] == "location"
    received = custody.receive_transfer(weapon_in(S.IN_TRANSIT), MUN2.id, ARM_MUN2)
    assert received.org_id == MUN2.id  # the entry belongs to the agency that has it now


def test_a_transfer_goes_to_another_agency_that_holds_weapons():
    from domain_facts import STATE
    for to, field in ((MUN1, "to_agency"), (STATE, "to_agency")):
        with pytest.raises(ValidationFailed) as refused:
            custody.request_transfer(GUN, to, "Reasignación", pending=False)
        assert refused.value.details["field"] == field
    with pytest.raises(ValidationFailed, match="written reason"):
        custody.request_transfer(GUN, MUN2, "  ", pending=False)


@pytest.mark.parametrize("approve", [custody.decommission, custody.send_transfer])
def test_whoever_asked_for_a_decommission_or_transfer_cannot_approve_it(approve):
    args = (GUN, 5, ARMORER_ID, ARMORER_ID) if approve is custody.decommission else (
        GUN, 5, MUN2.id, ARMORER_ID, ARMORER_ID)
    with pytest.raises(SeparationOfDuties):
        approve(*args)


def test_an_officer_is_separated_only_with_no_weapon_issued_nor_of_record():
    with pytest.raises(OfficerHoldsWeapons) as held:
        custody.separate(ANA, 1, "Baja voluntaria")
    assert held.value.details == {"badge": "P1", "weapons": 1}
    with pytest.raises(OfficerHoldsWeapons, match="weapon\\(s\\) of record"):
        custody.separate(ANA, 0, "Baja voluntaria", weapons_of_record=1)
    assert custody.separate(ANA, 0, "Baja voluntaria").type == "officer.separated"
    with pytest.raises(InvalidTransition, match="already separated"):
        custody.separate(replace(ANA, status=OfficerStatus.SEPARATED), 0, "Otra vez")


def test_only_an_active_officer_is_suspended_and_only_a_suspended_one_reinstated():
    suspended = replace(ANA, status=OfficerStatus.SUSPENDED)
    with pytest.raises(InvalidTransition):
        custody.suspend(suspended, "Otra investigación")
    with pytest.raises(InvalidTransition):
        custody.reinstate(ANA, "Nada que reinstalar")
    assert custody.reinstate(suspended, "").reason is None


# --- whole sequences ------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(sorted(SPEC)), max_size=40))
def test_any_sequence_of_attempts_keeps_the_weapon_where_the_spec_allows(attempts):
    """Whatever is tried, in whatever order: each decision accepts exactly what the spec
    allows from the status the weapon is in; a weapon once issued goes to nobody else
    until it is back in storage (a return, or a release from evidence); a lost or stolen
    weapon comes back only through recovery and a chief's release; nothing changes a
    decommissioned weapon; and every entry belongs to the agency that holds it."""
    firearm = GUN
    trail: list[str] = []
    for event in attempts:
        allowed, leads_to = SPEC[event]
        try:
            decided = DECISIONS[event](firearm)
        except InvalidTransition:
            assert firearm.status not in allowed
            continue
        assert firearm.status in allowed, f"{event} accepted from {firearm.status}"
        assert firearm.status != S.DECOMMISSIONED
        assert decided.org_id == (firearm.agency_id if event != "firearm.transfer_received"
                                  else WHERE[firearm.agency_id].other)
        if event == "custody.issued":
            back = [e for e in trail if e in ("custody.issued", "custody.returned",
                                              "firearm.released")]
            assert not back or back[-1] != "custody.issued", "issued twice without coming back"
        if event == "firearm.released":
            assert trail[-1] == "firearm.recovered"  # held as evidence: nothing else
        if event in ("firearm.reported_lost", "firearm.reported_stolen"):
            assert decided.payload["previous_status"] == firearm.status.value
        trail.append(event)
        firearm = _apply(firearm, decided, leads_to)


def _apply(firearm: Firearm, ev: NewEvent, leads_to: S | None) -> Firearm:
    """What the projection shows after ``ev`` (status, holder, place and agency only)."""
    p = ev.payload
    status = leads_to or firearm.status
    return replace(
        firearm, status=status,
        custodian_id=p["officer_id"] if ev.type == "custody.issued" else (
            firearm.custodian_id if status == S.ISSUED else None),
        location_id=p.get("location_id") if status == S.IN_STORAGE and "location_id" in p
        else (firearm.location_id if status == S.IN_STORAGE else None),
        agency_id=p["to_agency_id"] if ev.type == "firearm.transfer_received"
        else firearm.agency_id)


@settings(max_examples=200, deadline=None)
@given(hours=st.integers(-48, 48), behind=st.integers(-1, 1),
       credential=st.integers(-2, 2), qualification=st.integers(-2, 2))
def test_eligibility_is_of_the_day_given_never_of_the_instants_utc_day(
        hours: int, behind: int, credential: int, qualification: int) -> None:
    """An issue at any instant is decided on the ``today`` the caller gives (the agency's
    day: in Tijuana's evening UTC's day is already the next one): a credential or a
    qualification valid through ``today`` serves, one that ended the day before does
    not, whatever UTC's date of ``now`` is."""
    now = NOW + timedelta(hours=hours)
    today = now.date() + timedelta(days=behind)
    officer = replace(ANA, credential_expiry=today + timedelta(days=credential),
                      qualification_expiry=today + timedelta(days=qualification))
    if credential >= 0 and qualification >= 0:
        assert custody.issue(GUN, officer, now, today=today).type == "custody.issued"
        return
    with pytest.raises(OfficerNotEligible) as refused:
        custody.issue(GUN, officer, now, today=today)
    ended = [d for d in (officer.credential_expiry, officer.qualification_expiry) if d < today]
    assert [p.split(" on ")[-1] for p in refused.value.details["problems"]] == [
        d.isoformat() for d in ended]
