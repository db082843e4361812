"""Journeys through the interface in a real headless Chromium, one role at a time.

Each test walks what a person does, with the keyboard where the person would
(the armorer's desk uses no mouse at all), and saves a screenshot of every
main page under test-artifacts/web/ for a person to look at.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from web_support import LiveServer, set_pin, shot, web_session

from resguardo.services import custody, ledger, registry
from resguardo.web.site import SESSION_COOKIE

from world import PASSWORD, build_world, do, look

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def sign_in_with_the_form(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in as a person does: the sign-in page, name, password, Enter, the dashboard."""
    page.goto(f"{base}/login")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def sign_in(page, live: LiveServer, username: str, path: str | None = "/"):  # type: ignore[no-untyped-def]
    """``page``'s browser signed in as ``username``, showing ``path`` (None: where it was);
    returns the page's response.

    The session is the product's own (``web_support.web_session``) and reaches the browser
    as the cookie the sign-in form's answer sets: a test about something else does not pay
    for the sign-in page, the form and the dashboard it leads to. The form itself is signed
    in with by the desk's keyboard journey and the sessions' browser test
    (``sign_in_with_the_form``), and tested in test_web_sessions.py and test_web_pages.py.
    The browser's other cookies (the previous person's session, a language) go, as they
    would for a person who signs out and closes the browser: one page serves several people
    in turn."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": web_session(live.app, username),
                               "url": live.url, "httpOnly": True, "sameSite": "Lax"}])
    return page.goto(f"{live.url}{path}") if path is not None else None


def new_page(chromium, viewport=DESKTOP):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport=viewport, accept_downloads=True, locale="es-MX")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # script errors, not 4xx answers
    page.errors = errors
    return context, page


def test_armorer_issues_and_returns_at_the_desk_with_the_keyboard_only(chromium, live,
                                                                        sqlite_world):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    do(sqlite_world, "jefe1", registry.suspend_officer, "MUN1", "P3", "asuntos internos")
    context, page = new_page(chromium)
    sign_in_with_the_form(page, live.url, "armero1")
    shot(page, "dashboard-armorer")
    page.goto(f"{live.url}/desk")
    shot(page, "desk-1-badge")
    badge = page.locator("input[name=badge]")
    # issue: badge, Enter, serial, Enter, PIN, Enter (each scan into the field that has focus)
    expect(badge).to_be_focused()
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    page.get_by_label("Lea o escriba la matrícula del arma").wait_for()
    expect(page.locator("input[name=serial]")).to_be_focused()
    shot(page, "desk-2-serial")
    page.keyboard.type("GLK-A100")
    page.keyboard.press("Enter")
    page.get_by_label("El elemento escribe su NIP").wait_for()
    expect(page.locator("input[name=pin]")).to_be_focused()
    shot(page, "desk-3-pin")
    page.keyboard.type("4821")
    page.keyboard.press("Enter")
    page.get_by_text("Entregada. El elemento puede llevarse el arma.").wait_for()
    shot(page, "desk-4-issued")
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").status.value) \
        == "issued"
    # return: the same two scans and the PIN
    expect(badge).to_be_focused()
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    page.get_by_label("Lea o escriba la matrícula del arma").wait_for()
    expect(page.locator("input[name=serial]")).to_be_focused()
    page.keyboard.type("GLK-A100")
    page.keyboard.press("Enter")
    page.get_by_text("Recibir GLK-A100").wait_for()
    # a return needs no PIN: the armorer confirms with Enter
    expect(page.get_by_role("button", name="Confirmar devolución")).to_be_focused()
    expect(page.locator("input[name=pin]")).to_have_count(0)
    shot(page, "desk-5-return")
    page.keyboard.press("Enter")
    page.get_by_text("Devuelta a la armería.").wait_for()
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").status.value) \
        == "in_storage"
    # a refusal: red, with the reason, at once; the next badge can be scanned straight away
    expect(badge).to_be_focused()
    page.keyboard.type("P3")
    page.keyboard.press("Enter")
    refusal = page.locator(".refusal", has_text="No se puede asignar a P3")
    refusal.wait_for()
    assert "el elemento está suspendido" in refusal.inner_text()
    assert refusal.evaluate("e => getComputedStyle(e).color") == "rgb(122, 20, 16)"
    assert page.evaluate("document.activeElement.name") == "badge"
    shot(page, "desk-6-refused")
    # a lost weapon is refused at the serial scan; Esc starts over
    do(sqlite_world, "armero1", custody.report_missing, "GLK-A300", stolen=False,
       occurred_on=date(2025, 3, 2), place="Patrulla 12", on_duty=True, complaint_number="FGE/1/2025",
       complaint_authority="FGE Jalisco")
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    page.get_by_label("Lea o escriba la matrícula del arma").wait_for()
    expect(page.locator("input[name=serial]")).to_be_focused()
    page.keyboard.type("GLK-A300")
    page.keyboard.press("Enter")
    page.locator(".refusal", has_text="GLK-A300 está registrada como extraviada").wait_for()
    shot(page, "desk-7-lost-weapon")
    page.keyboard.press("Escape")
    page.get_by_label("Lea o escriba la placa del elemento").wait_for()
    assert page.evaluate("document.activeElement.name") == "badge"
    assert not page.errors, page.errors
    context.close()


def test_inspector_runs_a_sealed_inspection_the_agency_cannot_see(chromium, live, sqlite_world):
    context, page = new_page(chromium)
    sign_in(page, live, "inspector", "/inspections")
    page.locator("select[name=agency]").select_option("MUN1")
    page.get_by_label("Fecha").fill("2025-03-10")
    page.get_by_label("Sellada (sorpresa)", exact=False).check()
    page.get_by_role("button", name="Programar").click()
    page.get_by_text("Revista programada.").wait_for()
    inspection_url = page.url.split("?")[0]
    shot(page, "inspection-planned")

    armorer_context, armorer = new_page(chromium)
    sign_in(armorer, live, "armero1", "/inspections")
    assert "No hay revistas que mostrar." in armorer.content()
    shot(armorer, "inspections-armorer-sealed-hidden")
    hidden = armorer.goto(inspection_url)
    assert hidden is not None and hidden.status == 404
    armorer_context.close()

    page.get_by_role("button", name="Abrir ahora").click()
    page.wait_for_url("**/scan*")
    shot(page, "inspection-scan-empty")
    for serial in ("GLK-A100", "GLK-A200", "GLK-A300", "XYZ-999"):
        page.get_by_label("Matrícula").fill(serial)
        page.keyboard.press("Enter")
        page.get_by_text(f"Registrada: {serial}").wait_for()
    assert page.locator(".kpi .value").first.inner_text() == "4"
    shot(page, "inspection-scanning")
    page.get_by_role("button", name="Cerrar y emitir el acta").click()
    page.get_by_text("Revista cerrada").wait_for()
    shot(page, "inspection-closed-findings")
    text = page.content()
    assert "Faltante" in text and "No registrada" in text and "XYZ-999" in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar el acta (PDF)").click()
    acta = download.value.path()
    assert acta.read_bytes()[:5] == b"%PDF-"
    assert not page.errors, page.errors
    context.close()


def test_supervisor_sees_every_agency_and_english_translates_the_page(chromium, live,
                                                                      sqlite_world, clock):
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    do(sqlite_world, "armero2", custody.report_missing, "BER-B100", stolen=True,
       occurred_on=clock.now.date(), place="Centro", on_duty=False, complaint_number="FGE/7",
       complaint_authority="FGE Jalisco")
    context, page = new_page(chromium)
    sign_in(page, live, "supervisor")
    chart = page.get_by_role("img", name="Armas por corporación y estatus")
    assert "Policía Municipal 1" in chart.inner_html()
    assert "Policía Municipal 2" in chart.inner_html()
    shot(page, "dashboard-supervisor")
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.get_by_role("img", name="Weapons by agency and status").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Tablero" not in page.inner_text("main")
    shot(page, "dashboard-supervisor-english")
    page.goto(f"{live.url}/firearms")
    page.get_by_role("heading", name="Firearms").wait_for()
    shot(page, "firearms-english")
    page.goto(f"{live.url}/losses")
    shot(page, "losses-english")
    page.get_by_role("button", name="Español").click()
    page.get_by_role("heading", name="Extravíos y robos").wait_for()
    context.close()


def test_the_main_pages_fit_a_phone(chromium, live, sqlite_world):
    from resguardo.services import inspections
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    number = do(sqlite_world, "inspector", inspections.plan, "MUN2", date(2025, 3, 3)).position
    do(sqlite_world, "inspector", inspections.open_, number)
    context, page = new_page(chromium, PHONE)
    sign_in(page, live, "jefe1", None)
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    officer = look(sqlite_world, None,
                   lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, "P1").id)
    for name, path in (("dashboard", "/"), ("firearms", "/firearms"),
                       ("firearm", f"/firearms/{fid}"), ("officers", "/officers"),
                       ("officer", f"/officers/{officer}"), ("alerts", "/alerts"),
                       ("losses", "/losses"), ("inspections", "/inspections"),
                       ("transfers", "/transfers"), ("ammunition", "/ammunition")):
        page.goto(f"{live.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        shot(page, f"phone-{name}")
    assert not page.errors, page.errors
    # the inspector counts with a phone
    sign_in(page, live, "inspector", f"/inspections/{number}/scan")
    page.get_by_label("Matrícula").fill("BER-B100")
    page.keyboard.press("Enter")
    page.get_by_text("Registrada: BER-B100").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "phone-inspection-scanning")
    context.close()


def test_admin_and_auditor_pages(chromium, tmp_path, clock):
    # a world of its own, built with the ledger's set-up hook (the default wiring): its own
    # key signs its checkpoints
    app = build_world(f"sqlite:///{tmp_path / 'ledger.db'}", clock, tmp_path)
    assert ledger.init_hook in app.wiring.init_hooks
    with LiveServer(app) as live:
        context, page = new_page(chromium)
        admin_and_auditor_journey(page, live)
        # an entry edited behind the application's back: the auditor is told which and what
        with app.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE events SET payload = replace(payload, 'Glock', 'Gl0ck') "
                                 "WHERE position = (SELECT min(position) FROM events "
                                 "WHERE type = 'firearm.registered')")
        page.goto(f"{live.url}/ledger")
        page.get_by_role("button", name="Verificar la bitácora ahora").click()
        page.get_by_text("La bitácora NO es íntegra.").wait_for()
        page.get_by_text("Un asiento ya no corresponde a la huella registrada").wait_for()
        page.locator("li[data-kind=leaf_mismatch] summary").click()
        page.get_by_text("leaf_mismatch: entry").wait_for()
        shot(page, "ledger-tampered")
        context.close()


def admin_and_auditor_journey(page, live) -> None:  # type: ignore[no-untyped-def]
    """The administrator's tabs, then the auditor signs a checkpoint and verifies the log
    (``page`` is left signed in as the auditor)."""
    sign_in(page, live, "admin", None)
    # each tab: its own form, and what the world holds where the administrator looks for it
    for tab, form, holds in (("users", "Agregar un usuario", "armero1"),
                             ("tokens", "Crear un token", "Aún no hay tokens de la API."),
                             ("organizations", "Agregar una dependencia", "MUN1"),
                             ("locations", "Agregar una ubicación", "ARM1"),
                             ("licences", "Agregar una licencia", "Aún no hay licencias.")):
        page.goto(f"{live.url}/admin/{tab}")
        page.get_by_role("heading", name=form).wait_for()
        expect(page.locator(f'a[href="/admin/{tab}"]')).to_have_attribute("aria-current", "true")
        expect(page.locator("main")).to_contain_text(holds)
        assert not page.errors, (tab, page.errors)
        shot(page, f"admin-{tab}")
    sign_in(page, live, "auditor", "/ledger")
    page.get_by_role("button", name="Firmar un punto de control ahora").click()
    page.get_by_text("Punto de control firmado.").wait_for()
    page.get_by_role("button", name="Verificar la bitácora ahora").click()
    page.get_by_text("La bitácora es íntegra.").wait_for()
    shot(page, "ledger-verified")


def test_armorer_previews_and_imports_a_spreadsheet(chromium, live, sqlite_world, tmp_path):
    sheet = tmp_path / "inventario.csv"
    sheet.write_text("Matrícula,Marca,Modelo,Calibre,Tipo,Ubicación\r\n"
                     "IMP-001,Glock,17,9x19mm,pistola,ARM1\r\n"
                     "GLK-A100,Glock,17,9x19mm,pistola,ARM1\r\n", encoding="utf-8")
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", "/import")
    shot(page, "import-1-upload")
    page.get_by_label("Archivo", exact=True).set_input_files(str(sheet))
    page.get_by_role("button", name="Vista previa").click()
    page.get_by_text("Vista previa de inventario.csv").wait_for()
    shot(page, "import-2-preview")
    assert page.get_by_role("button", name="Importar ahora").count() == 0  # all or nothing
    with page.expect_download() as caught:
        page.get_by_role("button", name="Descargar las filas rechazadas (CSV)").click()
    download = caught.value
    assert download.suggested_filename == "inventario-rechazos.csv"
    refused = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()
    assert refused[0] == "Matrícula,Marca,Modelo,Calibre,Tipo,Ubicación,error"
    assert refused[1].startswith("GLK-A100,Glock,17,9x19mm,pistola,ARM1,")
    assert "marque «Actualizar los registros que ya existen»" in refused[1]
    expect(page.get_by_role("button", name="Importar solo el renglón válido")).to_be_enabled()
    page.get_by_role("button", name="Importar solo el renglón válido").click()
    page.get_by_text("Importación registrada en la bitácora").wait_for()
    shot(page, "import-3-done")
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("IMP-001").status.value) \
        == "in_storage"
    page.goto(f"{live.url}/import")
    page.get_by_label("Archivo", exact=True).set_input_files(str(sheet))
    page.get_by_label("Importar los válidos y listar los demás").check()
    page.get_by_role("button", name="Vista previa").click()
    page.get_by_text("Vista previa de inventario.csv").wait_for()  # both rows registered now
    assert page.get_by_role("button", name=re.compile("^Importar")).count() == 0
    # While the server reads a file the page says so and its buttons wait (no second send).
    page.goto(f"{live.url}/import")
    page.get_by_label("Archivo", exact=True).set_input_files(str(sheet))
    # (answered "204 No Content": the browser stays on the page as it was when sent)
    page.route("**/import/preview", lambda route: route.fulfill(status=204))
    page.get_by_role("button", name="Vista previa").click(no_wait_after=True)
    expect(page.get_by_role("status")).to_have_text(re.compile("^Leyendo el archivo"))
    expect(page.get_by_role("button", name="Vista previa")).to_be_disabled()
    shot(page, "import-4-reading")
    context.close()


def test_investigator_traces_a_damaged_serial(chromium, live, sqlite_world):
    pytest.importorskip("resguardo.services.trace")
    do(sqlite_world, "armero1", custody.issue, "GLK-A200", "P2")
    context, page = new_page(chromium)
    sign_in(page, live, "investigador", "/trace")
    page.get_by_label("Matrícula leída").fill("GLK-A2?0")
    page.get_by_label("Carpeta de investigación o motivo").fill("CI/0077/2025")
    page.keyboard.press("Enter")
    page.get_by_text("P2 · Luis Mora").wait_for()
    page.locator("details.panel summary").first.click()
    shot(page, "trace-result")
    context.close()


def test_a_test_after_a_browser_test_runs_an_event_loop_of_its_own(chromium_session):
    """The process's Chromium stays up between tests (conftest's ``chromium_session``), and
    its Playwright loop is not this thread's running loop between them: a test that runs
    its own loop (the API's async clients do) is not refused."""
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert asyncio.run(answer()) == 42
