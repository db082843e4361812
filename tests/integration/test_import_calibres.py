"""The import maps the common spellings of a calibre and refuses unknown ones, naming the
row, the value and the closest calibres; nothing of a refused file is written."""

from __future__ import annotations

from pathlib import Path

from resguardo.services.imports import ImportOptions, import_file


def run(app, text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "inventario.csv"
    path.write_text(text, encoding="utf-8")
    with app.work("armero1") as uow:
        report = import_file(uow, "firearms", path, ImportOptions())
        if report.commit:
            uow.commit()
    return report


def calibre_of(app, serial: str) -> str:  # type: ignore[no-untyped-def]
    with app.read(None) as uow:
        return uow.repo.firearm(serial).calibre


def test_the_common_spellings_are_stored_as_the_canonical_calibre(world, tmp_path):
    report = run(world, "Serie,Marca,Calibre,Tipo,Ubicación\n"
                        "C-1,Glock,9 mm Luger,pistola,ARM1\n"
                        "C-2,Glock,9MM PARABELLUM,pistola,ARM1\n"
                        "C-3,Colt,.223 Rem,fusil,ARM1\n"
                        "C-4,Colt,\"5,56 × 45 OTAN\",fusil,ARM1\n", tmp_path)
    assert (report.imported, report.rejected) == (4, 0)
    assert [calibre_of(world, s) for s in ("C-1", "C-2", "C-3", "C-4")] == [
        "9x19mm", "9x19mm", ".223 Rem", "5.56x45mm"]


def test_an_unknown_calibre_refuses_its_row_naming_the_value_and_the_closest(world, tmp_path):
    report = run(world, "Serie,Marca,Calibre,Tipo,Ubicación\n"
                        "D-1,Glock,9mm,pistola,ARM1\n"
                        "D-2,Glock,9x21,pistola,ARM1\n", tmp_path)
    assert report.failed and not report.commit
    [problem] = report.problems
    assert (problem.line, problem.column, problem.code) == (3, "Calibre", "unknown_calibre")
    spanish = problem.text("inventario.csv", "es")
    assert spanish.startswith("inventario.csv, línea 3, columna C (Calibre): calibre "
                              "desconocido '9x21'")
    assert "9x19mm" in spanish
    assert "9x19mm" in problem.text("inventario.csv", "en")
    with world.read(None) as uow:
        assert [f.serial for f in uow.repo.firearms(limit=1000).items if f.serial.startswith("D-")] \
            == []
