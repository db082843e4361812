"""A serial typed in another form ("glk 900 01") is recorded and shown in one form
("GLK90001"), what was typed kept in its ledger entry; registration by hand, by import (its
plain rows and those the domain judges) and by correction alike (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from resguardo.domain.errors import DuplicateSerial
from resguardo.domain.registry import FirearmInput
from resguardo.services import custody, history, registry, trace
from resguardo.services.imports import ImportOptions, import_file

from world import check_log, do, look


def entry(app, firearm_id: int):  # type: ignore[no-untyped-def]
    """The weapon's registration entry (a weapon's id is its registration's position)."""
    return look(app, None, lambda uow: uow.repo.event(firearm_id))


def weapon(app, serial: str):  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.firearm(serial))


def traced(app, serial: str) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    with app.work("investigador") as uow:
        answer = trace.trace(uow, trace.TraceInput(serial), reason="Carpeta de investigación")
        uow.commit()
    return [(c["serial"], c["distance"]) for c in answer["candidates"]]


def test_a_serial_registered_by_hand_is_shown_upper_case_without_spaces(world):
    ev = do(world, "armero1", registry.register_firearm, "MUN1", "ARM1",
            FirearmInput(serial=" glk 900 01", make="Glock", calibre="9x19mm", kind="pistol"))
    assert (ev.payload["serial"], ev.payload["serial_as_typed"], ev.payload["serial_key"]) == (
        "GLK90001", "glk 900 01", "GLK90001")
    found = weapon(world, "glk 900 01")  # found by the typed form, the shown one, the key
    assert found.serial == "GLK90001"
    assert weapon(world, "GLK-900-01").id == found.id
    assert entry(world, found.id).payload["serial_as_typed"] == "glk 900 01"
    detail = look(world, "armero1", history.firearm_detail, "GLK90001")
    assert (detail["serial"], detail["serial_as_typed"]) == ("GLK90001", "glk 900 01")
    assert ("GLK90001", 0) in traced(world, "glk 900 01")
    assert ("GLK90001", 0) in traced(world, "GLK90001")
    check_log(world)  # the projection replays from the log: the entry records the shown form


def test_a_serial_typed_as_shown_records_nothing_more(world):
    """The test world's serials, and every registration before this, are unchanged."""
    ev = do(world, "armero1", registry.register_firearm, "MUN1", "ARM1",
            FirearmInput(serial="SIG-P320.7", make="SIG Sauer", calibre="9x19mm",
                         kind="pistol"))
    assert ev.payload["serial"] == "SIG-P320.7" and "serial_as_typed" not in ev.payload
    detail = look(world, "armero1", history.firearm_detail, "SIG-P320.7")
    assert detail["serial_as_typed"] is None
    assert weapon(world, "GLK-A100").serial == "GLK-A100"


def test_the_same_serial_typed_another_way_is_the_same_weapon(world):
    """An insider registering "GLK 900 01" again as "glk90001" to sell one of the two."""
    do(world, "armero1", registry.register_firearm, "MUN1", "ARM1",
       FirearmInput(serial="GLK 900 01", make="Glock", calibre="9x19mm", kind="pistol"))
    for typed in ("glk90001", "g l k 9 0 0 0 1", "GLK-900-01"):
        with pytest.raises(DuplicateSerial):
            do(world, "armero2", registry.register_firearm, "MUN2", "ARM1",
               FirearmInput(serial=typed, make="GLOCK", calibre="9x19mm", kind="pistol"))


def test_an_import_records_the_shown_form_and_keeps_what_the_file_had(world, tmp_path: Path):
    """Plain rows (the import's fast reading) and a row the domain judges (a custodian)
    give the same entries a registration by hand gives."""
    path = tmp_path / "inventario.csv"
    path.write_text("Serie,Marca,Calibre,Tipo,Ubicación,Resguardante\n"
                    "glk 900 01,Glock,9x19mm,pistola,ARM1,\n"
                    "AB-1 x,Glock,9x19mm,pistola,ARM1,\n"
                    "GLK-B7,Glock,9x19mm,pistola,ARM1,\n"
                    "bm 77,Beretta,9x19mm,pistola,ARM1,P1\n", encoding="utf-8")
    with world.work("armero1") as uow:
        report = import_file(uow, "firearms", path, ImportOptions())
        assert report.commit, report.problems
        uow.commit()
    assert (report.imported, report.rejected) == (4, 0)
    for typed, shown in (("glk 900 01", "GLK90001"), ("AB-1 x", "AB-1X"), ("GLK-B7", "GLK-B7"),
                         ("bm 77", "BM77")):
        found = weapon(world, typed)
        assert found.serial == shown
        payload = entry(world, found.id).payload
        assert payload["serial"] == shown
        assert payload.get("serial_as_typed") == (typed if typed != shown else None)
    assert weapon(world, "BM77").status.value == "issued"
    assert ("GLK90001", 0) in traced(world, "GLK 900 01")
    check_log(world)


def test_a_corrected_serial_is_shown_in_its_form_and_keeps_what_was_typed(world):
    fid = look(world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    asked = do(world, "armero1", custody.correct, fid, {"serial": "glk a 101"},
               "Serie mal capturada")
    assert asked.payload["changes"] == {"serial": "GLKA101", "serial_key": "GLKA101"}
    assert asked.payload["serial_as_typed"] == "glk a 101"
    approved = do(world, "jefe1", custody.approve_correction, "GLK-A100")
    assert approved.payload["serial_as_typed"] == "glk a 101"
    assert weapon(world, "GLKA101").serial == "GLKA101"
    detail = look(world, "armero1", history.firearm_detail, "GLKA101")
    assert detail["serial_as_typed"] == "glk a 101"
    check_log(world)
    # a correction typed in the shown form leaves no as-typed behind
    do(world, "armero1", custody.correct, fid, {"serial": "GLK-A102"}, "Serie mal capturada")
    do(world, "jefe1", custody.approve_correction, "GLKA101")
    detail = look(world, "armero1", history.firearm_detail, "GLK-A102")
    assert (detail["serial"], detail["serial_as_typed"]) == ("GLK-A102", None)
    # a correction to the same serial typed another way changes nothing, and is refused
    with pytest.raises(Exception, match="equal the recorded"):
        do(world, "armero1", custody.correct, fid, {"serial": "glk-a102"}, "Serie mal capturada")
