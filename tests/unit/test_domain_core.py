"""The pure core, without a database: the custody state machine, eligibility, the
two-person rule, scope and oversight, and the revista's rules (the freeze, findings,
weapons to present, the schedule). Runs in well under a second."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resguardo.domain import custody, inspections, registry
from resguardo.domain.codes import FirearmKind, FirearmStatus, OfficerStatus, OrgKind, Role
from resguardo.domain.entities import Actor, Firearm, Officer, Organization, Override
from resguardo.domain.errors import (
    InvalidTransition,
    NotFound,
    OfficerNotEligible,
    PermissionDenied,
    SeparationOfDuties,
    ValidationFailed,
)
from resguardo.domain.policy import Action, authorize

S = FirearmStatus
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
NATIONAL = Organization(1, "NACIONAL", "Nacional", OrgKind.NATIONAL, None, "/1/")
STATE = Organization(2, "SSP", "Secretaría", OrgKind.STATE, 1, "/1/2/")
ZONE = Organization(3, "ZM15", "Zona Militar", OrgKind.MILITARY_ZONE, 1, "/1/3/")
MUN1 = Organization(4, "MUN1", "Municipal 1", OrgKind.AGENCY, 2, "/1/2/4/")
MUN2 = Organization(5, "MUN2", "Municipal 2", OrgKind.AGENCY, 2, "/1/2/5/")
GUN = Firearm(10, "GLK-1", "GLK1", "Glock", "9x19mm", FirearmKind.PISTOL, MUN1.id, S.IN_STORAGE,
              location_id=7)
FAR = date(2030, 1, 1)
OFFICER = Officer(20, MUN1.id, "P1", "Ana Ruiz", credential_expiry=FAR, qualification_expiry=FAR)


# --- the custody state machine -------------------------------------------------------

def test_issuing_a_lost_firearm_is_refused():
    with pytest.raises(InvalidTransition, match="recorded lost"):
        custody.issue(replace(GUN, status=S.LOST), OFFICER, NOW, today=NOW.date())


def test_issuing_to_a_suspended_officer_is_refused_unless_a_chief_overrides():
    suspended = replace(OFFICER, status=OfficerStatus.SUSPENDED)
    with pytest.raises(OfficerNotEligible, match="suspended"):
        custody.issue(GUN, suspended, NOW, today=NOW.date())
    override = Override(1, suspended.id, 99, "Operativo", NOW + timedelta(hours=2))
    assert custody.issue(GUN, suspended, NOW, override, today=NOW.date()).payload["override_id"] == 1
    with pytest.raises(OfficerNotEligible):     # an expired override covers nothing
        custody.issue(GUN, suspended, NOW + timedelta(hours=3), override, today=(NOW + timedelta(hours=3)).date())


def test_a_separated_officer_gets_no_weapon_even_with_an_override():
    separated = replace(OFFICER, status=OfficerStatus.SEPARATED)
    override = Override(1, separated.id, 99, "Operativo", NOW + timedelta(hours=2))
    with pytest.raises(OfficerNotEligible, match="separated"):
        custody.issue(GUN, separated, NOW, override, today=NOW.date())


def test_expired_credentials_and_qualifications_are_each_named():
    stale = replace(OFFICER, credential_expiry=date(2025, 1, 1), qualification_expiry=None)
    assert custody.eligibility_problems(stale, NOW.date()) == [
        "carry credential expired on 2025-01-01",
        "officer has no firearms qualification on record"]


def test_a_weapon_goes_to_an_officer_of_its_own_agency_only():
    with pytest.raises(ValidationFailed, match="another agency"):
        custody.issue(GUN, replace(OFFICER, agency_id=MUN2.id), NOW, today=NOW.date())


def test_whoever_requests_a_decommission_cannot_approve_it():
    with pytest.raises(SeparationOfDuties):
        custody.decommission(GUN, 5, requested_by=30, approver_id=30)
    assert custody.decommission(GUN, 5, requested_by=30, approver_id=31).type == \
        "firearm.decommissioned"


EVENTS = sorted(custody.TRANSITIONS)


@given(st.lists(st.sampled_from(EVENTS), max_size=30))
def test_any_sequence_of_events_keeps_to_the_state_machine(sequence):
    """Whatever is tried, a weapon only ever moves along TRANSITIONS, and nothing leaves
    decommissioned; lost or stolen weapons come back only through a recovery, which holds
    them as evidence, and only a release returns them to storage."""
    status = S.IN_STORAGE
    for event in sequence:
        allowed_from, to = custody.TRANSITIONS[event]
        try:
            new = custody.check_transition(replace(GUN, status=status), event)
        except InvalidTransition:
            assert status not in allowed_from
            continue
        assert status in allowed_from and new == (to or status)
        if status == S.DECOMMISSIONED:
            pytest.fail("a decommissioned weapon changed")
        if status in (S.LOST, S.STOLEN) and new not in (S.LOST, S.STOLEN):
            assert event in ("firearm.recovered", "firearm.decommissioned")
        if event == "firearm.recovered":
            assert new == S.HELD_AS_EVIDENCE
        if status == S.HELD_AS_EVIDENCE and new != status:
            assert (event, new) == ("firearm.released", S.IN_STORAGE)
        status = new


# --- renewing an officer's credential -------------------------------------------------

def test_a_renewal_with_only_a_new_expiry_keeps_the_folio():
    officer = replace(OFFICER, credential_folio="CRED-77")
    ev = registry.renew_officer(officer, NOW.date(), credential_expiry=date(2031, 6, 30))
    assert ev.payload == {"officer_id": officer.id, "credential_expiry": "2031-06-30"}
    # the form sends back what is recorded: only the changes are recorded
    ev = registry.renew_officer(officer, NOW.date(), credential_folio="CRED-77",
                                credential_expiry=date(2031, 6, 30), qualification_expiry=FAR)
    assert ev.payload == {"officer_id": officer.id, "credential_expiry": "2031-06-30"}


def test_a_renewal_that_changes_nothing_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        registry.renew_officer(OFFICER, NOW.date(), credential_expiry=FAR,
                               qualification_expiry=FAR)
    assert caught.value.details["field"] == "credential_expiry"


@pytest.mark.parametrize(("given", "field", "message"), [
    ({"credential_expiry": date(2025, 3, 2)}, "credential_expiry",
     "the new credential expiry is in the past"),
    ({"qualification_expiry": date(2024, 12, 31)}, "qualification_expiry",
     "the new qualification expiry is in the past"),
    ({"credential_expiry": date(2026, 1, 1), "credential_issued": date(2026, 1, 2)},
     "credential_issued", "the credential issue date is in the future"),
    ({"credential_expiry": date(2025, 6, 1), "credential_issued": date(2025, 3, 1)}, None, None),
    ({"credential_issued": date(2025, 3, 1)}, "credential_expiry",
     "give a new credential expiry or qualification expiry"),
])
def test_renewal_dates_that_cannot_be_right_are_questioned_naming_the_field(given, field,
                                                                              message):
    if field is None:
        assert registry.renew_officer(OFFICER, NOW.date(), **given).payload[
            "credential_issued"] == "2025-03-01"
        return
    with pytest.raises(ValidationFailed, match=message) as caught:
        registry.renew_officer(OFFICER, NOW.date(), **given)
    assert caught.value.details["field"] == field


def test_a_credential_expiring_before_its_issue_date_is_refused():
    # a new folio issued on the 1st, but the expiry left at the old credential's
    officer = replace(OFFICER, credential_folio="CRED-1", credential_expiry=date(2025, 2, 20))
    with pytest.raises(ValidationFailed, match="expires before its issue date") as caught:
        registry.renew_officer(officer, NOW.date(), credential_folio="CRED-2",
                               credential_issued=date(2025, 3, 1))
    assert caught.value.details["field"] == "credential_expiry"
def test_whoever_reported_a_loss_cannot_determine_its_negligence():
    lost = replace(GUN, status=S.LOST)
    with pytest.raises(SeparationOfDuties):
        custody.determine_negligence(9, 30, lost, True, False, 30, "Descuido")
    decided = custody.determine_negligence(9, 30, lost, True, False, 31, "Descuido")
    assert decided.type == "firearm.negligence_determined"
    assert decided.payload == {"report_id": 9, "firearm_id": GUN.id, "negligent": True}


def test_a_weapon_held_as_evidence_cannot_be_issued():
    with pytest.raises(InvalidTransition, match="must record its release"):
        custody.issue(replace(GUN, status=S.HELD_AS_EVIDENCE), OFFICER, NOW, today=NOW.date())


# --- scope, oversight and the policy ----------------------------------------------------

def actor(role: Role, scope: Organization, overseen=()) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(1, "u", role, scope, tuple(overseen))


def test_out_of_scope_answers_not_found_and_a_missing_permission_answers_denied():
    chief = actor(Role.CHIEF, MUN1)
    with pytest.raises(NotFound):
        authorize(chief, Action.DECOMMISSION_APPROVE, MUN2.path, "firearm")
    with pytest.raises(PermissionDenied):
        authorize(chief, Action.FIREARM_REGISTER, MUN1.path, "firearm")
    authorize(chief, Action.DECOMMISSION_APPROVE, MUN1.path, "firearm")


def test_a_zone_inspector_reaches_the_agencies_its_zone_oversees_and_no_others():
    zone = actor(Role.INSPECTOR, ZONE, [MUN1])
    assert zone.in_scope(MUN1.path) and zone.in_scope(ZONE.path)
    assert not zone.in_scope(MUN2.path) and not zone.in_scope(STATE.path)
    authorize(zone, Action.INSPECTION_CONDUCT, MUN1.path, "inspection")
    with pytest.raises(NotFound):
        authorize(zone, Action.INSPECTION_CONDUCT, MUN2.path, "inspection")
    with pytest.raises(PermissionDenied):     # oversight gives no registry write
        authorize(zone, Action.FIREARM_REGISTER, MUN1.path, "firearm")


# --- the revista ----------------------------------------------------------------------

@pytest.mark.parametrize("event_type", [
    "firearm.registered", "entry.corrected", "entry.correction_requested", "location.created",
    "custody.issued", "custody.returned", "firearm.moved", "firearm.repair_sent",
    "firearm.repair_returned", "firearm.transfer_requested", "firearm.transfer_sent",
    "firearm.transfer_received", "firearm.decommission_requested", "firearm.decommissioned",
    "firearm.recovered", "firearm.released", "ammunition.issued", "ammunition.returned", "ammunition.consumed",
    "ammunition.received", "import.completed", "licence.created"])
def test_an_open_revista_freezes_every_change_to_what_it_counts(event_type):
    assert inspections.frozen_while_open(event_type)


@pytest.mark.parametrize("event_type", [
    "firearm.reported_lost", "firearm.reported_stolen", "firearm.loss_notified",
    "firearm.negligence_determined", "inspection.scanned", "inspection.lockdown_refused", "access.inspection_read",
    "officer.registered", "alert.acknowledged", "auth.login", "custody.override_granted"])
def test_losses_the_count_itself_and_the_roster_stay_open(event_type):
    assert not inspections.frozen_while_open(event_type)


def test_an_answer_needs_evidence_and_waits_for_the_review():
    with pytest.raises(ValidationFailed, match="evidence"):
        inspections.answer(1, 4, 2, "missing", "open", "found", "En el taller", "")
    ev = inspections.answer(1, 4, 2, "missing", "open", "found", "En el taller", "Orden 7")
    assert ev.payload["evidence"] == "Orden 7"
    for state in ("answered", "closed"):
        with pytest.raises(InvalidTransition):
            inspections.answer(1, 4, 2, "missing", state, "found", "En el taller", "Orden 7")
    inspections.answer(1, 4, 2, "missing", "reopened", "found", "Se presentará", "Oficio 3")


def test_only_an_answered_finding_is_reviewed_and_reopening_says_why():
    with pytest.raises(InvalidTransition):
        inspections.review(1, 4, 2, "open", True, "")
    with pytest.raises(ValidationFailed, match="why"):
        inspections.review(1, 4, 2, "answered", False, "")
    assert inspections.review(1, 4, 2, "answered", True, "").payload["accepted"] is True


def test_weapons_on_duty_are_to_present_then_missing_past_the_deadline():
    deadline = NOW + timedelta(hours=72)
    findings = [{"kind": "missing", "registry": {"status": "issued"}},
                {"kind": "missing", "registry": {"status": "in_storage"}}]
    out, summary = inspections.in_service(findings, {"missing": 2}, deadline)
    assert [f["kind"] for f in out] == ["to_present", "missing"]
    assert summary == {"missing": 1, "to_present": 1}
    assert inspections.effective_kind("to_present", "open", deadline, NOW) == "to_present"
    assert inspections.effective_kind("to_present", "open", deadline,
                                      deadline + timedelta(seconds=1)) == "missing"
    assert inspections.effective_kind("to_present", "closed", deadline,
                                      deadline + timedelta(days=9)) == "to_present"
    assert inspections.present_by(NOW, None) == deadline
    with pytest.raises(ValidationFailed):
        inspections.present_by(NOW, NOW - timedelta(hours=1))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       st.integers(min_value=1, max_value=60))
def test_the_next_revista_falls_the_given_months_later(last, months):
    due = inspections.next_due(last, months, date(2000, 1, 1))
    assert (due.year - last.year) * 12 + due.month - last.month == months
    assert due.day == last.day or (due.day < last.day and (due + timedelta(days=1)).day == 1)


def test_an_agency_never_inspected_is_due_now_and_statuses_read_right():
    today = date(2025, 3, 3)
    assert inspections.next_due(None, 6, today) == today
    assert inspections.schedule_status(today - timedelta(days=1), today, False) == "overdue"
    assert inspections.schedule_status(today + timedelta(days=10), today, False) == "due"
    assert inspections.schedule_status(today + timedelta(days=90), today, False) == "ok"
    assert inspections.schedule_status(today - timedelta(days=1), today, True) == "planned"
