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
