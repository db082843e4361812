"""The ledger page in Chromium, with a checkpoint the auditor kept: a file that is not a
valid checkpoint of this log is the file's fault and says so, the log still judged sound;
a log that no longer extends a good kept checkpoint is the log's fault."""

from __future__ import annotations

import base64

import pytest
from test_web_browser import new_page, sign_in
from web_support import LiveServer, shot

from resguardo.services import ledger

from world import build_world

pytestmark = pytest.mark.browser


def forged(note: str) -> str:
    """The note with one byte of its signature changed (still well-formed base64)."""
    body, _, last = note.rstrip("\n").rpartition("\n")
    prefix, _, sig = last.rpartition(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 0x01
    return f"{body}\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"


def test_a_bad_kept_file_is_told_apart_from_a_log_that_is_not_intact(chromium, tmp_path, clock):
    app = build_world(f"sqlite:///{tmp_path / 'ledger.db'}", clock, tmp_path)
    assert ledger.init_hook in app.wiring.init_hooks
    with LiveServer(app) as live:
        context, page = new_page(chromium)
        sign_in(page, live, "auditor", "/ledger")
        page.get_by_role("button", name="Firmar un punto de control ahora").click()
        page.get_by_text("Punto de control firmado.").wait_for()
        with page.expect_download() as info:
            page.get_by_role("link", name="Descargar el punto de control").click()
        kept = tmp_path / "kept.txt"
        info.value.save_as(kept)
        note = kept.read_text()

        bad = tmp_path / "altered.txt"
        bad.write_text(forged(note))
        page.get_by_label("Un punto de control que usted guardó").set_input_files(str(bad))
        page.get_by_role("button", name="Verificar la bitácora ahora").click()
        verdict = page.locator("[data-verdict=file-bad]")
        verdict.get_by_text("Su archivo altered.txt no es un punto de control válido de esta "
                            "bitácora.").wait_for()
        assert "Su firma no es la de esta bitácora" in verdict.inner_text()
        assert "la bitácora misma es íntegra" in verdict.inner_text()
        page.get_by_text("La bitácora es íntegra.").wait_for()
        assert page.get_by_text("La bitácora NO es íntegra.").count() == 0
        shot(page, "ledger-bad-file")

        other = tmp_path / "notes.txt"
        other.write_text("lista de pendientes\n")
        page.get_by_label("Un punto de control que usted guardó").set_input_files(str(other))
        page.get_by_role("button", name="Verificar la bitácora ahora").click()
        page.get_by_text("No es un punto de control firmado").wait_for()
        page.get_by_text("La bitácora es íntegra.").wait_for()

        page.get_by_label("Un punto de control que usted guardó").set_input_files(str(kept))
        page.get_by_role("button", name="Verificar la bitácora ahora").click()
        page.get_by_text("La bitácora es íntegra.").wait_for()
        page.locator("[data-verdict=file-ok]", has_text="kept.txt").wait_for()

        # the log changed behind the application's back: the good kept file now shows it
        with app.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE events SET payload = replace(payload, 'Glock', 'Gl0ck') "
                                 "WHERE position = (SELECT min(position) FROM events "
                                 "WHERE type = 'firearm.registered')")
        page.goto(f"{live.url}/ledger")
        page.get_by_label("Un punto de control que usted guardó").set_input_files(str(kept))
        page.get_by_role("button", name="Verificar la bitácora ahora").click()
        page.get_by_text("La bitácora NO es íntegra.").wait_for()
        assert page.locator("[data-verdict=file-bad]").count() == 0
        page.locator("[data-verdict=file-not-extended]", has_text="kept.txt").wait_for()
        shot(page, "ledger-log-broken-kept-file-good")
        assert not page.errors, page.errors
        context.close()
