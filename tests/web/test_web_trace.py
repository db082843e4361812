"""The trace page (served when the trace service is installed)."""

from __future__ import annotations

import pytest

from resguardo.services import custody

from world import do, look, shifts

pytest.importorskip("resguardo.services.trace")


def test_an_investigator_traces_a_damaged_serial_and_the_trace_is_recorded(sqlite_world,
                                                                           signed_in):
    do(sqlite_world, "armero1", custody.issue, "GLK-A200", "P2")
    investigator = signed_in("investigador")
    assert "Rastreo" in investigator.get("/").text.split("</nav>")[0]
    page = investigator.post("/trace", {"serial": "GLK-A2?0", "reason": "CI/0077/2025"})
    assert page.status_code == 200, page.text
    found = page.text.split("Rastreos recientes")[0]
    assert "GLK-A200" in found and "P2 · Luis Mora" in found
    recorded = look(sqlite_world, None, lambda uow: [
        e for e in uow.repo.iter_events() if e.type == "access.trace"])
    assert recorded and recorded[-1].actor == "investigador"
    assert recorded[-1].reason == "CI/0077/2025"
    assert "CI/0077/2025" in page.text.split("Rastreos recientes")[1]


def test_an_armorer_may_not_trace(signed_in):
    armorer = signed_in("armero1")
    assert "/trace" not in armorer.get("/").text.split("</nav>")[0]
    assert armorer.get("/trace").status_code == 403


def test_trace_results_say_how_many_characters_differ_not_a_distance(sqlite_world, signed_in):
    investigator = signed_in("investigador")
    page = investigator.post("/trace", {"serial": "GLK-A2?O", "reason": "CI/0078/2025"})
    found = page.text.split("Rastreos recientes")[0]
    assert "Distancia" not in found
    # GLK-A200: one character unreadable, one read as a look-alike (O for 0)
    assert ("Coincidencia parcial: 1 carácter parecido (como 0 por O), "
            "1 carácter ilegible (?)") in found
    exact = investigator.post("/trace", {"serial": "glk a200", "reason": "CI/0078/2025"})
    assert "Coincidencia exacta" in exact.text.split("Rastreos recientes")[0]


def test_a_long_chain_shows_its_window_and_links_to_the_paged_history(sqlite_world, signed_in,
                                                                      clock):
    shifts(sqlite_world, clock, "GLK-A200", "P2", "ARM2", 40)
    investigator = signed_in("investigador")
    page = investigator.post("/trace", {"serial": "GLK-A200", "reason": "CI/0079/2025"})
    found = page.text.split("Rastreos recientes")[0]
    assert "Resguardo en torno a la fecha consultada: 20 movimientos de 81" in found
    firearm_id = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A200").id)
    assert f'href="/firearms/{firearm_id}" data-full-history' in found
    assert "Historial completo del arma" in found
    # the history page an investigator reaches is paged: 50 entries, then older ones
    history = investigator.get(f"/firearms/{firearm_id}")
    assert history.status_code == 200 and "page=2" in history.text
    older = investigator.get(f"/firearms/{firearm_id}?page=2")
    assert older.status_code == 200
    # a short chain is shown whole, without the link
    short = investigator.post("/trace", {"serial": "BER-B100", "reason": "CI/0079/2025"})
    assert "Cadena de resguardo (1 asiento)" in short.text
    assert "data-full-history" not in short.text.split("Rastreos recientes")[0]
