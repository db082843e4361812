"""Every custody invariant, shown refusing something, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from resguardo.domain.errors import (
    DuplicateSerial,
    InvalidTransition,
    NotFound,
    OfficerHoldsWeapons,
    OfficerNotEligible,
    PermissionDenied,
    SeparationOfDuties,
    ValidationFailed,
)
from resguardo.domain.registry import FirearmInput, OfficerInput
from resguardo.services import custody, history, registry

from world import do, look


@pytest.fixture
def app(world):  # type: ignore[no-untyped-def]
    return world


def firearm(app, serial, user="armero1"):  # type: ignore[no-untyped-def]
    return look(app, user, lambda uow: uow.repo.firearm(serial))


def test_an_issued_firearm_has_one_custodian_and_no_location(app):
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    f = firearm(app, "GLK-A100")
    assert f.status == "issued" and f.custodian_id is not None and f.location_id is None


def test_issuing_a_firearm_already_issued_is_refused(app):
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    with pytest.raises(InvalidTransition, match="cannot be issued while issued"):
        do(app, "armero1", custody.issue, "GLK-A100", "P2")


def test_returning_puts_the_firearm_in_storage_without_custodian(app):
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    do(app, "armero1", custody.return_, "GLK-A100", "ARM2")
    f = firearm(app, "GLK-A100")
    assert (f.status, f.custodian_id) == ("in_storage", None)
    assert look(app, "armero1", lambda uow: uow.repo.location_codes([f.location_id])) == {
        f.location_id: "ARM2"}


@pytest.mark.parametrize("stolen", [False, True])
def test_issuing_a_lost_or_stolen_firearm_is_refused(app, stolen):
    do(app, "armero1", custody.report_missing, "GLK-A100", stolen=stolen,
       occurred_on=date(2025, 3, 1), place="Col. Centro", on_duty=True,
       complaint_number="FGE/123/2025", complaint_authority="FGE Jalisco")
    with pytest.raises(InvalidTransition, match="recorded (lost|stolen)"):
        do(app, "armero1", custody.issue, "GLK-A100", "P1")
    with pytest.raises(InvalidTransition):
        do(app, "armero1", custody.move, "GLK-A100", "ARM2")


LOSS = {"occurred_on": date(2025, 3, 1), "place": "Patrulla 12", "on_duty": True,
        "complaint_number": "FGE/1/2025", "complaint_authority": "FGE Jalisco"}


def test_a_recovered_weapon_is_held_as_evidence_and_cannot_be_issued_until_released(app):
    do(app, "armero1", custody.report_missing, "GLK-A100", stolen=False, **LOSS)
    do(app, "armero1", custody.recover, "GLK-A100", "FGE Jalisco", "Asegurada en un cateo")
    f = firearm(app, "GLK-A100")
    assert (f.status, f.location_id, f.custodian_id) == ("held_as_evidence", None, None)
    with pytest.raises(InvalidTransition, match="a chief must record its release first"):
        do(app, "armero1", custody.issue, "GLK-A100", "P1")
    with pytest.raises(InvalidTransition):
        do(app, "armero1", custody.move, "GLK-A100", "ARM2")
    reports = look(app, "armero1", lambda uow: uow.repo.loss_reports())
    assert len(reports) == 1 and reports[0]["recovered_at"] is not None
    # the armorer who recovered it cannot release it: a chief does, with the document
    with pytest.raises(PermissionDenied):
        do(app, "armero1", custody.release, "GLK-A100", "ARM2", "Oficio FGE/LIB/1/2025")
    with pytest.raises(ValidationFailed, match="release document") as refused:
        do(app, "jefe1", custody.release, "GLK-A100", "ARM2", " ")
    assert refused.value.details["field"] == "reference"
    with pytest.raises(NotFound):  # another agency's chief
        do(app, "jefe2", custody.release, "GLK-A100", "ARM2", "Oficio FGE/LIB/1/2025")
    do(app, "jefe1", custody.release, "GLK-A100", "ARM2", "Oficio FGE/LIB/1/2025")
    f = firearm(app, "GLK-A100")
    assert (f.status, f.location_id is not None) == ("in_storage", True)
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    events = [e["event"] for e in look(app, "armero1", history.firearm_detail, "GLK-A100")["history"]]
    assert events == ["firearm.registered", "firearm.reported_lost", "firearm.recovered",
                      "firearm.released", "custody.issued"]


def test_a_weapon_in_storage_cannot_be_released(app):
    with pytest.raises(InvalidTransition, match="cannot be released from evidence"):
        do(app, "jefe1", custody.release, "GLK-A100", "ARM1", "Oficio FGE/LIB/1/2025")


def test_a_recovery_names_the_authority_holding_the_weapon(app):
    do(app, "armero1", custody.report_missing, "GLK-A100", stolen=True, **LOSS)
    with pytest.raises(ValidationFailed, match="holds it as evidence") as refused:
        do(app, "armero1", custody.recover, "GLK-A100", "", "Asegurada en un cateo")
    assert refused.value.details["field"] == "held_by"


@pytest.mark.parametrize("stolen", [False, True])
@pytest.mark.parametrize("missing, field", [
    ("complaint_number", "complaint_number"),
    ("complaint_authority", "complaint_authority"),
    ("on_duty", "on_duty"),
])
def test_a_loss_or_theft_without_its_complaint_or_duty_answer_is_refused(app, stolen, missing,
                                                                         field):
    report = {**LOSS, missing: None}
    with pytest.raises(ValidationFailed) as refused:
        do(app, "armero1", custody.report_missing, "GLK-A100", stolen=stolen, **report)
    assert refused.value.details["field"] == field
    assert firearm(app, "GLK-A100").status == "in_storage"


def test_a_chief_determines_negligence_later_once(app):
    do(app, "armero1", custody.report_missing, "GLK-A100", stolen=False, **LOSS)
    with pytest.raises(PermissionDenied):  # the armorer who reported it may not
        do(app, "armero1", custody.determine_negligence, "GLK-A100", True, "Descuido")
    with pytest.raises(ValidationFailed, match="written reason"):
        do(app, "jefe1", custody.determine_negligence, "GLK-A100", True, "  ")
    do(app, "jefe1", custody.determine_negligence, "GLK-A100", True,
       "Dejada sin custodia en la patrulla")
    report = look(app, "armero1", lambda uow: uow.repo.last_loss_report(
        uow.repo.firearm("GLK-A100").id))
    assert report["negligent"] is True and report["negligence_at"] is not None
    assert report["complaint_authority"] == "FGE Jalisco"
    with pytest.raises(ValidationFailed, match="already determined"):
        do(app, "jefe1", custody.determine_negligence, "GLK-A100", False, "Reconsiderado")


def test_negligence_needs_a_loss_report(app):
    with pytest.raises(NotFound, match="no loss or theft report"):
        do(app, "jefe1", custody.determine_negligence, "GLK-A100", False, "Sin reporte")


def test_a_decommissioned_firearm_cannot_be_issued(app):
    do(app, "armero1", custody.request_decommission, "GLK-A100", "Corredera fracturada")
    do(app, "jefe1", custody.approve_decommission, "GLK-A100")
    with pytest.raises(InvalidTransition, match="decommissioned"):
        do(app, "armero1", custody.issue, "GLK-A100", "P1")


def test_issuing_to_a_suspended_officer_is_refused(app):
    do(app, "jefe1", registry.suspend_officer, "MUN1", "P1", "Investigación interna")
    with pytest.raises(OfficerNotEligible, match="suspended"):
        do(app, "armero1", custody.issue, "GLK-A100", "P1")


def test_issuing_to_an_officer_with_an_expired_credential_is_refused(app, clock):
    do(app, "jefe1", registry.add_officer, "MUN1", OfficerInput(
        "P9", "Juan Gil", credential_expiry=date(2025, 1, 1), qualification_expiry=date(2030, 1, 1)))
    with pytest.raises(OfficerNotEligible, match="credential expired on 2025-01-01"):
        do(app, "armero1", custody.issue, "GLK-A100", "P9")


def test_issuing_to_an_officer_with_an_expired_qualification_is_refused(app):
    do(app, "jefe1", registry.add_officer, "MUN1", OfficerInput(
        "P9", "Juan Gil", credential_expiry=date(2030, 1, 1), qualification_expiry=date(2024, 6, 30)))
    with pytest.raises(OfficerNotEligible, match="qualification expired"):
        do(app, "armero1", custody.issue, "GLK-A100", "P9")


def test_a_chiefs_written_override_allows_one_issue_and_is_its_own_event(app):
    do(app, "jefe1", registry.suspend_officer, "MUN1", "P1", "Pendiente de dictamen")
    with pytest.raises(PermissionDenied):
        do(app, "armero1", custody.grant_override, "MUN1", "P1", "Operativo especial autorizado")
    ev = do(app, "jefe1", custody.grant_override, "MUN1", "P1", "Operativo especial autorizado")
    assert ev.type == "custody.override_granted" and ev.reason == "Operativo especial autorizado"
    issued = do(app, "armero1", custody.issue, "GLK-A100", "P1")
    assert issued.payload["override_id"] == ev.position
    # the override is used up: a second weapon is refused
    with pytest.raises(OfficerNotEligible):
        do(app, "armero1", custody.issue, "GLK-A200", "P1")


def test_an_override_never_covers_a_separated_officer(app):
    do(app, "jefe1", registry.separate_officer, "MUN1", "P3", "Baja voluntaria")
    with pytest.raises(OfficerNotEligible, match="separated"):
        do(app, "jefe1", custody.grant_override, "MUN1", "P3", "Operativo especial autorizado")


def test_an_officer_holding_a_weapon_cannot_be_separated(app):
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    with pytest.raises(OfficerHoldsWeapons, match="still holds 1"):
        do(app, "jefe1", registry.separate_officer, "MUN1", "P1", "Baja")
    do(app, "armero1", custody.return_, "GLK-A100", "ARM1")
    assert do(app, "jefe1", registry.separate_officer, "MUN1", "P1", "Baja").type == "officer.separated"


def test_the_same_make_and_serial_cannot_be_registered_twice_anywhere(app):
    with pytest.raises(DuplicateSerial, match="another agency \\(MUN1\\)"):
        do(app, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
            serial="glk a100", make="GLOCK", calibre="9x19mm", kind="pistol"))


def test_the_same_serial_under_another_make_is_a_different_firearm(app):
    ev = do(app, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
        serial="GLK-A100", make="Beretta", calibre="9x19mm", kind="pistol"))
    assert ev.type == "firearm.registered"


def test_a_correction_is_recorded_and_the_original_entry_stays(app):
    reg = look(app, "armero1", history.firearm_detail, "GLK-A100")["history"][0]
    do(app, "armero1", custody.correct, reg["position"], {"model": "19"}, "Modelo mal capturado")
    detail = look(app, "armero1", history.firearm_detail, "GLK-A100", view="both")
    entry = detail["history"][0]
    assert detail["model"] == "19"
    assert entry["model"] == "19" and entry["as_recorded"] == {"model": "17"}
    recorded = look(app, "armero1", history.firearm_detail, "GLK-A100", view="recorded")
    assert recorded["history"][0]["model"] == "17"
    original = look(app, "armero1", lambda uow: uow.repo.event(reg["position"]))
    assert original.payload["model"] == "17"


def test_a_correction_of_a_custody_entry_is_refused(app):
    ev = do(app, "armero1", custody.issue, "GLK-A100", "P1")
    with pytest.raises(ValidationFailed, match="cannot be corrected"):
        do(app, "armero1", custody.correct, ev.position, {"officer_id": "1"}, "Elemento equivocado")


def test_whoever_requests_a_decommission_cannot_approve_it(app):
    # a chief has no right to request; give the request to the armorer and try to approve as them
    do(app, "armero1", custody.request_decommission, "GLK-A100", "Desgaste")
    with pytest.raises(PermissionDenied):
        do(app, "armero1", custody.approve_decommission, "GLK-A100")


def test_the_two_person_rule_refuses_the_same_user(app):
    from resguardo.domain.custody import approve
    with pytest.raises(SeparationOfDuties):
        approve(7, 7, "decommission")


def test_a_transfer_goes_out_in_transit_and_arrives_at_the_other_agency(app):
    do(app, "armero1", custody.request_transfer, "GLK-A100", "MUN2", "Reasignación")
    do(app, "jefe1", custody.approve_transfer, "GLK-A100")
    assert firearm(app, "GLK-A100").status == "in_transit"
    with pytest.raises(NotFound):  # not yet MUN2's weapon
        firearm(app, "GLK-A100", user="armero2")
    do(app, "armero2", custody.receive_transfer, "GLK-A100", "ARM1")
    f = firearm(app, "GLK-A100", user="armero2")
    assert f.status == "in_storage"
    with pytest.raises(NotFound):  # and no longer MUN1's
        firearm(app, "GLK-A100")


def test_an_armorer_cannot_touch_another_agencys_firearm(app):
    with pytest.raises(NotFound):
        do(app, "armero2", custody.issue, "GLK-A100", "Q1")


def test_a_chief_cannot_issue_weapons(app):
    with pytest.raises(PermissionDenied):
        do(app, "jefe1", custody.issue, "GLK-A100", "P1")


def test_a_refused_operation_leaves_nothing_behind(app):
    size = look(app, None, lambda uow: uow.repo.log_size())
    with pytest.raises(OfficerNotEligible):
        do(app, "jefe1", registry.suspend_officer, "MUN1", "P1", "x") or None
        do(app, "armero1", custody.issue, "GLK-A100", "P1")
    assert look(app, None, lambda uow: uow.repo.log_size()) == size + 1
    assert firearm(app, "GLK-A100").status == "in_storage"
