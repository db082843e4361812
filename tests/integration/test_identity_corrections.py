"""A correction of a weapon's identity (serial, make, kind, calibre) takes two people and
is listed to the overseer; other fields stay one-step corrections (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resguardo.domain import corrections as rules
from resguardo.domain.errors import (
    DuplicateSerial,
    NotFound,
    PermissionDenied,
    SeparationOfDuties,
    ValidationFailed,
)
from resguardo.domain.registry import FirearmInput
from resguardo.services import corrections, custody, history, registry

from world import do, look


def registration(app, serial: str = "GLK-A100") -> int:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.firearm(serial).id)


def serial_of(app, firearm_id: int) -> str:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.firearm_by_id(firearm_id).serial)


def request_state(app, firearm_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["state"] for r in look(app, None, lambda uow: uow.repo.requests(None))
            if r["firearm_id"] == firearm_id and r["kind"] == "correction"]


def test_a_serial_correction_is_a_request_and_the_weapon_keeps_its_serial(world):
    fid = registration(world)
    ev = do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    assert ev.type == "entry.correction_requested"
    assert ev.payload["changes"] == {"serial": "ZZ999999", "serial_key": "ZZ999999"}
    assert ev.payload["previous"]["serial"] == "GLK-A100"
    assert serial_of(world, fid) == "GLK-A100"
    assert request_state(world, fid) == ["pending"]
    with pytest.raises(NotFound):
        look(world, "armero1", lambda uow: uow.repo.firearm("ZZ999999"))
    # the armorer who asked cannot approve it
    with pytest.raises(PermissionDenied):
        do(world, "armero1", custody.approve_correction, "GLK-A100")
    approved = do(world, "jefe1", custody.approve_correction, "GLK-A100")
    assert approved.type == "entry.corrected" and approved.payload["request_id"] == ev.position
    assert approved.reason == "Serie mal capturada" and approved.actor == "jefe1"
    assert serial_of(world, fid) == "ZZ999999"
    assert request_state(world, fid) == ["approved"]
    # the registration entry itself is never edited
    assert look(world, None, lambda uow: uow.repo.event(fid)).payload["serial"] == "GLK-A100"


def test_whoever_asked_for_an_identity_correction_cannot_approve_it():
    asked = {"corrects": 7, "corrected_type": "firearm.registered",
             "changes": {"calibre": ".40 S&W"}, "previous": {"calibre": "9x19mm"}}
    with pytest.raises(SeparationOfDuties):
        rules.approve_identity(asked, {"calibre": "9x19mm"}, 9, 3, 3, "Calibre", 1, 7)
    ev = rules.approve_identity(asked, {"calibre": "9x19mm"}, 9, 3, 4, "Calibre", 1, 7)
    assert ev.type == "entry.corrected" and ev.payload["request_id"] == 9


@pytest.mark.parametrize("changes", [{"make": "Beretta"}, {"kind": "revolver"},
                                     {"calibre": ".40 S&W"}])
def test_make_kind_and_calibre_are_identity_too(world, changes):
    fid = registration(world)
    ev = do(world, "armero1", custody.correct, fid, changes, "Dato de identidad erróneo")
    assert ev.type == "entry.correction_requested"
    firearm = look(world, None, lambda uow: uow.repo.firearm_by_id(fid))
    assert (firearm.make, firearm.kind.value, firearm.calibre) == ("Glock", "pistol", "9x19mm")


def test_other_fields_given_with_the_identity_are_corrected_at_once(world):
    fid = registration(world)
    size = look(world, None, lambda uow: uow.repo.log_size())
    ev = do(world, "armero1", custody.correct, fid, {"serial": "X1", "model": "19",
                                                     "calibre": "9x19mm"}, "Datos erróneos")
    assert ev.type == "entry.correction_requested"
    assert ev.payload["changes"] == {"serial": "X1", "serial_key": "X1"}  # calibre unchanged
    at_once = look(world, None, lambda uow: uow.repo.event(size))
    assert at_once.type == "entry.corrected" and at_once.payload["changes"] == {"model": "19"}
    firearm = look(world, None, lambda uow: uow.repo.firearm_by_id(fid))
    assert (firearm.serial, firearm.model) == ("GLK-A100", "19")
    # a refused identity part records nothing, not even the other fields
    other = registration(world, "GLK-A200")
    with pytest.raises(DuplicateSerial):
        do(world, "armero1", custody.correct, other, {"serial": "GLK-A300", "model": "26"},
           "Datos erróneos")
    assert look(world, None, lambda uow: uow.repo.firearm_by_id(other).model) == "17"


def test_other_fields_stay_one_step_corrections_even_while_a_request_waits(world):
    fid = registration(world)
    do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    ev = do(world, "armero1", custody.correct, fid, {"model": "19", "folio": "RFA-1"},
            "Modelo mal capturado")
    assert ev.type == "entry.corrected"
    firearm = look(world, None, lambda uow: uow.repo.firearm_by_id(fid))
    assert (firearm.model, firearm.folio, firearm.serial) == ("19", "RFA-1", "GLK-A100")
    # a second identity correction waits for the first to be decided
    with pytest.raises(ValidationFailed, match="already awaiting approval"):
        do(world, "armero1", custody.correct, fid, {"calibre": ".40 S&W"}, "Calibre erróneo")
    do(world, "jefe1", custody.approve_correction, "GLK-A100")
    firearm = look(world, None, lambda uow: uow.repo.firearm_by_id(fid))
    assert (firearm.model, firearm.serial) == ("19", "ZZ999999")


def test_a_rejected_identity_correction_changes_nothing(world):
    fid = registration(world)
    do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    with pytest.raises(ValidationFailed, match="say why"):
        do(world, "jefe1", custody.reject_request, "GLK-A100", "correction", " ")
    ev = do(world, "jefe1", custody.reject_request, "GLK-A100", "correction",
            "La serie grabada es GLK-A100")
    assert ev.type == "request.rejected" and ev.payload["kind"] == "correction"
    assert serial_of(world, fid) == "GLK-A100" and request_state(world, fid) == ["rejected"]
    with pytest.raises(NotFound, match="no pending correction"):
        do(world, "jefe1", custody.approve_correction, "GLK-A100")


def test_an_identity_of_another_weapon_is_refused_when_asked_and_when_approved(world):
    fid = registration(world)
    with pytest.raises(DuplicateSerial):
        do(world, "armero1", custody.correct, fid, {"serial": "glk a200"}, "Serie mal capturada")
    do(world, "armero1", custody.correct, fid, {"serial": "GLK-A900"}, "Serie mal capturada")
    do(world, "armero1", registry.register_firearm, "MUN1", "ARM1", FirearmInput(
        serial="GLK-A900", make="Glock", calibre="9x19mm", kind="pistol"))
    with pytest.raises(DuplicateSerial):
        do(world, "jefe1", custody.approve_correction, "GLK-A100")
    assert serial_of(world, fid) == "GLK-A100"


def test_another_agencys_chief_cannot_see_or_approve_the_request(world):
    fid = registration(world)
    do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    with pytest.raises(NotFound):
        do(world, "jefe2", custody.approve_correction, "GLK-A100")


def test_the_weapons_history_shows_the_request_with_what_it_would_change(world):
    fid = registration(world)
    do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    entries = look(world, "jefe1", history.firearm_detail, "GLK-A100")["history"]
    asked = [e for e in entries if e["event"] == "entry.correction_requested"]
    assert asked[0]["requested"] == {"serial": {"from": "GLK-A100", "to": "ZZ999999"}}


def test_identity_corrections_of_an_agency_are_listed_for_a_period(world, clock):
    fid = registration(world)
    start = clock.now
    asked = do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    do(world, "armero1", custody.correct, fid, {"model": "19"}, "Modelo mal capturado")
    clock.advance(hours=2)
    approved = do(world, "jefe1", custody.approve_correction, "GLK-A100")
    other = registration(world, "GLK-A200")
    do(world, "armero1", custody.correct, other, {"calibre": ".40 S&W"}, "Calibre erróneo")
    clock.advance(hours=1)
    rejected = do(world, "jefe1", custody.reject_request, "GLK-A200", "correction", "Es 9 mm")
    end = clock.now + timedelta(seconds=1)
    found = look(world, "inspector", corrections.identity_corrections, "MUN1", start, end)
    assert [(i["request"], i["serial"], i["state"]) for i in found] == [
        (asked.position, "ZZ999999", "approved"), (found[1]["request"], "GLK-A200", "rejected")]
    first, second = found
    assert first["changes"] == {"serial": "ZZ999999"}
    assert first["previous"] == {"serial": "GLK-A100"}
    assert (first["requested_by"], first["decided_by"], first["decision"]) == (
        "armero1", "jefe1", approved.position)
    assert second["decision"] == rejected.position and second["decision_reason"] == "Es 9 mm"
    # a period before anything was asked lists nothing; the other agency has none
    assert look(world, "inspector", corrections.identity_corrections, "MUN1",
                start - timedelta(days=2), start - timedelta(days=1)) == []
    assert look(world, "inspector", corrections.identity_corrections, "MUN2", start, end) == []
    # a request still pending is listed for any later period
    do(world, "armero1", custody.correct, fid, {"make": "Beretta"}, "Marca mal capturada")
    later = look(world, "jefe1", corrections.identity_corrections, "MUN1",
                 clock.now + timedelta(days=1), clock.now + timedelta(days=2))
    assert [(i["state"], i["changes"]) for i in later] == [("pending", {"make": "Beretta"})]
    # outside the caller's scope the agency does not exist
    with pytest.raises(NotFound):
        look(world, "jefe2", corrections.identity_corrections, "MUN1", start, end)
    with pytest.raises(ValidationFailed, match="ends before it starts"):
        look(world, "inspector", corrections.identity_corrections, "MUN1", end, start)
    with pytest.raises(ValidationFailed, match="time zone"):
        look(world, "inspector", corrections.identity_corrections, "MUN1",
             datetime(2025, 1, 1), datetime(2025, 1, 2, tzinfo=UTC))


def test_an_identity_correction_applied_without_a_request_is_listed_as_such(world, clock):
    """Corrections recorded before the two-person rule (one entry, no request) still show."""
    from resguardo.domain.entities import NewEvent
    fid = registration(world)
    start = clock.now

    def old_style(uow):  # type: ignore[no-untyped-def]
        uow.lock()
        return uow.append(NewEvent(
            "entry.corrected", {"corrects": fid, "corrected_type": "firearm.registered",
                                "changes": {"serial": "OLD-1", "serial_key": "OLD1"},
                                "previous": {"serial": "GLK-A100", "serial_key": "GLKA100"}},
            reason="Antes de la regla", org_id=look(world, None,
                                                    lambda u: u.repo.org("MUN1").id),
            subject_type="firearm", subject_id=fid, corrects=fid))
    ev = do(world, "armero1", old_style)
    found = look(world, "inspector", corrections.identity_corrections, "MUN1", start,
                 clock.now + timedelta(seconds=1))
    assert [(i["request"], i["state"], i["decision"], i["changes"]) for i in found] == [
        (None, "applied_without_approval", ev.position, {"serial": "OLD-1"})]


def test_requests_approvals_and_rejections_replay_to_the_same_projection(world):
    from resguardo.storage import rebuild
    fid = registration(world)
    do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    do(world, "jefe1", custody.approve_correction, "GLK-A100")
    other = registration(world, "GLK-A200")
    do(world, "armero1", custody.correct, other, {"kind": "revolver"}, "Tipo erróneo")
    do(world, "jefe1", custody.reject_request, "GLK-A200", "correction", "Es pistola")
    do(world, "armero1", custody.correct, other, {"make": "Beretta"}, "Marca errónea")
    with world.read(None) as uow:
        scratch = rebuild.replay(uow.repo.iter_events())
        try:
            assert rebuild.compare(uow.conn, scratch) == []
        finally:
            scratch.close()


def test_an_identity_correction_is_not_approved_while_a_revista_is_open(world):
    from datetime import date

    from resguardo.domain.errors import Lockdown
    from resguardo.services import inspections
    fid = registration(world)
    do(world, "armero1", custody.correct, fid, {"serial": "ZZ999999"}, "Serie mal capturada")
    iid = do(world, "inspector", inspections.plan, "MUN1", date(2025, 3, 4)).position
    do(world, "inspector", inspections.open_, iid)
    with pytest.raises(Lockdown):
        do(world, "jefe1", custody.approve_correction, "GLK-A100")
    assert serial_of(world, fid) == "GLK-A100" and request_state(world, fid) == ["pending"]


def test_correcting_only_how_a_serial_is_written_is_not_a_duplicate_of_itself(world):
    fid = registration(world)
    do(world, "armero1", custody.correct, fid, {"serial": "GLK A100"}, "Sin guion en la placa")
    approved = do(world, "jefe1", custody.approve_correction, "GLK-A100")
    # recorded in its one form (no spaces), what was typed kept in the entry
    assert serial_of(world, fid) == "GLKA100"
    assert approved.payload["serial_as_typed"] == "GLK A100"
