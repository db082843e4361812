"""The shift desk: badge, serial, PIN; refusals in words, in red."""

from __future__ import annotations

import pytest
from web_support import csrf_of, set_pin

from resguardo.domain.errors import DomainError, PermissionDenied, ValidationFailed
from resguardo.services import custody, desk, pins, registry

from world import do, look


@pytest.fixture
def armorer(signed_in, sqlite_world):  # type: ignore[no-untyped-def]
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    return signed_in("armero1")


def scan(browser, **fields):  # type: ignore[no-untyped-def]
    token = csrf_of(browser.get("/desk").text)
    return browser.client.post("/desk", data={"csrf": token, **fields})


def refusal(html: str) -> str:
    start = html.index('class="refusal"')
    return html[html.index(">", start) + 1:html.index("</p>", start)]


def status_of(app, serial: str) -> str:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.firearm(serial).status.value)


def test_issue_then_return_in_two_scans_and_a_pin(armorer, sqlite_world):
    step2 = scan(armorer, badge="p1")
    assert step2.status_code == 200
    assert "Ana Ruiz" in step2.text and 'name="serial"' in step2.text
    step3 = scan(armorer, badge="P1", serial="glk a100")
    assert "Entregar GLK-A100 (Glock 17) a P1 Ana Ruiz." in step3.text
    assert 'name="pin"' in step3.text
    done = scan(armorer, badge="P1", serial="GLK-A100", pin="4821")
    assert "Entregada. El elemento puede llevarse el arma." in done.text
    assert status_of(sqlite_world, "GLK-A100") == "issued"
    assert "/receipt.pdf" in done.text

    back = scan(armorer, badge="P1", serial="GLK-A100")
    assert "Recibir GLK-A100 (Glock 17) de P1 Ana Ruiz." in back.text
    assert 'name="location"' in back.text
    done = scan(armorer, badge="P1", serial="GLK-A100", pin="4821", location="ARM2")
    assert "Devuelta a la armería." in done.text
    f = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100"))
    assert f.status.value == "in_storage"
    assert look(sqlite_world, None, lambda uow: uow.repo.location_by_id(f.location_id).code) \
        == "ARM2"


def test_an_unknown_badge_is_refused_and_the_badge_asked_again(armorer):
    page = scan(armorer, badge="ZZ9")
    assert page.status_code == 422
    assert refusal(page.text) == "No hay ningún elemento con placa ZZ9 en esta corporación."
    assert 'name="badge"' in page.text


def test_a_suspended_officer_is_refused_with_the_reason(armorer, sqlite_world):
    do(sqlite_world, "jefe1", registry.suspend_officer, "MUN1", "P1", "asuntos internos")
    at_once = scan(armorer, badge="P1")
    assert at_once.status_code == 422
    assert refusal(at_once.text) == "No se puede asignar a P1: el elemento está suspendido."
    assert 'name="badge"' in at_once.text and 'name="serial"' not in at_once.text
    refused = scan(armorer, badge="P1", serial="GLK-A100")
    assert refused.status_code == 422
    assert refusal(refused.text) == "No se puede asignar a P1: el elemento está suspendido."
    assert status_of(sqlite_world, "GLK-A100") == "in_storage"


def test_an_expired_credential_is_refused_with_its_date(armorer, sqlite_world, clock):
    from datetime import date
    do(sqlite_world, "jefe1", registry.renew_officer, "MUN1", "P1",
       credential_expiry=date(2025, 3, 31))  # a renewal is never in the past: time passes
    clock.advance(days=30)
    armorer.sign_in("armero1")  # a month later, a new session
    refused = scan(armorer, badge="P1", serial="GLK-A100")
    assert refusal(refused.text) == ("No se puede asignar a P1: la credencial de portación "
                                     "venció el 31 mar 2025.")


def test_a_lost_weapon_is_refused(armorer, sqlite_world, clock):
    do(sqlite_world, "armero1", custody.report_missing, "GLK-A300", stolen=False,
       occurred_on=clock.now.date(), place="Patrulla 12", on_duty=True, complaint_number="FGE/1/2025",
       complaint_authority="FGE Jalisco")
    refused = scan(armorer, badge="P1", serial="GLK-A300")
    assert refusal(refused.text) == ("GLK-A300 está registrada como extraviada: no puede "
                                     "asignarse ni moverse.")


