"""A revista in a real headless Chromium, as each person lives it: the zone's inspector
opens it; the armorer finds the desk frozen before scanning anything and the chief sees
the revista open with nothing of the count; the inspector closes it with a deadline for
weapons on duty; the chief answers several findings at once; the inspector accepts them
and verifies a weapon presented later. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import re
from datetime import date

import pytest
from test_web_browser import new_page, sign_in
from web_support import set_pin, shot

from resguardo.services import custody, inspections

from world import do, look

pytestmark = pytest.mark.browser




def test_a_revista_from_the_freeze_to_the_inspectors_review(chromium, live, sqlite_world):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    do(sqlite_world, "armero1", custody.issue, "GLK-A400", "P2")        # on duty
    number = do(sqlite_world, "inspector_zm", inspections.plan, "MUN1", date(2025, 3, 4),
                sealed=True).position

    # the zone's inspector opens it and counts two weapons
    context, inspector = new_page(chromium)
    sign_in(inspector, live, "inspector_zm", f"/inspections/{number}")
    inspector.get_by_role("button", name="Abrir ahora").click()
    inspector.wait_for_url(re.compile(rf".*/inspections/{number}/scan\b.*"))
    for serial in ("GLK-A100", "GLK-A200"):
        inspector.get_by_label("Matrícula").fill(serial)
        inspector.keyboard.press("Enter")
        inspector.get_by_text(f"Registrada: {serial}").wait_for()

    # the armorer: the banner before any scan, and the refusal when he tries anyway
    armorer_context, armorer = new_page(chromium)
    sign_in(armorer, live, "armero1", "/desk")
    armorer.get_by_text("Hay una revista abierta en esta corporación.").wait_for()
    shot(armorer, "revista-desk-frozen")
    armorer.locator("input[name=badge]").fill("P1")
    armorer.keyboard.press("Enter")
    armorer.get_by_label("Lea o escriba la matrícula del arma").fill("GLK-A300")
    armorer.keyboard.press("Enter")
    armorer.get_by_text("su registro y los movimientos de resguardo están congelados").wait_for()
    armorer_context.close()

    # the chief: the revista is open, nothing of the count; the scanning page does not exist
    chief_context, chief = new_page(chromium)
    sign_in(chief, live, "jefe1", f"/inspections/{number}")
    chief.get_by_role("heading", name="Revista en curso").wait_for()
    body = chief.locator("main").inner_text()
    assert "GLK-A100" not in body and "Conteo hasta ahora" not in body and "Lecturas" not in body
    shot(chief, "revista-chief-open")
    assert chief.goto(f"{live.url}/inspections/{number}/scan").status == 404

    # the inspector sees the refused attempt, and closes with a deadline for weapons on duty
    inspector.goto(f"{live.url}/inspections/{number}")
    inspector.get_by_text("Intentos rechazados por el congelamiento").wait_for()
    assert "armero1" in inspector.locator("main").inner_text()
    inspector.get_by_label("Plazo para presentar las armas asignadas a elementos en servicio"
                           ).fill("2025-03-06T18:00")
    inspector.get_by_role("button", name="Cerrar y emitir el acta").click()
    inspector.get_by_text("Revista cerrada").wait_for()
    inspector.get_by_text("En servicio, por presentar").first.wait_for()
    shot(inspector, "revista-closed-inspector")

    # the chief answers the two missing weapons at once, with the complaint as evidence
    chief.goto(f"{live.url}/inspections/{number}?kind=missing")
    boxes = chief.locator("input[name=finding]")
    assert boxes.count() == 2                      # GLK-A300 and GLK-A500
    chief.get_by_label("Elegir todos los hallazgos de esta página").check()
    assert all(boxes.nth(n).is_checked() for n in range(boxes.count()))
    chief.locator("select[name=resolution]").select_option("reported_stolen")
    chief.get_by_label("Explicación").fill("Robadas del vehículo oficial 12")
    chief.get_by_label("Evidencia").fill("Denuncia FGE/JAL/88/2025")
    shot(chief, "revista-chief-answers")
    chief.get_by_role("button", name="Enviar respuesta").click()
    chief.get_by_text("Respuesta registrada: queda en espera de la revisión del inspector."
                      ).wait_for()
    chief_context.close()

    # the inspector accepts them, and verifies the weapon on duty when it is presented
    inspector.goto(f"{live.url}/inspections/{number}?state=answered")
    for n in range(inspector.locator("input[name=finding]").count()):
        inspector.locator("input[name=finding]").nth(n).check()
    inspector.get_by_role("button", name="Aceptar y cerrar").click()
    inspector.get_by_text("Revisión registrada.").wait_for()
    inspector.get_by_label("Matrícula").fill("GLK-A400")
    inspector.get_by_label("Presentada por (placa)").fill("P2")
    inspector.get_by_role("button", name="Registrar").click()
    inspector.get_by_text("Arma verificada: sus hallazgos quedan cerrados.").wait_for()
    shot(inspector, "revista-reviewed")
    context.close()
    states = look(sqlite_world, "inspector_zm", lambda uow: {
        f["serial"]: f["state"] for f in inspections.findings(uow, number, limit=50)["items"]})
    assert states == {"GLK-A300": "closed", "GLK-A400": "closed", "GLK-A500": "closed"}
