"""The role guides' pictures (docs/guides/*.md), taken by this test: each role's main
tasks done in a real Chromium on the test world, a screenshot at each step, each step
first checked for what the person would see. When a step stops working, this test fails
and the guide is known to be out of date.

Every run takes the pictures into its temporary directory; with
``RESGUARDO_GUIDE_PICTURES=1`` it writes them to docs/guides/img/<role>-<n>-<step>.png
instead (the same names every run, so the guides keep pointing at them), to be
committed after a page changed. Not on every run: the ledger's picture shows a root and
a signature that no two test worlds share, so each run would leave the checkout changed.

The pictures are the browser's viewport (1100 x 700), reduced to 256 colours and
optimised, so that the guides stay light in the repository."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from test_web_browser import new_page, sign_in
from web_support import LiveServer, set_pin

from resguardo.services import custody, inspections

from world import build_world, do, look

pytestmark = pytest.mark.browser

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guides"
IMG = GUIDES / "img"
VIEWPORT = {"width": 1100, "height": 700}


@pytest.fixture
def pictures(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """Where the pictures go: docs/guides/img with RESGUARDO_GUIDE_PICTURES=1, else the
    test's temporary directory."""
    if os.environ.get("RESGUARDO_GUIDE_PICTURES") == "1":
        return IMG
    return tmp_path / "img"


def picture(page, name: str, into: Path) -> Path:  # type: ignore[no-untyped-def]
    """The viewport as <into>/<name>.png, in 256 colours."""
    into.mkdir(parents=True, exist_ok=True)
    path = into / f"{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)
    return path