def test_a_suspended_officer_can_still_return_what_they_hold(armorer, sqlite_world):
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    do(sqlite_world, "jefe1", registry.suspend_officer, "MUN1", "P1", "asuntos internos")
    card = scan(armorer, badge="P1")
    assert "No puede recibir un arma:" in card.text
    assert "El elemento sí puede devolver lo que tiene." in card.text
    back = scan(armorer, badge="P1", serial="GLK-A100")
    assert "Recibir GLK-A100" in back.text
    assert 'name="pin"' not in back.text and 'name="confirm" value="return"' in back.text
    done = scan(armorer, badge="P1", serial="GLK-A100", confirm="return")
    assert "Devuelta a la armería." in done.text
    assert status_of(sqlite_world, "GLK-A100") == "in_storage"


def test_a_return_needs_no_pin_and_its_entry_says_the_armorer_received_it(armorer,
                                                                           sqlite_world):
    do(sqlite_world, "armero1", custody.issue, "GLK-A200", "P2")  # P2 has no PIN at all
    back = scan(armorer, badge="P2", serial="GLK-A200")
    assert "aún no tiene NIP de armería" not in back.text  # no PIN is asked for
    done = scan(armorer, badge="P2", serial="GLK-A200", confirm="return", location="ARM2")
    assert "Devuelta a la armería." in done.text
    returned = look(sqlite_world, None, lambda uow: [
        e for e in uow.repo.history("firearm", uow.repo.firearm("GLK-A200").id)
        if e.type == "custody.returned"])
    assert [(e.payload["received_by"], e.actor) for e in returned] == [("armorer", "armero1")]
    officer_id = returned[0].payload["officer_id"]
    page = armorer.get(f"/officers/{officer_id}")
    assert "recibida por el armero, sin NIP del elemento" in page.text
    weapon = armorer.get(f"/firearms/{returned[0].subject_id}")
    assert "Recibida por el armero, sin NIP del elemento" in weapon.text


def test_an_issue_confirmed_without_a_pin_is_refused_and_not_counted(armorer, sqlite_world):
    refused = scan(armorer, badge="P1", serial="GLK-A100", confirm="return")
    assert refused.status_code == 422
    assert refusal(refused.text) == "Para llevarse un arma, el elemento escribe su NIP."
    assert status_of(sqlite_world, "GLK-A100") == "in_storage"
    assert look(sqlite_world, None, lambda uow: [
        e.type for e in uow.repo.iter_events(0) if e.type == "auth.pin_failed"]) == []


def test_a_chief_sees_a_pin_lock_on_the_officers_page_and_lifts_it(armorer, signed_in,
                                                                    sqlite_world):
    officer_id = look(sqlite_world, None,
                      lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, "P1").id)
    chief = signed_in("jefe1")
    assert "Desbloquear el NIP" not in chief.get(f"/officers/{officer_id}").text
    not_locked = chief.post(f"/officers/{officer_id}/unlock", {"reason": "por si acaso"},
                            page=f"/officers/{officer_id}")
    assert not_locked.status_code == 422
    assert refusal(not_locked.text) == "El NIP de P1 no está bloqueado."
    for _ in range(5):
        scan(armorer, badge="P1", serial="GLK-A100", pin="0000")
    page = chief.get(f"/officers/{officer_id}").text
    assert "Bloqueado por demasiados NIP erróneos" in page and "Desbloquear el NIP" in page
    with pytest.raises(PermissionDenied):  # never the armorer
        do(sqlite_world, "armero1", pins.lift_lock, "MUN1", "P1", "lo pide el elemento")
    no_reason = chief.post(f"/officers/{officer_id}/unlock", {"reason": " "},
                           page=f"/officers/{officer_id}")
    assert refusal(no_reason.text) == "Indique por qué se desbloquea el NIP."
    lifted = chief.post(f"/officers/{officer_id}/unlock",
                        {"reason": "Identidad comprobada con su credencial"},
                        page=f"/officers/{officer_id}")
    assert "NIP desbloqueado." in lifted.text and "Bloqueado por" not in lifted.text
    entry = look(sqlite_world, None, lambda uow: [
        e for e in uow.repo.history("officer", officer_id) if e.type == "auth.pin_unlocked"])
    assert [(e.actor, e.reason) for e in entry] == [
        ("jefe1", "Identidad comprobada con su credencial")]
    done = scan(armorer, badge="P1", serial="GLK-A100", pin="4821")
    assert "Entregada." in done.text


