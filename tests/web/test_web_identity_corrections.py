"""The weapon's page shows a pending identity correction (what would change) and lets a
chief, not the armorer who asked, approve or reject it; the trace page finds the weapon
by the serial it carried before."""

from __future__ import annotations

from resguardo.services import custody

from world import do, look


def test_a_chief_approves_an_identity_correction_from_the_weapons_page(sqlite_world,
                                                                      signed_in):
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").id)
    do(sqlite_world, "armero1", custody.correct, fid, {"serial": "ZZ-300"},
       "Serie mal capturada")
    page = f"/firearms/{fid}"
    armorer = signed_in("armero1")
    shown = armorer.get(page).text
    assert "Corrección de identidad en espera de aprobación" in shown
    assert "<del>GLK-A300</del> → <ins>ZZ-300</ins>" in shown
    assert "Corrección de identidad solicitada" in shown  # the entry in the timeline
    assert armorer.post(f"{page}/movement", {"action": "correction_approve"},
                        page=page).status_code == 403
    chief = signed_in("jefe1")
    assert "Corrección de identidad" in chief.get("/").text.split(
        "En espera de una segunda persona")[1]
    approved = chief.post(f"{page}/movement", {"action": "correction_approve"}, page=page)
    assert "Corrección aprobada" in approved.text, approved.text
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm_by_id(fid).serial) == "ZZ-300"
    investigator = signed_in("investigador")
    traced = investigator.post("/trace", {"serial": "GLK-A300", "reason": "CI/1/2025"}).text
    found = traced.split("Rastreos recientes")[0]
    assert "ZZ-300" in found
    assert "antes de una corrección: GLK-A300" in found


def test_a_chief_rejects_an_identity_correction_from_the_weapons_page(sqlite_world, signed_in):
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").id)
    do(sqlite_world, "armero1", custody.correct, fid, {"calibre": ".40 S&W"}, "Calibre erróneo")
    page = f"/firearms/{fid}"
    chief = signed_in("jefe1")
    rejected = chief.post(f"{page}/movement", {"action": "reject", "kind": "correction",
                                               "reason": "Es 9 mm"}, page=page)
    assert "Solicitud rechazada." in rejected.text
    assert "en espera de aprobación" not in rejected.text
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm_by_id(fid).calibre) == "9x19mm"


def test_the_armorer_corrects_the_record_from_the_weapons_page(sqlite_world, signed_in):
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").id)
    page = f"/firearms/{fid}"
    armorer = signed_in("armero1")
    form = armorer.get(page).text
    assert "Corregir el registro" in form and 'value="GLK-A300"' in form
    base = {"serial": "GLK-A300", "make": "Glock", "model": "17", "calibre": "9x19mm",
            "kind": "pistol", "folio": "", "barrel_serial": "", "ballistic_id": ""}
    # a model and a folio: corrected at once
    fixed = armorer.post(f"{page}/correct", {**base, "model": "19", "folio": "RFA-1",
                                             "reason": "Modelo mal capturado"}, page=page)
    assert "Registro corregido." in fixed.text
    firearm = look(sqlite_world, None, lambda uow: uow.repo.firearm_by_id(fid))
    assert (firearm.model, firearm.folio) == ("19", "RFA-1")
    # the serial: a request for the chief, the weapon keeps its serial
    asked = armorer.post(f"{page}/correct", {**base, "model": "19", "folio": "RFA-1",
                                             "serial": "ZZ-300",
                                             "reason": "Serie mal capturada"}, page=page)
    assert "Corrección solicitada" in asked.text
    assert "Corrección de identidad en espera de aprobación" in asked.text
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm_by_id(fid).serial) == "GLK-A300"
    # nothing changed: said in Spanish, naming nothing English
    same = armorer.post(f"{page}/correct", {**base, "model": "19", "folio": "RFA-1",
                                            "reason": "Sin cambios"}, page=page)
    assert same.status_code == 422 and "Cambie al menos un dato" in same.text
    # a chief may approve but not correct
    chief = signed_in("jefe1")
    assert "Corregir el registro" not in chief.get(page).text
    assert chief.post(f"{page}/correct", {**base, "model": "26", "reason": "Modelo"},
                      page=page).status_code == 403