def test_the_guides_pictures_show_each_role_at_work(chromium, tmp_path, clock, pictures):
    app = build_world(f"sqlite:///{tmp_path / 'guides.db'}", clock, tmp_path)
    set_pin(app, "MUN1", "P1", "4821")
    do(app, "armero1", custody.issue, "GLK-A200", "P2")
    do(app, "armero1", custody.report_missing, "GLK-A300", stolen=True,
       occurred_on=date(2025, 3, 1), place="Patrulla 12", on_duty=True,
       complaint_number="FGE/JAL/88/2025", complaint_authority="FGE Jalisco")
    clock.advance(hours=30)  # the ministry not told within a day: an alert
    do(app, "armero1", custody.request_transfer, "GLK-A400", "MUN2", "Reasignación a zona sur")
    revista = do(app, "inspector", inspections.plan, "MUN2", date(2025, 3, 20)).position
    fid = look(app, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    officer = look(app, None, lambda uow: uow.repo.officer(uow.repo.org("MUN1").id, "P1").id)
    taken: list[Path] = []

    with LiveServer(app) as live:
        # one browser, each person signed in in turn (``sign_in``)
        context, page = new_page(chromium, viewport=VIEWPORT)

        def person(username: str, path: str = "/") -> None:
            sign_in(page, live, username, path)

        # --- armorer: the shift desk, a weapon's record, an import ---------------------
        person("armero1")
        page.get_by_role("heading", name=re.compile("^Tablero")).wait_for()
        taken.append(picture(page, "armero-1-tablero", pictures))
        page.get_by_role("link", name="Abrir entrega y recepción").click()
        page.locator("input[name=badge]").fill("P1")
        page.keyboard.press("Enter")
        page.get_by_label("Lea o escriba la matrícula del arma").fill("GLK-A100")
        page.keyboard.press("Enter")
        page.get_by_label("El elemento escribe su NIP").wait_for()
        taken.append(picture(page, "armero-2-nip", pictures))
        page.keyboard.type("4821")
        page.keyboard.press("Enter")
        page.get_by_text("Entregada. El elemento puede llevarse el arma.").wait_for()
        taken.append(picture(page, "armero-3-entregada", pictures))
        page.locator("input[name=badge]").fill("P1")
        page.keyboard.press("Enter")
        page.get_by_label("Lea o escriba la matrícula del arma").fill("GLK-A100")
        page.keyboard.press("Enter")
        page.get_by_text("Recibir GLK-A100").wait_for()
        taken.append(picture(page, "armero-4-devolucion", pictures))
        page.keyboard.press("Enter")
        page.get_by_text("Devuelta a la armería.").wait_for()
        page.goto(f"{live.url}/firearms/{fid}")
        page.get_by_role("heading", name=re.compile("GLK-A100")).first.wait_for()
        expect(page.locator("main")).to_contain_text("Ana Ruiz")  # who held it, in its history
        taken.append(picture(page, "armero-5-arma", pictures))
        page.goto(f"{live.url}/import")
        page.get_by_role("heading", name="Plantillas y columnas aceptadas").wait_for()
        page.get_by_role("heading", name="Plantillas y columnas aceptadas").scroll_into_view_if_needed()
        taken.append(picture(page, "armero-6-importar", pictures))
        assert not page.errors, page.errors

        # --- chief: alerts, a transfer to approve, an officer's record -----------------
        person("jefe1")
        page.get_by_role("link", name="Alertas", exact=True).click()
        page.get_by_role("heading", name="Alertas").wait_for()
        expect(page.locator("main")).to_contain_text("GLK-A300")  # the stolen weapon
        taken.append(picture(page, "jefe-1-alertas", pictures))
        page.goto(f"{live.url}/transfers")
        page.get_by_role("link", name="GLK-A400").click()
        taken.append(picture(page, "jefe-2-transferencia", pictures))
        page.get_by_role("button", name="Aprobar").click()
        page.get_by_text("Transferencia aprobada").wait_for()
        page.goto(f"{live.url}/officers/{officer}")
        page.get_by_text("Renovar credencial o evaluación").click()
        expect(page.get_by_label("Credencial vigente hasta")).to_be_visible()
        taken.append(picture(page, "jefe-3-elemento", pictures))
        assert not page.errors, page.errors

        # --- inspector: a revista opened, counted and closed ---------------------------
        person("inspector", "/inspections")
        page.get_by_role("heading", name="Revistas").first.wait_for()
        taken.append(picture(page, "inspector-1-revistas", pictures))
        page.goto(f"{live.url}/inspections/{revista}")
        page.get_by_role("button", name="Abrir ahora").click()
        page.wait_for_url(re.compile(rf".*/inspections/{revista}/scan\b.*"))
        for serial in ("BER-B100", "BER-B200"):
            page.get_by_label("Matrícula").fill(serial)
            page.keyboard.press("Enter")
            page.get_by_text(f"Registrada: {serial}").wait_for()
        taken.append(picture(page, "inspector-2-conteo", pictures))
        page.goto(f"{live.url}/inspections/{revista}")
        page.get_by_role("button", name="Cerrar y emitir el acta").click()
        page.get_by_text("Revista cerrada").wait_for()
        taken.append(picture(page, "inspector-3-cerrada", pictures))
        assert not page.errors, page.errors

        # --- investigator: a recovered weapon traced by a damaged serial ---------------
        person("investigador")
        page.get_by_role("link", name="Rastreo", exact=True).click()
        page.get_by_label("Matrícula leída").fill("GLK-A2?0")
        page.get_by_label("Carpeta de investigación o motivo").fill("CI/0077/2025")
        page.get_by_role("button", name="Rastrear").click()
        page.locator("#found-h").wait_for()
        expect(page.locator("main")).to_contain_text("GLK-A200")
        expect(page.locator("main")).to_contain_text("Luis Mora")  # who held it then
        page.locator("#found-h").scroll_into_view_if_needed()
        taken.append(picture(page, "investigador-1-rastreo", pictures))
        assert not page.errors, page.errors

        # --- auditor: a checkpoint signed, the ledger verified --------------------------
        person("auditor", "/ledger")
        page.get_by_role("button", name="Firmar un punto de control ahora").click()
        page.get_by_text("Punto de control firmado.").wait_for()
        page.get_by_role("button", name="Verificar la bitácora ahora").click()
        page.get_by_text("La bitácora es íntegra.").wait_for()
        taken.append(picture(page, "auditor-1-bitacora", pictures))
        assert not page.errors, page.errors

        # --- administrator: users and places -------------------------------------------
        person("admin", "/admin/users")
        page.get_by_role("heading", name="Agregar un usuario").wait_for()
        expect(page.locator("main")).to_contain_text("armero1")
        taken.append(picture(page, "administrador-1-usuarios", pictures))
        page.goto(f"{live.url}/admin/locations")
        page.get_by_role("heading", name="Agregar una ubicación").wait_for()
        taken.append(picture(page, "administrador-2-ubicaciones", pictures))
        assert not page.errors, page.errors
        context.close()

    # every picture the guides show was taken now, is in the repository, and they stay light
    shown = {m for doc in GUIDES.glob("*.md")
             for m in re.findall(r"\(img/([\w-]+\.png)\)", doc.read_text(encoding="utf-8"))}
    names = {p.name for p in taken}
    assert shown <= names, f"pictures the guides show but the test does not take: {shown - names}"
    assert names <= shown, f"pictures taken but shown in no guide: {names - shown}"
    kept = {p.name for p in IMG.glob("*.png")}
    assert shown <= kept, f"pictures the guides show but docs/guides/img lacks: {shown - kept}"
    assert sum(p.stat().st_size for p in taken) < 3_000_000
    assert sum((IMG / name).stat().st_size for name in shown) < 3_000_000