def test_a_weapon_held_by_another_officer_names_its_holder(armorer, sqlite_world):
    do(sqlite_world, "armero1", custody.issue, "GLK-A200", "P2")
    refused = scan(armorer, badge="P1", serial="GLK-A200")
    assert refusal(refused.text) == ("GLK-A200 está asignada a P2 Luis Mora. Primero debe "
                                     "devolverla ese elemento.")


def test_another_agencys_weapon_is_not_found(armorer):
    refused = scan(armorer, badge="P1", serial="BER-B100")
    assert refusal(refused.text) == "No hay ningún arma con matrícula BER-B100 en su registro."


def test_a_wrong_pin_is_refused_counted_and_locks_after_five(armorer, sqlite_world):
    wrong = scan(armorer, badge="P1", serial="GLK-A100", pin="0000")
    assert wrong.status_code == 422
    assert refusal(wrong.text) == "NIP incorrecto. El elemento debe escribir su propio NIP."
    assert "Quedan 4 intentos antes de bloquear el NIP." in wrong.text
    for _ in range(4):
        scan(armorer, badge="P1", serial="GLK-A100", pin="0000")
    locked = scan(armorer, badge="P1", serial="GLK-A100", pin="4821")
    assert "queda bloqueado" in refusal(locked.text)
    assert status_of(sqlite_world, "GLK-A100") == "in_storage"
    failures = look(sqlite_world, None, lambda uow: [
        e for e in uow.repo.history("officer", uow.repo.officer(
            uow.repo.org("MUN1").id, "P1").id) if e.type == "auth.pin_failed"])
    assert len(failures) == 5


def test_an_officer_without_a_pin_cannot_confirm(armorer):
    card = scan(armorer, badge="P2")
    assert "aún no tiene NIP de armería" in card.text
    refused = scan(armorer, badge="P2", serial="GLK-A100", pin="1234")
    assert refusal(refused.text).startswith(
        "El elemento P2 aún no tiene NIP de armería: el elemento fija su primer NIP aquí en la "
        "armería")


def test_only_a_chief_sets_a_pin_never_the_armorer(sqlite_world):
    with pytest.raises(PermissionDenied):
        do(sqlite_world, "armero1", pins.set_pin, "MUN1", "P3", "9876")
    with pytest.raises(ValidationFailed):
        do(sqlite_world, "jefe1", pins.set_pin, "MUN1", "P3", "12")
    with pytest.raises(ValidationFailed):
        do(sqlite_world, "jefe1", pins.set_pin, "MUN1", "P3", "7777")
    do(sqlite_world, "jefe1", pins.set_pin, "MUN1", "P3", "9876")
    events = look(sqlite_world, None, lambda uow: [e.type for e in uow.repo.history(
        "officer", uow.repo.officer(uow.repo.org("MUN1").id, "P3").id)])
    assert "auth.pin_set" in events


def test_the_chief_sets_the_pin_on_the_officers_page(signed_in, sqlite_world):
    chief = signed_in("jefe1")
    officer_id = look(sqlite_world, None,
                      lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, "P3").id)
    differ = chief.post(f"/officers/{officer_id}/pin", {"pin": "2468", "pin2": "2469"},
                        page=f"/officers/{officer_id}")
    assert "Los dos NIP no coinciden." in differ.text
    done = chief.post(f"/officers/{officer_id}/pin", {"pin": "2468", "pin2": "2468"},
                      page=f"/officers/{officer_id}")
    assert "NIP asignado." in done.text
    with sqlite_world.read("armero1") as uow:
        pins.verify_pin(uow, uow.repo.officer_by_id(officer_id), "2468")


def test_the_desk_refuses_roles_that_do_not_issue(signed_in):
    for user in ("jefe1", "supervisor", "inspector", "auditor"):
        page = signed_in(user).get("/desk")
        assert page.status_code == 403, user
        assert "no puede asignar armas" in page.text


def test_desk_services_check_everything_again_when_confirming(sqlite_world):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    with sqlite_world.work("armero1") as uow:
        plan = desk.plan(uow, "P1", "GLK-A100")
    assert plan.action == desk.ISSUE
    do(sqlite_world, "jefe1", registry.suspend_officer, "MUN1", "P1", "entre dos escaneos")
    with pytest.raises(DomainError) as refused:
        do(sqlite_world, "armero1", desk.perform, "P1", "GLK-A100", "4821")
    assert refused.value.code == "officer_not_eligible"
