"""Camera scanning in a real Chromium with a fake camera that films a QR label.

Chromium plays a Y4M video (made here from the QR code segno draws for the serial)
as its camera; the desk's ZXing reader (npm @zxing/browser) reads the serial and the
desk moves on as a wedge scanner's Enter would. Launched without a camera, the page
says in Spanish that no camera was found; with the permission refused, it says so.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect
from test_web_browser import sign_in
from web_support import set_pin

from resguardo.web.pages.assets import VENDOR, vendor_path

from world import look

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("RESGUARDO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def qr_video(text: str, path: Path, frames: int = 15) -> Path:
    """A Y4M video (4:2:0) of a QR label in front of the camera, as Chromium reads one."""
    buf = io.BytesIO()
    segno.make_qr(text, error="m").save(buf, kind="png", scale=12, border=4)
    label = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    w, h = 640, 480
    scene = Image.new("L", (w, h), 235)
    side = min(400, label.width)
    scene.paste(label.resize((side, side)), ((w - side) // 2, (h - side) // 2))
    y, cb, cr = scene.convert("RGB").convert("YCbCr").split()
    half = (w // 2, h // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(frame)
    return path


@pytest.fixture
def playwright(playwright_turn):  # type: ignore[no-untyped-def]
    """The process's Playwright (conftest): each test launches a Chromium of its own, with
    the camera it needs."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    if vendor_path(VENDOR["zxing-browser.min.js"]) is None:
        pytest.fail("node_modules/@zxing/browser is missing: run npm install (scripts/setup.sh)")
    return playwright_turn


def open_desk(browser, live, **context_args):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="es-MX", **context_args)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    sign_in(page, live, "armero1", "/desk")
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    page.locator("input[name=serial]").wait_for()
    return context, page


def test_the_desk_reads_the_serial_from_the_camera(playwright, live, sqlite_world, tmp_path):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    video = qr_video("GLK-A100", tmp_path / "label.y4m")
    browser = playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM,
        args=[*ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"])
    try:
        context, page = open_desk(browser, live)
        page.get_by_role("button", name="Usar la cámara").click()
        # no typing: the camera fills the serial and the desk goes on to the PIN
        page.get_by_text("Entregar GLK-A100 (Glock 17) a P1 Ana Ruiz.").wait_for(timeout=20000)
        expect(page.locator("input[name=pin]")).to_be_focused()
        expect(page.locator("video")).to_have_count(0)  # the camera closed with its step
        page.keyboard.type("4821")
        page.keyboard.press("Enter")
        page.get_by_text("Entregada.").wait_for()
        assert look(sqlite_world, None,
                    lambda uow: uow.repo.firearm("GLK-A100").status.value) == "issued"
        assert not page.errors
        context.close()
    finally:
        browser.close()


def test_no_camera_is_said_in_spanish_and_typing_still_works(playwright, live, sqlite_world):
    browser = playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM, args=[*ARGS, "--use-fake-ui-for-media-stream"])
    try:
        context, page = open_desk(browser, live)
        page.get_by_role("button", name="Usar la cámara").click()
        message = page.locator("[data-camera-message]")
        expect(message).to_be_visible(timeout=15000)
        expect(message).to_contain_text("No se encontró ninguna cámara en este equipo.")
        expect(page.locator("video")).to_be_hidden()
        page.locator("input[name=serial]").fill("GLK-A100")
        page.keyboard.press("Enter")
        page.get_by_text("Entregar GLK-A100").wait_for()
        assert not page.errors
        context.close()
    finally:
        browser.close()


def test_a_refused_camera_permission_is_said_in_spanish(playwright, live, sqlite_world, tmp_path):
    video = qr_video("GLK-A100", tmp_path / "label.y4m")
    browser = playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM,
        args=[*ARGS, "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}", "--deny-permission-prompts"])
    try:
        context, page = open_desk(browser, live)
        page.get_by_role("button", name="Usar la cámara").click()
        message = page.locator("[data-camera-message]")
        expect(message).to_contain_text("no se concedió el permiso", timeout=15000)
        assert look(sqlite_world, None,
                    lambda uow: uow.repo.firearm("GLK-A100").status.value) == "in_storage"
        context.close()
    finally:
        browser.close()


def test_an_inspector_counts_a_weapon_with_the_camera_once(playwright, live, sqlite_world,
                                                            tmp_path):
    from datetime import date

    from resguardo.services import inspections

    from world import do

    number = do(sqlite_world, "inspector_zm", inspections.plan, "MUN1", date(2025, 3, 4)).position
    do(sqlite_world, "inspector_zm", inspections.open_, number)
    video = qr_video("GLK-A300", tmp_path / "label.y4m")
    browser = playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM,
        args=[*ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"])
    try:
        context = browser.new_context(locale="es-MX")
        page = context.new_page()
        sign_in(page, live, "inspector_zm", f"/inspections/{number}/scan")
        page.get_by_role("button", name="Usar la cámara").click()
        page.get_by_text("Registrada: GLK-A300").wait_for(timeout=20000)
        # the camera stays open for the next label, and the same label held in front of it
        # is not counted again and again
        expect(page.locator("video")).to_be_visible()
        expect(page.get_by_role("button", name="Detener la cámara")).to_be_visible()
        page.wait_for_timeout(1500)  # frames keep coming; not a timed assertion
        scans = look(sqlite_world, None, lambda uow: [
            e for e in uow.repo.iter_events(0) if e.type == "inspection.scanned"])
        assert [e.payload.get("source") for e in scans] == ["camera"]
        page.get_by_role("button", name="Detener la cámara").click()
        expect(page.locator("video")).to_be_hidden()
        context.close()
    finally:
        browser.close()
